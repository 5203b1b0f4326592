//! The key lifecycle at the verifier: a revoked, disabled or expired client or key, and a peer
//! outside a client's allowed addresses, are refused whatever the credential — static key,
//! key and secret, signature, bearer JWT naming the client, session token, certificate pin,
//! certificate plus key — each with its own error, and a refusal records nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use std::net::IpAddr;

use apisig::client::{Cidr, Client, Slot, Status};
use apisig::jwt::{self, JwtPolicy};
use apisig::pin::{self, Pin, PinKind};
use apisig::policy::ScopeNames;
use apisig::session::{Session, SessionKeys};
use apisig::{
    Credentials, Error, Family, MacKey, PreparedScheme, Principal, Request, Signer, Stamp, Verifier, Window, dialect,
    headers::Header, keyring::Keyring, replay::ReplayCache,
};

const NOW: u64 = 1_700_000_000_000_000_000;
const JWT_SECRET: &[u8] = b"jwt-signing-secret-0123456789abcdef";
const SESSION_SECRET: &[u8] = b"session-secret-0123456789abcdef";

type V = Verifier<Keyring<8>, ReplayCache<64>>;

fn cert() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/certs/ec-p256-leaf.der")).unwrap()
}

/// One client, "c-7", with a static key / HMAC secret in its primary slot, a certificate pin
/// in its secondary slot and a bound user id; JWTs and session tokens accepted.
fn verifier() -> V {
    let mut c = Client::new("c-7").unwrap();
    c.set_secret(Slot::Primary, Some(b"secret-7")).unwrap();
    let fingerprint = pin::fingerprint(&cert(), PinKind::PublicKey).unwrap();
    c.set_pin(Slot::Secondary, Some(Pin { kind: PinKind::PublicKey, fingerprint }));
    c.bind_user_id("42").unwrap();
    let mut ring = Keyring::new();
    ring.insert(c).unwrap();
    let mut v = Verifier::new(ring, ReplayCache::new(), Window::DEFAULT);
    v.set_jwt(Some(JwtPolicy::new(JWT_SECRET).unwrap()));
    v.set_session_keys(Some(SessionKeys::new(SESSION_SECRET).unwrap()));
    v
}

/// The credential kinds, each as a function verifying one fresh request of that kind at `now`
/// from `peer`.
#[derive(Copy, Clone, Debug)]
enum Kind {
    StaticKey,
    KeyAndSecret,
    Signature,
    Nonce,
    Jwt,
    Session,
    Certificate,
    CertificateAndKey,
}

const KINDS: [Kind; 8] = [
    Kind::StaticKey,
    Kind::KeyAndSecret,
    Kind::Signature,
    Kind::Nonce,
    Kind::Jwt,
    Kind::Session,
    Kind::Certificate,
    Kind::CertificateAndKey,
];

impl Kind {
    /// The slot the credential is checked against (`None`: a JWT naming the client).
    fn slot(self) -> Option<Slot> {
        match self {
            Kind::Certificate => Some(Slot::Secondary),
            Kind::Jwt => None,
            _ => Some(Slot::Primary),
        }
    }

