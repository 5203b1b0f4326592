//! The read-through cache in front of a SQLite store, as two workers would use it: each with
//! its own store handle and cache on one file.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use std::time::Duration;

use apisig::Error;
use apisig::client::{Slot, Status};
use apisig::pin::{Pin, PinKind};
use apisig::policy::RoleId;
use apisig::store::{ClientStore, PresentedKey, key_digest};
use apisig_store::{CacheConfig, CachedStore, KeyKind, MasterKey, Store};

const TTL: Duration = Duration::from_millis(400);

fn worker(url: &str, master: &MasterKey) -> CachedStore {
    let config = CacheConfig {
        ttl: TTL,
        roles: vec!["ServiceAdmin".into(), "KeyOperator".into()],
        scopes: vec!["orders:read".into(), "orders:write".into(), "withdraw".into()],
        ..CacheConfig::default()
    };
    CachedStore::new(Store::open(url, master.clone()).unwrap(), config)
}

fn setup() -> (tempfile::TempDir, String, MasterKey) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("keys.db").display());
    (dir, url, MasterKey::generate().unwrap())
}

/// Everything the database says about a client reaches the core's client: keys (a static
/// key's digest, an HMAC secret), expiry, revoked keys, pins, role and scopes by the server's
/// names, user id, allowed ranges, status.
#[test]
fn a_stored_client_becomes_the_cores_client() {
    let (_dir, url, master) = setup();
    let cache = worker(&url, &master);
    let store = cache.store();
    store.create_client("c").unwrap();
    let hmac = store.issue("c", Slot::Primary, KeyKind::Hmac).unwrap();
    let key = store.issue("c", Slot::Secondary, KeyKind::Static).unwrap();
    store.set_expiry("c", Slot::Primary, Some(2_000_000_000)).unwrap();
    store.revoke_key("c", Slot::Secondary).unwrap();
    let pin = Pin { kind: PinKind::Certificate, fingerprint: [9; 32] };
    store.set_pin("c", Slot::Primary, Some(pin)).unwrap();
    store.set_role("c", Some("KeyOperator")).unwrap();
    store.set_scopes("c", &["withdraw", "orders:read", "not-a-server-scope"]).unwrap();
    store.bind_user_id("c", Some("77")).unwrap();
    store.set_allowed("c", &["192.0.2.0/24", "2001:db8::/32"]).unwrap();

    let c = cache.by_id(b"c").unwrap().unwrap();
    assert_eq!(c.id(), "c");
    assert_eq!(c.key_digest(Slot::Primary), Some(key_digest(hmac.as_str().as_bytes())));
    assert_eq!(c.key_digest(Slot::Secondary), Some(key_digest(key.as_str().as_bytes())));
    assert_eq!(c.expiry(Slot::Primary), Some(2_000_000_000 * 1_000_000_000));
    assert_eq!((c.key_revoked(Slot::Primary), c.key_revoked(Slot::Secondary)), (false, true));
    assert_eq!(c.pin(Slot::Primary), Some(pin));
    assert_eq!(c.role(), Some(RoleId(1)));
    assert_eq!(c.scopes().0, 0b101, "withdraw (bit 2) and orders:read (bit 0); an unknown scope is dropped");
    assert_eq!(c.user_id(), Some("77"));
    assert_eq!(c.allowed().iter().map(ToString::to_string).collect::<Vec<_>>(), ["192.0.2.0/24", "2001:db8::/32"]);
    assert_eq!(c.status(), Status::Active);
    // The same client by its key and by its pin (of the pinned kind only).
    assert_eq!(cache.by_static_key(&PresentedKey::new(key.as_str().as_bytes())).unwrap().unwrap().id(), "c");
    assert_eq!(cache.by_pin(PinKind::Certificate, &[9; 32]).unwrap().unwrap().id(), "c");
    assert!(cache.by_pin(PinKind::PublicKey, &[9; 32]).unwrap().is_none());
    // An unknown role name gives no role.
    store.set_role("c", Some("Stranger")).unwrap();
    cache.invalidate("c");
    assert_eq!(cache.by_id(b"c").unwrap().unwrap().role(), None);
}

