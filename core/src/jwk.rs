//! An OpenID provider's public keys: RFC 7517 JWK sets parsed once into a fixed-capacity set.
//!
//! Supported keys, each behind a cargo feature: EC P-256 (`kty` `EC`, `x`/`y`; feature
//! `es256`), Ed25519 (`kty` `OKP`, `x`; feature `eddsa`) and RSA (`n`/`e`, 2048 to 4096 bits;
//! feature `rsa`, which needs a heap). Keys of other types or curves, keys whose feature is
//! off and keys marked `"use":"enc"` are skipped, so a provider's full set loads; a supported
//! key that is malformed (coordinates of the wrong length, a point not on the curve, a bad
//! modulus or exponent) refuses the whole set, so a broken document never half-loads. Points
//! are validated here, once, not at every verification.
//!
//! ```
//! # #[cfg(feature = "eddsa")] {
//! use apisig::jwk::{Alg, JwkSet};
//! // RFC 8037 Appendix A.2: an Ed25519 public key.
//! let set: JwkSet<4> = JwkSet::parse(br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1",
//!     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
//! assert_eq!(set.len(), 1);
//! assert!(set.find(Some("k1"), Alg::EdDsa).is_ok());
//! # }
//! # Ok::<(), apisig::Error>(())
//! ```

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::Error;
#[cfg(any(feature = "es256", feature = "eddsa", feature = "rsa"))]
use crate::encoding::base64url_decode;

/// Longest `kid` kept.
pub const KID_MAX: usize = 64;
/// Longest JWK set document accepted, in bytes.
pub const JWKS_MAX_LEN: usize = 32 * 1024;
/// Smallest RSA modulus accepted, in bits.
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits.
pub const RSA_MAX_BITS: usize = 4096;
/// Largest RSA public exponent accepted (ring's and RustCrypto's bound); the smallest is 3.
pub const RSA_MAX_EXPONENT: u64 = (1 << 33) - 1;

/// A JWS algorithm apisig knows by name.
#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
pub enum Alg {
    /// HMAC-SHA256: only known so it can be refused for issuers with asymmetric keys.
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256 (MGF1-SHA-256, 32-byte salt).
    Ps256,
    /// ECDSA on P-256 with SHA-256 (`r‖s`, 64 bytes).
    Es256,
    /// Ed25519 (named `EdDSA` by RFC 8037, `Ed25519` by RFC 9864).
    EdDsa,
}

impl Alg {
    /// Every algorithm, in code order.
    pub const ALL: [Alg; 5] = [Alg::Hs256, Alg::Rs256, Alg::Ps256, Alg::Es256, Alg::EdDsa];

    /// The algorithm a JOSE `alg` names, exactly (case-sensitive); `EdDSA` and `Ed25519`
    /// both name Ed25519.
    pub fn from_name(name: &str) -> Option<Alg> {
        Some(match name {
            "HS256" => Alg::Hs256,
            "RS256" => Alg::Rs256,
            "PS256" => Alg::Ps256,
            "ES256" => Alg::Es256,
            "EdDSA" | "Ed25519" => Alg::EdDsa,
            _ => return None,
        })
    }

    /// The JOSE name (`EdDSA` for Ed25519).
    pub const fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Rs256 => "RS256",
            Alg::Ps256 => "PS256",
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
        }
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of algorithms: the ones an issuer is configured to use.
#[derive(Copy, Clone, Debug, Default, Eq, PartialEq)]
pub struct AlgSet(u8);

impl AlgSet {
    /// No algorithm.
    pub const EMPTY: AlgSet = AlgSet(0);

    /// This set and `alg`.
    #[must_use]
    pub const fn with(self, alg: Alg) -> AlgSet {
        AlgSet(self.0 | alg.bit())
    }

