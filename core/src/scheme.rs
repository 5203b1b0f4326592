//! A scheme says which headers carry which credential and, for signed requests, which
//! template is signed. Schemes are plain data: the dialects in [`crate::dialect`] are
//! constants, and users build their own the same way.

use crate::message::{Part, Template};
use crate::names::named;
use crate::rotation::RetryOn;
use crate::{Error, TimeUnit};

named! {
    /// What a header carries.
    #[derive(Copy, Clone, Debug, Eq, PartialEq)]
    pub enum Field {
        /// The API key. In a scheme without a secret or signature it is the credential itself
        /// (SIGNIUS, Securosys, ZignSec); otherwise it is the public key id (Aevo, APEX).
        ApiKey = 0, "api_key" | "key_id";
        /// The API secret, sent in clear (Aevo's key-and-secret method).
        Secret = 1, "secret";
        /// A bearer JWT (Securosys JWT, ZignSec OAuth2 access token), HS256 in the core.
        Jwt = 2, "jwt";
        /// An apisig session token (APEX `aptoken`), see the `session` module.
        SessionToken = 7, "session_token";
        /// The timestamp, in decimal, in the scheme's time unit.
        Timestamp = 3, "timestamp";
        /// The nonce, in decimal.
        Nonce = 4, "nonce";
        /// The user id (APEX).
        UserId = 5, "user_id";
        /// The signature over the scheme's template.
        Signature = 6, "signature";
    }
}

impl Field {
    /// Whether a signer computes this field for each request (the timestamp, the nonce, the
    /// signature) rather than sending a credential as it is.
    pub const fn per_request(self) -> bool {
        matches!(self, Field::Timestamp | Field::Nonce | Field::Signature)
    }

    /// This field as one bit of a set of fields.
    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// One header a scheme sends: `name: prefix<field>`.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct HeaderSpec<'a> {
    /// Header name, as sent (matching on receipt ignores case).
    pub name: &'a str,
    /// Fixed text before the value, e.g. `"Bearer "`.
    pub prefix: &'a str,
    /// What the value is.
    pub field: Field,
}

impl<'a> HeaderSpec<'a> {
    /// `name: <field>`.
    pub const fn new(name: &'a str, field: Field) -> HeaderSpec<'a> {
        HeaderSpec { name, prefix: "", field }
    }
}

named! {
    /// How a scheme authenticates, derived from its headers and template.
    #[derive(Copy, Clone, Debug, Eq, PartialEq)]
    pub enum Kind {
        /// A static API key, matched against every registered key.
        StaticKey = 0, "static_key";
        /// A key id plus its secret, in clear.
        KeyAndSecret = 1, "key_and_secret";
        /// A bearer JWT or session token (with a static key beside it, as ZignSec OAuth2 sends).
        Token = 2, "token";
        /// An HMAC signature over a template.
        Signed = 3, "signed";
    }
}

/// An authentication scheme: the headers it sends and, if it signs, what it signs.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Scheme<'a> {
    /// A short name (`"aevo"`), for logs and the command line.
    pub name: &'a str,
    /// The headers, in the order they are produced.
    pub headers: &'a [HeaderSpec<'a>],
    /// The signed message, for signing schemes.
    pub template: Option<Template<'a>>,
    /// The unit of the timestamp header, if any.
    pub time_unit: TimeUnit,
    /// Which responses tell a client holding several keys to retry with another
    /// ([`Rotation::for_scheme`](crate::rotation::Rotation::for_scheme)): 401 or 403 for ZignSec, 401
    /// for every other service.
    pub retry_on: RetryOn,
}

/// Most distinct header names a scheme reads ([`Scheme::reads`]): the headers it sends and
/// those its template signs. More headers than this, all read, means a name is repeated.
pub const READ_HEADERS_MAX: usize = crate::headers::MAX_HEADERS + crate::message::MAX_PARTS;

