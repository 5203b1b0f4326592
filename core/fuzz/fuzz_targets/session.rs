//! Session tokens: `SessionKeys::verify` on arbitrary tokens never panics; issued tokens
//! verify (with the slot of the secret that made them) until they expire; changing any
//! single byte of a token makes it fail.
//!
//! Input: `token` or `token \n rest`, `rest` read by `arbitrary` for the other parameters
//! (seeds are the tokens of `tests/vectors/session.json`).
#![no_main]

use apisig::session::{Session, SessionKeys, TOKEN_MAX};
use apisig::{Error, client::Slot};
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Default)]
struct Input<'a> {
    now: u64,
    scratch: u16,
    user_id: &'a str,
    key_id: &'a str,
    expires: u64,
    secondary: bool,
    flip_at: u16,
    flip_xor: u8,
}

fuzz_target!(|data: &[u8]| {
    let (token, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let x = Input::arbitrary_take_rest(Unstructured::new(rest)).unwrap_or_default();
    let x = Input { now: if rest.is_empty() { 1_700_000_000_000_000_000 } else { x.now }, scratch: if rest.is_empty() { 256 } else { x.scratch }, ..x };
    let primary = b"apisig-session-primary-2024-Qm8vT3xK";
    let second = b"apisig-session-secondary-2023-Lr5wN9pD";
    let keys = SessionKeys::new(primary).unwrap().with_secondary(second).unwrap();
    let mut scratch = vec![0u8; usize::from(x.scratch) % 512];
    let _ = keys.verify(token, x.now, &mut scratch);

    let issuer = if x.secondary { SessionKeys::new(second).unwrap() } else { SessionKeys::new(primary).unwrap() };
    let s = Session { user_id: x.user_id, key_id: x.key_id, expires: x.expires };
    let mut out = [0u8; TOKEN_MAX];
    let Ok(token) = issuer.issue(&s, &mut out) else { return };
    let token = token.to_vec();
    let mut scratch = [0u8; TOKEN_MAX];
    let got = keys.verify(&token, x.now, &mut scratch);
    if x.now / 1_000_000_000 >= x.expires {
        assert_eq!(got, Err(Error::TokenExpired));
    } else {
        let slot = if x.secondary { Slot::Secondary } else { Slot::Primary };
        assert_eq!(got, Ok((s, slot)));
        if x.flip_xor != 0 {
            let mut bad = token.clone();
            let i = usize::from(x.flip_at) % bad.len();
            bad[i] ^= x.flip_xor;
            let mut scratch = [0u8; TOKEN_MAX];
            assert!(keys.verify(&bad, x.now, &mut scratch).is_err(), "flipped byte {i} accepted");
        }
    }
});