/// A change made by another worker (its own handle on the file) is seen within the
/// time-to-live, and not before it (the entry is cached); a miss is cached too; invalidation
/// is immediate.
#[test]
fn another_workers_revocation_is_seen_within_the_ttl() {
    let (_dir, url, master) = setup();
    let a = worker(&url, &master);
    let b = worker(&url, &master);
    a.store().create_client("c").unwrap();
    let key = a.store().issue("c", Slot::Primary, KeyKind::Static).unwrap();
    let k = key.as_str().as_bytes();
    assert_eq!(b.by_static_key(&PresentedKey::new(k)).unwrap().unwrap().status(), Status::Active);
    assert!(!b.by_id(b"c").unwrap().unwrap().key_revoked(Slot::Primary));

    a.store().revoke_key("c", Slot::Primary).unwrap();
    a.store().set_status("c", Status::Disabled).unwrap();
    // Worker b's entries are fresh: cached, the change not seen yet.
    assert_eq!(b.by_static_key(&PresentedKey::new(k)).unwrap().unwrap().status(), Status::Active);
    std::thread::sleep(TTL + Duration::from_millis(50));
    let c = b.by_static_key(&PresentedKey::new(k)).unwrap().unwrap();
    assert_eq!((c.status(), c.key_revoked(Slot::Primary)), (Status::Disabled, true));
    assert!(b.by_id(b"c").unwrap().unwrap().key_revoked(Slot::Primary));

    // A miss is cached: a client created meanwhile shows after the TTL, or at once when
    // invalidated.
    assert!(b.by_id(b"later").unwrap().is_none());
    a.store().create_client("later").unwrap();
    assert!(b.by_id(b"later").unwrap().is_none());
    b.invalidate_all();
    assert_eq!(b.by_id(b"later").unwrap().unwrap().id(), "later");
    // Deleted: gone within the TTL.
    a.store().delete_client("c").unwrap();
    std::thread::sleep(TTL + Duration::from_millis(50));
    assert!(b.by_static_key(&PresentedKey::new(k)).unwrap().is_none());
}

/// A mistyped key is refused by its checksum before the cache or the store is asked; the
/// cache holds at most its capacity.
#[test]
fn typos_never_reach_the_store_and_the_cache_is_bounded() {
    let (_dir, url, master) = setup();
    let store = Store::open(&url, master.clone()).unwrap();
    store.create_client("c").unwrap();
    let key = store.issue("c", Slot::Primary, KeyKind::Static).unwrap();
    let cache = CachedStore::new(store, CacheConfig { capacity: 3, ..CacheConfig::default() });
    let mut typo = key.as_str().as_bytes().to_vec();
    typo[12] = if typo[12] == b'Q' { b'R' } else { b'Q' };
    assert_eq!(cache.by_static_key(&PresentedKey::new(&typo)).unwrap_err(), Error::InvalidKeyFormat);
    assert_eq!(cache.by_static_key(&PresentedKey::new(b"legacy-static-key")).unwrap_err(), Error::InvalidKeyFormat);
    assert!(cache.is_empty());
    for i in 0..10 {
        assert!(cache.by_id(format!("nobody-{i}").as_bytes()).unwrap().is_none());
        assert!(cache.len() <= 3);
    }
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.by_static_key(&PresentedKey::new(key.as_str().as_bytes())).unwrap().unwrap().id(), "c");
    assert_eq!(cache.len(), 3);
}

