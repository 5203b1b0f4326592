//! Signers typed by preset: [`PresetSigner<Aevo>`](PresetSigner) and
//! [`PresetSigner<Apex>`](PresetSigner) sign as [`Signer`](crate::Signer) does with
//! [`dialect::AEVO`] or [`dialect::APEX`], with the scheme a type parameter instead of data
//! read at run time. Everything the scheme decides is then known at compile time — the
//! message's parts (streamed by straight-line code), the request checks (planned in a
//! `const`), the encoding, the time unit, whether a nonce is sent — and folds away, so a
//! device that signs one dialect links that dialect's code only: no template walk, no base64,
//! no other preset, and on the byte-level path ([`PresetSigner::new_in_bytes`],
//! [`PresetSigner::sign_into`]) no UTF-8 validation.
//!
//! The protocol's decisions are made by the same code as [`Signer`](crate::Signer)'s (the
//! same template constants, part values, checks, digit and hex writers); the tests compare
//! the two over the shared vectors and random requests.
//!
//! ```
//! use apisig::preset::{Aevo, PresetSigner, Signed};
//! use apisig::{dialect, Credentials, Request, Signer, Stamp};
//! let creds = Credentials { api_key: "API_KEY", secret: b"API_SECRET", ..Credentials::EMPTY };
//! let mut slot = None;
//! PresetSigner::<Aevo>::new_in(&mut slot, creds)?;
//! let signer = slot.as_ref().ok_or(apisig::Error::InvalidTemplate)?;
//! let stamp = Stamp { now: 1673425955575713842, nonce: None };
//! // Headers as bytes, in the scheme's order (what a device copies out)…
//! let mut signed = Signed::new();
//! signer.sign_into(b"GET", b"/account", b"", stamp, &mut signed)?;
//! let lines: Vec<_> = signer.headers(&signed).collect();
//! assert_eq!(lines[0], ("AEVO-TIMESTAMP", &b"1673425955575713842"[..]));
//! // …or as the generic signer's header set, equal to its.
//! let req = Request::new("GET", "/account");
//! assert_eq!(signer.sign(&req, stamp)?, Signer::new(&dialect::AEVO, creds)?.sign(&req, stamp)?);
//! # Ok::<(), apisig::Error>(())
//! ```

use core::fmt;
use core::marker::PhantomData;

use crate::dialect;
use crate::headers::{Computed, HeaderSet, Sent};
use crate::mac::{MacKey, Midstate, Prefixed, finish};
use crate::message::{FieldChecks, MessageInput, PartKind, Template};
use crate::scheme::{Field, Scheme};
use crate::sign::{SentBytes, check_sent};
use crate::time::format_decimal;
use crate::{Credentials, Error, Request, Stamp};

mod sealed {
    /// Only the presets below are [`Preset`](super::Preset)s.
    pub trait Sealed {}
}

/// A built-in signed scheme as a type. Implemented by [`Aevo`] and [`Apex`] only.
pub trait Preset: sealed::Sealed {
    /// The scheme, a constant of [`dialect`].
    const SCHEME: Scheme<'static>;
    /// Its template (`SCHEME.template`, unwrapped at compile time).
    const TEMPLATE: Template<'static>;
}

/// Aevo signed requests: [`dialect::AEVO`].
#[derive(Copy, Clone, Debug)]
pub struct Aevo;

/// AlphaPoint APEX `AuthenticateUser`: [`dialect::APEX`].
#[derive(Copy, Clone, Debug)]
pub struct Apex;

impl sealed::Sealed for Aevo {}
impl Preset for Aevo {
    const SCHEME: Scheme<'static> = dialect::AEVO;
    const TEMPLATE: Template<'static> = dialect::AEVO_TEMPLATE;
}

impl sealed::Sealed for Apex {}
impl Preset for Apex {
    const SCHEME: Scheme<'static> = dialect::APEX;
    const TEMPLATE: Template<'static> = dialect::APEX_TEMPLATE;
}

