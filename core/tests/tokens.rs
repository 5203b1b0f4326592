//! Runs the shared token and certificate vectors (`tests/vectors/{jwt,session,pins}.json`,
//! from the independent Python oracle) against the core.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use apisig::jwt::{self, Validation};
use apisig::pin::{PIN_LEN, PinKind};
use apisig::session::{Session, SessionKeys};
use apisig::{
    Error, MacKey, Verifier, Window,
    client::{Client, Slot},
    keyring::Keyring,
    pin::Pin,
    replay::ReplayCache,
};
use serde_json::Value;

fn dir() -> String {
    format!("{}/../tests/vectors", env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{}/{name}", dir())).unwrap()).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn bytes(obj: &Value, name: &str) -> Option<Vec<u8>> {
    if let Some(s) = obj[name].as_str() {
        return Some(s.as_bytes().to_vec());
    }
    obj[format!("{name}_hex")].as_str().map(hex)
}

fn id(case: &Value) -> String {
    format!("tcId {} ({})", case["tcId"], case["comment"])
}

fn valid(case: &Value) -> bool {
    case["result"] == "valid"
}

/// Asserts that `result` is what the case says; returns the value when valid.
fn expect<T: std::fmt::Debug>(case: &Value, result: Result<T, Error>) -> Option<T> {
    match result {
        Ok(v) => {
            assert!(valid(case), "{}: accepted, expected {}", id(case), case["error"]);
            Some(v)
        }
        Err(e) => {
            assert!(!valid(case), "{}: refused with {e:?}", id(case));
            assert_eq!(e.name(), case["error"].as_str().unwrap(), "{}", id(case));
            None
        }
    }
}

fn list<'v>(v: &'v Value, key: &str) -> &'v Vec<Value> {
    let l = v[key].as_array().unwrap();
    assert!(!l.is_empty(), "{key} is empty");
    l
}

