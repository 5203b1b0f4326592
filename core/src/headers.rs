//! Headers in and out: presented headers are looked up by name (case-insensitive, refusing
//! duplicates); produced headers live in a fixed-capacity [`HeaderSet`].

use core::fmt;

use crate::Error;

/// Most headers any scheme produces.
pub const MAX_HEADERS: usize = 6;

/// Longest value stored inline in a produced header (a hex signature, a decimal timestamp).
pub const INLINE_VALUE_MAX: usize = 64;

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
pub fn find<'a>(headers: &[Header<'a>], name: &str) -> Result<Option<&'a [u8]>, Error> {
    let mut found = None;
    for h in headers {
        if h.name.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(Error::DuplicateHeader);
            }
            found = Some(h.value);
        }
    }
    Ok(found)
}

/// Like [`find`], but the header must be present.
///
/// # Errors
/// [`Error::MissingCredential`] when absent, [`Error::DuplicateHeader`] when repeated.
pub fn require<'a>(headers: &[Header<'a>], name: &str) -> Result<&'a [u8], Error> {
    find(headers, name)?.ok_or(Error::MissingCredential)
}

/// Checks that `value` may be sent as a header value: printable ASCII, with inner spaces or
/// tabs allowed but none at either end (a parser would trim them, changing what was signed).
///
/// # Errors
/// [`Error::InvalidHeaderValue`] otherwise.
pub fn check_value(value: &[u8]) -> Result<(), Error> {
    let inner_ok = value.iter().all(|&b| matches!(b, 0x21..=0x7e | b' ' | b'\t'));
    let ends_ok = !matches!(value.first(), Some(b' ' | b'\t')) && !matches!(value.last(), Some(b' ' | b'\t'));
    if inner_ok && ends_ok { Ok(()) } else { Err(Error::InvalidHeaderValue) }
}

/// The value part of a produced header: borrowed from the credentials, or stored inline.
#[derive(Clone, Eq, PartialEq)]
pub enum HeaderValue<'a> {
    /// Text borrowed from the caller (a key, a token, a user id).
    Borrowed(&'a str),
    /// Text computed by apisig (a signature, a timestamp, a nonce).
    Inline(heapless::String<INLINE_VALUE_MAX>),
}

impl HeaderValue<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            HeaderValue::Borrowed(s) => s,
            HeaderValue::Inline(s) => s.as_str(),
        }
    }
}

/// One produced header: `name: prefix value`, e.g. `Authorization: Bearer <token>`.
#[derive(Clone, Eq, PartialEq)]
pub struct HeaderLine<'a> {
    /// The field name, as the scheme spells it.
    pub name: &'a str,
    /// Fixed text before the value (`"Bearer "`), often empty.
    pub prefix: &'a str,
    /// The value.
    pub value: HeaderValue<'a>,
    /// Whether the value is a secret (a static API key, an API secret, a token): `Debug`
    /// hides it, and loggers should too.
    pub secret: bool,
}

impl HeaderLine<'_> {
    /// Length of the full value (prefix included).
    pub fn value_len(&self) -> usize {
        self.prefix.len().saturating_add(self.value.as_str().len())
    }

    /// Writes the full value (prefix included) into `out`; returns the written part.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `out` is shorter than [`value_len`](Self::value_len);
    /// nothing is written then.
    pub fn write_value<'o>(&self, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let (p, v) = (self.prefix.as_bytes(), self.value.as_str().as_bytes());
        let total = self.value_len();
        let dst = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        let (a, b) = dst.split_at_mut(p.len());
        a.copy_from_slice(p);
        b.copy_from_slice(v);
        Ok(dst)
    }
}

impl fmt::Display for HeaderLine<'_> {
    /// `Name: value`, as on the wire (secrets included: this is the header itself).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}{}", self.name, self.prefix, self.value.as_str())
    }
}

impl fmt::Debug for HeaderLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.secret { "<redacted>" } else { self.value.as_str() };
        write!(f, "{}: {}{}", self.name, self.prefix, value)
    }
}

/// The headers a signer produced, in the scheme's order, in fixed storage.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct HeaderSet<'a> {
    lines: heapless::Vec<HeaderLine<'a>, MAX_HEADERS>,
}

impl<'a> HeaderSet<'a> {
    pub(crate) fn push(&mut self, line: HeaderLine<'a>) -> Result<(), Error> {
        self.lines.push(line).map_err(|_| Error::InvalidTemplate)
    }

    /// The headers, in order.
    pub fn iter(&self) -> core::slice::Iter<'_, HeaderLine<'a>> {
        self.lines.iter()
    }

    /// How many headers.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The line named `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&HeaderLine<'a>> {
        self.lines.iter().find(|l| l.name.eq_ignore_ascii_case(name))
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
        for (line, slot) in self.lines.iter().zip(out.iter_mut()) {
            let n = line.value_len();
            if rest.len() < n {
                return Err(Error::BufferTooSmall);
            }
            let (head, tail) = core::mem::take(&mut rest).split_at_mut(n);
            let value: &'s [u8] = line.write_value(head)?;
            *slot = Header { name: line.name, value };
            rest = tail;
        }
        Ok(out.get(..self.lines.len()).unwrap_or(&[]))
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
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                c.put(b",");
            }
            c.put_json_string(&[line.name.as_bytes()]);
            c.put(b":");
            c.put_json_string(&[line.prefix.as_bytes(), line.value.as_str().as_bytes()]);
        }
        c.put(b"}");
    }
}

impl<'s, 'a> IntoIterator for &'s HeaderSet<'a> {
    type Item = &'s HeaderLine<'a>;
    type IntoIter = core::slice::Iter<'s, HeaderLine<'a>>;
    fn into_iter(self) -> Self::IntoIter {
        self.lines.iter()
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
