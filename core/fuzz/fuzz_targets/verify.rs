//! `Verifier::verify` over arbitrary headers, methods, paths, bodies and times, for every
//! preset and for arbitrary described schemes. Half the inputs start from a correctly signed
//! request (so the fuzzer reaches past the signature) and then let the fuzzer edit it.
//! Invariants: no panic; a signed request accepted once is refused as a replay.
#![no_main]

use apisig::rotation::RetryOn;
use apisig::dialect::{self, KEY_OPERATION};
use apisig::jwt::{self, JwtPolicy};
use apisig::message::{Part, Template};
use apisig::scheme::{Field, HeaderSpec, Kind, Scheme};
use apisig::session::{Session, SessionKeys};
use apisig::{Credentials, Encoding, Error, MacKey, Request, Signer, Stamp, TimeUnit, Verifier, Window, headers::{Header, MAX_HEADERS}, client::Slot, keyring::Keyring, replay::ReplayCache};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const JWT_KEY: &[u8] = b"apisig-jwt-test-key/0123456789abcdef";
const SESSION_KEY: &[u8] = b"apisig-session-primary-2024-Qm8vT3xK";

#[derive(Arbitrary, Debug)]
enum F {
    ApiKey,
    Secret,
    Jwt,
    SessionToken,
    Timestamp,
    Nonce,
    UserId,
    Signature,
}

