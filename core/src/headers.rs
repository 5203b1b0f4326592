//! Headers in and out: presented headers are looked up by name (case-insensitive, refusing
//! duplicates); produced headers live in a fixed-capacity [`HeaderSet`].

use core::fmt;

use crate::Error;
use crate::scheme::{Field, HeaderSpec};

/// Most headers any scheme produces.
pub const MAX_HEADERS: usize = 6;

/// A header of an incoming request, as the HTTP server received it.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Header<'a> {
    /// The field name, in any case.
    pub name: &'a str,
    /// The field value, as received.
    pub value: &'a [u8],
}

impl<'a> Header<'a> {
    /// A header from a name and a text value.
    pub const fn new(name: &'a str, value: &'a str) -> Header<'a> {
        Header { name, value: value.as_bytes() }
    }
}

/// The value of the header named `name` (ASCII case-insensitive), `None` if absent.
///
/// # Errors
/// [`Error::DuplicateHeader`] when the name appears more than once: which one a proxy or
/// framework would use is a guess, so both are refused.
pub(crate) fn find<'a>(headers: &[Header<'a>], name: &str) -> Result<Option<&'a [u8]>, Error> {
    let mut found = None;
    for h in headers {
        if same_name(h.name.as_bytes(), name.as_bytes()) {
            if found.is_some() {
                return Err(Error::DuplicateHeader);
            }
            found = Some(h.value);
        }
    }
    Ok(found)
}

/// Whether two header names are equal ignoring ASCII case (`str::eq_ignore_ascii_case`),
/// eight bytes at a time: names are public, and a verifier compares each presented header's
/// name with each name its scheme reads.
#[inline]
pub(crate) fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |c: Option<&[u8; 8]>| fold(c.map_or(0, |w| u64::from_le_bytes(*w)));
    match a.len() {
        0..8 => a.eq_ignore_ascii_case(b),
        // Whole words, then the last eight bytes (overlapping the last whole word).
        _ => {
            let words = a.chunks_exact(8).zip(b.chunks_exact(8));
            word(a.last_chunk()) == word(b.last_chunk())
                && words.into_iter().all(|(x, y)| word(x.first_chunk()) == word(y.first_chunk()))
        }
    }
}

/// A header name as integers — its length and its first and last eight bytes with ASCII case
/// folded — made once per name, so that a verifier gathering a request's headers compares
/// each presented name with each name its scheme reads in three integer comparisons. Names
/// of at most 16 bytes are equal (ignoring ASCII case) exactly when their keys are; longer
/// ones whose keys are equal are then compared in full ([`matches`](Self::matches)).
#[derive(Copy, Clone, Debug, Default, Eq, PartialEq)]
pub(crate) struct NameKey {
    len: usize,
    first: u64,
    last: u64,
}

impl NameKey {
    /// The key of `name`.
    #[inline]
    pub(crate) fn new(name: &[u8]) -> NameKey {
        let word = |w: &[u8; 8]| fold(u64::from_le_bytes(*w));
        match (name.first_chunk::<8>(), name.last_chunk::<8>()) {
            (Some(first), Some(last)) => NameKey { len: name.len(), first: word(first), last: word(last) },
            // Shorter than a word: zero-padded (a zero byte folds to itself).
            _ => {
                let mut w = [0u8; 8];
                w.iter_mut().zip(name).for_each(|(d, s)| *d = *s);
                NameKey { len: name.len(), first: word(&w), last: 0 }
            }
        }
    }

    /// Whether `name`, whose key this is, is the name `other` whose key is `other_key`
    /// (ignoring ASCII case).
    #[inline]
    pub(crate) fn matches(&self, name: &[u8], other_key: &NameKey, other: &[u8]) -> bool {
        self == other_key && (self.len <= 16 || same_name(name, other))
    }
}

