//! Verifier behaviour the shared vectors do not reach: keyless (webhook-style) schemes, token
//! schemes, incoherent schemes, and outputs left untouched on error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use apisig::{
    Credentials, Encoding, Error, Field, Header, HeaderSpec, Keyring, MAX_HEADERS, Part, ReplayCache, Request, Scheme,
    Signer, Slot, Stamp, Template, TimeUnit, Verifier, Window, dialect,
};

const WEBHOOK: Scheme<'static> = Scheme {
    name: "webhook",
    headers: &[
        HeaderSpec::new("X-Webhook-Timestamp", Field::Timestamp),
        HeaderSpec::new("X-Webhook-Signature", Field::Signature),
    ],
    template: Some(Template {
        parts: &[Part::Header("X-Webhook-Id"), Part::Timestamp, Part::Body],
        separator: b".",
        encoding: Encoding::UpperHex,
    }),
    time_unit: TimeUnit::Seconds,
};

const NOW: u64 = 1_700_000_000_000_000_000;

fn signed_webhook(secret: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let id = [Header::new("X-Webhook-Id", "msg_1")];
    let req = Request::new("POST", "/hooks").with_body(b"{\"a\":1}").with_headers(&id);
    let creds = Credentials { secret, ..Credentials::EMPTY };
    let set = Signer::new(&WEBHOOK, creds).unwrap().sign(&req, Stamp { now: NOW, nonce: None }).unwrap();
    let ts = set.get("X-Webhook-Timestamp").unwrap().value.as_str().as_bytes().to_vec();
    let sig = set.get("X-Webhook-Signature").unwrap().value.as_str().as_bytes().to_vec();
    (ts, sig)
}

#[test]
fn keyless_schemes_try_every_client_and_slot() {
    let mut ring = Keyring::<4>::new();
    ring.add("sender-a", b"secret-a").unwrap();
    let b = ring.add("sender-b", b"secret-b").unwrap();
    ring.set_secret(b, Slot::Secondary, Some(b"secret-b2")).unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<16>::new(), Window::DEFAULT);
    for (secret, id, slot) in
        [(&b"secret-a"[..], "sender-a", Slot::Primary), (b"secret-b2", "sender-b", Slot::Secondary)]
    {
        let (ts, sig) = signed_webhook(secret);
        let hs = [
            Header { name: "X-Webhook-Id", value: b"msg_1" },
            Header { name: "X-Webhook-Timestamp", value: &ts },
            Header { name: "X-Webhook-Signature", value: &sig },
        ];
        let req = Request::new("POST", "/hooks").with_body(b"{\"a\":1}").with_headers(&hs);
        let p = v.verify(&WEBHOOK, &req, NOW).unwrap();
        assert_eq!(v.keyring().get(p.client).unwrap().id(), id);
        assert_eq!(p.slot, slot);
        assert_eq!(v.verify(&WEBHOOK, &req, NOW), Err(Error::ReplayedRequest));
    }
    let (ts, sig) = signed_webhook(b"not-registered");
    let hs = [
        Header { name: "X-Webhook-Id", value: b"msg_1" },
        Header { name: "X-Webhook-Timestamp", value: &ts },
        Header { name: "X-Webhook-Signature", value: &sig },
    ];
    let req = Request::new("POST", "/hooks").with_body(b"{\"a\":1}").with_headers(&hs);
    assert_eq!(v.verify(&WEBHOOK, &req, NOW), Err(Error::SignatureMismatch));
}

#[test]
fn token_schemes_are_not_verified_by_the_core_yet() {
    let mut v = Verifier::new(Keyring::<1>::new(), ReplayCache::<1>::new(), Window::DEFAULT);
    let hs = [Header::new("Authorization", "Bearer abc")];
    let req = Request::new("GET", "/").with_headers(&hs);
    assert_eq!(v.verify(&dialect::SECUROSYS_JWT, &req, NOW), Err(Error::UnsupportedCredential));
    let plain = [Header::new("Authorization", "abc")];
    assert_eq!(
        v.verify(&dialect::SECUROSYS_JWT, &req.with_headers(&plain), NOW),
        Err(Error::MissingCredential),
        "the Bearer prefix is required"
    );
}

#[test]
fn incoherent_schemes_are_refused_on_both_sides() {
    let no_freshness = Scheme {
        name: "replayable",
        headers: &[HeaderSpec::new("K", Field::ApiKey), HeaderSpec::new("S", Field::Signature)],
        template: Some(Template { parts: &[Part::ApiKey, Part::Body], separator: b"", encoding: Encoding::LowerHex }),
        time_unit: TimeUnit::Seconds,
    };
    let unsent_part = Scheme {
        template: Some(Template { parts: &[Part::UserId, Part::Body], separator: b"", encoding: Encoding::LowerHex }),
        ..dialect::AEVO
    };
    let bad_name = Scheme { headers: &[HeaderSpec::new("X Key", Field::ApiKey)], ..dialect::SIGNIUS };
    let repeated = Scheme {
        headers: &[HeaderSpec::new("A", Field::ApiKey), HeaderSpec::new("B", Field::ApiKey)],
        ..dialect::SIGNIUS
    };
    let creds = Credentials { api_key: "k", secret: b"s", ..Credentials::EMPTY };
    let mut v = Verifier::new(Keyring::<1>::new(), ReplayCache::<1>::new(), Window::DEFAULT);
    for s in [no_freshness, unsent_part, bad_name, repeated] {
        assert_eq!(s.check(), Err(Error::InvalidTemplate), "{}", s.name);
        assert_eq!(Signer::new(&s, creds).err(), Some(Error::InvalidTemplate));
        assert_eq!(v.verify(&s, &Request::new("GET", "/"), NOW), Err(Error::InvalidTemplate));
    }
}

#[test]
fn outputs_are_untouched_on_error() {
    let creds = Credentials { api_key: "key", secret: b"s3cr3t-value", user_id: "12", ..Credentials::EMPTY };
    let signer = Signer::new(&dialect::APEX, creds).unwrap();
    let set = signer.sign(&Request::new("POST", "/AuthenticateUser"), Stamp { now: NOW, nonce: Some(7) }).unwrap();
    let mut small = [0xaau8; 40];
    assert_eq!(set.write_json(&mut small), Err(Error::BufferTooSmall));
    assert_eq!(small, [0xaa; 40]);
    let mut msg = [0xaau8; 4];
    assert_eq!(
        signer.message(&Request::new("POST", "/"), Stamp { now: NOW, nonce: Some(7) }, &mut msg),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(msg, [0xaa; 4]);
    let (mut store, mut slots) = ([0u8; 8], [Header::new("", ""); MAX_HEADERS]);
    assert_eq!(set.as_request_headers(&mut store, &mut slots).err(), Some(Error::BufferTooSmall));
    let line = set.get("Signature").unwrap();
    let mut short = [0u8; 10];
    assert_eq!(line.write_value(&mut short), Err(Error::BufferTooSmall));
    assert_eq!(short, [0; 10]);
    // Debug output never shows a secret value.
    let aevo =
        Signer::new(&dialect::AEVO_SECRET, creds).unwrap().sign(&Request::new("GET", "/"), Stamp::default()).unwrap();
    let shown = format!("{aevo:?} {signer:?} {creds:?}");
    assert!(!shown.contains("s3cr3t") && !shown.contains("115, 51"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}