#[derive(Arbitrary, Debug)]
enum P<'a> {
    ApiKey,
    Timestamp,
    Nonce,
    UserId,
    Method,
    Path,
    Body,
    Literal(&'a [u8]),
    Header(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Custom<'a> {
    headers: Vec<(&'a str, &'a str, F)>,
    parts: Option<Vec<P<'a>>>,
    separator: &'a [u8],
    encoding: u8,
    unit: u8,
}

#[derive(Arbitrary, Debug)]
enum Edit<'a> {
    Set(u8, &'a [u8]),
    Add(&'a str, &'a [u8]),
    Remove(u8),
    Rename(u8, &'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    preset: u8,
    custom: Option<Custom<'a>>,
    signed: bool,
    client: u8,
    method: &'a str,
    path: &'a str,
    body: &'a [u8],
    now: u64,
    sign_now: u64,
    nonce: Option<u64>,
    window_s: u16,
    edits: Vec<Edit<'a>>,
}

fn field(f: &F) -> Field {
    match f {
        F::ApiKey => Field::ApiKey,
        F::Secret => Field::Secret,
        F::Jwt => Field::Jwt,
        F::SessionToken => Field::SessionToken,
        F::Timestamp => Field::Timestamp,
        F::Nonce => Field::Nonce,
        F::UserId => Field::UserId,
        F::Signature => Field::Signature,
    }
}

/// (key id or label, secret, user id)
const CLIENTS: [(&str, &str, Option<&str>); 5] = [
    ("API_KEY", "API_SECRET", None),
    ("f3a9c2e5", "apex-secret-0123", Some("12")),
    ("client-7", "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZ", None),
    ("d6b1bf0e", "zs-primary-key", Some("12345")),
    ("webhook", "whsec_0123456789", None),
];

fuzz_target!(|x: Input<'_>| {
    let mut ring = Keyring::<8>::new();
    for (id, secret, user) in CLIENTS {
        ring.add(id, secret.as_bytes()).unwrap();
        if let Some(u) = user {
            ring.bind_user_id(id, u).unwrap();
        }
    }
    ring.set_secret(CLIENTS[0].0, Slot::Secondary, Some(b"API_SECRET_NEXT")).unwrap();
    ring.set_role(CLIENTS[2].0, Some(KEY_OPERATION)).unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<16>::new(), Window::from_secs(u64::from(x.window_s)));
    v.set_jwt(Some(JwtPolicy::new(JWT_KEY).unwrap()));
    v.set_session_keys(Some(SessionKeys::new(SESSION_KEY).unwrap()));

    // The scheme: a preset, or one described by the fuzzer.
    let (specs, parts);
    let scheme = match &x.custom {
        None => *dialect::ALL[usize::from(x.preset) % dialect::ALL.len()],
        Some(c) => {
            specs = c
                .headers
                .iter()
                .take(MAX_HEADERS + 1)
                .map(|(name, prefix, f)| HeaderSpec { name, prefix, field: field(f) })
                .collect::<Vec<_>>();
            parts = c.parts.as_ref().map(|ps| {
                ps.iter()
                    .take(17)
                    .map(|p| match *p {
                        P::ApiKey => Part::ApiKey,
                        P::Timestamp => Part::Timestamp,
                        P::Nonce => Part::Nonce,
                        P::UserId => Part::UserId,
                        P::Method => Part::Method,
                        P::Path => Part::Path,
                        P::Body => Part::Body,
                        P::Literal(l) => Part::Literal(l),
                        P::Header(h) => Part::Header(h),
                    })
                    .collect::<Vec<_>>()
            });
            let encoding = [Encoding::LowerHex, Encoding::UpperHex, Encoding::Hex, Encoding::Base64]
                [usize::from(c.encoding) % 4];
            let unit = [TimeUnit::Seconds, TimeUnit::Millis, TimeUnit::Nanos][usize::from(c.unit) % 3];
            Scheme {
                name: "custom",
                headers: &specs,
                template: parts.as_ref().map(|p| Template { parts: p, separator: c.separator, encoding }),
                time_unit: unit,
                retry_on: RetryOn::Unauthorized,
            }
        }
    };

    // Start from a correctly signed request when asked.
    let (id, secret, user) = CLIENTS[usize::from(x.client) % CLIENTS.len()];
    let mut token_buf = [0u8; 512];
    let token: &str = match scheme.kind() {
        Kind::Token if scheme.has(Field::Jwt) => {
            let claims = format!(r#"{{"sub":"{id}","exp":{}}}"#, x.sign_now / 1_000_000_000 + 60);
            let key = MacKey::new(JWT_KEY).unwrap();
            jwt::encode(&key, jwt::DEFAULT_HEADER, claims.as_bytes(), &mut token_buf)
                .ok()
                .and_then(|t| std::str::from_utf8(t).ok())
                .unwrap_or("")
        }
        Kind::Token => {
            let s = Session { user_id: user.unwrap_or("u"), key_id: id, expires: x.sign_now / 1_000_000_000 + 60 };
            SessionKeys::new(SESSION_KEY)
                .unwrap()
                .issue(&s, &mut token_buf)
                .ok()
                .and_then(|t| std::str::from_utf8(t).ok())
                .unwrap_or("")
        }
        _ => "",
    };
    let creds = Credentials { api_key: id, secret: secret.as_bytes(), user_id: user.unwrap_or("7"), token };
    let req = Request::new(x.method, x.path).with_body(x.body);
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    if x.signed {
        if let Ok(signer) = Signer::new(&scheme, creds) {
            if let Ok(set) = signer.sign(&req, Stamp { now: x.sign_now, nonce: x.nonce }) {
                let mut store = [0u8; 4096];
                let mut slots = [Header::new("", ""); MAX_HEADERS];
                if let Ok(hs) = set.as_request_headers(&mut store, &mut slots) {
                    headers = hs.iter().map(|h| (h.name.to_owned(), h.value.to_vec())).collect();
                }
            }
        }
    }
    for e in x.edits.iter().take(8) {
        match *e {
            Edit::Set(i, value) => {
                if let Some(h) = headers.get_mut(usize::from(i) % MAX_HEADERS) {
                    h.1 = value.to_vec();
                }
            }
            Edit::Add(name, value) => headers.push((name.to_owned(), value.to_vec())),
            Edit::Remove(i) => {
                if !headers.is_empty() {
                    let i = usize::from(i) % headers.len();
                    headers.remove(i);
                }
            }
            Edit::Rename(i, name) => {
                if let Some(h) = headers.get_mut(usize::from(i) % MAX_HEADERS) {
                    h.0 = name.to_owned();
                }
            }
        }
    }
    let hs: Vec<Header<'_>> = headers.iter().map(|(n, v)| Header { name: n, value: v }).collect();
    let req = req.with_headers(&hs);
    let first = v.verify(&scheme, &req, x.now);
    let second = v.verify(&scheme, &req, x.now);
    if first.is_ok() && scheme.kind() == Kind::Signed {
        assert_eq!(second, Err(Error::ReplayedRequest), "{} accepted twice", scheme.name);
    }
    if let Ok(p) = first {
        assert!(v.store().get(&p.id).is_some());
        if scheme.kind() != Kind::Token {
            assert!(v.store().get(&p.id).unwrap().has(p.slot));
        }
    }
});