    fn verify(self, v: &mut V, n: u64, peer: Option<IpAddr>) -> Result<Principal, Error> {
        let now = NOW + n;
        let signed = |scheme, creds: Credentials<'_>, nonce: Option<u64>| {
            let req = Request::new("POST", "/AuthenticateUser");
            let set = Signer::new(scheme, creds).unwrap().sign(&req, Stamp { now, nonce }).unwrap();
            set.iter().map(|h| (h.name.to_owned(), format!("{}{}", h.prefix, h.value))).collect::<Vec<_>>()
        };
        let hs: Vec<(String, String)> = match self {
            Kind::StaticKey | Kind::CertificateAndKey => vec![("X-API-KEY".into(), "secret-7".into())],
            Kind::KeyAndSecret => signed(
                &dialect::AEVO_SECRET,
                Credentials { api_key: "c-7", secret: b"secret-7", ..Credentials::EMPTY },
                None,
            ),
            Kind::Signature => {
                signed(&dialect::AEVO, Credentials { api_key: "c-7", secret: b"secret-7", ..Credentials::EMPTY }, None)
            }
            Kind::Nonce => signed(
                &dialect::APEX,
                Credentials { api_key: "c-7", secret: b"secret-7", user_id: "42", ..Credentials::EMPTY },
                Some(n + 1),
            ),
            Kind::Jwt => {
                let claims = format!(r#"{{"sub":"c-7","exp":{}}}"#, now / 1_000_000_000 + 600);
                let mut out = [0u8; 512];
                let key = MacKey::new(JWT_SECRET).unwrap();
                let t = jwt::encode(&key, jwt::DEFAULT_HEADER, claims.as_bytes(), &mut out).unwrap();
                vec![("Authorization".into(), format!("Bearer {}", std::str::from_utf8(t).unwrap()))]
            }
            Kind::Session => {
                let mut out = [0u8; 256];
                let session = Session { user_id: "42", key_id: "c-7", expires: now / 1_000_000_000 + 600 };
                let t = SessionKeys::new(SESSION_SECRET).unwrap().issue(&session, &mut out).unwrap();
                vec![("aptoken".into(), std::str::from_utf8(t).unwrap().to_owned())]
            }
            Kind::Certificate => vec![],
        };
        let headers: Vec<Header<'_>> = hs.iter().map(|(n, v)| Header::new(n, v)).collect();
        let mut req = Request::new("POST", "/AuthenticateUser").with_headers(&headers);
        if let Some(p) = peer {
            req = req.with_peer(p);
        }
        match self {
            Kind::StaticKey => v.verify(&dialect::SECUROSYS, &req, now),
            Kind::KeyAndSecret => v.verify(&dialect::AEVO_SECRET, &req, now),
            Kind::Signature => v.verify(&dialect::AEVO, &req, now),
            Kind::Nonce => v.verify(&dialect::APEX, &req, now),
            Kind::Jwt => v.verify(&dialect::SECUROSYS_JWT, &req, now),
            Kind::Session => v.verify(&dialect::APEX_SESSION, &req, now),
            Kind::Certificate => v.verify_with_certificate(None, &req, Some(&cert()), now),
            Kind::CertificateAndKey => {
                let scheme = PreparedScheme::new(&dialect::SECUROSYS).unwrap();
                v.verify_with_certificate(Some(&scheme), &req, Some(&cert()), now)
            }
        }
    }
}

fn change(v: &mut V, f: impl FnOnce(&mut Client)) {
    v.store_mut()
        .update("c-7", |c| {
            f(c);
            Ok(())
        })
        .unwrap();
}

#[test]
fn every_credential_kind_is_accepted_when_the_client_may_authenticate() {
    let mut v = verifier();
    for (n, kind) in KINDS.iter().enumerate() {
        let p = kind.verify(&mut v, n as u64 * 10, None).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(p.id, "c-7", "{kind:?}");
    }
}

#[test]
fn a_revoked_or_disabled_client_is_refused_whatever_it_presents() {
    for (status, want) in [(Status::Revoked, Error::ClientRevoked), (Status::Disabled, Error::ClientDisabled)] {
        let mut v = verifier();
        change(&mut v, |c| c.set_status(status));
        for (n, kind) in KINDS.iter().enumerate() {
            assert_eq!(kind.verify(&mut v, n as u64 * 10, None), Err(want), "{kind:?} {status:?}");
        }
        // Nothing was recorded: once active again, the very same requests pass (signatures
        // and nonces included).
        change(&mut v, |c| c.set_status(Status::Active));
        for (n, kind) in KINDS.iter().enumerate() {
            assert!(kind.verify(&mut v, n as u64 * 10, None).is_ok(), "{kind:?} after {status:?}");
        }
    }
}

#[test]
fn a_revoked_or_expired_key_is_refused_for_its_slot_only() {
    for kind in KINDS {
        let Some(slot) = kind.slot() else { continue };
        let mut v = verifier();
        change(&mut v, |c| c.set_key_revoked(slot, true));
        assert_eq!(kind.verify(&mut v, 0, None), Err(Error::KeyRevoked), "{kind:?}");
        change(&mut v, |c| c.set_key_revoked(slot, false));
        // Expired from `expires` on, not before.
        change(&mut v, |c| c.set_expiry(slot, Some(NOW + 5)));
        assert!(kind.verify(&mut v, 4, None).is_ok(), "{kind:?} before expiry");
        assert_eq!(kind.verify(&mut v, 5, None), Err(Error::KeyExpired), "{kind:?} at expiry");
    }
    // A JWT names the client, not a key: its keys' fate does not concern it.
    let mut v = verifier();
    change(&mut v, |c| {
        c.set_key_revoked(Slot::Primary, true);
        c.set_expiry(Slot::Secondary, Some(0));
    });
    assert!(Kind::Jwt.verify(&mut v, 0, None).is_ok());
    // The other slot keeps working while one is revoked: rotation.
    let mut v = verifier();
    change(&mut v, |c| {
        c.set_secret(Slot::Secondary, Some(b"next-7")).unwrap();
        c.set_key_revoked(Slot::Primary, true);
    });
    let hs = [Header::new("X-API-KEY", "next-7")];
    let p = v.verify(&dialect::SECUROSYS, &Request::new("GET", "/").with_headers(&hs), NOW).unwrap();
    assert_eq!((p.id.as_str(), p.slot), ("c-7", Slot::Secondary));
}

