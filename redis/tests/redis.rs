//! apisig-redis against a real `redis-server` (Debian's, installed by scripts/redis-server.sh),
//! started on a free loopback port by each test and killed at its end. Each verifier here
//! stands for a worker process: its own keyring, its own replay store and connection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apisig::claim::Deferred;
use apisig::{
    Credentials, Error, Request, Signer, Stamp, Verifier, Window, dialect,
    headers::{Header, HeaderSet, MAX_HEADERS},
    keyring::Keyring,
};
use apisig_redis::{RedisReplayStore, verify};

const AEVO_KEY: &str = "aevo-rust-key";
const AEVO_SECRET: &[u8] = b"aevo-rust-secret";
const APEX_KEY: &str = "apex-rust-key";
const APEX_SECRET: &[u8] = b"apex-rust-secret";
const APEX_USER: &str = "77";
const NS: &str = "apisig-rust-test";

/// A redis-server on loopback that a test can kill and start again on the same port.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    fn start() -> Option<RedisServer> {
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_err() {
            // A newcomer's `cargo test` without Debian's redis-server: say so. `make test`
            // installs it first, and CI must not pass without it.
            assert!(std::env::var_os("CI").is_none(), "redis-server is missing (scripts/redis-server.sh)");
            eprintln!("skipped: redis-server is not installed (scripts/redis-server.sh installs it)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = RedisServer { port, child: None };
        server.restart();
        Some(server)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap()
    }

    fn store(&self) -> RedisReplayStore {
        RedisReplayStore::new(self.client(), NS)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One worker's verifier.
fn worker() -> Verifier<4, Deferred> {
    let mut ring = Keyring::new();
    // Registered in a different order in different workers would not matter: keys derive
    // from the key id.
    let apex = ring.add(APEX_KEY, APEX_SECRET).unwrap();
    ring.bind_user_id(apex, APEX_USER).unwrap();
    ring.add(AEVO_KEY, AEVO_SECRET).unwrap();
    Verifier::new(ring, Deferred::new(), Window::from_secs(30))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

const BODY: &[u8] = b"{\"side\":\"buy\"}";

fn aevo(ts: u64) -> HeaderSet<'static> {
    let creds = Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY };
    Signer::new(&dialect::AEVO, creds)
        .unwrap()
        .sign(&Request::new("POST", "/orders").with_body(BODY), Stamp { now: ts, nonce: None })
        .unwrap()
}

fn apex(nonce: u64) -> HeaderSet<'static> {
    let creds = Credentials { api_key: APEX_KEY, secret: APEX_SECRET, user_id: APEX_USER, ..Credentials::EMPTY };
    Signer::new(&dialect::APEX, creds)
        .unwrap()
        .sign(&Request::new("POST", "/AuthenticateUser"), Stamp { now: now(), nonce: Some(nonce) })
        .unwrap()
}

/// Verifies the signed request `set` with `v` and `store`; the client's key id, or the error.
fn check(
    v: &mut Verifier<4, Deferred>,
    store: &mut RedisReplayStore,
    set: &HeaderSet,
    t: u64,
) -> Result<String, Error> {
    let (mut buf, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let hs = set.as_request_headers(&mut buf, &mut slots).unwrap();
    let (scheme, req) = if set.get("AEVO-SIGNATURE").is_some() {
        (&dialect::AEVO, Request::new("POST", "/orders").with_body(BODY))
    } else {
        (&dialect::APEX, Request::new("POST", "/AuthenticateUser"))
    };
    let p = verify(v, store, scheme, &req.with_headers(hs), t)?;
    Ok(v.keyring().get(p.client).unwrap().id().to_owned())
}

#[test]
fn a_request_replayed_to_another_worker_is_refused() {
    let Some(server) = RedisServer::start() else { return };
    let (mut a, mut b) = (worker(), worker());
    let (mut sa, mut sb) = (server.store(), server.store());
    let t = now();
    let set = aevo(t - 5_000_000_000);
    assert_eq!(check(&mut a, &mut sa, &set, t).as_deref(), Ok(AEVO_KEY));
    assert_eq!(check(&mut b, &mut sb, &set, t), Err(Error::ReplayedRequest));
    assert_eq!(check(&mut a, &mut sa, &set, t), Err(Error::ReplayedRequest));

    // One key, hashed (no signature in it), kept until the timestamp plus the tolerance.
    let mut raw = server.client().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut raw).unwrap();
    assert_eq!(keys.len(), 1);
    let sig = set.get("AEVO-SIGNATURE").unwrap().value;
    assert!(keys[0].starts_with(&format!("{NS}:r:")) && !keys[0].contains(&sig[..16]), "{keys:?}");
    let pttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut raw).unwrap();
    assert!((24_000..=25_000).contains(&pttl), "{pttl}");

    // APEX: the nonce high-water mark is shared; nonces compare as numbers up to u64::MAX.
    assert_eq!(check(&mut a, &mut sa, &apex(10), t).as_deref(), Ok(APEX_KEY));
    assert_eq!(check(&mut b, &mut sb, &apex(10), t), Err(Error::ReplayedRequest));
    let mut c = worker();
    assert_eq!(check(&mut c, &mut sb, &apex(9), t), Err(Error::ReplayedRequest));
    assert_eq!(check(&mut c, &mut sb, &apex(100), t).as_deref(), Ok(APEX_KEY));
    assert_eq!(check(&mut a, &mut sa, &apex(99), t), Err(Error::ReplayedRequest));
    assert_eq!(check(&mut a, &mut sa, &apex(u64::MAX), t).as_deref(), Ok(APEX_KEY));
    let mark: Vec<String> = redis::cmd("KEYS").arg(format!("{NS}:n:*")).query(&mut raw).unwrap();
    let value: String = redis::cmd("GET").arg(&mark[0]).query(&mut raw).unwrap();
    assert_eq!((mark.len(), value.as_str()), (1, "18446744073709551615"));
}

