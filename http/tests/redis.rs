//! The replay record shared by workers in Redis, asked asynchronously: two axum servers (two
//! "workers") on one redis-server that each test starts on a free loopback port. The tests
//! run on tokio's single-threaded runtime, servers and clients on one thread: a claim that
//! blocked the runtime would hang them.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apisig::claim::Deferred;
use apisig::session::SessionKeys;
use apisig::{Credentials, Request as CoreRequest, Signer, Stamp, Verifier, Window, dialect, keyring::Keyring};
use apisig_http::client::ApexSession;
use apisig_http::server::Authenticator;
use apisig_redis::AsyncRedisReplayStore;
use common::*;

struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    fn start() -> Option<RedisServer> {
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_err() {
            assert!(std::env::var_os("CI").is_none(), "redis-server is missing (scripts/redis-server.sh)");
            eprintln!("skipped: redis-server is not installed (scripts/redis-server.sh installs it)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Some(RedisServer { port, child: Self::spawn(port) })
    }

    /// Without persistence: a restart forgets everything.
    fn spawn(port: u16) -> Child {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::spawn(self.port);
    }

    /// A store that trusts a fresh Redis at once (no recovery period), for the tests not
    /// about losing memory.
    fn store(&self) -> AsyncRedisReplayStore {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap();
        AsyncRedisReplayStore::with_timeout(client, "apisig-http-test", Duration::from_millis(300))
            .unwrap()
            .recovery(Duration::ZERO)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn worker(store: AsyncRedisReplayStore) -> Authenticator {
    let mut ring = Keyring::<4>::new();
    ring.add(AEVO_KEY, AEVO_SECRET).unwrap();
    let apex = APEX_KEY;
    ring.add(apex, APEX_SECRET).unwrap();
    ring.bind_user_id(apex, APEX_USER).unwrap();
    let mut v = Verifier::new(ring, Deferred::new(), Window::DEFAULT);
    v.set_session_keys(Some(SessionKeys::new(SESSION_SECRET).unwrap()));
    Authenticator::shared(v, store)
        .scheme(&dialect::AEVO)
        .unwrap()
        .scheme(&dialect::APEX)
        .unwrap()
        .scheme(&dialect::APEX_SESSION)
        .unwrap()
        .apex_login("/AuthenticateUser")
}

async fn post(addr: SocketAddr, headers: &[(String, String)]) -> (u16, serde_json::Value) {
    let mut req =
        reqwest::Client::builder().no_proxy().build().unwrap().post(format!("http://{addr}/v1/orders")).body("{}");
    for (n, v) in headers {
        req = req.header(n, v);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or_default())
}

fn signed(scheme: &apisig::scheme::Scheme<'static>, nonce: Option<u64>) -> Vec<(String, String)> {
    let c = Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY };
    let c = if nonce.is_some() {
        Credentials { api_key: APEX_KEY, secret: APEX_SECRET, user_id: APEX_USER, ..c }
    } else {
        c
    };
    let set = Signer::new(scheme, c)
        .unwrap()
        .sign(&CoreRequest::new("POST", "/v1/orders").with_body(b"{}"), Stamp { now: apisig_http::now(), nonce })
        .unwrap();
    set.iter().map(|l| (l.name.to_owned(), format!("{}{}", l.prefix, l.value))).collect()
}

#[tokio::test]
async fn workers_share_one_replay_record_and_fail_closed_without_it() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, _) = serve(worker(redis.store())).await;
    let (b, _) = serve(worker(redis.store())).await;

    // A signature accepted by one worker is a replay at the other.
    let aevo = signed(&dialect::AEVO, None);
    assert_eq!(post(a, &aevo).await.0, 200);
    let (status, body) = post(b, &aevo).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("replayed_request")));

    // APEX nonces: the high-water mark is shared too.
    let now_ms = apisig_http::now() / 1_000_000;
    assert_eq!(post(b, &signed(&dialect::APEX, Some(now_ms))).await.0, 200);
    let (status, body) = post(a, &signed(&dialect::APEX, Some(now_ms))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("replayed_request")));

    // The APEX client's whole flow against worker a, its session token used at worker b.
    let c = Credentials { api_key: APEX_KEY, secret: APEX_SECRET, user_id: APEX_USER, ..Credentials::EMPTY };
    let session = std::sync::Arc::new(ApexSession::new(c, "/AuthenticateUser").unwrap());
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::builder().no_proxy().build().unwrap())
        .with_arc(session.clone())
        .build();
    assert_eq!(client.get(format!("http://{a}/v1/account")).send().await.unwrap().status(), 200);
    let token = session.token().unwrap();
    let (status, body) = post(b, &[("aptoken".to_owned(), token)]).await;
    assert_eq!((status, body["client_id"].as_str()), (200, Some(APEX_KEY)));

    // Redis gone: refused with 503, failing closed, quickly.
    drop(redis);
    let started = Instant::now();
    let (status, body) = post(a, &signed(&dialect::AEVO, None)).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("replay_store_unavailable")));
    assert!(started.elapsed() < Duration::from_secs(5), "the timeout holds: {:?}", started.elapsed());
}

#[tokio::test]
async fn fail_open_accepts_and_counts_when_redis_is_down() {
    let Some(redis) = RedisServer::start() else { return };
    let store = redis.store().fail_open(true);
    drop(redis);
    let (a, _) = serve(worker(store.clone())).await;
    assert_eq!(post(a, &signed(&dialect::AEVO, None)).await.0, 200);
    assert_eq!(store.accepted_unavailable(), 1);
}

#[tokio::test]
async fn a_restart_without_persistence_is_refused_not_forgotten() {
    let Some(mut redis) = RedisServer::start() else { return };
    let recovery = Duration::from_millis(1500);
    let (a, _) = serve(worker(redis.store().recovery(recovery))).await;
    let (b, _) = serve(worker(redis.store().recovery(recovery))).await;
    // A fresh Redis cannot prove it remembers.
    let (status, body) = post(a, &signed(&dialect::AEVO, None)).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("replay_store_unavailable")));
    tokio::time::sleep(recovery).await;
    let aevo = signed(&dialect::AEVO, None);
    assert_eq!(post(a, &aevo).await.0, 200);
    let login = signed(&dialect::APEX, Some(apisig_http::now() / 1_000_000));
    assert_eq!(post(a, &login).await.0, 200);

    redis.restart();
    // Worker b never saw them; Redis forgot them: refused, not accepted again.
    let (status, body) = post(b, &aevo).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("replay_store_unavailable")));
    assert_eq!(post(b, &login).await.0, 503);
    tokio::time::sleep(recovery + Duration::from_millis(100)).await;
    // Past the recovery the login's nonce stays below the floor; a new one is accepted.
    let (status, body) = post(b, &login).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("replayed_request")));
    assert_eq!(post(b, &signed(&dialect::APEX, Some(apisig_http::now() / 1_000_000))).await.0, 200);
}
