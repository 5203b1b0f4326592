//! Runs the shared asymmetric JWS vectors (`tests/vectors/jws.json`, from the independent
//! Python oracle: `cryptography` and a reference verifier) against the core: RFC known
//! answers, the attack table, JWK set parsing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use apisig::Error;
use apisig::jwk::{Alg, AlgSet, JwkSet};
use apisig::jws::{self, Issuer};
use serde_json::Value;

const CAP: usize = 16;

fn load() -> Value {
    let path = format!("{}/../tests/vectors/jws.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn enabled(case: &Value) -> bool {
    case["features"].as_array().unwrap().iter().all(|f| match f.as_str().unwrap() {
        "rsa" => cfg!(feature = "rsa"),
        "es256" => cfg!(feature = "es256"),
        "eddsa" => cfg!(feature = "eddsa"),
        other => panic!("unknown feature {other}"),
    })
}

fn expected(case: &Value) -> Result<(), Error> {
    match case["result"].as_str().unwrap() {
        "valid" => Ok(()),
        _ => Err(Error::from_name(case["error"].as_str().unwrap()).unwrap()),
    }
}

fn b64(s: &str) -> Vec<u8> {
    // The vectors' base64url is canonical and unpadded; decode by the alphabet.
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url"),
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes() {
        acc = (acc << 6) | u32::from(val(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn issuer(v: &Value) -> (Issuer<'_>, ()) {
    let mut algorithms = AlgSet::EMPTY;
    for a in v["algorithms"].as_array().unwrap() {
        algorithms = algorithms.with(Alg::from_name(a.as_str().unwrap()).unwrap());
    }
    let i = Issuer {
        issuer: v["issuer"].as_str().unwrap(),
        audience: v["audience"].as_str().unwrap(),
        algorithms,
        leeway_s: v["leeway_s"].as_u64().unwrap(),
        strict: v["strict"].as_bool().unwrap(),
        max_len: usize::try_from(v["max_len"].as_u64().unwrap()).unwrap(),
    };
    (i, ())
}

#[test]
fn shared_vectors() {
    let file = load();
    let now = file["now"].as_u64().unwrap() * 1_000_000_000;
    let set: JwkSet<CAP> = JwkSet::parse(file["jwks"].as_str().unwrap().as_bytes()).unwrap();
    let mut ran = 0;
    for case in file["tests"].as_array().unwrap() {
        if !enabled(case) {
            continue;
        }
        let id = case["tcId"].as_u64().unwrap();
        let comment = case["comment"].as_str().unwrap();
        match case["kind"].as_str().unwrap() {
            "rfc" => {
                let keys: JwkSet<CAP> = JwkSet::parse(case["jwks"].as_str().unwrap().as_bytes()).unwrap();
                let alg = Alg::from_name(case["alg"].as_str().unwrap()).unwrap();
                let key = keys.find(None, alg).unwrap();
                let got = key.verify(
                    alg,
                    case["signing_input"].as_str().unwrap().as_bytes(),
                    &b64(case["signature"].as_str().unwrap()),
                );
                assert_eq!(got, expected(case), "tcId {id}: {comment}");
            }
            "token" => {
                let (iss, ()) = issuer(&case["issuer"]);
                let token = case["token"].as_str().unwrap().as_bytes();
                let mut scratch = vec![0u8; token.len()];
                let got = jws::verify(&set, &iss, token, now, &mut scratch);
                assert_eq!(got.as_ref().map(|_| ()), expected(case).as_ref().map(|_| ()), "tcId {id}: {comment}");
                assert_eq!(got.as_ref().err(), expected(case).err().as_ref(), "tcId {id}: {comment}");
                if let Ok(v) = got {
                    let want = &case["claims"];
                    assert_eq!(v.claims.sub, want["sub"].as_str(), "tcId {id}");
                    assert_eq!(v.claims.client_id, want["client_id"].as_str(), "tcId {id}");
                    assert_eq!(v.claims.scope, want["scope"].as_str(), "tcId {id}");
                }
            }
            "jwks" => {
                assert_eq!(case["capacity"].as_u64(), Some(CAP as u64));
                let got = JwkSet::<CAP>::parse(case["jwks"].as_str().unwrap().as_bytes());
                assert_eq!(got.as_ref().map(|_| ()).map_err(|e| *e), expected(case), "tcId {id}: {comment}");
                if let (Ok(set), Some(kids)) = (got, case["kids"].as_array()) {
                    let got: Vec<_> = set.keys().iter().map(|k| k.kid()).collect();
                    let want: Vec<_> = kids.iter().map(|k| k.as_str()).collect();
                    assert_eq!(got, want, "tcId {id}: {comment}");
                }
            }
            other => panic!("tcId {id}: unknown kind {other}"),
        }
        ran += 1;
    }
    // Without the signature features only the feature-free cases (JWK set shape) run.
    let least = if cfg!(all(feature = "es256", feature = "eddsa")) { 40 } else { 5 };
    assert!(ran >= least, "only {ran} cases ran");
}

/// Without the `rsa` feature, RSA keys are skipped and RS256 tokens find no key.
#[cfg(not(feature = "rsa"))]
#[test]
fn rsa_keys_are_skipped_without_the_feature() {
    let file = load();
    let set: JwkSet<CAP> = JwkSet::parse(file["jwks"].as_str().unwrap().as_bytes()).unwrap();
    assert!(!set.has_kid("rsa-1"));
    assert_eq!(set.find(Some("rsa-1"), Alg::Rs256).err(), Some(Error::UnknownKid));
}

/// A scratch buffer shorter than the token is refused, and nothing panics on any prefix.
#[test]
fn short_scratch_and_prefixes() {
    let file = load();
    let now = file["now"].as_u64().unwrap() * 1_000_000_000;
    let set: JwkSet<CAP> = JwkSet::parse(file["jwks"].as_str().unwrap().as_bytes()).unwrap();
    let case = file["tests"].as_array().unwrap().iter().find(|c| c["comment"] == "ES256 access token").unwrap();
    let (iss, ()) = issuer(&case["issuer"]);
    let token = case["token"].as_str().unwrap().as_bytes();
    let mut short = vec![0u8; token.len() - 1];
    assert_eq!(jws::verify(&set, &iss, token, now, &mut short).err(), Some(Error::BufferTooSmall));
    let mut scratch = vec![0u8; token.len()];
    for n in 0..token.len() {
        assert!(jws::verify(&set, &iss, &token[..n], now, &mut scratch).is_err());
    }
}
