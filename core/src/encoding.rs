//! How a signature is written as text: hex (either case) or base64.

use base64ct::{Base64, Encoding as _};

use crate::names::named;
use crate::{Error, TAG_LEN, Tag};

/// The longest signature text any encoding produces (hex of a 32-byte tag).
pub const SIGNATURE_TEXT_MAX: usize = 2 * TAG_LEN;

/// A signature written as text, in fixed storage.
pub type SignatureText = heapless::String<SIGNATURE_TEXT_MAX>;

named! {
    /// The text encoding of a signature.
    #[derive(Copy, Clone, Debug, Eq, PartialEq)]
    pub enum Encoding {
        /// Lowercase hex; verification accepts lowercase only (Aevo).
        LowerHex = 0, "lower_hex";
        /// Uppercase hex; verification accepts uppercase only.
        UpperHex = 1, "upper_hex";
        /// Lowercase hex when signing; verification accepts either case (AlphaPoint APEX).
        Hex = 2, "hex";
        /// Standard base64 with padding (RFC 4648 §4); verification accepts canonical text only.
        Base64 = 3, "base64";
    }
}

impl Encoding {
    /// Length of a tag's text in this encoding.
    pub const fn text_len(self) -> usize {
        match self {
            Encoding::LowerHex | Encoding::UpperHex | Encoding::Hex => SIGNATURE_TEXT_MAX,
            Encoding::Base64 => 44,
        }
    }

    /// Writes `tag` as text.
    pub fn encode(self, tag: &Tag) -> SignatureText {
        let mut buf = [0u8; SIGNATURE_TEXT_MAX];
        // Every encoder writes ASCII, and the text always fits.
        core::str::from_utf8(self.encode_into(tag, &mut buf)).ok().and_then(|s| s.try_into().ok()).unwrap_or_default()
    }

    /// Writes `tag` as ASCII text into `buf`; returns the written part
    /// ([`text_len`](Self::text_len) bytes).
    pub(crate) fn encode_into<'b>(self, tag: &Tag, buf: &'b mut [u8; SIGNATURE_TEXT_MAX]) -> &'b [u8] {
        let gap = match self {
            Encoding::LowerHex | Encoding::Hex => b'a' - b'0' - 10,
            Encoding::UpperHex => b'A' - b'0' - 10,
            Encoding::Base64 => return Base64::encode(tag.as_bytes(), buf).map(str::as_bytes).unwrap_or(&[]),
        };
        hex_into(tag.as_bytes(), gap, buf);
        buf
    }

    /// Reads a presented signature. Constant time in the data (not in the length).
    ///
    /// # Errors
    /// [`Error::InvalidSignatureEncoding`] for the wrong length, alphabet, case or padding.
    pub fn decode(self, text: &[u8]) -> Result<Tag, Error> {
        let mut tag = [0u8; TAG_LEN];
        self.decode_into(text, &mut tag)?;
        Ok(Tag::from(tag))
    }

    /// As [`decode`](Self::decode), into `out` (which holds garbage on error). Hex is read
    /// eight characters at a time and written eight bytes at a time, so a verifier reading the
    /// result word by word right after is served from those stores.
    pub(crate) fn decode_into(self, text: &[u8], out: &mut [u8; TAG_LEN]) -> Result<(), Error> {
        if text.len() != self.text_len() {
            return Err(Error::InvalidSignatureEncoding);
        }
        let ok = match self {
            Encoding::LowerHex => decode_hex(text, out, true, false),
            Encoding::UpperHex => decode_hex(text, out, false, true),
            Encoding::Hex => decode_hex(text, out, true, true),
            Encoding::Base64 => decode_base64(text, out) == Some(TAG_LEN),
        };
        if ok { Ok(()) } else { Err(Error::InvalidSignatureEncoding) }
    }
}

