//! Canonical messages as data: a [`Template`] is an ordered list of [`Part`]s joined by a
//! separator. The template streams each part into a [`Sink`] — the HMAC, so a body of any
//! size is signed without a copy, or a caller's buffer, to see the exact bytes signed.
//!
//! The five dialects are presets of this one mechanism (see [`crate::dialect`]); a scheme the
//! core does not ship is a new template, not new code:
//!
//! ```
//! use apisig::message::{MessageInput, Part, Template};
//! use apisig::Encoding;
//!
//! // Coinbase-style: timestamp + METHOD + path + body, base64 signature.
//! const COINBASE: Template<'static> = Template {
//!     parts: &[Part::Timestamp, Part::Method, Part::Path, Part::Body],
//!     separator: b"",
//!     encoding: Encoding::Base64,
//! };
//! let input = MessageInput {
//!     timestamp: b"1700000000", method: b"get", path: b"/orders", body: b"",
//!     uppercase_method: true, ..MessageInput::EMPTY
//! };
//! let mut buf = [0u8; 64];
//! assert_eq!(COINBASE.render(&input, &mut buf)?, b"1700000000GET/orders");
//! # Ok::<(), apisig::Error>(())
//! ```

use crate::headers::{self, Header};
use crate::names::named;
use crate::{Encoding, Error};

/// Most parts a template may have.
pub const MAX_PARTS: usize = 16;

/// Longest method accepted (methods are short tokens: `GET`, `PROPFIND`).
pub const METHOD_MAX: usize = 32;