/// Eight bytes with `A`–`Z` lowered (bit 5 set), every other byte unchanged.
const fn fold(v: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per byte, on the low seven bits (no carry between bytes): bit 7 of `b + 0x3f` is set
    // when b >= 'A', bit 7 of `b + 0x25` when b > 'Z'; bytes >= 0x80 are not letters.
    let low = v & LOW7;
    let upper = low.wrapping_add(0x3f3f_3f3f_3f3f_3f3f) & !low.wrapping_add(0x2525_2525_2525_2525) & !v & HIGH;
    v | (upper >> 2)
}

/// Like [`find`], but the header must be present.
///
/// # Errors
/// [`Error::MissingCredential`] when absent, [`Error::DuplicateHeader`] when repeated.
pub(crate) fn require<'a>(headers: &[Header<'a>], name: &str) -> Result<&'a [u8], Error> {
    find(headers, name)?.ok_or(Error::MissingCredential)
}

/// Checks that `value` may be sent as a header value: printable ASCII, with inner spaces or
/// tabs allowed but none at either end (a parser would trim them, changing what was signed).
///
/// # Errors
/// [`Error::InvalidHeaderValue`] otherwise.
pub(crate) fn check_value(value: &[u8]) -> Result<(), Error> {
    let inner_ok = value.iter().all(|&b| matches!(b, 0x21..=0x7e | b' ' | b'\t'));
    let ends_ok = !matches!(value.first(), Some(b' ' | b'\t')) && !matches!(value.last(), Some(b' ' | b'\t'));
    if inner_ok && ends_ok { Ok(()) } else { Err(Error::InvalidHeaderValue) }
}

/// One produced header, `name: prefix value` — e.g. `Authorization: Bearer <token>` — as a
/// view into the [`HeaderSet`] that holds it.
#[derive(Copy, Clone, Eq, PartialEq)]
pub struct HeaderLine<'s> {
    /// The field name, as the scheme spells it.
    pub name: &'s str,
    /// Fixed text before the value (`"Bearer "`), often empty.
    pub prefix: &'s str,
    /// The value: borrowed from the credentials (a key, a token, a user id) or computed by
    /// the signer (a signature, a timestamp, a nonce).
    pub value: &'s str,
    /// Whether the value is a secret (a static API key, an API secret, a token): `Debug`
    /// hides it, and loggers should too.
    pub secret: bool,
}

impl HeaderLine<'_> {
    /// Length of the full value (prefix included).
    pub fn value_len(&self) -> usize {
        self.prefix.len().saturating_add(self.value.len())
    }

    /// Writes the full value (prefix included) into `out`; returns the written part.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `out` is shorter than [`value_len`](Self::value_len);
    /// nothing is written then.
    pub fn write_value<'o>(&self, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let (p, v) = (self.prefix.as_bytes(), self.value.as_bytes());
        let dst = out.get_mut(..self.value_len()).ok_or(Error::BufferTooSmall)?;
        let (a, b) = dst.split_at_mut(p.len());
        // Most values have no prefix: no copy call for it then.
        if !p.is_empty() {
            a.copy_from_slice(p);
        }
        b.copy_from_slice(v);
        Ok(dst)
    }
}

impl fmt::Display for HeaderLine<'_> {
    /// `Name: value`, as on the wire (secrets included: this is the header itself).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}{}", self.name, self.prefix, self.value)
    }
}

impl fmt::Debug for HeaderLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.secret { "<redacted>" } else { self.value };
        write!(f, "{}: {}{}", self.name, self.prefix, value)
    }
}

/// The credentials a [`HeaderSet`] sends as they are, borrowed from the signer.
#[derive(Copy, Clone)]
pub(crate) struct Sent<'a> {
    pub(crate) api_key: &'a str,
    /// The API secret as text (empty unless the scheme sends it).
    pub(crate) secret: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) token: &'a str,
    /// The API key is the credential itself (a static-key scheme), so it is a secret.
    pub(crate) key_is_secret: bool,
}

