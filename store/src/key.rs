//! Issued keys: what a server hands its clients, in a format people and secret scanners
//! recognise.
//!
//! An issued key is `<product>_<kind>_<random><checksum>`, for example
//! `acme_sk_1N3bq0pX5yKf9VwZ2sLd7RcT4hJm8gEa6uYo0iBn3Qv14EpQf`:
//!
//! - `<product>` names the product (lowercase letters and digits, starting with a letter, at
//!   most 16), and `<kind>` the kind of key: `sk` for a static key (presented as it is, as
//!   SIGNIUS's `X-Api-Key`) and `hs` for an HMAC signing secret (Aevo, APEX). The prefix
//!   tells a person (and a log reader) what leaked, as Stripe's `sk_live_` and GitHub's `ghp_`
//!   do.
//! - `<random>` is 43 characters of base62 (`0-9A-Za-z`) drawn from the operating system's
//!   random number generator: 43 × log2(62) = 256.03 bits. Base62 rather than base32 or
//!   base64: the shortest text of an alphanumeric-only alphabet, so a double click selects the
//!   whole key and no URL, shell, JSON or header escaping ever touches it, and the alphabet
//!   GitHub's tokens use, which secret scanners already expect. Each character is drawn
//!   uniformly (rejection sampling of random bytes), so no big-number encoding is involved.
//! - `<checksum>` is the CRC32 (IEEE) of everything before it, written as 6 base62 characters
//!   (62^6 > 2^32), most significant first, zero-padded.
//!
//! The checksum is checked before any store is asked ([`KeyFormat::check`]), so a mistyped or
//! truncated key is refused as [`Error::InvalidKeyFormat`](apisig::Error::InvalidKeyFormat)
//! without a database round trip, and a scanner can tell a real key from random text without
//! a database. The regular expression for scanners, for every product and kind:
//!
//! ```text
//! \b[a-z][a-z0-9]{0,15}_(?:sk|hs)_[0-9A-Za-z]{49}\b
//! ```
//!
//! ([`KeyFormat::regex`] gives the one for a product.) A match is a key when its last six
//! characters are the base62 CRC32 of the rest.

use core::fmt;

use apisig::Error;
use zeroize::Zeroizing;

/// The base62 alphabet of the random part and the checksum.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters of the random part: 43 × log2(62) ≥ 256 bits.
pub const RANDOM_LEN: usize = 43;
/// Characters of the checksum: 62^6 > 2^32.
pub const CHECKSUM_LEN: usize = 6;
/// Longest product name.
pub const PRODUCT_MAX: usize = 16;

/// What an issued key is used as.
#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
pub enum KeyKind {
    /// A static key, presented as it is and matched by its SHA-256 digest (tag `sk`).
    Static,
    /// An HMAC signing secret, which signs requests under a key id (tag `hs`).
    Hmac,
}

impl KeyKind {
    /// Both kinds.
    pub const ALL: [KeyKind; 2] = [KeyKind::Static, KeyKind::Hmac];

    /// The tag in a key's prefix, and the kind's name in stores and listings (`sk`, `hs`).
    pub const fn tag(self) -> &'static str {
        match self {
            KeyKind::Static => "sk",
            KeyKind::Hmac => "hs",
        }
    }

    /// The kind with this tag.
    pub fn from_tag(tag: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.tag() == tag)
    }
}

/// A product's key format: the prefixes `<product>_sk_` and `<product>_hs_`.
///
/// ```
/// use apisig_store::{KeyFormat, KeyKind};
/// let format = KeyFormat::new("acme")?;
/// let key = format.generate(KeyKind::Static)?;
/// assert!(key.as_str().starts_with("acme_sk_"));
/// assert_eq!(format.check(key.as_str()), Ok(KeyKind::Static));
/// # Ok::<(), apisig_store::StoreError>(())
/// ```
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct KeyFormat {
    product: String,
}

impl KeyFormat {
    /// The format of `product`'s keys.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`](crate::StoreError::InvalidInput) unless `product` is 1 to
    /// 16 lowercase ASCII letters and digits starting with a letter.
    pub fn new(product: &str) -> Result<KeyFormat, crate::StoreError> {
        let mut bytes = product.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
        let rest_ok = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !first_ok || !rest_ok || product.len() > PRODUCT_MAX {
            return Err(crate::StoreError::InvalidInput(format!(
                "a key format's product is 1 to {PRODUCT_MAX} lowercase letters and digits, starting with a letter: {product:?}"
            )));
        }
        Ok(KeyFormat { product: product.to_owned() })
    }

    /// The product name.
    pub fn product(&self) -> &str {
        &self.product
    }

    /// The prefix of keys of `kind`: `<product>_<tag>_`.
    pub fn prefix(&self, kind: KeyKind) -> String {
        format!("{}_{}_", self.product, kind.tag())
    }