#[test]
fn the_order_of_refusals_is_status_then_key_then_address() {
    let mut v = verifier();
    change(&mut v, |c| {
        c.set_allowed(&[Cidr::parse("10.0.0.0/8").unwrap()]).unwrap();
        c.set_expiry(Slot::Primary, Some(0));
        c.set_key_revoked(Slot::Primary, true);
        c.set_status(Status::Disabled);
    });
    let outside = Some("192.0.2.1".parse().unwrap());
    assert_eq!(Kind::StaticKey.verify(&mut v, 0, outside), Err(Error::ClientDisabled));
    change(&mut v, |c| c.set_status(Status::Active));
    assert_eq!(Kind::StaticKey.verify(&mut v, 0, outside), Err(Error::KeyRevoked));
    change(&mut v, |c| c.set_key_revoked(Slot::Primary, false));
    assert_eq!(Kind::StaticKey.verify(&mut v, 0, outside), Err(Error::KeyExpired));
    change(&mut v, |c| c.set_expiry(Slot::Primary, None));
    assert_eq!(Kind::StaticKey.verify(&mut v, 0, outside), Err(Error::AddressNotAllowed));
    // A credential that does not check out says so first: nothing about the client leaks.
    let hs = [Header::new("X-API-KEY", "not-a-key")];
    assert_eq!(v.verify(&dialect::SECUROSYS, &Request::new("GET", "/").with_headers(&hs), NOW), Err(Error::UnknownKey));
}

#[test]
fn allowed_addresses_apply_to_every_credential_and_fail_closed_without_a_peer() {
    let mut v = verifier();
    change(&mut v, |c| {
        c.set_allowed(&[Cidr::parse("10.0.0.0/8").unwrap(), Cidr::parse("2001:db8::/32").unwrap()]).unwrap();
    });
    let mut n = 0;
    for kind in KINDS {
        for (peer, ok) in [
            (Some("10.1.2.3"), true),
            (Some("::ffff:10.1.2.3"), true),
            (Some("2001:db8:1::5"), true),
            (Some("11.0.0.1"), false),
            (Some("2001:db9::1"), false),
            (None, false),
        ] {
            n += 10;
            let got = kind.verify(&mut v, n, peer.map(|p| p.parse().unwrap()));
            if ok {
                assert!(got.is_ok(), "{kind:?} from {peer:?}: {got:?}");
            } else {
                assert_eq!(got, Err(Error::AddressNotAllowed), "{kind:?} from {peer:?}");
            }
        }
    }
    assert_eq!(Error::AddressNotAllowed.family(), Family::Forbidden);
    assert_eq!(Error::AddressNotAllowed.family().http_status(), 403);
}