/// The text one request's signature computes — timestamp and nonce digits, signature — in
/// fixed storage, written by [`PresetSigner::sign_into`] and read through
/// [`PresetSigner::headers`].
pub struct Signed(Computed);

impl Signed {
    /// Nothing computed yet.
    pub fn new() -> Signed {
        Signed(Computed::new())
    }

    /// The computed text of `field` (empty for fields a signer does not compute).
    fn value(&self, field: Field) -> &[u8] {
        let [ts, nonce, sig] = self.0.lens;
        let range = match field {
            Field::Timestamp => Computed::NONCE.saturating_sub(ts)..Computed::NONCE,
            Field::Nonce => Computed::SIGNATURE.saturating_sub(nonce)..Computed::SIGNATURE,
            Field::Signature => Computed::SIGNATURE..Computed::SIGNATURE.saturating_add(sig),
            _ => 0..0,
        };
        self.0.text.get(range).unwrap_or_default()
    }
}

impl Default for Signed {
    fn default() -> Self {
        Signed::new()
    }
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed").finish_non_exhaustive()
    }
}

/// Signs requests for the preset `P` with one set of credentials: as
/// [`Signer::new`](crate::Signer::new) with `P::SCHEME`, sized for a device (see the module
/// docs). Holds the HMAC key state, paused after the message's leading fixed parts.
pub struct PresetSigner<'a, P: Preset> {
    api_key: &'a [u8],
    user_id: &'a [u8],
    mac: Prefixed<Midstate>,
    preset: PhantomData<P>,
}

impl<'a, P: Preset> PresetSigner<'a, P> {
    /// The template's leading parts that never change for a signer (hashed once).
    const FIXED: usize = P::TEMPLATE.fixed_prefix();
    /// Whether the scheme sends a timestamp, a nonce.
    const TIMESTAMP: bool = P::SCHEME.has(Field::Timestamp);
    const NONCE: bool = P::SCHEME.has(Field::Nonce);
    /// The request checks, planned at compile time. The API key and user id are looked at on
    /// each request (a [`Signer`](crate::Signer) looks once; the verdict is the same).
    const FIELDS: Option<FieldChecks> = FieldChecks::planned(
        &P::TEMPLATE,
        if P::TEMPLATE.separator_outside_digits() {
            FieldChecks::bit(PartKind::Timestamp) | FieldChecks::bit(PartKind::Nonce)
        } else {
            0
        },
    );

    /// Checks the credentials (as [`Signer::new`](crate::Signer::new): the values the
    /// scheme's headers send, in their order, then the secret) and precomputes the HMAC key,
    /// in place in `slot`: `slot` holds the signer on success and is `None` on error.
    ///
    /// # Errors
    /// As [`Signer::new`](crate::Signer::new) with `P::SCHEME`: [`Error::EmptySecret`],
    /// [`Error::InvalidHeaderValue`].
    #[inline(always)]
    pub fn new_in(slot: &mut Option<Self>, creds: Credentials<'a>) -> Result<(), Error> {
        Self::new_in_bytes(slot, creds.api_key.as_bytes(), creds.secret, creds.user_id.as_bytes())
    }

    /// As [`new_in`](Self::new_in), with the API key and user id as bytes (a device's, or C's,
    /// which need no UTF-8 validation: the checks accept printable ASCII only). The user id
    /// is read only by presets that send it (APEX).
    ///
    /// # Errors
    /// As [`new_in`](Self::new_in).
    #[inline(always)]
    pub fn new_in_bytes(
        slot: &mut Option<Self>,
        api_key: &'a [u8],
        secret: &'a [u8],
        user_id: &'a [u8],
    ) -> Result<(), Error> {
        *slot = None;
        let sent = SentBytes { api_key, secret, user_id, token: b"" };
        // Header by header, written out: each field is then a constant, and only the checks of
        // the credentials the preset sends remain.
        macro_rules! check { ($($i:literal)*) => { $(
            if let Some(h) = P::SCHEME.headers.get($i) {
                check_sent(h.field, &sent)?;
            }
        )* } }
        const _: () = assert!(crate::headers::MAX_HEADERS == 6, "one check per possible header");
        check!(0 1 2 3 4 5);
        let input = MessageInput { api_key, user_id, ..MessageInput::EMPTY };
        let mac = Prefixed::new(MacKey::new(secret)?, |state| {
            P::TEMPLATE.stream_unrolled(0..Self::FIXED, &input, state);
        });
        *slot = Some(PresetSigner { api_key, user_id, mac, preset: PhantomData });
        Ok(())
    }

