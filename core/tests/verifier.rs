//! Verifier behaviour the shared vectors do not reach: keyless (webhook-style) schemes, token
//! schemes, incoherent schemes, and outputs left untouched on error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use apisig::jwt::{self, JwtPolicy};
use apisig::replay::ReplayStore;
use apisig::rotation::RetryOn;
use apisig::session::{Session, SessionKeys};
use apisig::{
    Credentials, Encoding, Error, MacKey, Request, Signer, Stamp, TimeUnit, Verifier, Window,
    client::Slot,
    dialect,
    headers::{Header, MAX_HEADERS},
    keyring::Keyring,
    message::{Part, Template},
    replay::ReplayCache,
    scheme::{Field, HeaderSpec, Scheme},
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
    retry_on: RetryOn::Unauthorized,
};

const NOW: u64 = 1_700_000_000_000_000_000;

fn signed_webhook(secret: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let id = [Header::new("X-Webhook-Id", "msg_1")];
    let req = Request::new("POST", "/hooks").with_body(b"{\"a\":1}").with_headers(&id);
    let creds = Credentials { secret, ..Credentials::EMPTY };
    let set = Signer::new(&WEBHOOK, creds).unwrap().sign(&req, Stamp { now: NOW, nonce: None }).unwrap();
    let ts = set.get("X-Webhook-Timestamp").unwrap().value.as_bytes().to_vec();
    let sig = set.get("X-Webhook-Signature").unwrap().value.as_bytes().to_vec();
    (ts, sig)
}

