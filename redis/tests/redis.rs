//! apisig-redis against a real `redis-server` (Debian's, installed by scripts/redis-server.sh),
//! started on a free loopback port by each test and killed at its end. Each verifier here
//! stands for a worker process: its own keyring, its own replay store and connection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apisig::claim::{Claim, Deferred};
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
/// Nonces of the tests not about losing memory: above the floor a fresh store sets (the
/// present in ms), as the millisecond nonces of APEX clients are.
const N: u64 = 10_000_000_000_000;

/// A redis-server on loopback that a test can kill and start again on the same port.
struct RedisServer {
    port: u16,
    child: Option<Child>,
    args: Vec<String>,
}

impl RedisServer {
    /// Without persistence: a restart forgets everything.
    fn start() -> Option<RedisServer> {
        Self::start_with(&["--save", "", "--appendonly", "no"])
    }

    fn start_with(args: &[&str]) -> Option<RedisServer> {
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_err() {
            // A newcomer's `cargo test` without Debian's redis-server: say so. `make test`
            // installs it first, and CI must not pass without it.
            assert!(std::env::var_os("CI").is_none(), "redis-server is missing (scripts/redis-server.sh)");
            eprintln!("skipped: redis-server is not installed (scripts/redis-server.sh installs it)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let args = args.iter().map(|a| (*a).to_owned()).collect();
        let mut server = RedisServer { port, child: None, args };
        server.restart();
        Some(server)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(&self.args)
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

    /// A store that trusts a fresh Redis at once (no recovery period): for the tests that are
    /// not about losing memory. Their nonces are above any floor ([`N`]).
    fn store(&self) -> RedisReplayStore {
        RedisReplayStore::new(self.client(), NS).recovery(Duration::ZERO)
    }

    fn info(&self, field: &str) -> String {
        let mut raw = self.client().get_connection().unwrap();
        let info: String = redis::cmd("INFO").query(&mut raw).unwrap();
        let line = info.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap();
        line.trim().to_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One worker's verifier.
fn worker() -> Verifier<Keyring<4>, Deferred> {
    let mut ring = Keyring::new();
    // Registered in a different order in different workers would not matter: keys derive
    // from the key id.
    let apex = APEX_KEY;
    ring.add(apex, APEX_SECRET).unwrap();
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
    v: &mut Verifier<Keyring<4>, Deferred>,
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
    Ok(p.id.as_str().to_owned())
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
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{NS}:r:*")).query(&mut raw).unwrap();
    assert_eq!(keys.len(), 1);
    let sig = set.get("AEVO-SIGNATURE").unwrap().value;
    assert!(keys[0].starts_with(&format!("{NS}:r:")) && !keys[0].contains(&sig[..16]), "{keys:?}");
    let pttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut raw).unwrap();
    assert!((24_000..=25_000).contains(&pttl), "{pttl}");

    // APEX: the nonce high-water mark is shared; nonces compare as numbers up to u64::MAX.
    assert_eq!(check(&mut a, &mut sa, &apex(N + 10), t).as_deref(), Ok(APEX_KEY));
    assert_eq!(check(&mut b, &mut sb, &apex(N + 10), t), Err(Error::ReplayedRequest));
    let mut c = worker();
    assert_eq!(check(&mut c, &mut sb, &apex(N + 9), t), Err(Error::ReplayedRequest));
    assert_eq!(check(&mut c, &mut sb, &apex(N + 100), t).as_deref(), Ok(APEX_KEY));
    assert_eq!(check(&mut a, &mut sa, &apex(N + 99), t), Err(Error::ReplayedRequest));
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
        (0..rounds).map(|i| if i % 2 == 0 { aevo(t - i * 1_000_000) } else { apex(N + 1000 + i) }).collect();
    let requests = Arc::new(requests);
    let barrier = Arc::new(Barrier::new(racers));
    let port = server.port;
    let handles: Vec<_> = (0..racers)
        .map(|_| {
            let (requests, barrier) = (Arc::clone(&requests), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut v = worker();
                let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
                let mut store = RedisReplayStore::new(client, NS).recovery(Duration::ZERO);
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
    assert_eq!(check(&mut v, &mut closed, &apex(N + 5), t), Err(Error::ReplayStoreUnavailable));
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
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{NS}:r:*")).query(&mut raw).unwrap();
    let pttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut raw).unwrap();
    assert!((1..=1000).contains(&pttl), "{pttl}");
    std::thread::sleep(Duration::from_millis(1300));
    let left: i64 = redis::cmd("EXISTS").arg(&keys[0]).query(&mut raw).unwrap();
    assert_eq!(left, 0, "the record outlived the window");
    // The window, not the record, refuses it now.
    assert_eq!(check_one(&mut v, &mut store, &set, now()), Err(Error::TimestampOutsideWindow));
}

fn check_one(
    v: &mut Verifier<Keyring<4>, Deferred>,
    store: &mut RedisReplayStore,
    set: &HeaderSet,
    t: u64,
) -> Result<(), Error> {
    let (mut buf, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let hs = set.as_request_headers(&mut buf, &mut slots).unwrap();
    verify(v, store, &dialect::AEVO, &Request::new("POST", "/orders").with_body(BODY).with_headers(hs), t).map(|_| ())
}

fn now_ms() -> u64 {
    now() / 1_000_000
}

/// Redis restarted without persistence forgets every record; apisig notices (the memory marker
/// is gone) and refuses what it can no longer judge instead of accepting it again.
#[test]
fn a_restart_without_persistence_is_noticed_not_trusted() {
    let Some(mut server) = RedisServer::start() else { return };
    let recovery = Duration::from_millis(1500);
    let worker = || {
        let mut ring = Keyring::<4>::new();
        let apex = APEX_KEY;
        ring.add(apex, APEX_SECRET).unwrap();
        ring.bind_user_id(apex, APEX_USER).unwrap();
        ring.add(AEVO_KEY, AEVO_SECRET).unwrap();
        // A window of ±0.5 s: twice its tolerance is within the recovery period.
        Verifier::new(ring, Deferred::new(), Window::from_nanos(500_000_000))
    };
    let mut store = RedisReplayStore::new(server.client(), NS).recovery(recovery);
    // A fresh Redis cannot prove it remembers: refused for the recovery period.
    let mut v = worker();
    assert_eq!(check(&mut v, &mut store, &aevo(now()), now()), Err(Error::ReplayStoreUnavailable));
    // Past the recovery period with a margin: an APEX nonce is in whole milliseconds, so one
    // taken within a millisecond of the period's end may still be at its floor.
    std::thread::sleep(recovery + Duration::from_millis(100));

    let t = now();
    let request = aevo(t);
    assert_eq!(check(&mut v, &mut store, &request, t).as_deref(), Ok(AEVO_KEY));
    let login = now_ms();
    assert_eq!(check(&mut v, &mut store, &apex(login), now()).as_deref(), Ok(APEX_KEY));

    server.kill();
    server.restart();
    // Each check from a new worker: no process memory helps, only Redis's.
    assert_eq!(check(&mut worker(), &mut store, &request, t), Err(Error::ReplayStoreUnavailable));
    assert_eq!(check(&mut worker(), &mut store, &apex(login), now()), Err(Error::ReplayStoreUnavailable));
    // A login signed now is below the floor (the restart plus the recovery period) too.
    assert_eq!(check(&mut worker(), &mut store, &apex(now_ms()), now()), Err(Error::ReplayStoreUnavailable));
    std::thread::sleep(recovery + Duration::from_millis(100));
    // The recovery is over: the request is out of its window, the nonce below the floor for
    // good, and new requests are accepted.
    assert_eq!(check(&mut worker(), &mut store, &request, now()), Err(Error::TimestampOutsideWindow));
    assert_eq!(check(&mut worker(), &mut store, &apex(login), now()), Err(Error::ReplayedRequest));
    assert_eq!(check(&mut worker(), &mut store, &apex(now_ms()), now()).as_deref(), Ok(APEX_KEY));
    let t = now();
    assert_eq!(check(&mut worker(), &mut store, &aevo(t), t).as_deref(), Ok(AEVO_KEY));
}

/// With a small `maxmemory` and an evicting policy, Redis evicts replay records when another
/// tenant fills it; apisig sees the evictions and refuses the evicted request rather than accept
/// it. `allkeys-lru` may evict the memory marker too; `volatile-lru` evicts only keys with a
/// time to live — replay records, never the marker — so the eviction count alone gives the
/// loss away there.
#[test]
fn an_evicting_redis_refuses_rather_than_forgets() {
    for policy in ["allkeys-lru", "volatile-lru"] {
        let args = ["--save", "", "--appendonly", "no", "--maxmemory", "2mb", "--maxmemory-policy", policy];
        let Some(server) = RedisServer::start_with(&args) else { return };
        let recovery = Duration::from_millis(1000);
        let mut store = RedisReplayStore::new(server.client(), NS).recovery(recovery);
        let mut v = worker();
        assert_eq!(check(&mut v, &mut store, &aevo(now()), now()), Err(Error::ReplayStoreUnavailable));
        std::thread::sleep(recovery);
        let t = now();
        let request = aevo(t);
        assert_eq!(check(&mut v, &mut store, &request, t).as_deref(), Ok(AEVO_KEY));
        let mut raw = server.client().get_connection().unwrap();
        let record: Vec<String> = redis::cmd("KEYS").arg(format!("{NS}:r:*")).query(&mut raw).unwrap();
        assert_eq!(record.len(), 1);

        // Redis's LRU clock ticks once a second: let the record grow older than what follows.
        std::thread::sleep(Duration::from_millis(1100));
        // Another tenant writes twice the memory limit (keys with a time to live).
        let filler = vec![b'x'; 10_000];
        for i in 0..400 {
            let () = redis::cmd("SET")
                .arg(format!("other-app:{i}"))
                .arg(&filler)
                .arg("EX")
                .arg(600)
                .query(&mut raw)
                .unwrap();
        }
        assert_ne!(server.info("evicted_keys"), "0", "{policy}");
        let left: i64 = redis::cmd("EXISTS").arg(&record[0]).query(&mut raw).unwrap();
        assert_eq!(left, 0, "{policy}: the replay record was evicted, Redis forgot the request");
        if policy.starts_with("volatile") {
            let marker: i64 = redis::cmd("EXISTS").arg(format!("{NS}:epoch")).query(&mut raw).unwrap();
            assert_eq!(marker, 1, "the marker has no time to live");
        }
        // A worker that never saw it, within its window: refused, not accepted again.
        assert_eq!(check(&mut worker(), &mut store, &request, now()), Err(Error::ReplayStoreUnavailable), "{policy}");
    }
}

/// A claim that reaches Redis after its request's window closed (a busy worker verified it in
/// time, then was slow to ask) is refused: else its replay, verified in time and asked later
/// still, would find the record expired and be accepted again (the soak found this).
#[test]
fn a_claim_arriving_after_its_window_is_refused() {
    let Some(server) = RedisServer::start() else { return };
    let mut store = server.store();
    let key_id = || AEVO_KEY.try_into().unwrap();
    let t = now();
    // Verified 2 s ago with 1 s left: the window closed a second before the claim arrives.
    let late = Claim::Once { key_id: key_id(), id: [1; 16], expires: t - 1_000_000_000, now: t - 2_000_000_000 };
    assert_eq!(store.claim(&late), Err(Error::TimestampOutsideWindow));
    // The record is kept until the request's expiry by Redis's clock, however late it was made.
    let in_time = Claim::Once { key_id: key_id(), id: [2; 16], expires: t + 1_000_000_000, now: t - 2_000_000_000 };
    assert_eq!(store.claim(&in_time), Ok(()));
    assert_eq!(store.claim(&in_time), Err(Error::ReplayedRequest));
    let mut raw = server.client().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{NS}:r:*")).query(&mut raw).unwrap();
    let pttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut raw).unwrap();
    assert!((1..=1000).contains(&pttl), "{pttl}");
}
