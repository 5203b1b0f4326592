//! Credentials in a JSON request body. APEX `AuthenticateUser` sends
//! `{"APIKey": …, "Signature": …, "UserId": …, "Nonce": …, "UserName": …}` in its body (the
//! document's OpenAPI) as well as, or instead of, headers;
//! [`Verifier::verify_json_body`](crate::Verifier::verify_json_body) reads them here.
//!
//! The body is read strictly, without allocating or recursing: UTF-8, one JSON object
//! (RFC 8259), nothing after it. A scheme's credential is the member named exactly like its
//! header; other members (`UserName`) are checked as JSON and ignored. A credential is a
//! string without escapes (a key, signature or user id never needs one, and an escaped
//! spelling would give one value two texts), or for a timestamp, nonce or user id a number,
//! taken as written: `"Nonce": 1700000000000` is the text `1700000000000`, and `1e3`, `1.0`
//! or `-1` are not a nonce ([`Error::InvalidNonce`] when it is parsed).

use crate::Error;
use crate::headers::Header;
use crate::headers::MAX_HEADERS;
use crate::scheme::{Field, Scheme};

/// How deeply the values of members the scheme does not read may nest.
const DEPTH_MAX: u32 = 64;

/// The credentials `scheme` reads from `body`, as headers named like the scheme's, in its
/// order, written into `out`; returns how many were found (a missing one is left for the
/// verifier to refuse as [`Error::MissingCredential`]). An empty body carries none.
///
/// # Errors
/// [`Error::InvalidBody`] for a body that is not one JSON object, or a credential of the
/// wrong type or written with escapes (or an escaped member name, which could alias a
/// credential's for another parser); [`Error::DuplicateHeader`] for a credential named
/// twice. A body that is not JSON is refused as such before anything it names is judged.
pub(crate) fn read<'a>(
    scheme: &Scheme<'a>,
    body: &'a [u8],
    out: &mut [Header<'a>; MAX_HEADERS],
) -> Result<usize, Error> {
    if body.is_empty() {
        return Ok(0);
    }
    core::str::from_utf8(body).map_err(|_| Error::InvalidBody)?;
    let mut c = Cursor { text: body, at: 0 };
    let mut found: [Option<&'a [u8]>; MAX_HEADERS] = [None; MAX_HEADERS];
    // The first credential refused for what it is, reported once the whole body is known
    // to be JSON.
    let mut refused = None;
    c.ws();
    c.expect(b'{')?;
    c.ws();
    if !c.eat(b'}') {
        loop {
            c.ws();
            let (name, escaped) = c.string()?;
            c.ws();
            c.expect(b':')?;
            c.ws();
            let spec = scheme.headers.iter().position(|h| h.name.as_bytes() == name);
            let value = c.value()?;
            let verdict = match (spec.and_then(|i| scheme.headers.get(i).zip(found.get_mut(i))), value) {
                _ if escaped => Err(Error::InvalidBody),
                (None, _) => Ok(()),
                (Some((_, Some(_))), _) => Err(Error::DuplicateHeader),
                (Some((_, slot)), Value::Str(text, false)) => {
                    *slot = Some(text);
                    Ok(())
                }
                (Some((h, slot)), Value::Number(text))
                    if matches!(h.field, Field::Timestamp | Field::Nonce | Field::UserId) =>
                {
                    *slot = Some(text);
                    Ok(())
                }
                (Some(_), _) => Err(Error::InvalidBody),
            };
            refused = refused.or(verdict.err());
            c.ws();
            if !c.eat(b',') {
                c.expect(b'}')?;
                break;
            }
        }
    }
    c.ws();
    if c.at != body.len() {
        return Err(Error::InvalidBody);
    }
    if let Some(e) = refused {
        return Err(e);
    }
    let mut n = 0;
    for (h, value) in scheme.headers.iter().zip(found) {
        if let (Some(value), Some(slot)) = (value, out.get_mut(n)) {
            *slot = Header { name: h.name, value };
            n = n.saturating_add(1);
        }
    }
    Ok(n)
}

/// Whether `text` is exactly one JSON object (UTF-8, RFC 8259, nothing after it), read with
/// the same strict grammar, depth limit and no recursion as a credentials body.
pub(crate) fn is_object(text: &[u8]) -> bool {
    if core::str::from_utf8(text).is_err() {
        return false;
    }
    let mut c = Cursor { text, at: 0 };
    c.ws();
    if c.peek() != Some(b'{') || c.value().is_err() {
        return false;
    }
    c.ws();
    c.at == text.len()
}

/// A member's value, as far as a credential cares.
enum Value<'a> {
    /// A string's text between the quotes, and whether it holds an escape.
    Str(&'a [u8], bool),
    /// A number's text.
    Number(&'a [u8]),
    /// `true`, `false`, `null`, an object or an array.
    Other,
}

/// A position in the body. Every step checks the JSON grammar; a violation is
/// [`Error::InvalidBody`].
struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at = self.at.saturating_add(1);
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.at = self.at.saturating_add(1);
        }
        hit
    }

    fn expect(&mut self, b: u8) -> Result<(), Error> {
        if self.eat(b) { Ok(()) } else { Err(Error::InvalidBody) }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at = self.at.saturating_add(1);
        }
    }

    fn since(&self, start: usize) -> &'a [u8] {
        self.text.get(start..self.at).unwrap_or_default()
    }

    /// A string: its text between the quotes, and whether it holds an escape.
    fn string(&mut self) -> Result<(&'a [u8], bool), Error> {
        self.expect(b'"')?;
        let start = self.at;
        let mut escaped = false;
        loop {
            match self.bump().ok_or(Error::InvalidBody)? {
                b'"' => {
                    let end = self.at.saturating_sub(1);
                    return Ok((self.text.get(start..end).unwrap_or_default(), escaped));
                }
                b'\\' => {
                    escaped = true;
                    match self.bump() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => {
                            for _ in 0..4 {
                                if !self.bump().is_some_and(|h| h.is_ascii_hexdigit()) {
                                    return Err(Error::InvalidBody);
                                }
                            }
                        }
                        _ => return Err(Error::InvalidBody),
                    }
                }
                0x00..=0x1f => return Err(Error::InvalidBody),
                _ => {}
            }
        }
    }

    /// One or more digits.
    fn digits(&mut self) -> Result<(), Error> {
        if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidBody);
        }
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at = self.at.saturating_add(1);
        }
        Ok(())
    }

    /// A number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<&'a [u8], Error> {
        let start = self.at;
        self.eat(b'-');
        if !self.eat(b'0') {
            self.digits()?;
        }
        if self.eat(b'.') {
            self.digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.digits()?;
        }
        Ok(self.since(start))
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        let end = self.at.saturating_add(word.len());
        if self.text.get(self.at..end) == Some(word) {
            self.at = end;
            Ok(())
        } else {
            Err(Error::InvalidBody)
        }
    }

    /// A string, number or literal.
    fn scalar(&mut self) -> Result<Value<'a>, Error> {
        match self.peek() {
            Some(b'"') => self.string().map(|(text, escaped)| Value::Str(text, escaped)),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(b't') => self.literal(b"true").map(|()| Value::Other),
            Some(b'f') => self.literal(b"false").map(|()| Value::Other),
            Some(b'n') => self.literal(b"null").map(|()| Value::Other),
            _ => Err(Error::InvalidBody),
        }
    }

    /// Any value. Objects and arrays are checked and skipped without recursion: `open`
    /// holds one bit per level (set for an object), at most [`DEPTH_MAX`] of them.
    fn value(&mut self) -> Result<Value<'a>, Error> {
        if !matches!(self.peek(), Some(b'{' | b'[')) {
            return self.scalar();
        }
        let (mut open, mut depth) = (0u64, 0u32);
        loop {
            // At a value.
            self.ws();
            let object = match self.peek() {
                Some(b'{') => Some(true),
                Some(b'[') => Some(false),
                _ => None,
            };
            if let Some(object) = object {
                self.at = self.at.saturating_add(1);
                if depth >= DEPTH_MAX {
                    return Err(Error::InvalidBody);
                }
                open = open.wrapping_shl(1) | u64::from(object);
                depth = depth.saturating_add(1);
                self.ws();
                if !self.eat(if object { b'}' } else { b']' }) {
                    if object {
                        self.member_name()?;
                    }
                    continue;
                }
                open = open.wrapping_shr(1);
                depth = depth.saturating_sub(1);
            } else {
                self.scalar()?;
            }
            // After a value: close what ends here, then go on to the next value, if any.
            loop {
                if depth == 0 {
                    return Ok(Value::Other);
                }
                self.ws();
                let object = open & 1 == 1;
                if self.eat(b',') {
                    self.ws();
                    if object {
                        self.member_name()?;
                    }
                    break;
                }
                self.expect(if object { b'}' } else { b']' })?;
                open = open.wrapping_shr(1);
                depth = depth.saturating_sub(1);
            }
        }
    }

    /// A member's name and its colon, inside a value the scheme does not read.
    fn member_name(&mut self) -> Result<(), Error> {
        self.string()?;
        self.ws();
        self.expect(b':')
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use std::borrow::ToOwned;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::dialect::APEX;

    /// The APEX credentials `body` carries, as (name, value) text.
    fn apex(body: &str) -> Result<Vec<(String, String)>, Error> {
        let mut out = [Header::new("", ""); MAX_HEADERS];
        let n = read(&APEX, body.as_bytes(), &mut out)?;
        Ok(out[..n].iter().map(|h| (h.name.into(), String::from_utf8_lossy(h.value).into_owned())).collect())
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect()
    }

    #[test]
    fn reads_the_credentials_as_written_in_the_schemes_order() {
        let body = r#"{"UserName":"J\u00fcrgen","Nonce":1700000000000,"UserId":"12","Signature":"ab","APIKey":"k"}"#;
        let want = [("APIKey", "k"), ("Signature", "ab"), ("UserId", "12"), ("Nonce", "1700000000000")];
        assert_eq!(apex(body), Ok(pairs(&want)));
        // Numbers and strings alike; other members of any shape are ignored.
        let body =
            " {\"UserId\" : 7 ,\n\"Nonce\":\"5\", \"x\": [1, {\"a\": [true, null, -0.5e+3]}, []], \"y\": {}} \r\n";
        assert_eq!(apex(body), Ok(pairs(&[("UserId", "7"), ("Nonce", "5")])));
        assert_eq!(apex("{}"), Ok(Vec::new()));
        // Names are exact: another case is another member.
        assert_eq!(apex(r#"{"apikey":"k","NONCE":1}"#), Ok(Vec::new()));
        // Numbers as written: what is not a nonce is refused when it is parsed as one.
        for n in ["-1", "1.0", "1e3", "-0", "123456789012345678901234567890"] {
            assert_eq!(apex(&std::format!(r#"{{"Nonce":{n}}}"#)), Ok(pairs(&[("Nonce", n)])));
        }
    }

    #[test]
    fn refuses_what_is_not_one_json_object() {
        assert_eq!(apex(""), Ok(Vec::new()), "no body, no credentials");
        let bad = [
            " ",
            "[]",
            "1",
            "\"s\"",
            "null",
            "{",
            "}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{,}",
            "{\"a\":1}{}",
            "{\"a\":1} x",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":1e}",
            "{\"a\":+1}",
            "{\"a\":tru}",
            "{\"a\":nul}",
            "{\"a\":[1,]}",
            "{\"a\":[1 2]}",
            "{\"a\":{\"b\"}}",
            "{\"a\":{1:2}}",
            "{\"a\":[}",
            "{\"a\":{]}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12G4\"}",
            "{\"a\":\"\x01\"}",
            "{'a':1}",
            "{\"a\":\"unterminated}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":NaN}",
            "{\"a\":Infinity}",
        ];
        for b in bad {
            assert_eq!(apex(b), Err(Error::InvalidBody), "{b:?}");
        }
        let mut out = [Header::new("", ""); MAX_HEADERS];
        assert_eq!(read(&APEX, b"{\"APIKey\":\"\xff\"}", &mut out), Err(Error::InvalidBody), "not UTF-8");
        // Nesting: 64 levels are read, 65 are refused.
        let nest = |n: usize| std::format!("{{\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        assert_eq!(apex(&nest(64)), Ok(Vec::new()));
        assert_eq!(apex(&nest(65)), Err(Error::InvalidBody));
        let deep = std::format!("{{\"a\":{}}}", "[".repeat(100_000));
        assert_eq!(apex(&deep), Err(Error::InvalidBody));
    }

    #[test]
    fn refuses_credentials_it_cannot_take_as_written() {
        for value in ["true", "null", "{}", "[\"k\"]", "\"k\\u0065y\"", "\"a\\/b\""] {
            assert_eq!(apex(&std::format!(r#"{{"APIKey":{value}}}"#)), Err(Error::InvalidBody), "{value}");
        }
        // A key or a signature is a string; a user id, nonce or timestamp may be a number.
        assert_eq!(apex(r#"{"APIKey":5}"#), Err(Error::InvalidBody));
        assert_eq!(apex(r#"{"Signature":12}"#), Err(Error::InvalidBody));
        assert_eq!(apex(r#"{"\u0041PIKey":"k"}"#), Err(Error::InvalidBody), "escaped name");
        assert_eq!(apex(r#"{"Nonce":1,"Nonce":2}"#), Err(Error::DuplicateHeader));
        assert_eq!(apex(r#"{"Nonce":1,"x":{"Nonce":2}}"#), Ok(pairs(&[("Nonce", "1")])), "nested names differ");
        // Not JSON outranks what it names; otherwise the first refusal counts.
        assert_eq!(apex(r#"{"Nonce":1,"Nonce":2,}"#), Err(Error::InvalidBody));
        assert_eq!(apex(r#"{"Nonce":1,"Nonce":2,"APIKey":true}"#), Err(Error::DuplicateHeader));
        assert_eq!(apex(r#"{"APIKey":true,"Nonce":1,"Nonce":2}"#), Err(Error::InvalidBody));
    }

    /// A JSON value serde_json writes: the independent writer whose output must read back.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            (-1e20f64..1e20).prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(6, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::vec(("\\PC{0,6}", inner), 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        /// An object serde_json writes (compact or pretty) with random members, perhaps some
        /// of APEX's: read back, each credential is the text serde_json wrote for it, or the
        /// body is refused for the credential's type or escapes, never for its syntax.
        #[test]
        fn objects_serde_json_writes_are_read_back(
            members in prop::collection::vec((
                prop_oneof![Just("APIKey".to_owned()), Just("Nonce".to_owned()), Just("UserId".to_owned()), "\\PC{0,6}"],
                json_value(),
            ), 0..6),
            pretty in any::<bool>(),
        ) {
            let object: serde_json::Map<String, serde_json::Value> = members.into_iter().collect();
            let text = if pretty {
                serde_json::to_string_pretty(&object).unwrap_or_default()
            } else {
                serde_json::to_string(&object).unwrap_or_default()
            };
            let mut want = Vec::new();
            let escaped = |s: &str| serde_json::to_string(s).unwrap_or_default().contains('\\');
            // An escaped member name refuses the body, whatever it names.
            let mut refusal = object.keys().any(|k| escaped(k)).then_some(Error::InvalidBody);
            for h in APEX.headers {
                match object.get(h.name) {
                    None => {}
                    Some(serde_json::Value::String(s)) if !escaped(s.as_str()) => {
                        want.push((h.name.to_owned(), s.clone()));
                    }
                    Some(n @ serde_json::Value::Number(_))
                        if matches!(h.field, Field::Timestamp | Field::Nonce | Field::UserId) =>
                    {
                        want.push((h.name.to_owned(), n.to_string()));
                    }
                    Some(_) => refusal = refusal.or(Some(Error::InvalidBody)),
                }
            }
            let got = apex(&text);
            match refusal {
                Some(e) => prop_assert_eq!(got, Err(e)),
                None => prop_assert_eq!(got, Ok(want)),
            }
        }

        /// Any bytes: no panic, and whatever is read is text of the body.
        #[test]
        fn any_bytes_are_read_or_refused(body in prop::collection::vec(
            prop::sample::select(b"{}[]\":,0123456789-+.eE \\u\"APIKeyNoncUsrdtrufalsn".to_vec()), 0..64,
        )) {
            let mut out = [Header::new("", ""); MAX_HEADERS];
            if let Ok(n) = read(&APEX, &body, &mut out) {
                // Members skipped, not valued: serde_json refuses numbers beyond f64 (RFC 8259
                // allows them).
                let strict: Result<std::collections::BTreeMap<String, serde::de::IgnoredAny>, _> =
                    serde_json::from_slice(&body);
                prop_assert!(body.is_empty() || strict.is_ok(), "{:?}", String::from_utf8_lossy(&body));
                for h in &out[..n] {
                    prop_assert!(body.windows(h.value.len().max(1)).any(|w| w == h.value) || h.value.is_empty());
                }
            }
        }
    }
}