/// The headers a signer produced, in the scheme's order, in fixed storage: the scheme's
/// header specs, the credentials they send (borrowed), and the text computed for this
/// request — timestamp, nonce and signature — in one inline buffer. Lines are views made on
/// demand ([`iter`](Self::iter), [`get`](Self::get)): signing writes each computed byte once
/// and copies nothing else.
#[derive(Clone)]
pub struct HeaderSet<'a> {
    specs: &'a [HeaderSpec<'a>],
    sent: Sent<'a>,
    /// The computed text, laid out as [`Computed`] lays it out, checked as UTF-8 once, so
    /// reading a line costs nothing.
    computed: heapless::String<COMPUTED_MAX>,
    ts_start: u8,
    nonce_start: u8,
}

/// Room for the computed text of a [`HeaderSet`].
const COMPUTED_MAX: usize = Computed::SIGNATURE + crate::SIGNATURE_TEXT_MAX;

/// The text a signer computes for one request, in fixed places — the timestamp's digits at
/// the end of the first 20 bytes, the nonce's at the end of the next 20, the signature after
/// them — so each is written where it stays, and the whole is checked as UTF-8 in one call
/// and becomes the set's text without a copy.
pub(crate) struct Computed {
    pub(crate) text: heapless::Vec<u8, COMPUTED_MAX>,
    /// Length of each: timestamp, nonce, signature.
    pub(crate) lens: [usize; 3],
}

impl Computed {
    /// Where the nonce's 20 bytes start, and where the signature starts.
    pub(crate) const NONCE: usize = 20;
    pub(crate) const SIGNATURE: usize = 40;

    /// Nothing computed yet.
    pub(crate) fn new() -> Computed {
        Computed { text: heapless::Vec::from_array([0; COMPUTED_MAX]), lens: [0; 3] }
    }

    /// The timestamp's and the nonce's room, and the signature's (always `Some`: the layout
    /// is fixed).
    #[allow(clippy::type_complexity)]
    pub(crate) fn parts(&mut self) -> Option<(&mut [u8; 20], &mut [u8; 20], &mut [u8; crate::SIGNATURE_TEXT_MAX])> {
        let (ts, rest) = self.text.split_first_chunk_mut::<20>()?;
        let (nonce, sig) = rest.split_first_chunk_mut::<20>()?;
        Some((ts, nonce, sig.first_chunk_mut()?))
    }
}

