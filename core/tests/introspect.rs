//! Runs the shared introspection vectors (`tests/vectors/introspection.json`, from the
//! independent Python oracle written from RFC 7662) against the core.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use apisig::Error;
use apisig::introspect::{self, Expected};
use serde_json::Value;

const S: u64 = 1_000_000_000;

fn load() -> Value {
    let path = format!("{}/../tests/vectors/introspection.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn opt(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

#[test]
fn introspection_vectors() {
    let root = load();
    let tests = root["tests"].as_array().unwrap();
    assert!(tests.len() >= 35);
    for case in tests {
        let name = case["comment"].as_str().unwrap();
        let e = &case["expected"];
        let expected = Expected {
            issuer: e["issuer"].as_str().unwrap(),
            audience: e["audience"].as_str(),
            leeway_s: e["leeway_s"].as_u64().unwrap(),
        };
        let now = case["now"].as_u64().unwrap() * S + 999_999_999; // within the second
        let got = introspect::check(case["body"].as_str().unwrap().as_bytes(), &expected, now);
        match case["result"].as_str().unwrap() {
            "valid" => {
                let c = got.unwrap_or_else(|e| panic!("{name}: {e:?}"));
                let want = &case["claims"];
                assert_eq!(opt(c.client_id), want["client_id"], "{name}");
                assert_eq!(opt(c.sub), want["sub"], "{name}");
                assert_eq!(opt(c.scope), want["scope"], "{name}");
                assert_eq!(opt(c.iss), want["iss"], "{name}");
                assert_eq!(c.exp, want["exp"].as_u64(), "{name}");
                let aud: Vec<Value> = c.aud.iter().map(|a| Value::String((*a).to_owned())).collect();
                assert_eq!(Value::Array(aud), want["aud"], "{name}");
                let max = case["max_cache_s"].as_u64().unwrap();
                assert_eq!(introspect::cache_seconds(&c, now, max), case["cache_s"].as_u64().unwrap(), "{name}");
            }
            _ => {
                let want = Error::from_name(case["error"].as_str().unwrap()).unwrap();
                assert_eq!(got.err(), Some(want), "{name}");
            }
        }
    }
}

#[test]
fn truncated_answers_are_refused_without_panicking() {
    let root = load();
    let expected = Expected { issuer: "http://127.0.0.1:3000", audience: None, leeway_s: 0 };
    for case in root["tests"].as_array().unwrap() {
        let body = case["body"].as_str().unwrap().as_bytes();
        if body.len() > 1024 {
            continue; // the 16 KiB one is refused for its length; the cuts of the others suffice
        }
        for n in 0..body.len() {
            let cut = &body[..n];
            if let Ok(c) = introspect::check(cut, &expected, 0) {
                // Only a cut after the closing brace (trailing whitespace) can still be an answer.
                assert!(cut.trim_ascii_end().ends_with(b"}"), "{cut:?} gave {c:?}");
            }
        }
    }
}