#[test]
fn cidrs_parse_strictly_and_match_at_the_edges() {
    let net = |t: &str| Cidr::parse(t).unwrap();
    let ip = |t: &str| -> IpAddr { t.parse().unwrap() };
    // /0: every peer of the family, none of the other.
    assert!(net("0.0.0.0/0").contains(ip("255.255.255.255")));
    assert!(!net("0.0.0.0/0").contains(ip("::1")));
    assert!(net("::/0").contains(ip("2001:db8::1")));
    assert!(!net("::/0").contains(ip("10.0.0.1")), "an IPv4 peer is never in an IPv6 range");
    assert!(!net("::/0").contains(ip("::ffff:10.0.0.1")), "nor when it comes IPv4-mapped");
    // /32 and /128: one address; a bare address is the same.
    assert_eq!(net("192.0.2.7"), net("192.0.2.7/32"));
    assert_eq!(net("2001:db8::7"), net("2001:db8::7/128"));
    assert!(net("192.0.2.7/32").contains(ip("192.0.2.7")) && !net("192.0.2.7/32").contains(ip("192.0.2.8")));
    assert!(net("2001:db8::7/128").contains(ip("2001:db8::7")) && !net("2001:db8::7/128").contains(ip("2001:db8::6")));
    // Boundaries of an odd prefix.
    assert!(net("198.51.100.0/23").contains(ip("198.51.101.255")));
    assert!(!net("198.51.100.0/23").contains(ip("198.51.102.0")));
    assert!(!net("198.51.100.0/23").contains(ip("198.51.99.255")));
    // IPv4-mapped peers are their IPv4 address.
    assert!(net("10.0.0.0/8").contains(ip("::ffff:10.9.8.7")));
    // Refused: host bits set, prefixes too long, mapped ranges, junk.
    for bad in [
        "10.0.0.1/8",
        "10.0.0.0/33",
        "::/129",
        "::ffff:10.0.0.0/104",
        "::ffff:0:0/96",
        "10.0.0.0/",
        "10.0.0.0/08",
        "10.0.0.0/+8",
        "10.0.0.0/8/8",
        "10.0.0",
        "",
        " 10.0.0.0/8",
        "host.example",
    ] {
        assert_eq!(Cidr::parse(bad), Err(Error::InvalidPattern), "{bad:?}");
    }
    // Round trip through its text.
    for t in ["10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0", "::/0", "192.0.2.7/32"] {
        assert_eq!(net(t).to_string(), t);
    }
    let mut c = Client::new("c").unwrap();
    assert_eq!(c.set_allowed(&[net("10.0.0.0/8"); 9]), Err(Error::FieldTooLong));
    assert!(c.allowed().is_empty(), "nothing changed");
    assert_eq!(c.set_allowed(&[net("10.0.0.0/8"); 8]), Ok(()));
}

#[test]
fn scopes_travel_with_the_principal_and_are_checked_like_roles() {
    let table = ScopeNames { names: &["read", "trade", "withdraw"] };
    assert_eq!(table.check(), Ok(()));
    assert_eq!(ScopeNames { names: &["a", "a"] }.check(), Err(Error::InvalidPattern));
    assert_eq!(ScopeNames { names: &[""] }.check(), Err(Error::InvalidPattern));
    let mut v = verifier();
    let held = table.scopes(&["read", "trade"]).unwrap();
    change(&mut v, |c| c.set_scopes(held));
    let p = Kind::StaticKey.verify(&mut v, 0, None).unwrap();
    assert_eq!(p.scopes, held);
    assert_eq!(table.authorize(p.scopes, &["trade"]), Ok(()));
    assert_eq!(table.authorize(p.scopes, &["read", "withdraw"]), Err(Error::Forbidden));
    assert_eq!(table.authorize(p.scopes, &["transfer"]), Err(Error::InvalidPattern));
    assert_eq!((table.bit("withdraw"), table.name(1), table.name(3)), (Some(2), Some("trade"), None));
}

#[test]
fn the_new_errors_have_their_families() {
    assert_eq!(Error::StoreUnavailable.family().http_status(), 503);
    for e in [Error::ClientRevoked, Error::KeyRevoked, Error::KeyExpired, Error::ClientDisabled] {
        assert_eq!(e.family(), Family::Authentication, "{e:?}");
    }
    let codes: Vec<u32> = [
        Error::StoreUnavailable,
        Error::ClientRevoked,
        Error::KeyRevoked,
        Error::KeyExpired,
        Error::ClientDisabled,
        Error::AddressNotAllowed,
    ]
    .iter()
    .map(|e| e.code())
    .collect();
    assert_eq!(codes, [120, 121, 122, 123, 124, 125]);
}

/// A store that cannot be reached: every lookup fails, and the verifier fails closed with the
/// store's error whatever the credential.
struct Down;

impl apisig::store::ClientStore for Down {
    type Found<'a> = &'a Client;

    fn by_id(&self, _: &[u8]) -> Result<Option<&Client>, Error> {
        Err(Error::StoreUnavailable)
    }

    fn by_static_key(&self, _: &apisig::store::PresentedKey<'_>) -> Result<Option<&Client>, Error> {
        Err(Error::StoreUnavailable)
    }

    fn by_pin(&self, _: PinKind, _: &[u8; pin::PIN_LEN]) -> Result<Option<&Client>, Error> {
        Err(Error::StoreUnavailable)
    }

    fn for_each(&self, _: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        Err(Error::StoreUnavailable)
    }

    fn advance_nonce(&mut self, _: &str, _: u64) -> Result<(), Error> {
        Err(Error::StoreUnavailable)
    }
}