/// One piece of a canonical message.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Part<'a> {
    /// The API key (or key id) as sent.
    ApiKey,
    /// The timestamp, in decimal, as sent.
    Timestamp,
    /// The nonce, in decimal, as sent.
    Nonce,
    /// The user id, as sent.
    UserId,
    /// The HTTP method (uppercased by the signer; as received by the verifier).
    Method,
    /// The request target as sent: path and query string.
    Path,
    /// The request body, byte for byte.
    Body,
    /// Fixed text.
    Literal(&'a [u8]),
    /// The value of another request header, by name.
    Header(&'a str),
}

named! {
    /// What a [`Part`] is, without its data: the kinds the faces name and number.
    #[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
    pub enum PartKind {
        /// The API key (or key id) as sent.
        ApiKey = 0, "api_key" | "key_id";
        /// The timestamp, in decimal, as sent.
        Timestamp = 1, "timestamp";
        /// The nonce, in decimal, as sent.
        Nonce = 2, "nonce";
        /// The user id, as sent.
        UserId = 3, "user_id";
        /// The HTTP method (uppercased by the signer; as received by the verifier).
        Method = 4, "method";
        /// The request target as sent: path and query string.
        Path = 5, "path";
        /// The request body, byte for byte.
        Body = 6, "body";
        /// Fixed text: the part's data.
        Literal = 7, "literal";
        /// The value of the request header named by the part's data.
        Header = 8, "header";
    }
}

impl<'a> Part<'a> {
    /// The part of `kind`, with `data` the bytes of a [`Literal`](Part::Literal) or the name
    /// of a [`Header`](Part::Header) (other kinds carry no data and ignore it).
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`] when a header name is not UTF-8.
    pub fn new(kind: PartKind, data: &'a [u8]) -> Result<Part<'a>, Error> {
        Ok(match kind {
            PartKind::ApiKey => Part::ApiKey,
            PartKind::Timestamp => Part::Timestamp,
            PartKind::Nonce => Part::Nonce,
            PartKind::UserId => Part::UserId,
            PartKind::Method => Part::Method,
            PartKind::Path => Part::Path,
            PartKind::Body => Part::Body,
            PartKind::Literal => Part::Literal(data),
            PartKind::Header => Part::Header(core::str::from_utf8(data).map_err(|_| Error::InvalidTemplate)?),
        })
    }

    /// What this part is.
    pub const fn kind(&self) -> PartKind {
        match self {
            Part::ApiKey => PartKind::ApiKey,
            Part::Timestamp => PartKind::Timestamp,
            Part::Nonce => PartKind::Nonce,
            Part::UserId => PartKind::UserId,
            Part::Method => PartKind::Method,
            Part::Path => PartKind::Path,
            Part::Body => PartKind::Body,
            Part::Literal(_) => PartKind::Literal,
            Part::Header(_) => PartKind::Header,
        }
    }

    /// The part's data: a literal's bytes, a header part's header name, empty for the others.
    pub const fn data(&self) -> &'a [u8] {
        match self {
            Part::Literal(bytes) => bytes,
            Part::Header(name) => name.as_bytes(),
            _ => &[],
        }
    }
}

/// A canonical message template: parts, the separator placed between them, and how the
/// signature is written.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Template<'a> {
    /// The parts, in order.
    pub parts: &'a [Part<'a>],
    /// Bytes placed between consecutive parts (may be empty).
    pub separator: &'a [u8],
    /// How the signature is written as text.
    pub encoding: Encoding,
}

/// The values a template draws its parts from. Every field is the text exactly as it is (or
/// will be) sent.
#[derive(Copy, Clone, Debug)]
pub struct MessageInput<'a> {
    /// API key or key id.
    pub api_key: &'a [u8],
    /// Timestamp digits.
    pub timestamp: &'a [u8],
    /// Nonce digits.
    pub nonce: &'a [u8],
    /// User id.
    pub user_id: &'a [u8],
    /// HTTP method.
    pub method: &'a [u8],
    /// Request target (path and query).
    pub path: &'a [u8],
    /// Body.
    pub body: &'a [u8],
    /// Other request headers, for [`Part::Header`].
    pub headers: &'a [Header<'a>],
    /// Uppercase the method while streaming (the signer does; the verifier does not).
    pub uppercase_method: bool,
}

impl MessageInput<'_> {
    /// All fields empty.
    pub const EMPTY: MessageInput<'static> = MessageInput {
        api_key: b"",
        timestamp: b"",
        nonce: b"",
        user_id: b"",
        method: b"",
        path: b"",
        body: b"",
        headers: &[],
        uppercase_method: false,
    };
}

/// Where a message goes.
pub trait Sink {
    /// Takes the next bytes of the message.
    fn put(&mut self, bytes: &[u8]);
}

/// Counts the bytes of a message.
#[derive(Default)]
struct Counter(usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }
}

/// Writes into a buffer that [`Template::render`] has already sized.
struct Writer<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl Sink for Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }
}

impl<'a> Template<'a> {
    /// Checks the template's shape: 1 to [`MAX_PARTS`] parts.
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`] otherwise.
    pub const fn check(&self) -> Result<(), Error> {
        if self.parts.is_empty() || self.parts.len() > MAX_PARTS { Err(Error::InvalidTemplate) } else { Ok(()) }
    }

    /// Whether the template uses `part`.
    pub fn uses(&self, part: Part<'_>) -> bool {
        self.parts.contains(&part)
    }

    /// The value of one part.
    fn value<'i>(part: &Part<'i>, input: &MessageInput<'i>) -> Result<&'i [u8], Error> {
        match *part {
            Part::Header(name) => headers::require(input.headers, name),
            _ => Ok(Self::field(part, input)),
        }
    }

    /// The value of a part that is not a request header (empty for one that is).
    #[inline(always)]
    const fn field<'i>(part: &Part<'i>, input: &MessageInput<'i>) -> &'i [u8] {
        match *part {
            Part::ApiKey => input.api_key,
            Part::Timestamp => input.timestamp,
            Part::Nonce => input.nonce,
            Part::UserId => input.user_id,
            Part::Method => input.method,
            Part::Path => input.path,
            Part::Body => input.body,
            Part::Literal(text) => text,
            Part::Header(_) => &[],
        }
    }

    /// Checks everything that could make streaming fail or the message ambiguous, before a
    /// single byte goes to a sink: the template's shape, the method, referenced headers, and
    /// that no part but the last holds the separator.
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`], [`Error::InvalidMethod`], [`Error::MissingCredential`],
    /// [`Error::DuplicateHeader`], [`Error::SeparatorInField`].
    pub fn check_input(&self, input: &MessageInput<'_>) -> Result<(), Error> {
        self.check()?;
        if self.uses(Part::Method) {
            check_method(input.method)?;
        }
        let last = self.parts.len().saturating_sub(1);
        let mut upper = [0u8; METHOD_MAX];
        for (i, part) in self.parts.iter().enumerate() {
            let mut value = Self::value(part, input)?;
            if matches!(part, Part::Method) {
                value = sent_method(value, input.uppercase_method, &mut upper);
            }
            let fixed = matches!(part, Part::Literal(_));
            if i < last && !fixed && contains(value, self.separator) {
                return Err(Error::SeparatorInField);
            }
        }
        Ok(())
    }

    /// What a request must pass to be signed or verified under this template: [`check_path`]
    /// when the template signs the path, then [`check_input`](Self::check_input) — in one
    /// pass per field when `fields` (planned for this template) is given.
    #[inline(always)]
    pub(crate) fn check_request(&self, fields: Option<&FieldChecks>, input: &MessageInput<'_>) -> Result<(), Error> {
        if let Some(fields) = fields {
            return fields.check(input);
        }
        if self.uses(Part::Path) {
            check_path(input.path)?;
        }
        self.check_input(input)
    }

    /// Streams the message into `sink`. Call [`check_input`](Self::check_input) first; this
    /// skips anything it would have refused.
    pub fn stream(&self, input: &MessageInput<'_>, sink: &mut impl Sink) {
        self.stream_parts(0..self.parts.len(), input, sink);
    }

    /// Streams the parts at indexes `range`, each with the separator before it (but the very
    /// first part of the template): the message is the parts `0..k` then the parts `k..`.
    #[inline(always)]
    pub(crate) fn stream_parts(&self, range: core::ops::Range<usize>, input: &MessageInput<'_>, sink: &mut impl Sink) {
        let mut upper = [0u8; METHOD_MAX];
        let parts = self.parts.get(range.start..range.end.min(self.parts.len())).unwrap_or_default();
        for (k, part) in parts.iter().enumerate() {
            if k > 0 || range.start > 0 {
                sink.put(self.separator);
            }
            if let Some(value) = streamed(part, input, &mut upper) {
                sink.put(value);
            }
        }
    }

    /// As [`stream_parts`](Self::stream_parts), in straight-line
    /// code: one step per possible part, each deciding by [`streamed`], as the loop does. For
    /// a template known at compile time (a preset's, see [`crate::preset`]) the steps past its
    /// parts and the `match` on each part fold away, leaving only the calls that feed its
    /// fields; for any other template this is the loop, unrolled ([`MAX_PARTS`] steps).
    #[inline(always)]
    pub(crate) fn stream_unrolled(
        &self,
        range: core::ops::Range<usize>,
        input: &MessageInput<'_>,
        sink: &mut impl Sink,
    ) {
        #[inline(always)]
        fn step(
            t: &Template<'_>,
            i: usize,
            range: &core::ops::Range<usize>,
            input: &MessageInput<'_>,
            sink: &mut impl Sink,
        ) {
            let Some(part) = t.parts.get(i).filter(|_| range.contains(&i)) else { return };
            if i > 0 && !t.separator.is_empty() {
                sink.put(t.separator);
            }
            let mut upper = [0u8; METHOD_MAX];
            if let Some(value) = streamed(part, input, &mut upper) {
                sink.put(value);
            }
        }
        // Written out, not a loop: a loop is not unrolled at opt-level "z" (nor "s").
        macro_rules! steps { ($($i:literal)*) => { $(step(self, $i, &range, input, sink);)* } }
        const _: () = assert!(MAX_PARTS == 16, "one step per possible part");
        steps!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    }

    /// How many parts at the start never change for one signer (its API key, its user id,
    /// literals): the prefix a signer hashes once.
    pub(crate) const fn fixed_prefix(&self) -> usize {
        let (mut n, mut rest) = (0usize, self.parts);
        while let [Part::ApiKey | Part::UserId | Part::Literal(_), tail @ ..] = rest {
            (n, rest) = (n.saturating_add(1), tail);
        }
        n
    }

    /// Whether the separator holds a byte that is not a decimal digit, so cannot occur in a
    /// timestamp or nonce.
    pub(crate) const fn separator_outside_digits(&self) -> bool {
        let mut rest = self.separator;
        while let [b, tail @ ..] = rest {
            if !b.is_ascii_digit() {
                return true;
            }
            rest = tail;
        }
        false
    }

    /// Length of the message for `input`.
    ///
    /// # Errors
    /// As [`check_input`](Self::check_input).
    pub fn message_len(&self, input: &MessageInput<'_>) -> Result<usize, Error> {
        self.check_input(input)?;
        let mut counter = Counter::default();
        self.stream(input, &mut counter);
        Ok(counter.0)
    }

    /// Writes the exact message into `out` and returns it — for logs, debugging, and callers
    /// who want to see what is signed.
    ///
    /// # Errors
    /// As [`check_input`](Self::check_input), and [`Error::BufferTooSmall`] when `out` is
    /// shorter than [`message_len`](Self::message_len). Nothing is written on error.
    pub fn render<'o>(&self, input: &MessageInput<'_>, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let len = self.message_len(input)?;
        let dst = out.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let mut writer = Writer { out: dst, len: 0 };
        self.stream(input, &mut writer);
        Ok(writer.out)
    }
}

/// The RFC 9110 `tchar`s, as the bits of a mask indexed by byte value, in 32-bit words (so a
/// 32-bit core tests one with one shift; built at compile time, 16 bytes where a table by
/// byte would take 256).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // const-evaluated
const TCHARS: [u32; 4] = {
    let (mut mask, mut c) = ([0u32; 4], 0u8);
    while c < 128 {
        let tchar = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if tchar {
            mask[(c / 32) as usize] |= 1 << (c % 32);
        }
        c += 1;
    }
    mask
};

/// The byte classes [`scan`] checks: RFC 9110 `tchar`s (methods), printable ASCII without
/// space (paths).
#[derive(Copy, Clone)]
enum Class {
    Tchar,
    Printable,
}

/// Whether `b` is in `class` (without a branch).
#[inline(always)]
fn in_class(b: u8, class: Class) -> bool {
    match class {
        Class::Tchar => TCHARS.get(usize::from(b / 32)).map_or(0, |w| w >> (b % 32)) & 1 != 0,
        Class::Printable => b.wrapping_sub(0x21) < 0x7f - 0x21,
    }
}

/// One pass over `text`: whether every byte is in `class`, and whether any byte is `sep` or
/// `alt`. Every byte is looked at (no early exit, no branch).
#[inline(always)]
fn scan(text: &[u8], class: Class, sep: u8, alt: u8) -> (bool, bool) {
    text.iter().fold((true, false), |(all, seen), &b| (all & in_class(b, class), seen | (b == sep) | (b == alt)))
}

/// Checks that `method` is a non-empty HTTP token (RFC 9110 `tchar`s), at most
/// [`METHOD_MAX`] bytes.
///
/// # Errors
/// [`Error::InvalidMethod`] otherwise.
pub(crate) fn check_method(method: &[u8]) -> Result<(), Error> {
    method_fields(method, 0, 0).map(|_| ())
}

/// [`check_method`], and whether the method as sent uppercased holds the one-byte separator
/// `sep` (0: none).
#[inline(always)]
fn method_fields(method: &[u8], sep: u8, alt: u8) -> Result<bool, Error> {
    let (token, seen) = scan(method, Class::Tchar, sep, alt);
    if method.is_empty() || method.len() > METHOD_MAX || !token {
        return Err(Error::InvalidMethod);
    }
    Ok(seen)
}

/// Checks that a request target is printable ASCII (no space, no control byte) and starts
/// with `/`. (Role policies check much more: see [`crate::policy`].)
///
/// # Errors
/// [`Error::InvalidPath`] otherwise.
pub(crate) fn check_path(path: &[u8]) -> Result<(), Error> {
    path_fields(path, 0).map(|_| ())
}

/// [`check_path`], and whether the path holds the one-byte separator `sep` (0: none).
#[inline(always)]
fn path_fields(path: &[u8], sep: u8) -> Result<bool, Error> {
    let (printable, seen) = scan(path, Class::Printable, sep, sep);
    if path.first() != Some(&b'/') || !printable {
        return Err(Error::InvalidPath);
    }
    Ok(seen)
}

/// The request checks of a template with a one-byte separator, planned once: which fields
/// the separator must be looked for in (those the template carries anywhere but last, unless
/// known free of it), and whether the method and path are signed (so checked).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct FieldChecks {
    sep: u8,
    /// Fields that must not hold the separator.
    key: bool,
    user: bool,
    timestamp: bool,
    nonce: bool,
    method: bool,
    path: bool,
    body: bool,
    /// The template signs the method / the path.
    uses_method: bool,
    uses_path: bool,
}

impl FieldChecks {
    /// The plan for `t`, whose parts for which `settled` holds are known free of the
    /// separator; `None` when the separator is longer than one byte (or is NUL) or a part is
    /// a request header (those checks keep their place in [`Template::check_input`]). With
    /// no separator at all nothing can hold it: the plan checks the method and path only.
    pub(crate) fn plan(t: &Template<'_>, settled: impl Fn(&Part<'_>) -> bool) -> Option<FieldChecks> {
        const FIELDS: [Part<'static>; 7] =
            [Part::ApiKey, Part::UserId, Part::Timestamp, Part::Nonce, Part::Method, Part::Path, Part::Body];
        let kinds = FIELDS.iter().filter(|p| settled(p)).fold(0, |bits, p| bits | Self::bit(p.kind()));
        Self::planned(t, kinds)
    }

    /// A kind as one bit of `planned`'s set.
    pub(crate) const fn bit(kind: PartKind) -> u16 {
        1 << kind as u16
    }

    /// [`plan`](Self::plan), with the settled parts as a set of [`PartKind`] bits: a `const`
    /// function, so a template known at compile time is planned at compile time.
    pub(crate) const fn planned(t: &Template<'_>, settled: u16) -> Option<FieldChecks> {
        let (sep, any) = match *t.separator {
            [] => (0, false),
            [sep] if sep != 0 => (sep, true),
            _ => return None,
        };
        let mut f = FieldChecks {
            sep,
            key: false,
            user: false,
            timestamp: false,
            nonce: false,
            method: false,
            path: false,
            body: false,
            uses_method: false,
            uses_path: false,
        };
        let mut rest = t.parts;
        while let [part, tail @ ..] = rest {
            rest = tail;
            let early = any && !tail.is_empty() && settled & Self::bit(part.kind()) == 0;
            match part {
                Part::Header(_) => return None,
                Part::Literal(_) => {}
                Part::ApiKey => f.key |= early,
                Part::UserId => f.user |= early,
                Part::Timestamp => f.timestamp |= early,
                Part::Nonce => f.nonce |= early,
                Part::Method => (f.method, f.uses_method) = (f.method | early, true),
                Part::Path => (f.path, f.uses_path) = (f.path | early, true),
                Part::Body => f.body |= early,
            }
        }
        Some(f)
    }

    /// What [`check_path`] (for a template that signs the path), then
    /// [`Template::check_input`] say of `input`, with one pass over each field: same errors,
    /// same order.
    #[inline(always)]
    pub(crate) fn check(&self, input: &MessageInput<'_>) -> Result<(), Error> {
        let sep = self.sep;
        let in_path = if self.uses_path { path_fields(input.path, sep)? } else { false };
        // A signer sends the method uppercased: a lowercase separator cannot be in it, an
        // uppercase one comes from either case.
        let (method_sep, method_alt) = match input.uppercase_method {
            true if sep.is_ascii_lowercase() => (0, 0),
            true => (sep, sep.to_ascii_lowercase()),
            false => (sep, sep),
        };
        let in_method = if self.uses_method { method_fields(input.method, method_sep, method_alt)? } else { false };
        let holds = |on: bool, field: &[u8]| on && contains(field, &[sep]);
        if (self.path && in_path)
            || (self.method && in_method && method_sep != 0)
            || holds(self.key, input.api_key)
            || holds(self.user, input.user_id)
            || holds(self.timestamp, input.timestamp)
            || holds(self.nonce, input.nonce)
            || holds(self.body, input.body)
        {
            return Err(Error::SeparatorInField);
        }
        Ok(())
    }
}

/// What `part` streams for `input`: the method as sent (see [`sent_method`], uppercased into
/// `upper`), a signed header's value (`None` when the request lacks it: streaming skips it,
/// the checks refuse it), any other part's field or text.
#[inline(always)]
fn streamed<'i>(part: &Part<'i>, input: &MessageInput<'i>, upper: &'i mut [u8; METHOD_MAX]) -> Option<&'i [u8]> {
    match *part {
        Part::Method => Some(sent_method(input.method, input.uppercase_method, upper)),
        Part::Header(name) => headers::require(input.headers, name).ok(),
        _ => Some(Template::field(part, input)),
    }
}

/// The method as the message carries it: uppercased (into `buf`) when `uppercase` is set —
/// what is streamed, so also what the separator checks must look at. A method longer than
/// [`METHOD_MAX`] (which [`check_method`] refuses) is returned as it is.
pub(crate) fn sent_method<'x>(method: &'x [u8], uppercase: bool, buf: &'x mut [u8; METHOD_MAX]) -> &'x [u8] {
    if !uppercase || !method.iter().any(u8::is_ascii_lowercase) {
        return method;
    }
    match buf.get_mut(..method.len()) {
        Some(dst) => {
            dst.copy_from_slice(method);
            dst.make_ascii_uppercase();
            dst
        }
        None => method,
    }
}

/// Whether `needle` occurs in `haystack` (an empty needle never does).
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    match needle {
        [] => false,
        // The common one-byte separator: a branch-free scan (it vectorizes on hosts), and no
        // `memchr` (200 bytes) in a device's link.
        [byte] => haystack.iter().fold(false, |seen, b| seen | (b == byte)),
        _ => haystack.windows(needle.len()).any(|w| w == needle),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    const AEVO: Template<'static> = crate::dialect::AEVO_TEMPLATE;

    #[test]
    fn renders_the_aevo_worked_example() {
        let input = MessageInput {
            api_key: b"API_KEY",
            timestamp: b"1673425955575713842",
            method: b"get",
            path: b"/account",
            uppercase_method: true,
            ..MessageInput::EMPTY
        };
        let mut buf = [0u8; 64];
        assert_eq!(AEVO.render(&input, &mut buf), Ok(&b"API_KEY,1673425955575713842,GET,/account,"[..]));
        let mut short = [0xeeu8; 10];
        assert_eq!(AEVO.render(&input, &mut short), Err(Error::BufferTooSmall));
        assert_eq!(short, [0xee; 10], "nothing written on error");
    }

    #[test]
    fn separator_only_allowed_in_last_part() {
        let base = MessageInput {
            api_key: b"K",
            timestamp: b"1",
            method: b"POST",
            path: b"/a",
            body: b"{\"a\":1,\"b\":2}",
            ..MessageInput::EMPTY
        };
        assert_eq!(AEVO.check_input(&base), Ok(()));
        let bad_path = MessageInput { path: b"/a,b", ..base };
        assert_eq!(AEVO.check_input(&bad_path), Err(Error::SeparatorInField));
        let bad_key = MessageInput { api_key: b"K,", ..base };
        assert_eq!(AEVO.check_input(&bad_key), Err(Error::SeparatorInField));
        // The method is checked as it is sent: uppercased, it holds an uppercase separator
        // (found by the `template` fuzz target).
        let t = Template { parts: &[Part::Method, Part::Path], separator: b"E", encoding: Encoding::Hex };
        let lower = MessageInput { method: b"get", path: b"/a", ..MessageInput::EMPTY };
        assert_eq!(t.check_input(&MessageInput { uppercase_method: true, ..lower }), Err(Error::SeparatorInField));
        assert_eq!(t.check_input(&lower), Ok(()));
    }

    #[test]
    fn header_parts_and_literals() {
        let t = Template {
            parts: &[Part::Literal(b"v1"), Part::Header("X-Id"), Part::Body],
            separator: b".",
            encoding: Encoding::UpperHex,
        };
        let hs = [Header::new("x-id", "msg_1")];
        let input = MessageInput { body: b"a.b", headers: &hs, ..MessageInput::EMPTY };
        let mut buf = [0u8; 32];
        assert_eq!(t.render(&input, &mut buf), Ok(&b"v1.msg_1.a.b"[..]));
        let missing = MessageInput { headers: &[], ..input };
        assert_eq!(t.render(&missing, &mut buf), Err(Error::MissingCredential));
        let empty = Template { parts: &[], ..t };
        assert_eq!(empty.check(), Err(Error::InvalidTemplate));
    }

    /// The one-pass field checks against [`check_path`] + [`Template::check_input`], the
    /// oracle: same verdict for every input, for templates with each field early or last,
    /// separators of digits, letters of either case and path bytes, methods as a signer
    /// (uppercased) and as a verifier (as received) sends them.
    #[test]
    fn field_checks_agree_with_check_input() {
        let shapes: [&[Part<'_>]; 5] = [
            &[Part::ApiKey, Part::Timestamp, Part::Method, Part::Path, Part::Body],
            &[Part::UserId, Part::Nonce, Part::Body, Part::Path, Part::Method],
            &[Part::Body, Part::Path, Part::Literal(b"v,1"), Part::Method, Part::ApiKey],
            &[Part::Method, Part::Path, Part::Path],
            &[Part::Timestamp, Part::Path],
        ];
        let (mut planned, mut verdicts) = (0, std::collections::BTreeSet::new());
        for parts in shapes {
            for separator in [&b","[..], b"5", b"E", b"e", b"/", b"\0", b",,", b""] {
                let t = Template { parts, separator, encoding: Encoding::LowerHex };
                let Some(fields) = FieldChecks::plan(&t, |_| false) else { continue };
                planned += 1;
                for key in [&b"k"[..], b"k,", b"k5E"] {
                    for digits in [&b"123"[..], b"155"] {
                        for method in [&b"get"[..], b"GET", b"G,T", b"gEt", b"PO/ST", b"G T", b""] {
                            for path in [&b"/a"[..], b"/a5", b"/a,b", b"/e", b"/E", b"a", b"/a b", b""] {
                                for body in [&b"x,5"[..], b"E", b"", b"/e"] {
                                    for uppercase_method in [true, false] {
                                        let input = MessageInput {
                                            api_key: key,
                                            user_id: key,
                                            timestamp: digits,
                                            nonce: digits,
                                            method,
                                            path,
                                            body,
                                            uppercase_method,
                                            ..MessageInput::EMPTY
                                        };
                                        let path_checked = if t.uses(Part::Path) { check_path(path) } else { Ok(()) };
                                        let expected = path_checked.and_then(|()| t.check_input(&input));
                                        assert_eq!(fields.check(&input), expected, "{parts:?} {separator:?} {input:?}");
                                        verdicts.insert(std::format!("{expected:?}"));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(planned, 5 * 6, "every shape planned for each one-byte separator but NUL, and for none");
        let all: std::vec::Vec<_> = verdicts.into_iter().collect();
        assert_eq!(all, ["Err(InvalidMethod)", "Err(InvalidPath)", "Err(SeparatorInField)", "Ok(())"]);
    }

    #[test]
    fn tchar_table_is_rfc_9110() {
        for b in 0..=255u8 {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(check_method(&[b]).is_ok(), tchar, "{b:#04x}");
        }
    }

    /// The token check (a fold over the whole name, no early exit) against RFC 9110's
    /// `tchar` set: every byte value at every position of names of every length up to
    /// [`METHOD_MAX`], on a name of letters, digits and `-` and on one of other `tchar`s.
    #[test]
    fn token_check_agrees_with_tchar_by_byte() {
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        for base in [&b"X-Aevo-Signature-0123456789-abcz"[..], b"a!#$%&'*+-.^_`|~A!#$%&'*+-.^_`|~"] {
            for len in 1..=METHOD_MAX {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut name = base[..len].to_vec();
                        name[at] = b;
                        assert_eq!(check_method(&name).is_ok(), name.iter().all(|&c| tchar(c)), "{name:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn paths_are_printable_ascii_by_byte() {
        for b in 0..=255u8 {
            assert_eq!(check_path(&[b'/', b, b'a']).is_ok(), (0x21..=0x7e).contains(&b), "{b:#04x}");
        }
    }

    #[test]
    fn methods_are_tokens() {
        assert_eq!(check_method(b"GET"), Ok(()));
        assert_eq!(check_method(b"M-SEARCH"), Ok(()));
        for bad in [&b""[..], b"GE T", b"GET\r\n", &[b'A'; METHOD_MAX + 1]] {
            assert_eq!(check_method(bad), Err(Error::InvalidMethod));
        }
    }
}