    /// Whether `alg` is in the set.
    pub const fn contains(self, alg: Alg) -> bool {
        self.0 & alg.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A parsed, validated public key.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PublicKey {
    /// An ECDSA P-256 key (ES256).
    #[cfg(feature = "es256")]
    P256(p256::ecdsa::VerifyingKey),
    /// An Ed25519 key (EdDSA).
    #[cfg(feature = "eddsa")]
    Ed25519(ed25519_dalek::VerifyingKey),
    /// An RSA key (RS256, PS256).
    #[cfg(feature = "rsa")]
    Rsa(rsa::PublicKey),
}

impl PublicKey {
    /// Whether this key is of the type `alg` signs with.
    #[cfg_attr(not(any(feature = "es256", feature = "eddsa", feature = "rsa")), allow(unused_variables))]
    pub fn fits(&self, alg: Alg) -> bool {
        match *self {
            #[cfg(feature = "es256")]
            PublicKey::P256(_) => alg == Alg::Es256,
            #[cfg(feature = "eddsa")]
            PublicKey::Ed25519(_) => alg == Alg::EdDsa,
            #[cfg(feature = "rsa")]
            PublicKey::Rsa(_) => matches!(alg, Alg::Rs256 | Alg::Ps256),
        }
    }

    /// Verifies the JWS signature `sig` (raw bytes, as decoded from the token) on `msg` with
    /// `alg`.
    ///
    /// # Errors
    /// [`Error::KeyTypeMismatch`] when the key does not fit `alg`;
    /// [`Error::SignatureMismatch`] when the signature does not verify (a signature of the
    /// wrong length included).
    pub fn verify(&self, alg: Alg, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        if !self.fits(alg) {
            return Err(Error::KeyTypeMismatch);
        }
        crate::jws_backend::verify(self, alg, msg, sig)
    }

    /// [`verify`](Self::verify) on RustCrypto's arithmetic although the `ring` feature is on:
    /// for the fuzz target that holds the two backends to one answer (core/fuzz, `jws_backends`).
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    #[cfg(feature = "ring")]
    #[doc(hidden)]
    pub fn verify_with_rust_crypto(&self, alg: Alg, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        if !self.fits(alg) {
            return Err(Error::KeyTypeMismatch);
        }
        crate::jws_backend::verify_with_rust_crypto(self, alg, msg, sig)
    }
}

/// One key of a set: its `kid`, the `alg` it is restricted to (if the JWK says), the key.
#[derive(Clone, Debug, PartialEq)]
pub struct Jwk {
    kid: heapless::String<KID_MAX>,
    has_kid: bool,
    alg: Option<Alg>,
    key: PublicKey,
}

impl Jwk {
    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.has_kid.then_some(self.kid.as_str())
    }

    /// The algorithm the JWK restricts the key to (its `alg` member).
    pub fn alg(&self) -> Option<Alg> {
        self.alg
    }

    /// The key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    fn fits(&self, alg: Alg) -> bool {
        self.key.fits(alg) && self.alg.is_none_or(|a| a == alg)
    }
}

/// Up to `N` public keys of one issuer, parsed from its JWK set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JwkSet<const N: usize> {
    keys: heapless::Vec<Jwk, N>,
}

impl<const N: usize> JwkSet<N> {
    /// Parses a JWK set document (`{"keys":[…]}`), skipping keys apisig cannot use (see the
    /// module documentation).
    ///
    /// # Errors
    /// [`Error::JwksTooLarge`] for a document over [`JWKS_MAX_LEN`] or more than `N` usable
    /// keys; [`Error::JwksMalformed`] for a document that is not a JWK set, repeated or
    /// escaped member names, or a malformed supported key (an even RSA modulus or exponent,
    /// an exponent below 3 or above [`RSA_MAX_EXPONENT`] included); [`Error::JwkWeakKey`]
    /// for an RSA modulus outside [`RSA_MIN_BITS`]..=[`RSA_MAX_BITS`].
    pub fn parse(json: &[u8]) -> Result<JwkSet<N>, Error> {
        if json.len() > JWKS_MAX_LEN {
            return Err(Error::JwksTooLarge);
        }
        let doc: RawSet<'_, N> = match serde_json_core::from_slice::<RawSet<'_, N>>(json) {
            Ok((doc, used)) if used == json.len() => doc,
            _ => return Err(Error::JwksMalformed),
        };
        if doc.overflow {
            return Err(Error::JwksTooLarge);
        }
        let mut keys = heapless::Vec::new();
        for raw in doc.keys {
            let key = raw.to_key()?;
            let mut kid = heapless::String::new();
            kid.push_str(raw.kid.unwrap_or_default()).map_err(|_| Error::JwksMalformed)?;
            let alg = match raw.alg {
                Some(name) => Some(Alg::from_name(name).ok_or(Error::JwksMalformed)?),
                None => None,
            };
            let jwk = Jwk { kid, has_kid: raw.kid.is_some(), alg, key };
            keys.push(jwk).map_err(|_| Error::JwksTooLarge)?;
        }
        Ok(JwkSet { keys })
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Whether a key has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid() == Some(kid))
    }

    /// The key a token with this `kid` and `alg` is verified with. Without a `kid`, the one
    /// key of the set that fits `alg`.
    ///
    /// # Errors
    /// [`Error::UnknownKid`] when no key has `kid` (or, without one, no key fits `alg`);
    /// [`Error::KeyTypeMismatch`] when the keys named `kid` do not fit `alg`;
    /// [`Error::MissingKid`] without a `kid` when several keys fit `alg`.
    pub fn find(&self, kid: Option<&str>, alg: Alg) -> Result<&PublicKey, Error> {
        let Some(kid) = kid else {
            let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
            return match (fitting.next(), fitting.next()) {
                (Some(k), None) => Ok(&k.key),
                (Some(_), Some(_)) => Err(Error::MissingKid),
                (None, _) => Err(Error::UnknownKid),
            };
        };
        let mut named = self.keys.iter().filter(|k| k.kid() == Some(kid)).peekable();
        if named.peek().is_none() {
            return Err(Error::UnknownKid);
        }
        named.find(|k| k.fits(alg)).map(|k| &k.key).ok_or(Error::KeyTypeMismatch)
    }
}