/// `2 * TAG_LEN` hex characters into `out`, branch-free; whether the text is exactly what the
/// encoder writes for those bytes in an allowed case (`lower`, `upper`; digits are both).
/// Each character is read loosely, eight at a time — its low four bits, plus 9 past `'@'` —
/// and the bytes are encoded again and compared with the text: a character survives only if
/// it is the digit of the nibble read from it. (As with base64: no per-character range
/// checks, and every step vectorizes.)
fn decode_hex(text: &[u8], out: &mut [u8; TAG_LEN], lower: bool, upper: bool) -> bool {
    let Some(text) = text.first_chunk::<SIGNATURE_TEXT_MAX>() else {
        return false;
    };
    let word = |c: &[u8]| c.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w));
    for (sixteen, dst) in text.chunks_exact(16).zip(out.chunks_exact_mut(8)) {
        let lo = loose_hex_eight(word(sixteen));
        let hi = loose_hex_eight(word(sixteen.get(8..).unwrap_or_default()));
        dst.copy_from_slice(&(u64::from(lo) | (u64::from(hi) << 32)).to_le_bytes());
    }
    let (mut small, mut capital) = ([0u8; SIGNATURE_TEXT_MAX], [0u8; SIGNATURE_TEXT_MAX]);
    if lower {
        hex_into(out, b'a' - b'0' - 10, &mut small);
    }
    if upper {
        hex_into(out, b'A' - b'0' - 10, &mut capital);
    }
    let (small, capital) = match (lower, upper) {
        (true, false) => (&small, &small),
        (false, true) => (&capital, &capital),
        _ => (&small, &capital),
    };
    // Per byte: zero where the text matches either encoding (`min` of the two differences),
    // ORed together — byte-wise, so it vectorizes (a byte minimum is one instruction).
    let bad = text.iter().zip(small).zip(capital).fold(0u8, |bad, ((&c, &s), &k)| bad | (c ^ s).min(c ^ k));
    bad == 0
}

/// Eight hex characters (little-endian: the first in the low byte) as four bytes (the first
/// in the low byte), read loosely: each character's low four bits, plus 9 when its bit 6 is
/// set (`a-f`, `A-F`). Other characters give some nibble, which [`decode_hex`] then refuses.
fn loose_hex_eight(chars: u64) -> u32 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let letter = (chars >> 6) & ONES;
    // At most 15 + 9 per byte: no carry into the next.
    let nibbles = (chars & (0x0f * ONES)).wrapping_add((letter << 3) | letter);
    let pairs = ((nibbles & 0x000f_000f_000f_000f) << 4) | ((nibbles >> 8) & 0x000f_000f_000f_000f);
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    ((pairs | (pairs >> 16)) & 0xffff_ffff) as u32
}

/// `bytes` as hex into `buf`, letters `gap` past `'9' + 1` (`a-f` or `A-F`). Byte-wise, so it
/// vectorizes.
fn hex_into(bytes: &[u8; TAG_LEN], gap: u8, buf: &mut [u8; SIGNATURE_TEXT_MAX]) {
    for (pair, b) in buf.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&[hex_digit(b >> 4, gap), hex_digit(b & 0x0f, gap)]);
    }
}

/// One nibble (0–15) as a hex digit, branch-free: `'0' + n`, plus the gap up to the letters
/// (`0x27` for `a-f`, `0x07` for `A-F`) when `9 - n` is negative. Byte-wise, so a loop of
/// these vectorizes.
const fn hex_digit(n: u8, gap: u8) -> u8 {
    let letter = ((9i8.wrapping_sub(n as i8)) >> 7) as u8;
    n.wrapping_add(b'0').wrapping_add(letter & gap)
}

