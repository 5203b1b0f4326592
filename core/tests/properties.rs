//! Property tests: round trips for every signing dialect, tampering refused, no panic on any
//! input, the replay cache against a model, the pattern matcher against a reference.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use std::collections::HashMap;

use apisig::dialect::{self, SECUROSYS_ROLES};
use apisig::policy::{check_canonical, pattern_matches};
use apisig::replay::{REPLAY_ID_LEN, ReplayStore};
use apisig::rotation::RetryOn;
use apisig::{
    Credentials, Encoding, Error, Request, Signer, Stamp, TimeUnit, Verifier, Window,
    headers::{Header, MAX_HEADERS},
    keyring::Keyring,
    message::{Part, Template},
    replay::ReplayCache,
    scheme::{Field, HeaderSpec, Scheme},
};
use proptest::prelude::*;

const COINBASE: Scheme<'static> = Scheme {
    name: "coinbase-style",
    headers: &[
        HeaderSpec::new("CB-ACCESS-KEY", Field::ApiKey),
        HeaderSpec::new("CB-ACCESS-SIGN", Field::Signature),
        HeaderSpec::new("CB-ACCESS-TIMESTAMP", Field::Timestamp),
    ],
    template: Some(Template {
        parts: &[Part::Timestamp, Part::Method, Part::Path, Part::Body],
        separator: b"",
        encoding: Encoding::Base64,
    }),
    time_unit: TimeUnit::Seconds,
    retry_on: RetryOn::Unauthorized,
};

const SIGNED: [&Scheme<'static>; 3] = [&dialect::AEVO, &dialect::APEX, &COINBASE];

fn key_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{1,64}"
}
fn path() -> impl Strategy<Value = String> {
    "/[a-z0-9/?=&_-]{0,40}"
}
fn method() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "get", "post"]).prop_map(str::to_owned)
}

struct Signed {
    names: Vec<String>,
    values: Vec<Vec<u8>>,
}

impl Signed {
    fn headers(&self) -> Vec<Header<'_>> {
        self.names.iter().zip(&self.values).map(|(n, v)| Header { name: n, value: v }).collect()
    }
}

