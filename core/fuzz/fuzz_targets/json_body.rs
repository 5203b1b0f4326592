//! `Verifier::verify_json_body` (APEX `AuthenticateUser` with its credentials in the JSON
//! body) over arbitrary bodies and headers. Half the inputs are a correctly signed body with
//! fuzzed nonce text, member order, and an arbitrary extra member value spliced in (so the
//! fuzzer reaches past the signature); the rest are raw bytes.
//! Invariants: no panic; a body the core accepts is one JSON object to serde_json (checked
//! when it holds no escape, whose handling differs: serde_json refuses lone surrogates; its
//! members are kept as raw text, since serde_json refuses numbers beyond f64 that RFC 8259
//! allows), its nonce is the canonical text of a u64, and it is refused as a replay the
//! second time.
#![no_main]

use apisig::dialect::{APEX, APEX_TEMPLATE};
use apisig::message::MessageInput;
use apisig::{Encoding, Error, MacKey, PreparedScheme, Request, Verifier, Window, headers::Header, keyring::Keyring, replay::ReplayCache};
use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

#[derive(Arbitrary, Debug)]
struct Signed<'a> {
    nonce: &'a str,
    nonce_as_number: bool,
    user_as_number: bool,
    rotate: u8,
    extra: &'a str,
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    signed: Option<Signed<'a>>,
    raw: &'a [u8],
    headers: Vec<(&'a str, &'a str)>,
}

fn signature(nonce: &str) -> Option<String> {
    let input = MessageInput { nonce: nonce.as_bytes(), user_id: b"12", api_key: b"apex", ..MessageInput::EMPTY };
    let mut buf = vec![0u8; APEX_TEMPLATE.message_len(&input).ok()?];
    let msg = APEX_TEMPLATE.render(&input, &mut buf).ok()?;
    Some(Encoding::LowerHex.encode(&MacKey::new(b"apex-secret").ok()?.sign(msg)).as_str().to_owned())
}

fn canonical(text: &str) -> bool {
    text.parse::<u64>().is_ok_and(|v| v.to_string() == text)
}

fuzz_target!(|x: Input<'_>| {
    let mut ring = Keyring::<2>::new();
    ring.add("apex", b"apex-secret").unwrap();
    ring.bind_user_id("apex", "12").unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<4>::new(), Window::DEFAULT);
    let apex = PreparedScheme::new(&APEX).unwrap();

    let body: Vec<u8> = match &x.signed {
        Some(s) => {
            let sig = signature(s.nonce).unwrap_or_default();
            let nonce = if s.nonce_as_number { s.nonce.to_owned() } else { format!("\"{}\"", s.nonce) };
            let user = if s.user_as_number { "12" } else { "\"12\"" };
            let mut members = vec![
                "\"APIKey\":\"apex\"".to_owned(),
                format!("\"Signature\":\"{sig}\""),
                format!("\"UserId\":{user}"),
                format!("\"Nonce\":{nonce}"),
                format!("\"UserName\":{}", s.extra),
            ];
            let n = members.len();
            members.rotate_left(usize::from(s.rotate) % n);
            format!("{{{}}}", members.join(",")).into_bytes()
        }
        None => x.raw.to_vec(),
    };
    let headers: Vec<Header<'_>> = x.headers.iter().take(8).map(|(n, v)| Header::new(n, v)).collect();
    let from_body = APEX.headers.iter().any(|s| !headers.iter().any(|h| h.name.eq_ignore_ascii_case(s.name)));
    let req = Request::new("POST", "/AuthenticateUser").with_body(&body).with_headers(&headers);
    let first = v.verify_json_body(&apex, &req, 1_700_000_000_000_000_000);
    if first.is_ok() {
        let again = v.verify_json_body(&apex, &req, 1_700_000_000_000_000_000);
        assert_eq!(again, Err(Error::ReplayedRequest));
        if from_body && !body.contains(&b'\\') {
            let doc: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(&body).expect("accepted body is an object");
            let nonce = doc["Nonce"].get();
            let nonce = nonce.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(nonce);
            assert!(canonical(nonce), "{nonce:?}");
        }
    }
});