    /// Signs a request — `method`, `path` (and query), `body` — at `stamp` into `out`: as
    /// [`Signer::sign`](crate::Signer::sign) (same checks, same errors in the same order),
    /// the request given as bytes. `out` holds the computed values on success (read them
    /// with [`headers`](Self::headers)) and none on error.
    ///
    /// # Errors
    /// As [`Signer::sign`](crate::Signer::sign): [`Error::InvalidNonce`] when the scheme
    /// sends a nonce and `stamp` has none; [`Error::InvalidMethod`], [`Error::InvalidPath`],
    /// [`Error::SeparatorInField`] for a request it cannot sign unambiguously.
    #[inline(always)]
    pub fn sign_into(
        &self,
        method: &[u8],
        path: &[u8],
        body: &[u8],
        stamp: Stamp,
        out: &mut Signed,
    ) -> Result<(), Error> {
        // Written in place; the lengths, set last, say what is there (nothing on error).
        let computed = &mut out.0;
        computed.lens = [0; 3];
        let (ts_buf, nonce_buf, sig_buf) = computed.parts().ok_or(Error::InvalidTemplate)?;
        let ts: &[u8] =
            if Self::TIMESTAMP { format_decimal(P::SCHEME.time_unit.from_nanos(stamp.now), ts_buf) } else { b"" };
        let nonce: &[u8] =
            if Self::NONCE { format_decimal(stamp.nonce.ok_or(Error::InvalidNonce)?, nonce_buf) } else { b"" };
        let input = MessageInput {
            api_key: self.api_key,
            timestamp: ts,
            nonce,
            user_id: self.user_id,
            method,
            path,
            body,
            headers: &[],
            uppercase_method: true,
        };
        let mut state = self.mac.resume();
        P::TEMPLATE.stream_unrolled(Self::FIXED..crate::message::MAX_PARTS, &input, &mut state);
        let tag = finish(&mut state);
        Self::FIELDS.ok_or(Error::InvalidTemplate)?.check(&input)?;
        let sig_len = P::TEMPLATE.encoding.encode_into(&tag, sig_buf).len();
        computed.lens = [ts.len(), nonce.len(), sig_len];
        Ok(())
    }

    /// The headers of a request signed into `signed`, in the scheme's order: each name and
    /// value (the presets' headers have no prefix).
    pub fn headers<'s>(&'s self, signed: &'s Signed) -> impl Iterator<Item = (&'static str, &'s [u8])> + 's {
        P::SCHEME.headers.iter().map(move |h| {
            let value = match h.field {
                Field::ApiKey => self.api_key,
                Field::UserId => self.user_id,
                field => signed.value(field),
            };
            (h.name, value)
        })
    }

    /// The headers for `req` at `stamp`, as [`Signer::sign`](crate::Signer::sign) returns
    /// them (the request's headers are not read: the presets sign none).
    ///
    /// # Errors
    /// As [`sign_into`](Self::sign_into).
    pub fn sign(&self, req: &Request<'_>, stamp: Stamp) -> Result<HeaderSet<'a>, Error> {
        let mut signed = Signed::new();
        self.sign_into(req.method.as_bytes(), req.path.as_bytes(), req.body, stamp, &mut signed)?;
        // Printable ASCII, as checked when built: valid UTF-8.
        let text = |bytes| core::str::from_utf8(bytes).map_err(|_| Error::InvalidHeaderValue);
        let (api_key, user_id) = (text(self.api_key)?, text(self.user_id)?);
        let sent = Sent { api_key, secret: "", user_id, token: "", key_is_secret: false };
        HeaderSet::new(P::SCHEME.headers, sent, signed.0)
    }
}

impl<P: Preset> fmt::Debug for PresetSigner<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresetSigner").field("scheme", &P::SCHEME.name).finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;
    use std::vec::Vec;

