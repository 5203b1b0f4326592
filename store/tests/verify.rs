//! The core's verifier over the stores: HMAC (Aevo) and static-key (SIGNIUS) requests
//! verified through a MemoryStore of many clients and through the cache in front of SQLite,
//! each client's own credentials accepted as that client, another's refused.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use apisig::client::{Client, Slot, Status};
use apisig::headers::{Header, MAX_HEADERS};
use apisig::replay::ReplayCache;
use apisig::store::ClientStore;
use apisig::{Credentials, Error, Principal, Request, Signer, Stamp, Verifier, Window, dialect};
use apisig_store::{CacheConfig, CachedStore, KeyKind, MasterKey, MemoryStore, Store};

const SECOND: u64 = 1_000_000_000;
/// Requests `STEP` apart: each one's replay entry has expired before the next (window ±300 s).
const STEP: u64 = 601 * SECOND;
const T0: u64 = 1_700_000_000 * SECOND;

fn verify<C: ClientStore>(
    v: &mut Verifier<C, ReplayCache<8>>,
    scheme: &apisig::scheme::Scheme<'_>,
    api_key: &str,
    secret: &[u8],
    now: u64,
) -> Result<Principal, Error> {
    let creds = Credentials { api_key, secret, ..Credentials::EMPTY };
    let signed = Signer::new(scheme, creds)?.sign(&Request::new("GET", "/account"), Stamp { now, nonce: None })?;
    let (mut buf, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let headers = signed.as_request_headers(&mut buf, &mut slots)?;
    v.verify(scheme, &Request::new("GET", "/account").with_headers(headers), now)
}

/// Clients in the scale test: `APISIG_STORE_CLIENTS`, else 10^5 (a million take about 35 s
/// to register in a debug build; `make bench` verifies a million in a release build).
fn scale() -> usize {
    std::env::var("APISIG_STORE_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// Half the clients sign Aevo requests with an HMAC secret, half send a SIGNIUS static key:
/// every one is verified as itself through a real `apisig::Verifier`, and a request signed
/// with a neighbour's secret is refused.
#[test]
fn many_clients_verified_in_memory() {
    let n = scale();
    let mut store = MemoryStore::new();
    for i in 0..n {
        let mut c = Client::new(&format!("client-{i}")).unwrap();
        c.set_secret(Slot::Primary, Some(format!("secret-{i}").as_bytes())).unwrap();
        store.insert(c).unwrap();
    }
    let mut v = Verifier::new(store, ReplayCache::<8>::new(), Window::DEFAULT);
    let mut now = T0;
    for i in 0..n {
        now += STEP;
        let (id, secret) = (format!("client-{i}"), format!("secret-{i}"));
        let who = if i % 2 == 0 {
            verify(&mut v, &dialect::AEVO, &id, secret.as_bytes(), now)
        } else {
            verify(&mut v, &dialect::SIGNIUS, &secret, b"", now)
        }
        .unwrap();
        assert_eq!((who.id.as_str(), who.slot), (id.as_str(), Slot::Primary));
    }
    now += STEP;
    assert_eq!(verify(&mut v, &dialect::AEVO, "client-0", b"secret-1", now), Err(Error::SignatureMismatch));
    assert_eq!(verify(&mut v, &dialect::SIGNIUS, &format!("secret-{n}"), b"", now), Err(Error::UnknownKey));
}

/// Through the cache in front of SQLite: issued keys verify; a revoked key, a disabled
/// client and a mistyped key are refused with their own errors.
#[test]
fn issued_keys_verified_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Store::open(&format!("sqlite:{}", dir.path().join("keys.db").display()), MasterKey::generate().unwrap())
            .unwrap();
    store.create_client("aevo-client").unwrap();
    let secret = store.issue("aevo-client", Slot::Primary, KeyKind::Hmac).unwrap();
    store.create_client("signius-client").unwrap();
    let key = store.issue("signius-client", Slot::Primary, KeyKind::Static).unwrap();
    let next = store.rotate("signius-client", Some(3600)).unwrap();
    let cache = CachedStore::new(store, CacheConfig::default());
    let mut v = Verifier::new(&cache, ReplayCache::<8>::new(), Window::DEFAULT);
    let mut now = T0;
    let mut step = || {
        now += STEP;
        now
    };

    let who = verify(&mut v, &dialect::AEVO, "aevo-client", secret.as_str().as_bytes(), step()).unwrap();
    assert_eq!(who.id.as_str(), "aevo-client");
    let who = verify(&mut v, &dialect::SIGNIUS, next.as_str(), b"", step()).unwrap();
    assert_eq!((who.id.as_str(), who.slot), ("signius-client", Slot::Primary));
    let who = verify(&mut v, &dialect::SIGNIUS, key.as_str(), b"", step()).unwrap();
    assert_eq!((who.id.as_str(), who.slot), ("signius-client", Slot::Secondary), "the old key, in its grace period");

    let mut typo = key.as_str().to_owned().into_bytes();
    typo[15] = if typo[15] == b'z' { b'y' } else { b'z' };
    let typo = String::from_utf8(typo).unwrap();
    assert_eq!(verify(&mut v, &dialect::SIGNIUS, &typo, b"", step()), Err(Error::InvalidKeyFormat));

    cache.store().revoke_key("signius-client", Slot::Secondary).unwrap();
    cache.invalidate("signius-client");
    assert_eq!(verify(&mut v, &dialect::SIGNIUS, key.as_str(), b"", step()), Err(Error::KeyRevoked));
    assert!(verify(&mut v, &dialect::SIGNIUS, next.as_str(), b"", step()).is_ok());
    cache.store().set_status("aevo-client", Status::Disabled).unwrap();
    cache.invalidate("aevo-client");
    assert_eq!(
        verify(&mut v, &dialect::AEVO, "aevo-client", secret.as_str().as_bytes(), step()),
        Err(Error::ClientDisabled)
    );
}
