//! The two signature backends of the core (jws_backend.rs: ring on hosts, RustCrypto) give one
//! answer: every key of `tests/vectors/jws.json`'s set, with every algorithm it fits, verifies
//! the input's signature over its signing input alike by both (`PublicKey::verify`, ring here
//! since apisig-ffi's `std` turns the feature on, and `verify_with_rust_crypto`).
//!
//! Input: `token` (its signing input and base64url signature, seeds are the vectors' tokens) or
//! `token \n raw` where the raw bytes replace the signature (any length, any value).
#![no_main]

use std::sync::LazyLock;

use apisig::jwk::{Alg, JwkSet};
use libfuzzer_sys::fuzz_target;

static SET: LazyLock<JwkSet<16>> = LazyLock::new(|| {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/vectors/jws.json")).expect("jws.json");
    JwkSet::parse(file["jwks"].as_str().expect("jwks").as_bytes()).expect("the vectors' set")
});

fn b64url(text: &[u8]) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let (token, raw) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Some(dot) = token.iter().rposition(|&b| b == b'.') else { return };
    let (msg, sig64) = (&token[..dot], &token[dot + 1..]);
    let sig = match raw {
        Some(raw) => raw.to_vec(),
        None => match b64url(sig64) {
            Some(sig) => sig,
            None => return,
        },
    };
    for key in SET.keys() {
        for alg in [Alg::Rs256, Alg::Ps256, Alg::Es256, Alg::EdDsa] {
            if !key.key().fits(alg) {
                continue;
            }
            let ring = key.key().verify(alg, msg, &sig);
            let rust_crypto = key.key().verify_with_rust_crypto(alg, msg, &sig);
            assert_eq!(ring, rust_crypto, "{alg:?}, key {:?}, {} signature bytes", key.kid(), sig.len());
        }
    }
});