fn sign(scheme: &Scheme<'static>, creds: Credentials<'_>, req: &Request<'_>, stamp: Stamp) -> Signed {
    let set = Signer::new(scheme, creds).unwrap().sign(req, stamp).unwrap();
    let (mut store, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let hs = set.as_request_headers(&mut store, &mut slots).unwrap();
    Signed {
        names: set.iter().map(|h| h.name.to_owned()).collect(),
        values: hs.iter().map(|h| h.value.to_vec()).collect(),
    }
}

fn verifier(id: &str, secret: &[u8]) -> Verifier<Keyring<4>, ReplayCache<64>> {
    let mut ring = Keyring::new();
    ring.add(id, secret).unwrap();
    ring.bind_user_id(id, "4242").unwrap();
    Verifier::new(ring, ReplayCache::new(), Window::DEFAULT)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// sign → verify accepts, once; changing any single byte of the body, path or any
    /// signed header is refused.
    #[test]
    fn round_trip_and_single_byte_changes(
        which in 0..SIGNED.len(), key in key_id(), secret in prop::collection::vec(any::<u8>(), 1..80),
        method in method(), path in path(), body in prop::collection::vec(any::<u8>(), 0..200),
        now in 1_000_000_000_000_000_000u64..2_000_000_000_000_000_000, nonce in 1u64..u64::MAX,
        flip_at in any::<prop::sample::Index>(), flip_bit in 0u8..8, target in 0usize..4,
    ) {
        let scheme = SIGNED[which];
        let path = if scheme.name == "aevo" { path.replace(',', "") } else { path };
        let creds = Credentials { api_key: &key, secret: &secret, user_id: "4242", ..Credentials::EMPTY };
        let req = Request::new(&method, &path).with_body(&body);
        let signed = sign(scheme, creds, &req, Stamp { now, nonce: Some(nonce) });
        let hs = signed.headers();
        // The verifier takes the method as received: send what the signer signed.
        let upper = method.to_ascii_uppercase();
        let rx = Request { method: &upper, headers: &hs, ..req };
        let mut v = verifier(&key, &secret);
        prop_assert!(v.verify(scheme, &rx, now).is_ok());
        prop_assert_eq!(v.verify(scheme, &rx, now), Err(Error::ReplayedRequest));

        let mut fresh = verifier(&key, &secret);
        let bit = 1u8 << flip_bit;
        let result = match target {
            0 if !body.is_empty() => {
                let mut b = body.clone();
                let i = flip_at.index(b.len());
                b[i] ^= bit;
                fresh.verify(scheme, &Request { body: &b, ..rx }, now)
            }
            1 => {
                let mut p = path.clone().into_bytes();
                let i = 1 + flip_at.index(p.len().max(2) - 1).min(p.len() - 1);
                if i >= p.len() { p.push(b'x') } else { p[i] = if p[i] == b'a' { b'b' } else { b'a' } }
                let p = String::from_utf8(p).unwrap();
                fresh.verify(scheme, &Request { path: &p, ..rx }, now)
            }
            _ => {
                let mut values = signed.values.clone();
                let h = flip_at.index(values.len());
                let i = flip_at.index(values[h].len());
                let before = values[h][i];
                values[h][i] ^= bit;
                // APEX accepts hex in either case: a case swap of a signature digit is no change.
                if scheme.template.unwrap().encoding == Encoding::Hex && before.is_ascii_alphabetic()
                    && values[h][i].eq_ignore_ascii_case(&before) && signed.names[h] == "Signature" {
                    return Ok(());
                }
                let hs: Vec<Header<'_>> = signed.names.iter().zip(&values).map(|(n, v)| Header { name: n, value: v }).collect();
                fresh.verify(scheme, &Request { headers: &hs, ..rx }, now)
            }
        };
        let t = scheme.template.unwrap();
        let unsigned = (target == 0 && !body.is_empty() && !t.uses(Part::Body)) || (target == 1 && !t.uses(Part::Path));
        if unsigned {
            prop_assert!(result.is_ok(), "{:?}", result);
        } else {
            prop_assert!(result.is_err(), "a changed request was accepted");
        }
    }

    /// The signature is HMAC-SHA256 (RustCrypto's `hmac`, the oracle) of the message the
    /// signer reports, for templates that start with any run of fixed parts (which the signer
    /// hashes once, at construction, and resumes from on each request) of any length around
    /// the block boundaries.
    #[test]
    fn signature_is_the_hmac_of_the_message(
        fixed in prop::collection::vec(0u8..3, 0..4), key in "[A-Za-z0-9]{1,150}",
        user in "[0-9]{1,70}", literal in "[a-z]{0,70}", sep in prop::sample::select(vec!["", ",", "\n"]),
        secret in prop::collection::vec(any::<u8>(), 1..100), body in prop::collection::vec(any::<u8>(), 0..300),
        now in any::<u64>(),
    ) {
        let literal = literal.into_bytes();
        let mut parts: Vec<Part<'_>> = fixed
            .iter()
            .map(|f| match f { 0 => Part::ApiKey, 1 => Part::UserId, _ => Part::Literal(&literal) })
            .collect();
        parts.extend([Part::Timestamp, Part::Method, Part::Body]);
        let headers = [
            HeaderSpec::new("K", Field::ApiKey),
            HeaderSpec::new("U", Field::UserId),
            HeaderSpec::new("T", Field::Timestamp),
            HeaderSpec::new("S", Field::Signature),
        ];
        let template = Template { parts: &parts, separator: sep.as_bytes(), encoding: Encoding::LowerHex };
        let scheme = Scheme { name: "t", headers: &headers, template: Some(template), time_unit: TimeUnit::Nanos, retry_on: RetryOn::Unauthorized };
        let creds = Credentials { api_key: &key, secret: &secret, user_id: &user, ..Credentials::EMPTY };
        let signer = Signer::new(&scheme, creds).unwrap();
        let req = Request::new("POST", "/x").with_body(&body);
        let stamp = Stamp { now, nonce: None };
        let set = signer.sign(&req, stamp).unwrap();
        let mut msg = vec![0u8; signer.message_len(&req, stamp).unwrap()];
        let msg = signer.message(&req, stamp, &mut msg).unwrap();
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(&secret).unwrap();
        hmac::Mac::update(&mut mac, msg);
        let want: String = hmac::Mac::finalize(mac).into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        prop_assert_eq!(set.get("S").unwrap().value, want.as_str());
    }

    /// Any headers, method, path and body: verification returns, never panics.
    #[test]
    fn verify_never_panics(
        which in 0..dialect::ALL.len(), names in prop::collection::vec(0usize..8, 0..8),
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 8),
        method in prop::collection::vec(any::<u8>(), 0..10), path in prop::collection::vec(any::<u8>(), 0..60),
        body in prop::collection::vec(any::<u8>(), 0..60), now in any::<u64>(),
    ) {
        let scheme = dialect::ALL[which];
        let pool = ["AEVO-KEY", "AEVO-SIGNATURE", "AEVO-TIMESTAMP", "APIKey", "Signature", "Nonce", "UserId", "X-Api-Key"];
        let hs: Vec<Header<'_>> = names.iter().zip(&values).map(|(&n, v)| Header { name: pool[n], value: v }).collect();
        let method = String::from_utf8_lossy(&method);
        let path = String::from_utf8_lossy(&path);
        let mut v = verifier("API_KEY", b"secret");
        let _ = v.verify(scheme, &Request { method: &method, path: &path, body: &body, headers: &hs, peer: None }, now);
        let _ = SECUROSYS_ROLES.authorize(apisig::policy::RoleId((now % 7) as u8), path.as_bytes());
    }

    #[test]
    fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = check_canonical(&bytes);
        for e in [Encoding::LowerHex, Encoding::UpperHex, Encoding::Hex, Encoding::Base64] {
            let _ = e.decode(&bytes);
        }
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = pattern_matches(s, b"/v1/key/abc");
        }
    }

    /// The matcher agrees with a plain backtracking reference on small inputs.
    #[test]
    fn matcher_agrees_with_reference(pattern in "/[ab/*]{0,8}", path in "/[ab/]{0,10}") {
        if let Ok(got) = pattern_matches(&pattern, path.as_bytes()) {
            prop_assert_eq!(got, reference(pattern.as_bytes(), path.as_bytes()), "{} vs {}", pattern, path);
        }
    }

    /// The replay cache against a model (a map of live ids): a live duplicate is never
    /// accepted, a live record is never evicted, and a refusal for lack of room only happens
    /// when the record was not a duplicate.
    #[test]
    fn replay_cache_matches_model(ops in prop::collection::vec((0u8..12, 0u64..4, 1u64..6), 1..200)) {
        let mut cache = ReplayCache::<8>::new();
        let mut model: HashMap<u8, u64> = HashMap::new();
        let mut now = 0u64;
        for (n, advance, ttl) in ops {
            now += advance;
            let id = [n; REPLAY_ID_LEN];
            let live = model.get(&n).is_some_and(|&exp| exp >= now);
            match cache.check_and_insert("k", &id, now + ttl, now) {
                Ok(()) => { prop_assert!(!live, "accepted a live duplicate"); model.insert(n, now + ttl); }
                Err(Error::ReplayedRequest) => prop_assert!(live, "refused a fresh id as a replay"),
                Err(Error::ReplayCacheFull) => {
                    prop_assert!(!live);
                    prop_assert_eq!(model.values().filter(|&&e| e >= now).count(), 8, "full while a slot was free");
                }
                Err(e) => prop_assert!(false, "unexpected {:?}", e),
            }
        }
    }
}

/// Reference glob: `**` any bytes, `*` any non-`/` bytes, by plain recursion.
fn reference(p: &[u8], s: &[u8]) -> bool {
    match p {
        [] => s.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| reference(rest, &s[i..])),
        [b'*', rest @ ..] => {
            (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != b'/').any(|i| reference(rest, &s[i..]))
        }
        [c, rest @ ..] => s.first() == Some(c) && reference(rest, &s[1..]),
    }
}