/// APEX nonce marks live in the database: a nonce accepted by one worker is a replay at the
/// other.
#[test]
fn nonce_marks_are_shared_by_workers() {
    let (_dir, url, master) = setup();
    let mut a = worker(&url, &master);
    let mut b = worker(&url, &master);
    a.store().create_client("apex").unwrap();
    assert_eq!(a.advance_nonce("apex", 5), Ok(()));
    assert_eq!(b.advance_nonce("apex", 5), Err(Error::ReplayedRequest));
    assert_eq!(b.advance_nonce("apex", 6), Ok(()));
    assert_eq!(a.advance_nonce("apex", 6), Err(Error::ReplayedRequest));
    assert_eq!(a.advance_nonce("nobody", 1), Err(Error::UnknownKey));
    assert_eq!(a.for_each(&mut |_| {}), Err(Error::UnsupportedCredential));
}

/// The other process of [`a_revocation_by_another_process_is_seen_within_the_ttl`]: when run
/// with `APISIG_STORE_REVOKE=<url>`, revokes the primary key of `c` in the store at that URL
/// (what the command line does), with the master key in `APISIG_MASTER_KEY`. Otherwise it
/// does nothing.
#[test]
fn revoker_process() {
    let Ok(url) = std::env::var("APISIG_STORE_REVOKE") else { return };
    let store = Store::open(&url, MasterKey::from_env().unwrap()).unwrap();
    store.revoke_key("c", Slot::Primary).unwrap();
}

/// A worker keeps verifying through its cache while another process revokes the key in the
/// database: the worker refuses it once its entry's time-to-live has passed.
#[test]
fn a_revocation_by_another_process_is_seen_within_the_ttl() {
    let (_dir, url, master) = setup();
    let worker = worker(&url, &master);
    worker.store().create_client("c").unwrap();
    let key = worker.store().issue("c", Slot::Primary, KeyKind::Static).unwrap();
    assert!(
        !worker.by_static_key(&PresentedKey::new(key.as_str().as_bytes())).unwrap().unwrap().key_revoked(Slot::Primary)
    );

    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "revoker_process", "--quiet"])
        .env("APISIG_STORE_REVOKE", &url)
        .env("APISIG_MASTER_KEY", master.to_hex().as_str())
        .status()
        .unwrap();
    assert!(status.success());
    let revoked_at = std::time::Instant::now();
    let deadline = revoked_at + TTL + Duration::from_millis(100);
    while !worker
        .by_static_key(&PresentedKey::new(key.as_str().as_bytes()))
        .unwrap()
        .unwrap()
        .key_revoked(Slot::Primary)
    {
        assert!(std::time::Instant::now() < deadline, "still not revoked after the TTL");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(worker.store().client("c").unwrap().unwrap().keys[0].revoked.is_some());
}

/// A worker given only the old master key, after the re-seal moved a secret to the new one:
/// the verifier sees `store_unavailable` (503, failing closed), and the cache says why — the
/// master key it lacks — for the server's log.
#[test]
fn the_cache_says_why_the_store_failed() {
    use apisig_store::{MasterKeys, StoreError};

    let (_dir, url, old) = setup();
    let new = MasterKey::generate().unwrap();
    let store = Store::open(&url, old.clone()).unwrap();
    store.create_client("c").unwrap();
    store.issue("c", Slot::Primary, KeyKind::Hmac).unwrap();
    let worker_old = worker(&url, &old);
    assert!(worker_old.last_failure().is_none());
    let rekeyer = Store::open(&url, MasterKeys::new(new.clone()).with_previous(old.clone())).unwrap();
    assert!(rekeyer.rekey(100, |_| std::ops::ControlFlow::Continue(())).unwrap().is_complete());
    assert_eq!(worker_old.by_id(b"c").err(), Some(Error::StoreUnavailable));
    let why = worker_old.last_failure().expect("the failure is kept");
    assert_eq!(why, StoreError::MasterKeyNotGiven { needed: new.id().into(), given: old.id().into() });
    assert!(why.to_string().contains("APISIG_MASTER_KEY_PREVIOUS"), "{why}");
    // A worker given the new key opens it.
    assert!(worker(&url, &new).by_id(b"c").unwrap().is_some());
}
