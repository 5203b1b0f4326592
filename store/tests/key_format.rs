//! Issued keys, checked against independent oracles: Python's `zlib.crc32` for the checksum
//! and Python's `re` for the documented scanner regex.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};

use apisig::Error;
use apisig_store::{KeyFormat, KeyKind, RANDOM_LEN};

/// The scanner regex of docs/stores.md and the crate docs, for every product.
const SCANNER: &str = r"\b[a-z][a-z0-9]{0,15}_(?:sk|hs)_[0-9A-Za-z]{49}\b";

/// Python checks each line: the generic scanner regex matches it whole, the product's regex
/// too, and its last six characters are the base62 CRC32 (zlib) of the rest. Prints one
/// verdict per line.
const ORACLE: &str = r#"
import re, sys, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(n):
    s = ""
    for _ in range(6):
        s = A[n % 62] + s
        n //= 62
    return s
generic, product = re.compile(sys.argv[1]), re.compile(sys.argv[2])
for line in sys.stdin.read().split():
    body, sum_ = line[:-6], line[-6:]
    ok = bool(generic.fullmatch(line)) and bool(product.fullmatch(line)) and b62(zlib.crc32(body.encode())) == sum_
    print("ok" if ok else "bad")
"#;

fn python_verdicts(format: &KeyFormat, keys: &[String]) -> Vec<String> {
    let mut child = Command::new("python3")
        .args(["-c", ORACLE, SCANNER, &format.regex()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(keys.join("\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn issued_keys_match_the_scanner_regex_and_python_checks_their_crc32() {
    let format = KeyFormat::new("acme").unwrap();
    let keys: Vec<String> = (0..200)
        .map(|i| format.generate(if i % 2 == 0 { KeyKind::Static } else { KeyKind::Hmac }).unwrap().as_str().to_owned())
        .collect();
    assert!(keys.iter().step_by(2).all(|k| k.starts_with("acme_sk_")));
    assert!(keys.iter().skip(1).step_by(2).all(|k| k.starts_with("acme_hs_")));
    assert!(keys.iter().all(|k| k.len() == "acme_sk_".len() + 49));
    assert_eq!(python_verdicts(&format, &keys), vec!["ok"; keys.len()]);
    for (i, k) in keys.iter().enumerate() {
        let kind = if i % 2 == 0 { KeyKind::Static } else { KeyKind::Hmac };
        assert_eq!(format.check(k), Ok(kind));
    }
    // Every key differs, and the random part uses the whole alphabet.
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len());
    let used: HashSet<u8> = keys.iter().flat_map(|k| k.as_bytes()[8..8 + RANDOM_LEN].to_vec()).collect();
    assert_eq!(used.len(), 62);
}

#[test]
fn typos_are_refused_by_the_checksum_and_python_agrees() {
    let format = KeyFormat::new("acme").unwrap();
    let key = format.generate(KeyKind::Static).unwrap().as_str().to_owned();
    let mut typos = Vec::new();
    // Every single-character substitution in the random part and the checksum.
    for at in 8..key.len() {
        let mut bytes = key.clone().into_bytes();
        bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
        typos.push(String::from_utf8(bytes).unwrap());
    }
    // Two adjacent characters swapped (where they differ).
    for at in 8..key.len() - 1 {
        let mut bytes = key.clone().into_bytes();
        if bytes[at] != bytes[at + 1] {
            bytes.swap(at, at + 1);
            typos.push(String::from_utf8(bytes).unwrap());
        }
    }
    for t in &typos {
        assert_eq!(format.check(t), Err(Error::InvalidKeyFormat), "{t}");
    }
    assert!(python_verdicts(&format, &typos).iter().all(|v| v == "bad"));
}

#[test]
fn malformed_keys_get_the_format_error() {
    let format = KeyFormat::new("acme").unwrap();
    let key = format.generate(KeyKind::Hmac).unwrap().as_str().to_owned();
    let other = KeyFormat::new("other").unwrap();
    for bad in [
        String::new(),
        "acme_hs_".to_owned(),
        key[..key.len() - 1].to_owned(),
        format!("{key}0"),
        key.replacen("acme_hs_", "acme_xx_", 1),
        key.replacen("acme_", "ACME_", 1),
        format!("{}-{}", &key[..20], &key[21..]),
        format!("{}é{}", &key[..20], &key[22..]),
    ] {
        assert_eq!(format.check(&bad), Err(Error::InvalidKeyFormat), "{bad:?}");
    }
    assert_eq!(other.check(&key), Err(Error::InvalidKeyFormat));
    assert!(format.claims(key.as_bytes()) && !other.claims(key.as_bytes()));
    assert_eq!(Error::InvalidKeyFormat.code(), 126);
    assert_eq!(Error::InvalidKeyFormat.http_status(), 401);
}

/// The example of the crate docs and docs/stores.md is a real key (its checksum by Python's
/// zlib), and the docs show the scanner regex this test checks keys with.
#[test]
fn the_documented_example_and_regex_are_real() {
    const EXAMPLE: &str = "acme_sk_1N3bq0pX5yKf9VwZ2sLd7RcT4hJm8gEa6uYo0iBn3Qv14EpQf";
    let format = KeyFormat::new("acme").unwrap();
    assert_eq!(format.check(EXAMPLE), Ok(KeyKind::Static));
    assert_eq!(python_verdicts(&format, &[EXAMPLE.to_owned()]), ["ok"]);
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/stores.md")).unwrap();
    assert!(docs.contains(EXAMPLE) && docs.contains(SCANNER));
    assert!(include_str!("../src/key.rs").contains(EXAMPLE) && include_str!("../src/key.rs").contains(SCANNER));
}

#[test]
fn product_names_are_short_lowercase_words() {
    for ok in ["a", "acme", "acme2", "abcdefghijklmnop"] {
        assert_eq!(KeyFormat::new(ok).unwrap().prefix(KeyKind::Static), format!("{ok}_sk_"));
    }
    for bad in ["", "2acme", "Acme", "ac_me", "ac-me", "abcdefghijklmnopq", "acmé"] {
        assert!(KeyFormat::new(bad).is_err(), "{bad:?}");
    }
    // Debug never shows a key.
    let key = KeyFormat::new("acme").unwrap().generate(KeyKind::Static).unwrap();
    assert_eq!(format!("{key:?}"), "IssuedKey(..)");
}
