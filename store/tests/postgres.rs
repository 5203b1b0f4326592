//! The PostgreSQL store against a real server: Debian's PostgreSQL (installed by
//! scripts/postgres-server.sh, which `make test` runs first), started here with initdb and
//! postgres in a temporary directory on a free 127.0.0.1 port — as `nobody` when the tests
//! run as root, which PostgreSQL refuses.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod common;

use std::time::Duration;

use common::pg::PgServer;

use apisig::client::Slot;
use apisig_store::{KeyKind, MasterKey, Store, StoreError};

#[test]
fn lifecycle_and_master_key_in_postgres() {
    let Some(pg) = PgServer::start() else { return };
    let store = Store::open(&pg.database("lifecycle"), MasterKey::generate().unwrap()).unwrap();
    common::lifecycle(&store);
    common::import(&store);
    common::wrong_master_key(&pg.database("master"));
}

/// Several workers opening one new database at once: one migrates, the others wait for it
/// (an advisory lock); all end up with the same store.
#[test]
fn workers_opening_a_new_database_together_migrate_it_once() {
    let Some(pg) = PgServer::start() else { return };
    let url = pg.database("together");
    let master = MasterKey::generate().unwrap();
    let stores: Vec<Store> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| Store::open(&url, master.clone()).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    stores[0].create_client("c").unwrap();
    assert!(stores.iter().all(|s| s.client("c").unwrap().is_some()));
}

/// The server stopped: every call fails as unavailable (a verifier answers 503) — except a
/// mistyped key, refused by its checksum without asking the store. Restarted: the same
/// store works again, without being reopened.
#[test]
fn stopped_postgres_is_unavailable_and_a_restart_recovers() {
    let Some(mut pg) = PgServer::start() else { return };
    let store = Store::open(&pg.database("restart"), MasterKey::generate().unwrap()).unwrap();
    store.create_client("c").unwrap();
    let key = store.issue("c", Slot::Primary, KeyKind::Static).unwrap();
    assert!(store.load_by_static_key(key.as_str().as_bytes()).unwrap().is_some());

    pg.stop();
    assert!(matches!(store.load_by_static_key(key.as_str().as_bytes()), Err(StoreError::Unavailable(_))));
    assert!(matches!(store.load("c"), Err(StoreError::Unavailable(_))));
    assert!(matches!(store.issue("c", Slot::Secondary, KeyKind::Static), Err(StoreError::Unavailable(_))));
    let mut typo = key.as_str().as_bytes().to_vec();
    typo[30] = if typo[30] == b'a' { b'b' } else { b'a' };
    assert_eq!(store.load_by_static_key(&typo).unwrap_err(), StoreError::Core(apisig::Error::InvalidKeyFormat));

    pg.restart();
    assert_eq!(store.load_by_static_key(key.as_str().as_bytes()).unwrap().unwrap().info.id, "c");
    // The failed issue wrote nothing.
    assert_eq!(store.client("c").unwrap().unwrap().keys.len(), 1);
}