#[test]
fn keyless_schemes_try_every_client_and_slot() {
    let mut ring = Keyring::<4>::new();
    ring.add("sender-a", b"secret-a").unwrap();
    let b = "sender-b";
    ring.add(b, b"secret-b").unwrap();
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
        assert_eq!(v.store().get(p.id.as_str()).unwrap().id(), id);
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
fn token_schemes_need_configuration() {
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
    let aptoken = [Header::new("aptoken", "abc.def")];
    assert_eq!(v.verify(&dialect::APEX_SESSION, &req.with_headers(&aptoken), NOW), Err(Error::UnsupportedCredential));
}

fn jwt_for(secret: &[u8], claims: &str) -> String {
    let mut out = [0u8; 512];
    let t = jwt::encode(&MacKey::new(secret).unwrap(), jwt::DEFAULT_HEADER, claims.as_bytes(), &mut out).unwrap();
    String::from_utf8(t.to_vec()).unwrap()
}

#[test]
fn bearer_jwts_map_to_clients() {
    const SECRET: &[u8] = b"jwt-signing-secret-0123456789abcdef";
    let mut ring = Keyring::<4>::new();
    let ops = "ops-client";
    ring.add(ops, b"op-key").unwrap();
    ring.set_role(ops, Some(dialect::KEY_OPERATION)).unwrap();
    ring.add("zs-sub", b"zs-product-key").unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<4>::new(), Window::DEFAULT);
    let mut policy = JwtPolicy::new(SECRET).unwrap();
    policy.issuer = Some("https://idp.example".try_into().unwrap());
    v.set_jwt(Some(policy));
    let now_s = NOW / 1_000_000_000;
    let exp = now_s + 600;
    let bearer = |token: &str| format!("Bearer {token}");
    let check = |v: &mut Verifier<Keyring<4>, ReplayCache<4>>, scheme, hs: &[Header<'_>]| {
        v.verify(scheme, &Request::new("POST", "/v1/sign").with_headers(hs), NOW)
    };

    let good = bearer(&jwt_for(SECRET, &format!(r#"{{"iss":"https://idp.example","sub":"ops-client","exp":{exp}}}"#)));
    let p = check(&mut v, &dialect::SECUROSYS_JWT, &[Header::new("Authorization", &good)]).unwrap();
    assert_eq!((p.id.as_str(), p.role), (ops, Some(dialect::KEY_OPERATION)));

    let cases = [
        (format!(r#"{{"iss":"https://idp.example","sub":"nobody","exp":{exp}}}"#), Error::UnknownKey),
        (format!(r#"{{"iss":"https://idp.example","exp":{exp}}}"#), Error::MissingClaim),
        (format!(r#"{{"iss":"https://other.example","sub":"ops-client","exp":{exp}}}"#), Error::ClaimMismatch),
        (format!(r#"{{"iss":"https://idp.example","sub":"ops-client","exp":{now_s}}}"#), Error::TokenExpired),
        (r#"{"iss":"https://idp.example","sub":"ops-client"}"#.to_owned(), Error::MissingClaim),
    ];
    for (claims, want) in cases {
        let value = bearer(&jwt_for(SECRET, &claims));
        let hs = [Header::new("Authorization", &value)];
        assert_eq!(check(&mut v, &dialect::SECUROSYS_JWT, &hs), Err(want), "{claims}");
    }
    let forged = bearer(&jwt_for(
        b"another-secret",
        &format!(r#"{{"iss":"https://idp.example","sub":"ops-client","exp":{exp}}}"#),
    ));
    assert_eq!(
        check(&mut v, &dialect::SECUROSYS_JWT, &[Header::new("Authorization", &forged)]),
        Err(Error::SignatureMismatch)
    );

    // ZignSec OAuth2: the token must be valid, and the product key names the client.
    let token = bearer(&jwt_for(SECRET, &format!(r#"{{"iss":"https://idp.example","exp":{exp}}}"#)));
    let hs = [Header::new("Authorization", &token), Header::new("Zs-Product-Key", "zs-product-key")];
    let p = check(&mut v, &dialect::ZIGNSEC_OAUTH, &hs).unwrap();
    assert_eq!(v.store().get(p.id.as_str()).unwrap().id(), "zs-sub");
    let hs = [Header::new("Authorization", &token), Header::new("Zs-Product-Key", "wrong")];
    assert_eq!(check(&mut v, &dialect::ZIGNSEC_OAUTH, &hs), Err(Error::UnknownKey));
    let hs = [Header::new("Authorization", &forged), Header::new("Zs-Product-Key", "zs-product-key")];
    assert_eq!(check(&mut v, &dialect::ZIGNSEC_OAUTH, &hs), Err(Error::SignatureMismatch));
}

#[test]
fn apex_session_tokens_follow_authenticate_user() {
    let mut ring = Keyring::<4>::new();
    let c = "f3a9c2e5";
    ring.add(c, b"apex-secret").unwrap();
    ring.bind_user_id(c, "12").unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<4>::new(), Window::DEFAULT);
    v.set_session_keys(Some(SessionKeys::new(b"session-secret-1").unwrap()));

    // AuthenticateUser with a signature, then a session token for later requests.
    let creds = Credentials { api_key: "f3a9c2e5", secret: b"apex-secret", user_id: "12", ..Credentials::EMPTY };
    let signed = Signer::new(&dialect::APEX, creds)
        .unwrap()
        .sign(&Request::new("POST", "/AuthenticateUser"), Stamp { now: NOW, nonce: Some(1) })
        .unwrap();
    let (mut store, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let hs = signed.as_request_headers(&mut store, &mut slots).unwrap();
    let p = v.verify(&dialect::APEX, &Request::new("POST", "/AuthenticateUser").with_headers(hs), NOW).unwrap();
    let client = v.store().get(p.id.as_str()).unwrap();
    let (user_id, key_id) = (client.user_id().unwrap().to_owned(), client.id().to_owned());
    let session = Session { user_id: &user_id, key_id: &key_id, expires: NOW / 1_000_000_000 + 3600 };
    let mut buf = [0u8; apisig::session::TOKEN_MAX];
    let token = v.session_keys().unwrap().issue(&session, &mut buf).unwrap().to_vec();
    let token = String::from_utf8(token).unwrap();

    let later = |v: &mut Verifier<Keyring<4>, ReplayCache<4>>, token: &str, now| {
        let hs = [Header::new("aptoken", token)];
        v.verify(&dialect::APEX_SESSION, &Request::new("POST", "/GetAccountPositions").with_headers(&hs), now)
    };
    assert_eq!(later(&mut v, &token, NOW).map(|p| p.id.to_string()), Ok(c.to_string()));
    assert_eq!(later(&mut v, &token, NOW + 3600 * 1_000_000_000), Err(Error::TokenExpired));
    let mut tampered = token.clone().into_bytes();
    tampered[3] ^= 1;
    assert!(later(&mut v, std::str::from_utf8(&tampered).unwrap(), NOW).is_err());
    // Rotation keeps old tokens valid while the old secret is secondary; dropping it revokes them.
    v.set_session_keys(Some(
        SessionKeys::new(b"session-secret-2").unwrap().with_secondary(b"session-secret-1").unwrap(),
    ));
    assert_eq!(later(&mut v, &token, NOW).map(|p| p.slot), Ok(Slot::Secondary));
    v.set_session_keys(Some(SessionKeys::new(b"session-secret-2").unwrap()));
    assert_eq!(later(&mut v, &token, NOW), Err(Error::SignatureMismatch));
    // A token for another user id than the one bound to the key is refused.
    v.set_session_keys(Some(SessionKeys::new(b"session-secret-1").unwrap()));
    let other = Session { user_id: "13", ..session };
    let token = String::from_utf8(v.session_keys().unwrap().issue(&other, &mut buf).unwrap().to_vec()).unwrap();
    assert_eq!(later(&mut v, &token, NOW), Err(Error::UserIdMismatch));
}

#[test]
fn incoherent_schemes_are_refused_on_both_sides() {
    let no_freshness = Scheme {
        name: "replayable",
        headers: &[HeaderSpec::new("K", Field::ApiKey), HeaderSpec::new("S", Field::Signature)],
        template: Some(Template { parts: &[Part::ApiKey, Part::Body], separator: b"", encoding: Encoding::LowerHex }),
        time_unit: TimeUnit::Seconds,
        retry_on: RetryOn::Unauthorized,
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
    let mut big = [0u8; 512];
    assert_eq!(set.write_json(&mut big).map(<[u8]>::len), Ok(set.json_len()));
    let stamp = Stamp { now: NOW, nonce: Some(7) };
    let req = Request::new("POST", "/AuthenticateUser");
    assert_eq!(signer.message(&req, stamp, &mut big).map(<[u8]>::len), signer.message_len(&req, stamp));
    let key = MacKey::new(b"k").unwrap();
    let token_len = jwt::encode(&key, jwt::DEFAULT_HEADER, b"{}", &mut big).map(<[u8]>::len);
    assert_eq!(token_len, Ok(jwt::encoded_len(jwt::DEFAULT_HEADER.len(), 2)));
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

/// A store shared with other processes: it knows nonces this process never saw.
struct SharedNonces {
    high_water: u64,
    down: bool,
}

impl ReplayStore for SharedNonces {
    fn check_and_insert(&mut self, _: &str, _: &[u8; 16], _: u64, _: u64) -> Result<(), Error> {
        if self.down { Err(Error::ReplayStoreUnavailable) } else { Ok(()) }
    }

    fn advance_nonce(&mut self, _key_id: &str, nonce: u64) -> Result<(), Error> {
        if self.down {
            return Err(Error::ReplayStoreUnavailable);
        }
        if nonce <= self.high_water {
            return Err(Error::ReplayedRequest);
        }
        self.high_water = nonce;
        Ok(())
    }
}

#[test]
fn nonces_and_signatures_go_through_the_replay_store() {
    let mut ring = Keyring::<2>::new();
    let c = "key";
    ring.add(c, b"secret").unwrap();
    ring.bind_user_id(c, "12").unwrap();
    // Another worker already accepted nonce 10 for this key.
    let mut v = Verifier::new(ring, SharedNonces { high_water: 10, down: false }, Window::DEFAULT);
    let creds = Credentials { api_key: "key", secret: b"secret", user_id: "12", ..Credentials::EMPTY };
    let signer = Signer::new(&dialect::APEX, creds).unwrap();
    let verify = |v: &mut Verifier<Keyring<2>, SharedNonces>, nonce| {
        let set =
            signer.sign(&Request::new("POST", "/AuthenticateUser"), Stamp { now: NOW, nonce: Some(nonce) }).unwrap();
        let (mut store, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
        let hs = set.as_request_headers(&mut store, &mut slots).unwrap();
        v.verify(&dialect::APEX, &Request::new("POST", "/AuthenticateUser").with_headers(hs), NOW)
            .map(|p| p.id.to_string())
    };
    assert_eq!(verify(&mut v, 7), Err(Error::ReplayedRequest), "below the shared high-water mark");
    assert_eq!(verify(&mut v, 11), Ok(c.to_string()));
    assert_eq!(verify(&mut v, 11), Err(Error::ReplayedRequest), "the local mark refuses it before the store");
    v = Verifier::new(v.store().clone(), SharedNonces { high_water: 11, down: true }, Window::DEFAULT);
    assert_eq!(verify(&mut v, 12), Err(Error::ReplayStoreUnavailable), "fails closed");
    v = Verifier::new(v.store().clone(), SharedNonces { high_water: 11, down: false }, Window::DEFAULT);
    assert_eq!(verify(&mut v, 12), Ok(c.to_string()), "nothing was recorded while the store was down");
}

#[test]
fn a_deferred_store_hands_over_the_claim_a_shared_store_makes_good() {
    use apisig::claim::{Claim, Deferred};
    let mut ring = Keyring::<2>::new();
    let c = "key";
    ring.add(c, b"secret").unwrap();
    ring.bind_user_id(c, "12").unwrap();
    let mut v = Verifier::new(ring, Deferred::new(), Window::from_secs(30));
    let creds = Credentials { api_key: "key", secret: b"secret", user_id: "12", ..Credentials::EMPTY };

    // Aevo: timestamp + signature, recorded until the timestamp plus the tolerance.
    let req = Request::new("POST", "/orders").with_body(b"{}");
    let ts = NOW - 5_000_000_000;
    let set = Signer::new(&dialect::AEVO, creds).unwrap().sign(&req, Stamp { now: ts, nonce: None }).unwrap();
    let (mut store, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let hs = set.as_request_headers(&mut store, &mut slots).unwrap();
    let sig = set.get("AEVO-SIGNATURE").unwrap().value.to_owned();
    for _ in 0..2 {
        // The deferred store decides nothing: the same request verifies twice, each time with
        // its claim; the shared store is what refuses the second.
        assert_eq!(v.verify(&dialect::AEVO, &req.with_headers(hs), NOW).map(|p| p.id.to_string()), Ok(c.to_string()));
        let claim = v.replay_mut().take().unwrap();
        let mut id = [0u8; 16];
        base16ct::lower::decode(&sig.as_bytes()[..32], &mut id).unwrap();
        let key_id = "key".try_into().unwrap();
        assert_eq!(claim, Claim::Once { key_id, id, expires: ts + 30_000_000_000, now: NOW });
        assert_eq!(claim.key_id(), "key");
        assert_eq!(claim.ttl_ms(), Some(25_000));
        assert_eq!(v.replay_mut().take(), None);
    }
    // A refused request leaves no claim.
    assert!(v.verify(&dialect::AEVO, &req.with_body(b"{ }").with_headers(hs), NOW).is_err());
    assert_eq!(v.replay_mut().take(), None);

    // APEX: a growing nonce, claimed as the new high-water mark.
    let signer = Signer::new(&dialect::APEX, creds).unwrap();
    let login = Request::new("POST", "/AuthenticateUser");
    let set = signer.sign(&login, Stamp { now: NOW, nonce: Some(41) }).unwrap();
    let (mut store, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let hs = set.as_request_headers(&mut store, &mut slots).unwrap();
    assert_eq!(v.verify(&dialect::APEX, &login.with_headers(hs), NOW).map(|p| p.id.to_string()), Ok(c.to_string()));
    assert_eq!(v.replay_mut().take(), Some(Claim::Nonce { key_id: "key".try_into().unwrap(), nonce: 41 }));
}

/// Aevo messages start with the key id, and the keyring keeps each key's HMAC state after the
/// id's whole blocks: ids shorter than, one short of, and exactly one block, under a key set
/// at registration and one rotated in later, each verify in its own slot and not in the other.
#[test]
fn key_ids_around_a_block_verify_in_both_slots() {
    for len in [1usize, 63, 64] {
        let id: String = "k".repeat(len);
        let mut ring = Keyring::<4>::new();
        let c = &id;
        ring.add(c, b"old secret").unwrap();
        ring.set_secret(c, Slot::Secondary, Some(b"new secret")).unwrap();
        let mut v = Verifier::new(ring, ReplayCache::<64>::new(), Window::DEFAULT);
        for (secret, slot, now) in [(&b"old secret"[..], Slot::Primary, NOW), (b"new secret", Slot::Secondary, NOW + 1)]
        {
            let creds = Credentials { api_key: &id, secret, ..Credentials::EMPTY };
            let req = Request::new("POST", "/orders").with_body(b"{}");
            let set = Signer::new(&dialect::AEVO, creds).unwrap().sign(&req, Stamp { now, nonce: None }).unwrap();
            let (mut store, mut slots) = ([0u8; 256], [Header::new("", ""); MAX_HEADERS]);
            let hs = set.as_request_headers(&mut store, &mut slots).unwrap();
            let who = v.verify(&dialect::AEVO, &req.with_headers(hs), now).unwrap();
            assert_eq!((who.id.as_str(), who.slot), (c.as_str(), slot), "id of {len} bytes");
        }
        let creds = Credentials { api_key: &id, secret: b"other", ..Credentials::EMPTY };
        let req = Request::new("POST", "/orders");
        let set = Signer::new(&dialect::AEVO, creds).unwrap().sign(&req, Stamp { now: NOW + 2, nonce: None }).unwrap();
        let (mut store, mut slots) = ([0u8; 256], [Header::new("", ""); MAX_HEADERS]);
        let hs = set.as_request_headers(&mut store, &mut slots).unwrap();
        assert_eq!(v.verify(&dialect::AEVO, &req.with_headers(hs), NOW + 2), Err(Error::SignatureMismatch));
    }
}

fn cert(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../tests/vectors/certs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn pin_of(der: &[u8]) -> apisig::pin::Pin {
    let kind = apisig::pin::PinKind::Certificate;
    apisig::pin::Pin { kind, fingerprint: apisig::pin::fingerprint(der, kind).unwrap() }
}

/// APEX headers for `nonce`, signed by the registered "apex" client.
fn apex_headers(nonce: u64) -> Vec<(String, String)> {
    let creds = Credentials { api_key: "apex", secret: b"apex-secret", user_id: "12", ..Credentials::EMPTY };
    let set = Signer::new(&dialect::APEX, creds)
        .unwrap()
        .sign(&Request::new("POST", "/AuthenticateUser"), Stamp { now: NOW, nonce: Some(nonce) })
        .unwrap();
    set.iter().map(|h| (h.name.to_owned(), h.to_string().split_once(": ").unwrap().1.to_owned())).collect()
}

fn as_headers(hs: &[(String, String)]) -> Vec<Header<'_>> {
    hs.iter().map(|(n, v)| Header::new(n, v)).collect()
}

/// Mutual TLS: the pinned certificate alone, or with a scheme's credentials naming the same
/// client; the certificate is checked first, and a refusal records nothing.
#[test]
fn certificates_alone_and_combined_with_credentials() {
    let (tsb, apex, unpinned) = (cert("client-ec-p256.der"), cert("ec-p256-leaf.der"), cert("rsa2048-leaf.der"));
    let mut ring = Keyring::<4>::new();
    let ops = "tsb-ops";
    ring.add(ops, b"tsb-key").unwrap();
    ring.set_pin(ops, Slot::Primary, Some(pin_of(&tsb))).unwrap();
    ring.set_secret(ops, Slot::Secondary, Some(b"tsb-key-2")).unwrap();
    let a = "apex";
    ring.add(a, b"apex-secret").unwrap();
    ring.bind_user_id(a, "12").unwrap();
    ring.set_pin(a, Slot::Secondary, Some(pin_of(&apex))).unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<8>::new(), Window::DEFAULT);
    let none = Request::new("GET", "/v1/sign");

    // Alone: the certificate is the credential.
    let alone = v.verify_with_certificate(None, &none, Some(&tsb), NOW).unwrap();
    assert_eq!((alone.id.as_str(), alone.slot), (ops, Slot::Primary));
    assert_eq!(
        v.verify_with_certificate(None, &none, Some(&apex), NOW).map(|p| (p.id.to_string(), p.slot)),
        Ok((a.to_string(), Slot::Secondary))
    );
    assert_eq!(v.verify_with_certificate(None, &none, Some(&unpinned), NOW), Err(Error::UnpinnedCertificate));
    assert_eq!(v.verify_with_certificate(None, &none, Some(b"not DER"), NOW), Err(Error::InvalidCertificate));
    assert_eq!(v.verify_with_certificate(None, &none, None, NOW), Err(Error::MissingCredential));

    // Combined with a static key: the key's principal (its slot), the certificate's client.
    let securosys = apisig::PreparedScheme::new(&dialect::SECUROSYS).unwrap();
    let key2 = [Header::new("X-API-KEY", "tsb-key-2")];
    let with_key = none.with_headers(&key2);
    let p = v.verify_with_certificate(Some(&securosys), &with_key, Some(&tsb), NOW).unwrap();
    assert_eq!((p.id.as_str(), p.slot), (ops, Slot::Secondary));
    assert_eq!(
        v.verify_with_certificate(Some(&securosys), &with_key, Some(&apex), NOW),
        Err(Error::UnpinnedCertificate)
    );
    assert_eq!(
        v.verify_with_certificate(Some(&securosys), &with_key, Some(&unpinned), NOW),
        Err(Error::UnpinnedCertificate)
    );
    assert_eq!(v.verify_with_certificate(Some(&securosys), &with_key, None, NOW), Err(Error::MissingCredential));
    assert_eq!(v.verify_with_certificate(Some(&securosys), &none, Some(&tsb), NOW), Err(Error::MissingCredential));
    let wrong = [Header::new("X-API-KEY", "nope")];
    assert_eq!(
        v.verify_with_certificate(Some(&securosys), &none.with_headers(&wrong), Some(&tsb), NOW),
        Err(Error::UnknownKey)
    );

    // Combined with a signed scheme: refused for the certificate, or for credentials naming
    // another client, the nonce is not recorded: the same request then verifies.
    let apex_scheme = apisig::PreparedScheme::new(&dialect::APEX).unwrap();
    let signed = apex_headers(5);
    let login = Request::new("POST", "/AuthenticateUser");
    let hs = as_headers(&signed);
    let req = login.with_headers(&hs);
    assert_eq!(v.verify_with_certificate(Some(&apex_scheme), &req, Some(&tsb), NOW), Err(Error::UnpinnedCertificate));
    assert_eq!(
        v.verify_with_certificate(Some(&apex_scheme), &req, Some(&unpinned), NOW),
        Err(Error::UnpinnedCertificate)
    );
    assert_eq!(v.verify_with_certificate(Some(&apex_scheme), &req, None, NOW), Err(Error::MissingCredential));
    assert_eq!(
        v.verify_with_certificate(Some(&apex_scheme), &req, Some(&apex), NOW).map(|p| p.id.to_string()),
        Ok(a.to_string())
    );
    assert_eq!(v.verify_with_certificate(Some(&apex_scheme), &req, Some(&apex), NOW), Err(Error::ReplayedRequest));
}

/// APEX `AuthenticateUser` with its credentials in the JSON body: strings or numbers, the
/// headers when they carry all four, and each bad body refused with its own error.
#[test]
fn apex_credentials_from_the_json_body() {
    let mut ring = Keyring::<2>::new();
    let a = "apex";
    ring.add(a, b"apex-secret").unwrap();
    ring.bind_user_id(a, "12").unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<8>::new(), Window::DEFAULT);
    let apex = apisig::PreparedScheme::new(&dialect::APEX).unwrap();
    let login = Request::new("POST", "/AuthenticateUser");
    let sig = |nonce: &str| {
        let tag = MacKey::new(b"apex-secret").unwrap().sign(format!("{nonce}12apex").as_bytes());
        Encoding::LowerHex.encode(&tag).as_str().to_owned()
    };
    let mut verify = |headers: &[Header<'_>], body: &str| {
        v.verify_json_body(&apex, &login.with_headers(headers).with_body(body.as_bytes()), NOW)
            .map(|p| p.id.to_string())
    };

    // The body the core's signer writes (strings), then numbers as AlphaPoint clients send.
    let signed = apex_headers(7);
    let json: String =
        format!("{{{}}}", signed.iter().map(|(n, v)| format!("\"{n}\":\"{v}\"")).collect::<Vec<_>>().join(","));
    assert_eq!(verify(&[], &json), Ok(a.to_string()));
    assert_eq!(verify(&[], &json), Err(Error::ReplayedRequest));
    let numbers = format!(r#"{{"APIKey":"apex","Signature":"{}","UserId":12,"Nonce":8,"UserName":"ann"}}"#, sig("8"));
    assert_eq!(verify(&[], &numbers), Ok(a.to_string()));
    // All four headers: they are used, the body is not read.
    let nine = apex_headers(9);
    assert_eq!(verify(&as_headers(&nine), "not json"), Ok(a.to_string()));
    // Some headers only: the body's credentials, the headers ignored.
    let ten = format!(r#"{{"APIKey":"apex","Signature":"{}","UserId":"12","Nonce":10}}"#, sig("10"));
    assert_eq!(verify(&[Header::new("Nonce", "999"), Header::new("APIKey", "x")], &ten), Ok(a.to_string()));

    // Integers have one text: signed correctly over another spelling, still refused.
    for nonce in ["011", "-11", "11.0", "1.1e1", "+11", "18446744073709551616"] {
        let body = format!(r#"{{"APIKey":"apex","Signature":"{}","UserId":12,"Nonce":{nonce}}}"#, sig(nonce));
        let want =
            if nonce.starts_with('0') || nonce.starts_with('+') { Error::InvalidBody } else { Error::InvalidNonce };
        assert_eq!(verify(&[], &body), Err(want), "number {nonce}");
        let quoted = format!(r#"{{"APIKey":"apex","Signature":"{}","UserId":12,"Nonce":"{nonce}"}}"#, sig(nonce));
        assert_eq!(verify(&[], &quoted), Err(Error::InvalidNonce), "string {nonce:?}");
    }
    // A user id is compared as written: 12.0 is not "12".
    let body = format!(r#"{{"APIKey":"apex","Signature":"{}","UserId":12.0,"Nonce":12}}"#, sig("12"));
    assert_eq!(verify(&[], &body), Err(Error::UserIdMismatch));
    let dup = format!(r#"{{"APIKey":"apex","Signature":"{}","UserId":12,"Nonce":12,"Nonce":13}}"#, sig("12"));
    assert_eq!(verify(&[], &dup), Err(Error::DuplicateHeader));
    for bad in ["{", "[]", "{\"APIKey\":true}", "{\"APIKey\":5}", "{\"Nonce\":null}", "\u{feff}{}"] {
        assert_eq!(verify(&[], bad), Err(Error::InvalidBody), "{bad:?}");
    }
    assert_eq!(verify(&[], ""), Err(Error::MissingCredential));
    assert_eq!(verify(&[], "{}"), Err(Error::MissingCredential));
    assert_eq!(verify(&[], r#"{"APIKey":"apex","UserId":12,"Nonce":20}"#), Err(Error::MissingCredential));
    // Nothing refused was recorded: nonce 12 still verifies.
    let body = format!(r#"{{"APIKey":"apex","Signature":"{}","UserId":12,"Nonce":12}}"#, sig("12"));
    assert_eq!(verify(&[], &body), Ok(a.to_string()));
}

/// A scheme whose template signs a request header, with its own credentials in the body:
/// the signed header still comes from the request, once.
#[test]
fn body_credentials_with_a_signed_request_header() {
    let scheme = Scheme {
        name: "body-hook",
        headers: &[HeaderSpec::new("ts", Field::Timestamp), HeaderSpec::new("sig", Field::Signature)],
        template: Some(Template {
            parts: &[Part::Header("X-Id"), Part::Timestamp],
            separator: b".",
            encoding: Encoding::LowerHex,
        }),
        time_unit: TimeUnit::Seconds,
        retry_on: RetryOn::Unauthorized,
    };
    let mut ring = Keyring::<2>::new();
    let c = "hook";
    ring.add(c, b"hook-secret").unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<8>::new(), Window::DEFAULT);
    let prepared = apisig::PreparedScheme::new(&scheme).unwrap();
    let ts = NOW / 1_000_000_000;
    let tag = MacKey::new(b"hook-secret").unwrap().sign(format!("evt-1.{ts}").as_bytes());
    let body = format!(r#"{{"ts":{ts},"sig":"{}"}}"#, Encoding::LowerHex.encode(&tag).as_str());
    let req = Request::new("POST", "/hook").with_body(body.as_bytes());
    let id = [Header::new("X-Id", "evt-1"), Header::new("Content-Type", "application/json")];
    assert_eq!(v.verify_json_body(&prepared, &req.with_headers(&[id[1]]), NOW), Err(Error::MissingCredential));
    let twice = [id[0], Header::new("x-id", "evt-2")];
    assert_eq!(v.verify_json_body(&prepared, &req.with_headers(&twice), NOW), Err(Error::DuplicateHeader));
    let many = vec![id[0]; 40];
    assert_eq!(v.verify_json_body(&prepared, &req.with_headers(&many), NOW), Err(Error::DuplicateHeader));
    assert_eq!(v.verify_json_body(&prepared, &req.with_headers(&id), NOW).map(|p| p.id.to_string()), Ok(c.to_string()));
    assert_eq!(v.verify_json_body(&prepared, &req.with_headers(&id), NOW), Err(Error::ReplayedRequest));
}

#[test]
fn rotation_follows_the_scheme() {
    use apisig::rotation::{Next, Rotation};
    for scheme in dialect::ALL {
        let mut r = Rotation::for_scheme(scheme, 2);
        let mut attempt = r.begin();
        let on_403 = r.on_response(&mut attempt, 403);
        // The seeds: ZignSec retries with the other key on 403 (and 401), Securosys only on 401.
        let zignsec = scheme.name.starts_with("zignsec");
        assert_eq!(on_403, if zignsec { Next::Retry(1) } else { Next::Done }, "{}", scheme.name);
        let mut attempt = r.begin();
        assert_eq!(r.on_response(&mut attempt, 401), Next::Retry(1), "{}", scheme.name);
    }
}