    /// The regular expression (POSIX ERE / PCRE / RE2) matching this product's keys of either
    /// kind, for secret scanners; a match is a key when [`check`](Self::check) accepts it.
    pub fn regex(&self) -> String {
        format!(r"\b{}_(?:sk|hs)_[0-9A-Za-z]{{{}}}\b", self.product, RANDOM_LEN + CHECKSUM_LEN)
    }

    /// A new key of `kind`: 256 bits from the operating system's random number generator,
    /// with its checksum.
    ///
    /// # Errors
    /// [`StoreError::Random`](crate::StoreError::Random) when the operating system gives no
    /// randomness.
    pub fn generate(&self, kind: KeyKind) -> Result<IssuedKey, crate::StoreError> {
        let mut text = Zeroizing::new(String::with_capacity(PRODUCT_MAX + 4 + RANDOM_LEN + CHECKSUM_LEN));
        text.push_str(&self.prefix(kind));
        let mut drawn = 0;
        let mut pool = Zeroizing::new([0u8; 64]);
        while drawn < RANDOM_LEN {
            crate::random(pool.as_mut_slice())?;
            // 248 = 4 × 62: bytes at or above it are dropped so that every character is
            // equally likely.
            for b in pool.iter().filter(|&&b| b < 248) {
                if drawn == RANDOM_LEN {
                    break;
                }
                text.push(char::from(base62(u32::from(*b))));
                drawn = drawn.saturating_add(1);
            }
        }
        let sum = crc32fast::hash(text.as_bytes());
        text.push_str(&checksum_text(sum));
        Ok(IssuedKey(text))
    }

    /// Checks that `key` is one of this product's keys, well formed with a matching checksum,
    /// and says which kind. Nothing is looked up: a store calls this before it looks.
    ///
    /// # Errors
    /// [`Error::InvalidKeyFormat`] when the prefix is not this product's, a length or
    /// character is wrong, or the checksum does not match.
    pub fn check(&self, key: &str) -> Result<KeyKind, Error> {
        let kind =
            KeyKind::ALL.into_iter().find(|k| key.starts_with(&self.prefix(*k))).ok_or(Error::InvalidKeyFormat)?;
        // The product is at most 16 bytes: no overflow.
        let prefix_len = self.product.len().saturating_add(4);
        let body_len = prefix_len.saturating_add(RANDOM_LEN);
        let (body, sum) = (key.get(..body_len), key.get(body_len..));
        let (Some(body), Some(sum)) = (body, sum) else { return Err(Error::InvalidKeyFormat) };
        let random = body.get(prefix_len..).unwrap_or_default();
        if random.len() != RANDOM_LEN || !random.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::InvalidKeyFormat);
        }
        if sum != checksum_text(crc32fast::hash(body.as_bytes())) {
            return Err(Error::InvalidKeyFormat);
        }
        Ok(kind)
    }

    /// Whether `key` starts with one of this product's prefixes (claims the format, rightly or
    /// not).
    pub fn claims(&self, key: &[u8]) -> bool {
        KeyKind::ALL.into_iter().any(|k| key.starts_with(self.prefix(k).as_bytes()))
    }
}

/// The base62 character of `v` (< 62).
fn base62(v: u32) -> u8 {
    ALPHABET.get(usize::try_from(v % 62).unwrap_or(0)).copied().unwrap_or(b'0')
}

/// A CRC32 as 6 base62 characters, most significant first.
fn checksum_text(mut sum: u32) -> String {
    let mut out = [b'0'; CHECKSUM_LEN];
    for c in out.iter_mut().rev() {
        *c = base62(sum % 62);
        sum /= 62;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// A key as issued: the only time the clear key exists on the server. Zeroized on drop, never
/// printed by `Debug`.
#[derive(Clone, Eq, PartialEq)]
pub struct IssuedKey(Zeroizing<String>);

impl IssuedKey {
    /// The key's text, to hand to the client once.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuedKey(..)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;

    /// Expected values from Python, an independent oracle:
    /// `zlib.crc32(text)` written in base62 by `for _ in range(6): s = A[n % 62] + s; n //= 62`.
    #[test]
    fn checksum_is_zero_padded_base62_of_the_ieee_crc32() {
        assert_eq!(checksum_text(0), "000000");
        assert_eq!(checksum_text(61), "00000z");
        assert_eq!(checksum_text(62), "000010");
        assert_eq!(checksum_text(u32::MAX), "4gfFC3");
        let body = format!("acme_sk_{}", "a".repeat(RANDOM_LEN));
        assert_eq!(crc32fast::hash(body.as_bytes()), 844_300_197);
        let key = format!("{body}0v8b37");
        assert_eq!(KeyFormat::new("acme").unwrap().check(&key), Ok(KeyKind::Static));
    }
}
