//! How a signature is written as text: hex (either case) or base64.

use base64ct::{Base64, Encoding as _};
use subtle::ConstantTimeEq as _;

use crate::{Error, TAG_LEN, Tag};

/// The longest signature text any encoding produces (hex of a 32-byte tag).
pub const SIGNATURE_TEXT_MAX: usize = 2 * TAG_LEN;

/// A signature written as text, in fixed storage.
pub type SignatureText = heapless::String<SIGNATURE_TEXT_MAX>;

/// The text encoding of a signature.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Encoding {
    /// Lowercase hex; verification accepts lowercase only (Aevo).
    LowerHex,
    /// Uppercase hex; verification accepts uppercase only.
    UpperHex,
    /// Lowercase hex when signing; verification accepts either case (AlphaPoint APEX).
    Hex,
    /// Standard base64 with padding (RFC 4648 §4); verification accepts canonical text only.
    Base64,
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
        let bytes = tag.as_bytes();
        let text: &[u8] = match self {
            Encoding::LowerHex | Encoding::Hex => base16ct::lower::encode(bytes, &mut buf).unwrap_or(&[]),
            Encoding::UpperHex => base16ct::upper::encode(bytes, &mut buf).unwrap_or(&[]),
            Encoding::Base64 => Base64::encode(bytes, &mut buf).map(str::as_bytes).unwrap_or(&[]),
        };
        // The buffer always fits and every encoder writes ASCII.
        let mut out = SignatureText::new();
        if let Ok(s) = core::str::from_utf8(text) {
            let _ = out.push_str(s);
        }
        out
    }

    /// Reads a presented signature. Constant time in the data (not in the length).
    ///
    /// # Errors
    /// [`Error::InvalidSignatureEncoding`] for the wrong length, alphabet, case or padding.
    pub fn decode(self, text: &[u8]) -> Result<Tag, Error> {
        if text.len() != self.text_len() {
            return Err(Error::InvalidSignatureEncoding);
        }
        let mut tag = [0u8; TAG_LEN];
        let decoded = match self {
            Encoding::LowerHex => base16ct::lower::decode(text, &mut tag).map(|d| d.len()).ok(),
            Encoding::UpperHex => base16ct::upper::decode(text, &mut tag).map(|d| d.len()).ok(),
            Encoding::Hex => base16ct::mixed::decode(text, &mut tag).map(|d| d.len()).ok(),
            Encoding::Base64 => decode_base64(text, &mut tag),
        };
        match decoded {
            Some(TAG_LEN) => Ok(Tag::from(tag)),
            _ => Err(Error::InvalidSignatureEncoding),
        }
    }
}

/// base64ct's decoder is constant time and refuses bad padding; re-encoding and comparing
/// also refuses non-zero trailing bits, so only the one canonical text is accepted.
fn decode_base64(text: &[u8], tag: &mut [u8; TAG_LEN]) -> Option<usize> {
    let len = Base64::decode(text, tag).ok()?.len();
    let mut again = [0u8; 44];
    let canonical = Base64::encode(tag.get(..len)?, &mut again).ok()?;
    bool::from(canonical.as_bytes().ct_eq(text)).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

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