#[test]
fn jwt_verify_vectors() {
    let v = load("jwt.json");
    for case in list(&v, "tests") {
        let key = bytes(case, "key").unwrap();
        let val = &case["validation"];
        let validation = Validation {
            leeway_s: val["leeway_s"].as_u64().unwrap(),
            require_exp: val["require_exp"].as_bool().unwrap(),
            issuer: val["iss"].as_str(),
            audience: val["aud"].as_str(),
            subject: val["sub"].as_str(),
            max_len: val["max_len"].as_u64().unwrap() as usize,
        };
        let token = case["token"].as_str().unwrap().as_bytes();
        let now = case["now"].as_u64().unwrap() * 1_000_000_000;
        let mut scratch = vec![0u8; token.len().max(1)];
        let result = MacKey::new(&key).and_then(|k| jwt::verify(&k, token, &validation, now, &mut scratch));
        if let Some(claims) = expect(case, result) {
            let want = &case["claims"];
            assert_eq!(claims.iss, want["iss"].as_str(), "{}", id(case));
            assert_eq!(claims.sub, want["sub"].as_str(), "{}", id(case));
            let aud: Vec<&str> = want["aud"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
            assert_eq!(claims.aud.as_slice(), aud.as_slice(), "{}", id(case));
            assert_eq!(claims.exp, want["exp"].as_u64(), "{}", id(case));
            assert_eq!(claims.nbf, want["nbf"].as_u64(), "{}", id(case));
            assert_eq!(claims.iat, want["iat"].as_u64(), "{}", id(case));
        }
    }
}

#[test]
fn jwt_encode_vectors() {
    let v = load("jwt.json");
    for case in list(&v, "encode") {
        let key = bytes(case, "key").unwrap();
        let (header, claims) = (case["header"].as_str().unwrap(), case["claims"].as_str().unwrap());
        let mut out = vec![0u8; 4096];
        let result = MacKey::new(&key)
            .and_then(|k| jwt::encode(&k, header.as_bytes(), claims.as_bytes(), &mut out).map(<[u8]>::to_vec));
        if let Some(token) = expect(case, result) {
            assert_eq!(String::from_utf8(token).unwrap(), case["token"].as_str().unwrap(), "{}", id(case));
        }
    }
}

fn session_keys(case: &Value) -> Result<SessionKeys, Error> {
    let keys = SessionKeys::new(case["primary"].as_str().unwrap().as_bytes())?;
    match case["secondary"].as_str() {
        Some(s) => keys.with_secondary(s.as_bytes()),
        None => Ok(keys),
    }
}

#[test]
fn session_vectors() {
    let v = load("session.json");
    assert_eq!(v["max_token_len"].as_u64(), Some(apisig::session::TOKEN_MAX as u64));
    for case in list(&v, "tests") {
        let token = case["token"].as_str().unwrap().as_bytes();
        let now = case["now"].as_u64().unwrap() * 1_000_000_000;
        let mut scratch = [0u8; apisig::session::TOKEN_MAX];
        let result = session_keys(case).and_then(|k| {
            k.verify(token, now, &mut scratch)
                .map(|(s, slot)| (s.user_id.to_owned(), s.key_id.to_owned(), s.expires, slot))
        });
        if let Some((user, key, expires, slot)) = expect(case, result) {
            let want = &case["session"];
            assert_eq!(user, want["user_id"].as_str().unwrap(), "{}", id(case));
            assert_eq!(key, want["key_id"].as_str().unwrap(), "{}", id(case));
            assert_eq!(expires, want["expires"].as_u64().unwrap(), "{}", id(case));
            let slot_name = if slot == Slot::Primary { "primary" } else { "secondary" };
            assert_eq!(slot_name, want["slot"].as_str().unwrap(), "{}", id(case));
        }
    }
    for case in list(&v, "issue") {
        let s = Session {
            user_id: case["user_id"].as_str().unwrap(),
            key_id: case["key_id"].as_str().unwrap(),
            expires: case["expires"].as_u64().unwrap(),
        };
        let mut out = [0u8; apisig::session::TOKEN_MAX];
        let result = session_keys(case).and_then(|k| k.issue(&s, &mut out).map(<[u8]>::to_vec));
        if let Some(token) = expect(case, result) {
            assert_eq!(String::from_utf8(token).unwrap(), case["token"].as_str().unwrap(), "{}", id(case));
        }
    }
}

#[test]
fn pin_vectors() {
    let v = load("pins.json");
    for case in list(&v, "tests") {
        let der = match case["cert"].as_str() {
            Some(file) => std::fs::read(format!("{}/{file}", dir())).unwrap(),
            None => hex(case["cert_hex"].as_str().unwrap()),
        };
        let kind = match case["kind"].as_str().unwrap() {
            "certificate" => PinKind::Certificate,
            "spki" => PinKind::PublicKey,
            other => panic!("kind {other}"),
        };
        let mut ring = Keyring::<8>::new();
        for pin in case["pins"].as_array().unwrap() {
            let name = pin["client"].as_str().unwrap();
            if ring.get(name).is_none() {
                ring.insert(Client::new(name).unwrap()).unwrap();
            }
            let slot = if pin["slot"] == "primary" { Slot::Primary } else { Slot::Secondary };
            let fingerprint: [u8; PIN_LEN] = hex(pin["fingerprint"].as_str().unwrap()).try_into().unwrap();
            ring.set_pin(name, slot, Some(Pin { kind, fingerprint })).unwrap();
        }
        let verifier = Verifier::new(ring, ReplayCache::<1>::new(), Window::DEFAULT);
        let result = verifier.verify_certificate(&der, None, 0);
        if let Some(p) = expect(case, result) {
            assert_eq!(p.id.as_str(), case["client"].as_str().unwrap(), "{}", id(case));
            let slot = if case["slot"] == "primary" { Slot::Primary } else { Slot::Secondary };
            assert_eq!(p.slot, slot, "{}", id(case));
        }
    }
}