impl<'a> HeaderSet<'a> {
    /// A set for `specs` (at most [`MAX_HEADERS`], as [`Scheme::check`] ensures) whose
    /// computed values are in `computed`: its text, checked as UTF-8, becomes the set's own
    /// (moved, not copied: a copy cost ~15 ns a sign).
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`] if they are not UTF-8 or out of their places (the signer
    /// never makes such text).
    ///
    /// [`Scheme::check`]: crate::Scheme::check
    #[inline]
    pub(crate) fn new(specs: &'a [HeaderSpec<'a>], sent: Sent<'a>, computed: Computed) -> Result<HeaderSet<'a>, Error> {
        let [ts, nonce, sig] = computed.lens;
        let bad = ts > Computed::NONCE || nonce > Computed::SIGNATURE - Computed::NONCE;
        let end = Computed::SIGNATURE.saturating_add(sig);
        if bad || end > computed.text.len() {
            return Err(Error::InvalidTemplate);
        }
        let mut text = computed.text;
        text.truncate(end);
        Ok(HeaderSet {
            specs,
            sent,
            computed: heapless::String::from_utf8(text).map_err(|_| Error::InvalidTemplate)?,
            ts_start: u8::try_from(Computed::NONCE.saturating_sub(ts)).map_err(|_| Error::InvalidTemplate)?,
            nonce_start: u8::try_from(Computed::SIGNATURE.saturating_sub(nonce)).map_err(|_| Error::InvalidTemplate)?,
        })
    }

    /// A set for `specs` with the computed values empty (see [`Signer::fixed_headers`]).
    ///
    /// [`Signer::fixed_headers`]: crate::Signer::fixed_headers
    pub(crate) fn fixed(specs: &'a [HeaderSpec<'a>], sent: Sent<'a>) -> HeaderSet<'a> {
        HeaderSet { specs, sent, computed: heapless::String::new(), ts_start: 0, nonce_start: 0 }
    }

    /// The line `spec` makes.
    #[inline(always)]
    fn line(&self, spec: &HeaderSpec<'a>) -> HeaderLine<'_> {
        let (ts, nonce) = (usize::from(self.ts_start), usize::from(self.nonce_start));
        let computed = |range: core::ops::Range<usize>| self.computed.get(range).unwrap_or_default();
        let (value, secret) = match spec.field {
            Field::ApiKey => (self.sent.api_key, self.sent.key_is_secret),
            Field::Secret => (self.sent.secret, true),
            Field::Jwt | Field::SessionToken => (self.sent.token, true),
            Field::UserId => (self.sent.user_id, false),
            Field::Timestamp => (computed(ts..Computed::NONCE), false),
            Field::Nonce => (computed(nonce..Computed::SIGNATURE), false),
            Field::Signature => (computed(Computed::SIGNATURE..self.computed.len()), false),
        };
        HeaderLine { name: spec.name, prefix: spec.prefix, value, secret }
    }

    /// The headers, in order.
    #[inline]
    pub fn iter(&self) -> Lines<'_, 'a> {
        Lines { set: self, specs: self.specs.iter() }
    }

    /// How many headers.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// The line named `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<HeaderLine<'_>> {
        self.iter().find(|l| same_name(l.name.as_bytes(), name.as_bytes()))
    }

    /// The same headers as a request would carry them, for a verifier or a test.
    /// `store` provides room for the values (each needs [`HeaderLine::value_len`] bytes).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `store` is too short.
    pub fn as_request_headers<'s>(
        &'s self,
        store: &'s mut [u8],
        out: &'s mut [Header<'s>; MAX_HEADERS],
    ) -> Result<&'s [Header<'s>], Error> {
        let mut rest: &'s mut [u8] = store;
        for (line, slot) in self.iter().zip(out.iter_mut()) {
            let n = line.value_len();
            if rest.len() < n {
                return Err(Error::BufferTooSmall);
            }
            let (head, tail) = core::mem::take(&mut rest).split_at_mut(n);
            let value: &'s [u8] = line.write_value(head)?;
            *slot = Header { name: line.name, value };
            rest = tail;
        }
        Ok(out.get(..self.len()).unwrap_or(&[]))
    }

    /// Writes the headers as a compact JSON object, `{"Name":"value",…}`, in order — the
    /// request body of APEX `AuthenticateUser`. Values are printable ASCII; `"` and `\` are
    /// escaped.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `out` is too short; nothing is written then.
    pub fn write_json<'o>(&self, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let needed = self.json_len();
        let dst = out.get_mut(..needed).ok_or(Error::BufferTooSmall)?;
        let mut writer = Cursor { out: Some(dst), len: 0 };
        self.json_into(&mut writer);
        out.get(..needed).ok_or(Error::BufferTooSmall)
    }

    /// Length of what [`write_json`](Self::write_json) writes.
    pub fn json_len(&self) -> usize {
        let mut counter = Cursor { out: None, len: 0 };
        self.json_into(&mut counter);
        counter.len
    }

    fn json_into(&self, c: &mut Cursor<'_>) {
        c.put(b"{");
        for (i, line) in self.iter().enumerate() {
            if i > 0 {
                c.put(b",");
            }
            c.put_json_string(&[line.name.as_bytes()]);
            c.put(b":");
            c.put_json_string(&[line.prefix.as_bytes(), line.value.as_bytes()]);
        }
        c.put(b"}");
    }
}

/// Two sets are equal when they send the same headers.
impl PartialEq for HeaderSet<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for HeaderSet<'_> {}

impl fmt::Debug for HeaderSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The lines of a [`HeaderSet`], in order.
#[derive(Clone)]
pub struct Lines<'s, 'a> {
    set: &'s HeaderSet<'a>,
    specs: core::slice::Iter<'s, HeaderSpec<'a>>,
}

