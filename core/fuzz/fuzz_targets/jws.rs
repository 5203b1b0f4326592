//! Access tokens: `jws::verify` on arbitrary tokens and issuer settings against the JWK set of
//! `tests/vectors/jws.json` (RSA, EC P-256, Ed25519 keys) never panics; a token it accepts was
//! signed with an allowed algorithm, names the issuer and audience, and fails once any single
//! byte is changed.
//!
//! Input: `token` or `token \n rest`, where `rest` is read by `arbitrary` for the other
//! parameters (so seeds are plain tokens from `tests/vectors/jws.json`).
#![no_main]

use std::sync::LazyLock;

use apisig::jwk::{Alg, AlgSet, JwkSet};
use apisig::jws::{self, Issuer};
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

const ISS: &str = "https://op.example.test/realms/zignsec";
const AUD: &str = "https://api.example.test";
const NOW: u64 = 1_700_000_000_000_000_000;

static SET: LazyLock<JwkSet<16>> = LazyLock::new(|| {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/vectors/jws.json")).expect("jws.json");
    JwkSet::parse(file["jwks"].as_str().expect("jwks").as_bytes()).expect("the vectors' set")
});

#[derive(Arbitrary, Debug, Default)]
struct Input {
    algorithms: u8,
    leeway_s: u64,
    strict: bool,
    max_len: u16,
    scratch: u16,
    now: u64,
    flip_at: u16,
    flip_xor: u8,
}

fuzz_target!(|data: &[u8]| {
    let (token, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let plain = rest.is_empty();
    let x = Input::arbitrary_take_rest(Unstructured::new(rest)).unwrap_or_default();
    let mut algorithms = AlgSet::EMPTY;
    for (bit, alg) in [(1, Alg::Rs256), (2, Alg::Ps256), (4, Alg::Es256), (8, Alg::EdDsa)] {
        if plain || x.algorithms & bit != 0 {
            algorithms = algorithms.with(alg);
        }
    }
    let issuer = Issuer {
        issuer: ISS,
        audience: AUD,
        algorithms,
        leeway_s: if plain { 0 } else { x.leeway_s },
        strict: x.strict,
        max_len: if plain { jws::ACCESS_TOKEN_MAX } else { usize::from(x.max_len) },
    };
    let now = if plain { NOW } else { x.now };
    let mut scratch = vec![0u8; if plain { token.len() } else { usize::from(x.scratch) }];
    let Ok(v) = jws::verify(&SET, &issuer, token, now, &mut scratch) else { return };
    assert!(algorithms.contains(v.alg));
    assert_eq!(v.claims.iss, Some(ISS));
    assert!(v.claims.aud.contains(&AUD));
    if x.flip_xor != 0 || plain {
        let mut bad = token.to_vec();
        let i = usize::from(x.flip_at) % bad.len();
        bad[i] ^= if plain { 1 } else { x.flip_xor };
        let mut scratch = vec![0u8; bad.len()];
        assert!(jws::verify(&SET, &issuer, &bad, now, &mut scratch).is_err(), "flipped byte {i} accepted");
    }
});