#[test]
fn workers_racing_the_same_request_accept_it_exactly_once() {
    let Some(server) = RedisServer::start() else { return };
    let racers = 4;
    let rounds = 50u64;
    let t = now();
    let requests: Vec<HeaderSet<'static>> =
        (0..rounds).map(|i| if i % 2 == 0 { aevo(t - i * 1_000_000) } else { apex(1000 + i) }).collect();
    let requests = Arc::new(requests);
    let barrier = Arc::new(Barrier::new(racers));
    let port = server.port;
    let handles: Vec<_> = (0..racers)
        .map(|_| {
            let (requests, barrier) = (Arc::clone(&requests), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut v = worker();
                let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
                let mut store = RedisReplayStore::new(client, NS);
                requests
                    .iter()
                    .map(|set| {
                        barrier.wait();
                        check(&mut v, &mut store, set, t).is_ok()
                    })
                    .collect::<Vec<bool>>()
            })
        })
        .collect();
    let results: Vec<Vec<bool>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for round in 0..rounds as usize {
        let accepted = results.iter().filter(|r| r[round]).count();
        assert_eq!(accepted, 1, "round {round}");
    }
}

#[test]
fn redis_down_fails_closed_unless_told_otherwise_and_recovers() {
    let Some(mut server) = RedisServer::start() else { return };
    let mut v = worker();
    let mut closed = server.store().with_timeout(Duration::from_millis(500));
    let mut open = server.store().fail_open(true);
    let t = now();
    assert!(check(&mut v, &mut closed, &aevo(t), t).is_ok(), "connected once");
    server.kill();
    assert_eq!(check(&mut v, &mut closed, &aevo(t - 1), t), Err(Error::ReplayStoreUnavailable));
    assert_eq!(check(&mut v, &mut closed, &apex(5), t), Err(Error::ReplayStoreUnavailable));
    assert_eq!(check(&mut v, &mut open, &aevo(t - 2), t).as_deref(), Ok(AEVO_KEY));
    assert_eq!(open.accepted_unavailable(), 1);
    server.restart();
    // A new connection is opened: the store recovers by itself.
    assert_eq!(check(&mut v, &mut closed, &aevo(t - 3), t).as_deref(), Ok(AEVO_KEY));
    assert_eq!(check(&mut v, &mut closed, &aevo(t - 3), t), Err(Error::ReplayedRequest));
}

#[test]
fn entries_expire_with_the_window() {
    let Some(server) = RedisServer::start() else { return };
    let mut ring = Keyring::<4>::new();
    ring.add(AEVO_KEY, AEVO_SECRET).unwrap();
    let mut v = Verifier::new(ring, Deferred::new(), Window::from_secs(1));
    let mut store = server.store();
    let t = now();
    let set = aevo(t);
    assert!(check_one(&mut v, &mut store, &set, t).is_ok());
    let mut raw = server.client().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut raw).unwrap();
    let pttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut raw).unwrap();
    assert!((1..=1000).contains(&pttl), "{pttl}");
    std::thread::sleep(Duration::from_millis(1300));
    let left: i64 = redis::cmd("EXISTS").arg(&keys[0]).query(&mut raw).unwrap();
    assert_eq!(left, 0, "the record outlived the window");
    // The window, not the record, refuses it now.
    assert_eq!(check_one(&mut v, &mut store, &set, now()), Err(Error::TimestampOutsideWindow));
}

fn check_one(
    v: &mut Verifier<4, Deferred>,
    store: &mut RedisReplayStore,
    set: &HeaderSet,
    t: u64,
) -> Result<(), Error> {
    let (mut buf, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let hs = set.as_request_headers(&mut buf, &mut slots).unwrap();
    verify(v, store, &dialect::AEVO, &Request::new("POST", "/orders").with_body(BODY).with_headers(hs), t).map(|_| ())
}