/// The members of one JWK, as written.
#[derive(Default)]
struct RawJwk<'a> {
    kty: Option<&'a str>,
    kid: Option<&'a str>,
    usage: Option<&'a str>,
    alg: Option<&'a str>,
    crv: Option<&'a str>,
    x: Option<&'a str>,
    y: Option<&'a str>,
    n: Option<&'a str>,
    e: Option<&'a str>,
}

impl RawJwk<'_> {
    /// Whether this build can use the key (type, curve, feature, `use`).
    #[allow(clippy::match_like_matches_macro)] // the arms' values depend on the features
    fn usable(&self) -> bool {
        if self.usage.is_some_and(|u| u != "sig") || self.alg.is_some_and(|a| Alg::from_name(a).is_none()) {
            return false;
        }
        match (self.kty, self.crv) {
            (Some("EC"), Some("P-256")) => cfg!(feature = "es256"),
            (Some("OKP"), Some("Ed25519")) => cfg!(feature = "eddsa"),
            (Some("RSA"), _) => cfg!(feature = "rsa"),
            _ => false,
        }
    }

    fn to_key(&self) -> Result<PublicKey, Error> {
        match self.kty {
            #[cfg(feature = "es256")]
            Some("EC") => {
                let mut point = [0u8; 65];
                let (tag, xy) = point.split_first_mut().ok_or(Error::JwksMalformed)?;
                *tag = 0x04; // SEC 1 uncompressed point
                let (x, y) = xy.split_at_mut(32);
                coordinate(self.x, x)?;
                coordinate(self.y, y)?;
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map(PublicKey::P256)
                    .map_err(|_| Error::JwksMalformed)
            }
            #[cfg(feature = "eddsa")]
            Some("OKP") => {
                let mut x = [0u8; 32];
                coordinate(self.x, &mut x)?;
                ed25519_dalek::VerifyingKey::from_bytes(&x).map(PublicKey::Ed25519).map_err(|_| Error::JwksMalformed)
            }
            #[cfg(feature = "rsa")]
            Some("RSA") => rsa_key(self.n, self.e),
            _ => Err(Error::JwksMalformed),
        }
    }
}

/// Decodes a base64url member that must be exactly `out.len()` bytes (RFC 7518 §6.2.1.2).
#[cfg(any(feature = "es256", feature = "eddsa"))]
fn coordinate(b64: Option<&str>, out: &mut [u8]) -> Result<(), Error> {
    let want = out.len();
    let got = base64url_decode(b64.ok_or(Error::JwksMalformed)?.as_bytes(), out).map_err(|_| Error::JwksMalformed)?;
    if got.len() == want { Ok(()) } else { Err(Error::JwksMalformed) }
}