/// Workers verifying through caches when PostgreSQL stops: an entry past its time-to-live
/// fails closed ([`apisig::Error::StoreUnavailable`], HTTP 503) — unless the worker opted
/// into serving stale entries — and a restarted server is used again by the same caches.
#[test]
fn caches_fail_closed_while_postgres_is_down_and_recover() {
    use apisig::store::{ClientStore, PresentedKey};
    use apisig_store::{CacheConfig, CachedStore};

    let Some(mut pg) = PgServer::start() else { return };
    let url = pg.database("cache");
    let master = MasterKey::generate().unwrap();
    let ttl = Duration::from_millis(200);
    let strict =
        CachedStore::new(Store::open(&url, master.clone()).unwrap(), CacheConfig { ttl, ..CacheConfig::default() });
    let lenient = CachedStore::new(
        Store::open(&url, master).unwrap(),
        CacheConfig { ttl, serve_stale: Some(Duration::from_secs(60)), ..CacheConfig::default() },
    );
    strict.store().create_client("c").unwrap();
    let key = strict.store().issue("c", Slot::Primary, KeyKind::Static).unwrap();
    let k = key.as_str().as_bytes();
    assert_eq!(strict.by_static_key(&PresentedKey::new(k)).unwrap().unwrap().id(), "c");
    assert_eq!(lenient.by_static_key(&PresentedKey::new(k)).unwrap().unwrap().id(), "c");

    pg.stop();
    std::thread::sleep(ttl + Duration::from_millis(50));
    assert_eq!(strict.by_static_key(&PresentedKey::new(k)).unwrap_err(), apisig::Error::StoreUnavailable);
    assert_eq!(strict.by_id(b"c").unwrap_err(), apisig::Error::StoreUnavailable);
    assert_eq!(apisig::Error::StoreUnavailable.http_status(), 503);
    assert_eq!(lenient.by_static_key(&PresentedKey::new(k)).unwrap().unwrap().id(), "c", "served stale, as chosen");
    assert_eq!(lenient.by_id(b"c").unwrap_err(), apisig::Error::StoreUnavailable, "never fetched: nothing to serve");

    pg.restart();
    assert_eq!(strict.by_static_key(&PresentedKey::new(k)).unwrap().unwrap().id(), "c");
    assert_eq!(lenient.by_id(b"c").unwrap().unwrap().id(), "c");
}

#[test]
fn rekey_in_postgres() {
    let Some(pg) = PgServer::start() else { return };
    common::rekey(&pg.database("rekey"));
    common::rekey_while_verifying(&pg.database("rekey_busy"));
}

/// Lookups from several threads run on several connections: a call stuck on a row lock does
/// not hold up another thread's lookup (with one connection, it does).
#[test]
fn lookups_overlap_on_the_pool() {
    use std::sync::mpsc;

    let Some(pg) = PgServer::start() else { return };
    let url = pg.database("pool");
    let master = MasterKey::generate().unwrap();
    for size in [4, 1] {
        let store = Store::open(&format!("{url}?pool_size={size}"), master.clone()).unwrap();
        assert_eq!(store.pool_size(), size);
        let (a, b) = (format!("a{size}"), format!("b{size}"));
        store.create_client(&a).unwrap();
        store.create_client(&b).unwrap();
        let mut locker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut lock = locker.transaction().unwrap();
        lock.query("SELECT 1 FROM apisig_clients WHERE id = $1 FOR UPDATE", &[&a]).unwrap();
        std::thread::scope(|s| {
            let (a_done, a_rx) = mpsc::channel();
            let (store, a, b) = (&store, &a, &b);
            s.spawn(move || a_done.send(store.set_role(a, Some("x"))).unwrap());
            // Until the change waits for the row lock, on one of the store's connections.
            let mut watch = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while watch
                .query_one("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'", &[])
                .unwrap()
                .get::<_, i64>(0)
                == 0
            {
                assert!(std::time::Instant::now() < deadline, "the change never waited");
                std::thread::sleep(Duration::from_millis(20));
            }
            let (b_done, b_rx) = mpsc::channel();
            s.spawn(move || b_done.send(store.load(b).map(|r| r.map(|r| r.info.id))).unwrap());
            let early = b_rx.recv_timeout(Duration::from_millis(1500));
            if size > 1 {
                assert_eq!(early.unwrap(), Ok(Some(b.clone())), "the lookup ran beside the stuck change");
            } else {
                assert!(early.is_err(), "one connection: the lookup waits for it");
            }
            assert!(a_rx.try_recv().is_err(), "the change is still waiting for its lock");
            lock.rollback().unwrap();
            assert_eq!(a_rx.recv_timeout(Duration::from_secs(10)).unwrap(), Ok(()));
            if size == 1 {
                assert_eq!(b_rx.recv_timeout(Duration::from_secs(10)).unwrap(), Ok(Some(b.clone())));
            }
        });
    }
}
