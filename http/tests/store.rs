//! The layer over a client store that does I/O: apisig-store's `CachedStore` in front of an
//! SQLite file and of a real PostgreSQL server (127.0.0.1, started by the test as the store's
//! own tests do), with `Authenticator::offload`, over real HTTP on 127.0.0.1. A key issued
//! through `Store` verifies; revoked through another `Store` handle (another worker, the
//! command line) it is refused once the cache's time to live has passed; while a lookup waits
//! on the database the runtime (one thread here) goes on serving other requests; a stopped
//! database answers 503 `store_unavailable`, and once restarted the same server recovers.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

mod common;
#[path = "../../store/tests/common/pg.rs"]
mod pg;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use apisig::client::Slot;
use apisig::{Verifier, Window, dialect, replay::ReplayCache};
use apisig_http::server::Authenticator;
use apisig_store::{CacheConfig, CachedStore, KeyKind, MasterKey, Store};
use serde_json::Value;

const TTL: Duration = Duration::from_millis(400);

/// The layer over a cache (time to live [`TTL`]) in front of `store`, verifying on the
/// blocking pool, served on a free loopback port.
async fn serve(store: Store) -> SocketAddr {
    let cache = CachedStore::new(store, CacheConfig { ttl: TTL, ..CacheConfig::default() });
    let verifier = Verifier::new(cache, ReplayCache::<64>::new(), Window::DEFAULT);
    let auth = Authenticator::new(verifier).scheme(&dialect::SIGNIUS).unwrap().exempt("/health").offload(true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = common::app(auth, common::Log::default());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The status and the client id (or the error name) `key` gets.
async fn ask(addr: SocketAddr, key: &str) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let res = client.get(format!("http://{addr}/account")).header("X-Api-Key", key).send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let who = body["client_id"].as_str().or(body["error"].as_str()).unwrap_or("").to_owned();
    (status, who)
}

fn answer(status: u16, who: &str) -> (u16, String) {
    (status, who.to_owned())
}

/// One runtime thread: a lookup blocking it would hold up every other request.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn sqlite_issued_keys_verify_and_a_revocation_reaches_the_worker_within_the_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("keys.db").display());
    let master = MasterKey::generate().unwrap();
    let store = Store::open(&url, master.clone()).unwrap();
    store.create_client("client-7").unwrap();
    let key = store.issue("client-7", Slot::Primary, KeyKind::Static).unwrap();
    // Another handle on the same file: another worker, `apisig keys …`.
    let admin = Store::open(&url, master).unwrap();
    runtime().block_on(async {
        let addr = serve(store).await;
        assert_eq!(ask(addr, key.as_str()).await, answer(200, "client-7"));
        admin.create_client("client-8").unwrap();
        let other = admin.issue("client-8", Slot::Primary, KeyKind::Static).unwrap();
        assert_eq!(ask(addr, other.as_str()).await, answer(200, "client-8"), "issued while serving");
        admin.revoke_client("client-7").unwrap();
        tokio::time::sleep(TTL + Duration::from_millis(100)).await;
        assert_eq!(ask(addr, key.as_str()).await, answer(401, "client_revoked"));
        assert_eq!(ask(addr, other.as_str()).await, answer(200, "client-8"));
    });
}

#[test]
fn postgres_lookups_wait_off_the_runtime_and_a_stopped_server_is_503_until_restarted() {
    let Some(mut server) = pg::PgServer::start() else { return };
    let url = server.database("http_layer");
    let master = MasterKey::generate().unwrap();
    let store = Store::open(&url, master).unwrap();
    store.create_client("client-7").unwrap();
    let key = store.issue("client-7", Slot::Primary, KeyKind::Static).unwrap();
    let rt = runtime();
    let addr = rt.block_on(async {
        let addr = serve(store).await;
        assert_eq!(ask(addr, key.as_str()).await, answer(200, "client-7"));
        addr
    });

    // Another session locks the keys table: the next lookup (the entry stale) waits for it.
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let (release, release_rx) = std::sync::mpsc::channel::<()>();
    let locker_url = url.clone();
    let locker = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&locker_url, postgres::NoTls).unwrap();
        let mut tx = c.transaction().unwrap();
        tx.batch_execute("LOCK TABLE apisig_keys IN ACCESS EXCLUSIVE MODE").unwrap();
        locked_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        tx.commit().unwrap();
    });
    locked.recv().unwrap();
    rt.block_on(async {
        tokio::time::sleep(TTL + Duration::from_millis(100)).await;
        let k = key.as_str().to_owned();
        let waiting = tokio::spawn(async move { ask(addr, &k).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "the lookup waits for the lock");
        // Meanwhile the runtime's one thread serves the others.
        let started = Instant::now();
        let health = reqwest::Client::builder().no_proxy().build().unwrap();
        assert_eq!(health.get(format!("http://{addr}/health")).send().await.unwrap().status(), 200);
        assert!(started.elapsed() < Duration::from_secs(2), "/health took {:?}", started.elapsed());
        assert!(!waiting.is_finished(), "still waiting for the lock");
        release.send(()).unwrap();
        assert_eq!(waiting.await.unwrap(), answer(200, "client-7"));
    });
    locker.join().unwrap();

    server.stop();
    rt.block_on(async {
        tokio::time::sleep(TTL + Duration::from_millis(100)).await;
        assert_eq!(ask(addr, key.as_str()).await, answer(503, "store_unavailable"));
    });
    server.restart();
    rt.block_on(async {
        assert_eq!(ask(addr, key.as_str()).await, answer(200, "client-7"), "recovered without a restart");
    });
}