#[cfg(feature = "rsa")]
fn rsa_key(n: Option<&str>, e: Option<&str>) -> Result<PublicKey, Error> {
    use rsa::BoxedUint;
    let mut nbuf = [0u8; RSA_MAX_BITS / 8 + 1];
    let mut ebuf = [0u8; 8];
    let n = base64url_decode(n.ok_or(Error::JwksMalformed)?.as_bytes(), &mut nbuf).map_err(|_| Error::JwkWeakKey)?;
    let e = base64url_decode(e.ok_or(Error::JwksMalformed)?.as_bytes(), &mut ebuf).map_err(|_| Error::JwksMalformed)?;
    // Leading zero octets are not minimal (RFC 7518 §6.3.1.1) and would hide the real size.
    if n.first().is_none_or(|&b| b == 0) || e.first().is_none_or(|&b| b == 0) {
        return Err(Error::JwksMalformed);
    }
    let bits = n.len().saturating_mul(8);
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return Err(Error::JwkWeakKey);
    }
    // An RSA modulus is odd, an exponent odd, from 3 to 2^33 - 1: what every backend
    // (jws_backend.rs) accepts, checked here so that all of them decide alike.
    let e_value = e.iter().fold(0u64, |v, &b| v.wrapping_shl(8) | u64::from(b));
    if n.last().is_none_or(|b| b & 1 == 0) || e_value & 1 == 0 || !(3..=RSA_MAX_EXPONENT).contains(&e_value) {
        return Err(Error::JwksMalformed);
    }
    let n = BoxedUint::from_be_slice(n, bits as u32).map_err(|_| Error::JwksMalformed)?;
    let e = BoxedUint::from_be_slice(e, 64).map_err(|_| Error::JwksMalformed)?;
    rsa::PublicKey::new_with_size_limits(n, e, RSA_MIN_BITS.saturating_sub(7)..=RSA_MAX_BITS)
        .map(PublicKey::Rsa)
        .map_err(|_| Error::JwksMalformed)
}

/// The `keys` of a JWK set: up to `N` usable keys; `overflow` when there were more.
struct RawSet<'a, const N: usize> {
    keys: heapless::Vec<RawJwk<'a>, N>,
    overflow: bool,
}

struct RawKeys<'a, const N: usize>(RawSet<'a, N>);

impl<'de, const N: usize> Deserialize<'de> for RawKeys<'de, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = RawKeys<'de, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of JWKs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKeys<'de, N>, A::Error> {
                let mut set = RawSet { keys: heapless::Vec::new(), overflow: false };
                while let Some(key) = seq.next_element::<RawJwk<'de>>()? {
                    if key.usable() && set.keys.push(key).is_err() {
                        set.overflow = true;
                    }
                }
                Ok(RawKeys(set))
            }
        }
        d.deserialize_seq(V::<N>)
    }
}

impl<'de, const N: usize> Deserialize<'de> for RawSet<'de, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = RawSet<'de, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JWK set object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawSet<'de, N>, A::Error> {
                let mut set = None;
                while let Some(key) = map.next_key::<&'de str>()? {
                    check_name::<A::Error>(key)?;
                    if key == "keys" {
                        if set.is_some() {
                            return Err(de::Error::custom("repeated keys"));
                        }
                        set = Some(map.next_value::<RawKeys<'de, N>>()?.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                set.ok_or_else(|| de::Error::custom("no keys"))
            }
        }
        d.deserialize_map(V::<N>)
    }
}

fn check_name<E: de::Error>(name: &str) -> Result<(), E> {
    // As in jwt.rs: an escaped name could alias another member for a decoding parser.
    if name.contains('\\') { Err(E::custom("escaped member name")) } else { Ok(()) }
}

impl<'de> Deserialize<'de> for RawJwk<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawJwk<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JWK object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawJwk<'de>, A::Error> {
                let mut k = RawJwk::default();
                while let Some(name) = map.next_key::<&'de str>()? {
                    check_name::<A::Error>(name)?;
                    let slot = match name {
                        "kty" => &mut k.kty,
                        "kid" => &mut k.kid,
                        "use" => &mut k.usage,
                        "alg" => &mut k.alg,
                        "crv" => &mut k.crv,
                        "x" => &mut k.x,
                        "y" => &mut k.y,
                        "n" => &mut k.n,
                        "e" => &mut k.e,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    if slot.replace(map.next_value::<&'de str>()?).is_some() {
                        return Err(de::Error::custom("repeated member"));
                    }
                }
                Ok(k)
            }
        }
        d.deserialize_map(V)
    }
}