/// base64ct's decoder is constant time and refuses bad padding; re-encoding and comparing
/// also refuses non-zero trailing bits, so only the one canonical text is accepted.
fn decode_base64(text: &[u8], tag: &mut [u8; TAG_LEN]) -> Option<usize> {
    let len = Base64::decode(text, tag).ok()?.len();
    let mut again = [0u8; 44];
    let canonical = Base64::encode(tag.get(..len)?, &mut again).ok()?;
    bool::from(crate::mac::ct_eq(canonical.as_bytes(), text)).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time hex decoder against base16ct's decoders, the oracle: a valid text
    /// in each case with every byte value put in every position, for each hex encoding.
    #[test]
    fn hex_decoding_matches_base16ct() {
        let tag = Tag::from(core::array::from_fn(|i| (i as u8).wrapping_mul(73).wrapping_add(5)));
        for enc in [Encoding::LowerHex, Encoding::UpperHex, Encoding::Hex] {
            let base = enc.encode(&tag);
            for at in 0..base.len() {
                for byte in 0..=255u8 {
                    let mut text = [0u8; SIGNATURE_TEXT_MAX];
                    text.copy_from_slice(base.as_bytes());
                    text.iter_mut().skip(at).take(1).for_each(|b| *b = byte);
                    let mut want = [0u8; TAG_LEN];
                    let oracle = match enc {
                        Encoding::LowerHex => base16ct::lower::decode(text, &mut want).is_ok(),
                        Encoding::UpperHex => base16ct::upper::decode(text, &mut want).is_ok(),
                        _ => base16ct::mixed::decode(text, &mut want).is_ok(),
                    };
                    let got = enc.decode(&text);
                    assert_eq!(got.is_ok(), oracle, "{enc:?} byte {byte:#04x} at {at}");
                    if let Ok(got) = got {
                        assert_eq!(got.into_bytes(), want, "{enc:?} byte {byte:#04x} at {at}");
                    }
                }
            }
        }
    }

    /// The branch-free hex encoder against base16ct's, as the oracle, on every byte
    /// value in every position.
    #[test]
    fn hex_matches_base16ct() {
        for offset in 0..=255u8 {
            let tag = Tag::from(core::array::from_fn(|i| offset.wrapping_add(i as u8)));
            let mut want = [0u8; SIGNATURE_TEXT_MAX];
            let lower = base16ct::lower::encode(tag.as_bytes(), &mut want).unwrap_or(&[]).to_vec();
            assert_eq!(Encoding::LowerHex.encode(&tag).as_bytes(), lower);
            assert_eq!(Encoding::Hex.encode(&tag).as_bytes(), lower);
            let upper = base16ct::upper::encode(tag.as_bytes(), &mut want).unwrap_or(&[]).to_vec();
            assert_eq!(Encoding::UpperHex.encode(&tag).as_bytes(), upper);
        }
    }

    #[test]
    fn round_trips_and_strictness() {
        let tag = Tag::from([0xab; TAG_LEN]);
        for enc in [Encoding::LowerHex, Encoding::UpperHex, Encoding::Hex, Encoding::Base64] {
            let text = enc.encode(&tag);
            assert_eq!(text.len(), enc.text_len());
            assert_eq!(enc.decode(text.as_bytes()), Ok(tag.clone()));
        }
        let lower = Encoding::LowerHex.encode(&tag);
        let upper = Encoding::UpperHex.encode(&tag);
        assert_eq!(Encoding::LowerHex.decode(upper.as_bytes()), Err(Error::InvalidSignatureEncoding));
        assert_eq!(Encoding::UpperHex.decode(lower.as_bytes()), Err(Error::InvalidSignatureEncoding));
        assert_eq!(Encoding::Hex.decode(upper.as_bytes()), Ok(tag.clone()));

        // base64 of 32 bytes ends in one '=' with two zero bits before it; flipping them is
        // the same bytes but a non-canonical text.
        let b64 = Encoding::Base64.encode(&Tag::from([0u8; TAG_LEN]));
        assert_eq!(b64.as_str(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        assert_eq!(
            Encoding::Base64.decode(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="),
            Err(Error::InvalidSignatureEncoding)
        );
        assert_eq!(
            Encoding::Base64.decode(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            Err(Error::InvalidSignatureEncoding)
        );
    }
}

/// Length of `n` bytes in unpadded base64url.
pub(crate) const fn base64url_len(n: usize) -> usize {
    // 4 characters per 3 bytes, rounded up, without padding; saturating for absurd inputs.
    let full = (n / 3).saturating_mul(4);
    match n % 3 {
        0 => full,
        1 => full.saturating_add(2),
        _ => full.saturating_add(3),
    }
}

/// Writes `src` as unpadded base64url into the start of `dst`.
pub(crate) fn base64url_encode<'o>(src: &[u8], dst: &'o mut [u8]) -> Result<&'o [u8], Error> {
    base64ct::Base64UrlUnpadded::encode(src, dst).map(str::as_bytes).map_err(|_| Error::BufferTooSmall)
}

/// Reads unpadded base64url, refusing any text that is not the one canonical encoding of its
/// bytes (padding, whitespace, the standard alphabet, non-zero unused bits).
pub(crate) fn base64url_decode<'o>(src: &[u8], dst: &'o mut [u8]) -> Result<&'o [u8], Error> {
    let unused_bits_zero = match (src.len() % 4, src.last()) {
        (1, _) => false,
        (2, Some(&c)) => sextet(c).is_some_and(|v| v & 0x0f == 0),
        (3, Some(&c)) => sextet(c).is_some_and(|v| v & 0x03 == 0),
        _ => true,
    };
    if !unused_bits_zero {
        return Err(Error::TokenMalformed);
    }
    let cap = dst.len();
    match base64ct::Base64UrlUnpadded::decode(src, dst) {
        Ok(decoded) => Ok(decoded),
        Err(base64ct::Error::InvalidLength) if dst_too_small(src.len(), cap) => Err(Error::BufferTooSmall),
        Err(_) => Err(Error::TokenMalformed),
    }
}

