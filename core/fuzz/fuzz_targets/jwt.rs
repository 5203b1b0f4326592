//! JWTs: `jwt::verify` on arbitrary tokens and validations never panics; a token `encode`
//! accepts verifies except for claim checks; changing any single byte of a verified token
//! makes it fail.
//!
//! Input: `token` or `token \n rest`, where `rest` is read by `arbitrary` for the other
//! parameters (so seeds are plain tokens from `tests/vectors/jwt.json`).
#![no_main]

use apisig::jwt::{self, Validation};
use apisig::{Error, MacKey};
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"apisig-jwt-test-key/0123456789abcdef";

#[derive(Arbitrary, Debug, Default)]
struct Input<'a> {
    header: &'a [u8],
    claims: &'a [u8],
    leeway_s: u64,
    require_exp: bool,
    iss: Option<&'a str>,
    aud: Option<&'a str>,
    sub: Option<&'a str>,
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
    let x = Input::arbitrary_take_rest(Unstructured::new(rest)).unwrap_or_default();
    let x = Input { now: if rest.is_empty() { 1_700_000_000_000_000_000 } else { x.now }, ..x };
    let key = MacKey::new(KEY).unwrap();
    let v = Validation {
        leeway_s: x.leeway_s,
        require_exp: x.require_exp,
        issuer: x.iss,
        audience: x.aud,
        subject: x.sub,
        max_len: usize::from(x.max_len),
    };
    let mut scratch = vec![0u8; usize::from(x.scratch)];
    let _ = jwt::verify(&key, token, &v, x.now, &mut scratch);
    let mut big = vec![0u8; token.len()];
    let _ = jwt::verify(&key, token, &Validation::DEFAULT, x.now, &mut big);

    let mut out = vec![0u8; jwt::encoded_len(x.header.len(), x.claims.len())];
    let Ok(token) = jwt::encode(&key, x.header, x.claims, &mut out) else { return };
    let token = token.to_vec();
    let v = Validation { max_len: usize::MAX, ..v };
    let mut scratch = vec![0u8; token.len()];
    match jwt::verify(&key, &token, &v, x.now, &mut scratch) {
        Ok(claims) => assert_eq!(claims.json, x.claims),
        Err(
            Error::TokenExpired | Error::TokenNotYetValid | Error::MissingClaim | Error::ClaimMismatch,
        ) => {}
        Err(e) => panic!("encoded token refused: {e:?}"),
    }
    let lenient = Validation { require_exp: false, leeway_s: u64::MAX, ..Validation::DEFAULT };
    let lenient = Validation { max_len: usize::MAX, ..lenient };
    let mut scratch = vec![0u8; token.len()];
    if jwt::verify(&key, &token, &lenient, x.now, &mut scratch).is_ok() && x.flip_xor != 0 {
        let mut bad = token.clone();
        let i = usize::from(x.flip_at) % bad.len();
        bad[i] ^= x.flip_xor;
        let mut scratch = vec![0u8; bad.len()];
        assert!(jwt::verify(&key, &bad, &lenient, x.now, &mut scratch).is_err(), "flipped byte {i} accepted");
    }
});