    use super::*;
    use crate::Signer;

    /// The typed signer of `P` against the generic one with `P::SCHEME`, the oracle: the same
    /// result for building, and for signing (headers, or error).
    fn agree<P: Preset>(creds: Credentials<'_>, method: &str, path: &str, body: &[u8], stamp: Stamp) {
        let generic = Signer::new(&P::SCHEME, creds);
        let mut slot = None;
        let typed = PresetSigner::<P>::new_in(&mut slot, creds);
        assert_eq!(typed.err(), generic.as_ref().err().copied(), "{}: building", P::SCHEME.name);
        let (Ok(generic), Some(typed)) = (generic, slot) else { return };
        let req = Request::new(method, path).with_body(body);
        let want = generic.sign(&req, stamp);
        assert_eq!(typed.sign(&req, stamp), want, "{} {method} {path} {body:?} {stamp:?}", P::SCHEME.name);
        let mut signed = Signed::new();
        let got = typed.sign_into(method.as_bytes(), path.as_bytes(), body, stamp, &mut signed);
        assert_eq!(got, want.as_ref().map(|_| ()).map_err(|e| *e));
        if let Ok(want) = want {
            let lines: Vec<(&str, &[u8])> = typed.headers(&signed).collect();
            let expected: Vec<(&str, &[u8])> = want.iter().map(|l| (l.name, l.value.as_bytes())).collect();
            assert_eq!(lines, expected);
            assert!(want.iter().all(|l| l.prefix.is_empty()));
        }
    }

    #[test]
    fn presets_are_their_schemes() {
        assert_eq!(Aevo::SCHEME.template, Some(Aevo::TEMPLATE));
        assert_eq!(Apex::SCHEME.template, Some(Apex::TEMPLATE));
        assert!(PresetSigner::<Aevo>::FIELDS.is_some() && PresetSigner::<Apex>::FIELDS.is_some());
        assert_eq!((PresetSigner::<Aevo>::FIXED, PresetSigner::<Apex>::FIXED), (1, 0));
    }

    #[test]
    fn edges_agree() {
        let creds = Credentials { api_key: "k", secret: b"s", user_id: "u", token: "" };
        for c in [
            creds,
            Credentials { api_key: "", ..creds },
            Credentials { user_id: "", ..creds },
            Credentials { secret: b"", ..creds },
            Credentials { api_key: "k,1", ..creds },
            Credentials { api_key: " k", secret: b"", ..creds },
            Credentials { secret: &[7; 65], ..creds },
        ] {
            for (method, path) in [("get", "/a"), ("", "/a"), ("GET", "a"), ("G,T", "/a,b"), ("GET", "/a b")] {
                for stamp in [Stamp { now: 0, nonce: None }, Stamp { now: u64::MAX, nonce: Some(u64::MAX) }] {
                    agree::<Aevo>(c, method, path, b"x,y", stamp);
                    agree::<Apex>(c, method, path, b"x,y", stamp);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]
        #[test]
        fn typed_signers_agree_with_the_generic_one(
            key in "[ -~]{0,70}",
            user in "[ -~]{0,12}",
            secret in prop::collection::vec(any::<u8>(), 0..80),
            method in "[a-zA-Z,! ]{0,6}",
            path in "/?[ -~]{0,80}",
            body in prop::collection::vec(any::<u8>(), 0..200),
            now in any::<u64>(),
            nonce in prop::option::of(any::<u64>()),
        ) {
            let creds = Credentials { api_key: &key, secret: &secret, user_id: &user, token: "" };
            let stamp = Stamp { now, nonce };
            agree::<Aevo>(creds, &method, &path, &body, stamp);
            agree::<Apex>(creds, &method, &path, &body, stamp);
        }
    }
}