fn dst_too_small(src_len: usize, dst_len: usize) -> bool {
    (src_len / 4).saturating_mul(3).saturating_add(2) > dst_len
}

/// The 6-bit value of a base64url character, `None` outside the alphabet. Branch-free in
/// `c` (the technique base64ct uses): each range adds `value + 1` through a mask that is all
/// ones exactly when `c` is inside it, so a valid token's text decides no branch; only the
/// final "not in the alphabet" verdict does, and that refuses the token.
fn sextet(c: u8) -> Option<u8> {
    let c = i16::from(c);
    // All ones when lo <= c <= hi, else zero (the operands are small: no overflow).
    let within = |lo: i16, hi: i16| (lo.wrapping_sub(1).wrapping_sub(c) & c.wrapping_sub(hi).wrapping_sub(1)) >> 8;
    let mut v: i16 = -1;
    v = v.wrapping_add(within(0x41, 0x5a) & c.wrapping_sub(0x41 - 1)); // A-Z: 0..=25
    v = v.wrapping_add(within(0x61, 0x7a) & c.wrapping_sub(0x61 - 26 - 1)); // a-z: 26..=51
    v = v.wrapping_add(within(0x30, 0x39) & c.wrapping_add(52 + 1 - 0x30)); // 0-9: 52..=61
    v = v.wrapping_add(within(0x2d, 0x2d) & (62 + 1)); // '-'
    v = v.wrapping_add(within(0x5f, 0x5f) & (63 + 1)); // '_'
    u8::try_from(v).ok()
}

#[cfg(test)]
mod base64url_tests {
    use super::*;

    #[test]
    fn sextet_is_the_alphabet() {
        // Oracle: the alphabet of RFC 4648 section 5, written out.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for c in 0..=255u8 {
            let want = alphabet.iter().position(|&a| a == c).and_then(|p| u8::try_from(p).ok());
            assert_eq!(sextet(c), want, "{c:#04x}");
        }
    }

    #[test]
    fn canonical_only() {
        let mut buf = [0u8; 8];
        assert_eq!(base64url_decode(b"AA", &mut buf), Ok(&[0u8][..]));
        assert_eq!(base64url_decode(b"AB", &mut buf), Err(Error::TokenMalformed), "unused bits set");
        assert_eq!(base64url_decode(b"AA==", &mut buf), Err(Error::TokenMalformed), "padding");
        assert_eq!(base64url_decode(b"A", &mut buf), Err(Error::TokenMalformed));
        assert_eq!(base64url_decode(b"+/8", &mut buf), Err(Error::TokenMalformed), "standard alphabet");
        assert_eq!(base64url_decode(b"-_8", &mut buf), Ok(&[0xfb, 0xff][..]));
        assert_eq!(base64url_decode(b"AA A", &mut buf), Err(Error::TokenMalformed));
        for n in 0..10 {
            let mut out = [0u8; 16];
            assert_eq!(
                base64url_encode([7u8; 10].get(..n).unwrap_or_default(), &mut out).map(<[u8]>::len),
                Ok(base64url_len(n))
            );
        }
    }
}