impl<'s> Iterator for Lines<'s, '_> {
    type Item = HeaderLine<'s>;

    // Always inlined: a line returned through memory is read back with wider loads than it
    // was written with (a store-forwarding stall per line, in every face's header loop).
    #[inline(always)]
    fn next(&mut self) -> Option<HeaderLine<'s>> {
        self.specs.next().map(|spec| self.set.line(spec))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.specs.size_hint()
    }
}

impl ExactSizeIterator for Lines<'_, '_> {}

impl<'s, 'a> IntoIterator for &'s HeaderSet<'a> {
    type Item = HeaderLine<'s>;
    type IntoIter = Lines<'s, 'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Counts (when `out` is `None`) or writes bytes; the caller sized `out` by counting first.
struct Cursor<'o> {
    out: Option<&'o mut [u8]>,
    len: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.out.as_deref_mut().and_then(|o| o.get_mut(self.len..end)) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    fn put_json_string(&mut self, pieces: &[&[u8]]) {
        self.put(b"\"");
        for piece in pieces {
            for b in piece.iter() {
                match b {
                    b'"' => self.put(b"\\\""),
                    b'\\' => self.put(b"\\\\"),
                    other => self.put(core::slice::from_ref(other)),
                }
            }
        }
        self.put(b"\"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time comparison against `eq_ignore_ascii_case`, the oracle, on names
    /// that differ in one byte (every byte value, every position, lengths around a word).
    #[test]
    fn same_name_agrees_with_eq_ignore_ascii_case() {
        for len in [1usize, 7, 8, 9, 15, 16, 17, 24] {
            let base: std::vec::Vec<u8> = b"Aevo-Signature-Key-X-Y-Z".iter().copied().cycle().take(len).collect();
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut other = base.clone();
                    other.iter_mut().skip(at).take(1).for_each(|b| *b = byte);
                    assert_eq!(same_name(&base, &other), base.eq_ignore_ascii_case(&other), "{other:?}");
                    let lower = base.to_ascii_lowercase();
                    assert_eq!(same_name(&lower, &other), lower.eq_ignore_ascii_case(&other), "{other:?}");
                }
            }
        }
        assert!(!same_name(b"abc", b"abcd"));
    }

    /// Name keys against `eq_ignore_ascii_case`, the oracle, as for [`same_name`]: names that
    /// differ in one byte, every byte value at every position, lengths 0 to 24.
    #[test]
    fn name_keys_agree_with_eq_ignore_ascii_case() {
        for len in 0..=24usize {
            let base: std::vec::Vec<u8> = b"Aevo-Signature-Key-X-Y-Z".iter().copied().take(len).collect();
            let lower = base.to_ascii_lowercase();
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut other = base.clone();
                    other.iter_mut().skip(at).take(1).for_each(|b| *b = byte);
                    let key = NameKey::new(&other);
                    for name in [&base, &lower] {
                        let same = NameKey::new(name).matches(name, &key, &other);
                        assert_eq!(same, name.eq_ignore_ascii_case(&other), "{name:?} {other:?}");
                    }
                }
            }
            let shorter = base.get(..len.saturating_sub(1)).unwrap_or_default();
            assert_eq!(NameKey::new(&base).matches(&base, &NameKey::new(shorter), shorter), len == 0);
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_refuses_duplicates() {
        let hs = [Header::new("x-api-key", "a"), Header::new("Other", "b")];
        assert_eq!(find(&hs, "X-Api-Key"), Ok(Some(&b"a"[..])));
        assert_eq!(require(&hs, "Missing"), Err(Error::MissingCredential));
        let dup = [Header::new("X-API-KEY", "a"), Header::new("x-api-key", "a")];
        assert_eq!(find(&dup, "X-Api-Key"), Err(Error::DuplicateHeader));
    }

    #[test]
    fn header_values_refuse_injection_and_edge_whitespace() {
        assert_eq!(check_value(b"abc DEF\t1"), Ok(()));
        for bad in [&b"a\r\nX-Evil: 1"[..], b"a\0", b" a", b"a ", b"a\x7f", "é".as_bytes()] {
            assert_eq!(check_value(bad), Err(Error::InvalidHeaderValue), "{bad:?}");
        }
    }
}