#[test]
fn an_unreachable_store_fails_closed() {
    let mut v = Verifier::new(Down, ReplayCache::<8>::new(), Window::DEFAULT);
    v.set_jwt(Some(JwtPolicy::new(JWT_SECRET).unwrap()));
    let hs = [Header::new("X-API-KEY", "secret-7")];
    let req = Request::new("GET", "/").with_headers(&hs);
    assert_eq!(v.verify(&dialect::SECUROSYS, &req, NOW), Err(Error::StoreUnavailable));
    assert_eq!(v.verify_certificate(&cert(), None, NOW), Err(Error::StoreUnavailable));
    let set = Signer::new(&dialect::AEVO, Credentials { api_key: "c-7", secret: b"s", ..Credentials::EMPTY })
        .unwrap()
        .sign(&Request::new("GET", "/"), Stamp { now: NOW, nonce: None })
        .unwrap();
    let hs: Vec<(String, String)> =
        set.iter().map(|h| (h.name.to_owned(), format!("{}{}", h.prefix, h.value))).collect();
    let hs: Vec<Header<'_>> = hs.iter().map(|(n, v)| Header::new(n, v)).collect();
    assert_eq!(
        v.verify(&dialect::AEVO, &Request::new("GET", "/").with_headers(&hs), NOW),
        Err(Error::StoreUnavailable)
    );
}

/// The address behind trusted proxies: the right-most `X-Forwarded-For` entry that is no
/// trusted proxy; the header of an untrusted peer ignored; a malformed entry from a trusted
/// proxy refused; IPv6 and IPv4-mapped peers; several header lines read as one list.
#[test]
fn peer_behind_proxies_takes_the_rightmost_untrusted_address() {
    use apisig::client::peer_behind_proxies;
    let ip = |t: &str| -> IpAddr { t.parse().unwrap() };
    let trusted = [Cidr::parse("10.0.0.0/8").unwrap(), Cidr::parse("fd00::/8").unwrap()];
    let peer =
        |direct: &str, values: &[&str]| peer_behind_proxies(ip(direct), values.iter().map(|v| v.as_bytes()), &trusted);
    // One proxy: the address it appended.
    assert_eq!(peer("10.0.0.1", &["203.0.113.7"]), Ok(ip("203.0.113.7")));
    // A spoofed entry to the left of the proxies' own is never taken.
    assert_eq!(peer("10.0.0.1", &["1.2.3.4, 203.0.113.7, 10.9.9.9"]), Ok(ip("203.0.113.7")));
    // Several header lines are one list, in order.
    assert_eq!(peer("10.0.0.1", &["1.2.3.4, 203.0.113.7", "10.9.9.9"]), Ok(ip("203.0.113.7")));
    assert_eq!(peer("10.0.0.1", &["203.0.113.7", ""]), Err(Error::InvalidForwardedFor), "an empty line");
    // From an untrusted peer the header is ignored, even malformed.
    assert_eq!(peer("198.51.100.1", &["10.0.0.5"]), Ok(ip("198.51.100.1")));
    assert_eq!(peer("198.51.100.1", &["not an address"]), Ok(ip("198.51.100.1")));
    // No header, or only trusted proxies in it.
    assert_eq!(peer("10.0.0.1", &[]), Ok(ip("10.0.0.1")));
    assert_eq!(peer("10.0.0.1", &["10.0.0.3, 10.0.0.2"]), Ok(ip("10.0.0.3")));
    // IPv6: a trusted IPv6 proxy, an IPv6 client; an IPv4-mapped proxy is its IPv4 address.
    assert_eq!(peer("fd00::1", &["2001:db8::7"]), Ok(ip("2001:db8::7")));
    assert_eq!(peer("::ffff:10.0.0.1", &[" 2001:db8::7 "]), Ok(ip("2001:db8::7")));
    assert_eq!(peer("2001:db8::1", &["203.0.113.7"]), Ok(ip("2001:db8::1")));
    // Malformed from a trusted proxy: refused, whatever is left of the answer is not read.
    for bad in ["203.0.113.7:443", "[2001:db8::7]", "203.0.113.7,", "unknown", "fe80::1%eth0", "203.0.113.7 10.0.0.2"] {
        assert_eq!(peer("10.0.0.1", &[bad]), Err(Error::InvalidForwardedFor), "{bad:?}");
    }
    assert_eq!(peer("10.0.0.1", &["junk, 203.0.113.7"]), Ok(ip("203.0.113.7")), "left of the answer: not read");
    assert_eq!(peer("10.0.0.1", &[",203.0.113.7"]), Ok(ip("203.0.113.7")));
    assert_eq!(Error::InvalidForwardedFor.family(), Family::Malformed);
}