impl Scheme<'_> {
    /// The header carrying `field`, if the scheme has one.
    pub fn header_for(&self, field: Field) -> Option<&HeaderSpec<'_>> {
        self.headers.iter().find(|h| h.field == field)
    }

    /// Whether the scheme sends `field` (a `const` function: a preset's answer is known at
    /// compile time).
    pub const fn has(&self, field: Field) -> bool {
        let mut rest = self.headers;
        while let [h, tail @ ..] = rest {
            if h.field as u8 == field as u8 {
                return true;
            }
            rest = tail;
        }
        false
    }

    /// Whether the scheme reads a request header called `name` (ASCII case-insensitive): one
    /// it sends, or one its template signs. A binding gathering a request's headers for the
    /// core needs only these — at most [`READ_HEADERS_MAX`] of them, unless a name repeats.
    ///
    /// ```
    /// use apisig::{dialect, Encoding, TimeUnit, scheme::{Field, HeaderSpec, Scheme}, message::{Part, Template}};
    /// use apisig::rotation::RetryOn;
    /// assert!(dialect::AEVO.reads(b"aevo-signature"));
    /// assert!(!dialect::AEVO.reads(b"Content-Type"));
    /// let signs_a_header = Scheme {
    ///     name: "webhook",
    ///     headers: &[HeaderSpec::new("X-Sig", Field::Signature), HeaderSpec::new("X-Ts", Field::Timestamp)],
    ///     template: Some(Template { parts: &[Part::Header("X-Id"), Part::Body], separator: b".", encoding: Encoding::LowerHex }),
    ///     time_unit: TimeUnit::Seconds,
    ///     retry_on: RetryOn::Unauthorized,
    /// };
    /// assert!(signs_a_header.reads(b"x-id"));
    /// ```
    pub fn reads(&self, name: &[u8]) -> bool {
        let named = |n: &str| crate::headers::same_name(n.as_bytes(), name);
        self.headers.iter().any(|h| named(h.name))
            || self.template.is_some_and(|t| t.parts.iter().any(|p| matches!(p, Part::Header(n) if named(n))))
    }

    /// How the scheme authenticates.
    pub fn kind(&self) -> Kind {
        if self.template.is_some() {
            Kind::Signed
        } else if self.has(Field::Jwt) || self.has(Field::SessionToken) {
            Kind::Token
        } else if self.has(Field::Secret) {
            Kind::KeyAndSecret
        } else {
            Kind::StaticKey
        }
    }

    /// Checks that the scheme is coherent: 1 to [`MAX_HEADERS`](crate::headers::MAX_HEADERS) headers
    /// with token names, no name twice (ASCII case-insensitive: a receiver could not tell the
    /// two apart, and a face returning headers as a mapping would lose one), each field at
    /// most once; a signature header exactly when there is a
    /// template; every value the template signs is sent in a header (so the verifier can
    /// read it); and a signed scheme sends a timestamp or a nonce (else nothing stops replay).
    /// A signed scheme may omit the key id (webhook style: the receiver holds one secret per
    /// sender); the verifier then tries every registered client.
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`] otherwise.
    // Always inlined: a constant scheme (a preset) is checked at compile time (see `PreparedScheme`).
    #[inline(always)]
    pub fn check(&self) -> Result<(), Error> {
        let bad = Err(Error::InvalidTemplate);
        if self.headers.is_empty() || self.headers.len() > crate::headers::MAX_HEADERS {
            return bad;
        }
        // One pass over the headers and one over the parts, recording fields as bits.
        let mut sent = 0u8;
        for (i, h) in self.headers.iter().enumerate() {
            let token = !h.name.is_empty() && crate::message::check_method(h.name.as_bytes()).is_ok();
            let prefix_ok = crate::headers::check_value(h.prefix.trim_end().as_bytes()).is_ok();
            let named_before = self.headers.iter().take(i).any(|o| o.name.eq_ignore_ascii_case(h.name));
            if !token || !prefix_ok || named_before || sent & h.field.bit() != 0 {
                return bad;
            }
            sent |= h.field.bit();
        }
        let has = |field: Field| sent & field.bit() != 0;
        match self.template {
            None if has(Field::Signature) => bad,
            None if !(has(Field::ApiKey) || has(Field::Jwt) || has(Field::SessionToken)) => bad,
            None if has(Field::Jwt) && has(Field::SessionToken) => bad,
            None => Ok(()),
            Some(t) => {
                t.check()?;
                let signed = t.parts.iter().fold(0u8, |bits, part| {
                    bits | match part {
                        Part::ApiKey => Field::ApiKey.bit(),
                        Part::Timestamp => Field::Timestamp.bit(),
                        Part::Nonce => Field::Nonce.bit(),
                        Part::UserId => Field::UserId.bit(),
                        _ => 0,
                    }
                });
                let all_sent = signed & !sent == 0;
                let fresh = has(Field::Timestamp) || has(Field::Nonce);
                if all_sent && fresh && has(Field::Signature) { Ok(()) } else { bad }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;
    use std::vec::Vec;

    use super::*;
    use crate::Encoding;

    /// `check` as first written, field by field, as the oracle for the one-pass version.
    fn reference(s: &Scheme<'_>) -> Result<(), Error> {
        let bad = Err(Error::InvalidTemplate);
        if s.headers.is_empty() || s.headers.len() > crate::headers::MAX_HEADERS {
            return bad;
        }
        for (i, h) in s.headers.iter().enumerate() {
            let token = !h.name.is_empty() && crate::message::check_method(h.name.as_bytes()).is_ok();
            let prefix_ok = crate::headers::check_value(h.prefix.trim_end().as_bytes()).is_ok();
            let repeated = s.headers.iter().skip(i + 1).any(|o| o.field == h.field);
            let renamed = s.headers.iter().skip(i + 1).any(|o| o.name.eq_ignore_ascii_case(h.name));
            if !token || !prefix_ok || repeated || renamed {
                return bad;
            }
        }
        match s.template {
            None if s.has(Field::Signature) => bad,
            None if !(s.has(Field::ApiKey) || s.kind() == Kind::Token) => bad,
            None if s.has(Field::Jwt) && s.has(Field::SessionToken) => bad,
            None => Ok(()),
            Some(t) => {
                t.check()?;
                let sent = |part: Part<'_>, field: Field| !t.uses(part) || s.has(field);
                let all_sent = sent(Part::ApiKey, Field::ApiKey)
                    && sent(Part::Timestamp, Field::Timestamp)
                    && sent(Part::Nonce, Field::Nonce)
                    && sent(Part::UserId, Field::UserId);
                let fresh = s.has(Field::Timestamp) || s.has(Field::Nonce);
                if all_sent && fresh && s.has(Field::Signature) { Ok(()) } else { bad }
            }
        }
    }

    #[test]
    fn header_names_are_unique_ignoring_ascii_case() {
        let scheme = |headers| Scheme {
            name: "t",
            headers,
            template: None,
            time_unit: crate::TimeUnit::Seconds,
            retry_on: RetryOn::Unauthorized,
        };
        let twice = [HeaderSpec::new("X-Key", Field::ApiKey), HeaderSpec::new("x-KEY", Field::Secret)];
        assert_eq!(scheme(&twice).check(), Err(Error::InvalidTemplate));
        let same = [HeaderSpec::new("X-Key", Field::ApiKey), HeaderSpec::new("X-Key", Field::Secret)];
        assert_eq!(scheme(&same).check(), Err(Error::InvalidTemplate));
        let distinct = [HeaderSpec::new("X-Key", Field::ApiKey), HeaderSpec::new("X-Keys", Field::Secret)];
        assert_eq!(scheme(&distinct).check(), Ok(()));
    }

    const FIELDS: [Field; 8] = [
        Field::ApiKey,
        Field::Secret,
        Field::Jwt,
        Field::SessionToken,
        Field::Timestamp,
        Field::Nonce,
        Field::UserId,
        Field::Signature,
    ];
    const PARTS: [Part<'static>; 8] = [
        Part::ApiKey,
        Part::Timestamp,
        Part::Nonce,
        Part::UserId,
        Part::Method,
        Part::Path,
        Part::Body,
        Part::Literal(b"x"),
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]
        #[test]
        fn one_pass_check_agrees_with_the_reference(
            headers in prop::collection::vec((0usize..8, 0usize..6, any::<bool>()), 0..8),
            parts in prop::option::of(prop::collection::vec(0usize..8, 0..5)),
        ) {
            let names = ["X-A", "", "X B", "Authorization", "x-a", "AUTHORIZATION"];
            let specs: Vec<HeaderSpec<'_>> = headers
                .iter()
                .map(|&(f, n, p)| HeaderSpec { name: names[n], prefix: if p { "Bearer " } else { "" }, field: FIELDS[f] })
                .collect();
            let parts: Option<Vec<Part<'_>>> = parts.map(|ps| ps.iter().map(|&i| PARTS[i]).collect());
            let template = parts.as_deref().map(|parts| crate::message::Template { parts, separator: b",", encoding: Encoding::Hex });
            let scheme = Scheme { name: "t", headers: &specs, template, time_unit: crate::TimeUnit::Seconds, retry_on: RetryOn::Unauthorized };
            prop_assert_eq!(scheme.check(), reference(&scheme));
            // A verifier prepares exactly the schemes that check.
            prop_assert_eq!(crate::PreparedScheme::new(&scheme).err(), scheme.check().err());
        }
    }
}
