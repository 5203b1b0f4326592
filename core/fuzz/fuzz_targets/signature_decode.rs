//! Signature text: each encoding's decoder against a reference decoder (exact alphabet,
//! case and canonical padding), encode/decode round trips, and HMAC verify agreeing with
//! sign.
#![no_main]

use apisig::{Encoding, Error, MacKey, TAG_LEN, Tag};
use libfuzzer_sys::fuzz_target;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn hex_ref(text: &[u8], lower: bool, upper: bool) -> Option<[u8; TAG_LEN]> {
    if text.len() != 2 * TAG_LEN {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' if lower => Some(c - b'a' + 10),
        b'A'..=b'F' if upper => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; TAG_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nibble(text[2 * i])? << 4 | nibble(text[2 * i + 1])?;
    }
    Some(out)
}

fn b64_ref(text: &[u8]) -> Option<[u8; TAG_LEN]> {
    // 32 bytes: 42 full sextets + one with 4 data bits and 2 zero bits, then one '='.
    if text.len() != 44 || text[43] != b'=' {
        return None;
    }
    let mut bits: u64 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    for (i, &c) in text[..43].iter().enumerate() {
        let v = B64.iter().position(|&a| a == c)? as u64;
        if i == 42 && v & 0b11 != 0 {
            return None;
        }
        bits = bits << 6 | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    out.try_into().ok()
}

fuzz_target!(|data: &[u8]| {
    let cases = [
        (Encoding::LowerHex, hex_ref(data, true, false)),
        (Encoding::UpperHex, hex_ref(data, false, true)),
        (Encoding::Hex, hex_ref(data, true, true)),
        (Encoding::Base64, b64_ref(data)),
    ];
    for (enc, want) in cases {
        let got = enc.decode(data);
        match want {
            Some(bytes) => assert_eq!(got, Ok(Tag::from(bytes)), "{enc:?}"),
            None => assert_eq!(got, Err(Error::InvalidSignatureEncoding), "{enc:?}"),
        }
        if let Ok(tag) = got {
            let again = enc.encode(&tag);
            match enc {
                Encoding::Hex => assert_eq!(again.as_bytes(), data.to_ascii_lowercase()),
                _ => assert_eq!(again.as_bytes(), data),
            }
        }
    }

    // Round trip of arbitrary tag bytes, and verify == (tag == sign).
    let mut raw = [0u8; TAG_LEN];
    for (o, b) in raw.iter_mut().zip(data) {
        *o = *b;
    }
    let tag = Tag::from(raw);
    for enc in [Encoding::LowerHex, Encoding::UpperHex, Encoding::Hex, Encoding::Base64] {
        let text = enc.encode(&tag);
        assert_eq!(text.len(), enc.text_len());
        assert_eq!(enc.decode(text.as_bytes()), Ok(tag.clone()));
    }
    let (key, msg) = data.split_at(data.len().min(7));
    match MacKey::new(key) {
        Err(e) => assert!(key.is_empty() && e == Error::EmptySecret),
        Ok(k) => {
            let good = k.sign(msg);
            assert_eq!(k.verify(msg, good.as_bytes()), Ok(()));
            // `msg` as a presented tag over the message `key`.
            let want = if msg.len() == TAG_LEN {
                if k.sign(key).as_bytes()[..] == msg[..] { Ok(()) } else { Err(Error::SignatureMismatch) }
            } else {
                Err(Error::InvalidSignatureEncoding)
            };
            assert_eq!(k.verify(key, msg), want);
        }
    }
});
