//! The apisig verifier's replay record shared by several processes (and machines), in Redis.
//!
//! A verifier keeps the requests it accepted in its own memory, so a request replayed to
//! another worker process would be accepted again. Give every worker a verifier with a
//! [`Deferred`] replay store and a [`RedisReplayStore`] on the same Redis: the verifier checks
//! the request, and the claim it hands over is made good in Redis by one atomic Lua script,
//! [`apisig::claim::CLAIM_SCRIPT`] — `SET <namespace>:r:<key> 1 NX PXAT <expires>` for a signature,
//! a raised high-water mark for a nonce — which also notices a Redis that lost its memory
//! (restarted without persistence, flushed, failed over, evicting) and then refuses for a
//! recovery period ([`RedisReplayStore::recovery`]). The core names the keys and runs the same
//! rule for every face, Python included, so Rust and Python workers can share one Redis.
//!
//! ```no_run
//! use apisig::claim::Deferred;
//! use apisig::{Request, Verifier, Window, dialect, keyring::Keyring};
//! use apisig_redis::RedisReplayStore;
//!
//! let client = redis::Client::open("redis://127.0.0.1:6379/")?;
//! let mut store = RedisReplayStore::new(client, "shop-api");
//! let mut keyring = Keyring::<64>::new();
//! keyring.add("aevo-key-1", b"aevo-secret-1")?;
//! let mut verifier = Verifier::new(keyring, Deferred::new(), Window::from_secs(30));
//! # let (request, now) = (Request::new("GET", "/"), 0);
//! let principal = apisig_redis::verify(&mut verifier, &mut store, &dialect::AEVO, &request, now)?;
//! # let _ = principal;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Several threads: keep the verifier behind a lock and release it before the round trip
//! to Redis; the claim names the client by its key id, so nothing is looked up after:
//!
//! ```no_run
//! # use std::sync::Mutex;
//! # use apisig::claim::Deferred;
//! # use apisig::{Request, Verifier, Window, dialect, keyring::Keyring};
//! # use apisig_redis::RedisReplayStore;
//! # let verifier = Mutex::new(Verifier::new(Keyring::<4>::new(), Deferred::new(), Window::DEFAULT));
//! # let mut store = RedisReplayStore::new(redis::Client::open("redis://127.0.0.1/")?, "api");
//! # let (request, now) = (Request::new("GET", "/"), 0);
//! let (principal, claim) = {
//!     let mut v = verifier.lock().map_err(|_| "poisoned")?;
//!     let _ = v.replay_mut().take(); // a claim a refused request left behind
//!     let p = v.verify(&dialect::AEVO, &request, now)?;
//!     (p, v.replay_mut().take())
//! };
//! if let Some(claim) = claim {
//!     store.claim(&claim)?; // each thread its own store (connection)
//! }
//! # let _ = principal;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Fail closed: when Redis cannot be reached, or lost its memory less than the recovery period
//! ago, the claim fails with [`Error::ReplayStoreUnavailable`] (answer 503). Only unreachable
//! is let through by a store built with [`fail_open(true)`](RedisReplayStore::fail_open).
//!
//! # Cargo features
//!
//! - `tokio`: `AsyncRedisReplayStore`, the same store for tokio servers, on redis-rs's
//!   reconnecting connection manager (what `apisig-http`'s `redis` feature uses).
//!
//! Without it the crate has the blocking store only. Minimum Rust: 1.88 (redis-rs needs it).
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use apisig::claim::{CLAIM_SCRIPT, Claim, DEFAULT_RECOVERY_MS, Deferred, script_outcome};
use apisig::store::ClientStore;
use apisig::{Error, Principal, Request, UnixNanos, Verifier, scheme::Scheme};

// The workspace README's Rust examples, compiled and run as this crate's doctests (it depends
// on the core), so every example a newcomer copies from the README is known to work.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}

/// The shared replay record in Redis, over one blocking connection (opened on first use and
/// again after an error). Give each thread its own.
pub struct RedisReplayStore {
    client: redis::Client,
    conn: Option<redis::Connection>,
    namespace: String,
    marker: String,
    timeout: Duration,
    recovery_ms: u64,
    fail_open: bool,
    script: redis::Script,
    accepted_unavailable: u64,
}

impl core::fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("namespace", &self.namespace)
            .field("timeout", &self.timeout)
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

impl RedisReplayStore {
    /// A store on `client` with keys under `namespace` (one per service sharing the Redis).
    /// Connecting and each command time out after 1 s by default.
    pub fn new(client: redis::Client, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        RedisReplayStore {
            client,
            conn: None,
            marker: marker_key(&namespace),
            namespace,
            timeout: Duration::from_secs(1),
            recovery_ms: DEFAULT_RECOVERY_MS,
            fail_open: false,
            script: redis::Script::new(CLAIM_SCRIPT),
            accepted_unavailable: 0,
        }
    }

    /// How long to refuse after Redis lost its memory (see [`apisig::claim::CLAIM_SCRIPT`]):
    /// at least twice the verifier's window tolerance, and at least how far the clocks of APEX
    /// clients may run ahead of Redis's. [`DEFAULT_RECOVERY_MS`] (600 s, for the default
    /// ±300 s window) unless set. Every worker sharing the Redis must use the same.
    pub fn recovery(mut self, recovery: Duration) -> Self {
        self.recovery_ms = duration_ms(recovery);
        self
    }

    /// How long connecting and each command may take before Redis counts as unreachable.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.conn = None;
        self
    }

    /// With `true`, a claim Redis cannot answer is accepted (counted in
    /// [`accepted_unavailable`](Self::accepted_unavailable)) instead of refused: availability
    /// over replay protection while Redis is down. Off by default.
    pub fn fail_open(mut self, yes: bool) -> Self {
        self.fail_open = yes;
        self
    }

    /// How many claims were accepted without Redis because of [`fail_open`](Self::fail_open).
    pub fn accepted_unavailable(&self) -> u64 {
        self.accepted_unavailable
    }

    /// Makes `claim` good (for the client it names by key id).
    ///
    /// # Errors
    /// [`Error::ReplayedRequest`] when Redis already holds the request (or a nonce not below
    /// this one, or one at or below the floor set when Redis lost its memory);
    /// [`Error::ReplayStoreUnavailable`] when Redis cannot be reached or answers an error (and
    /// the store does not fail open), or lost its memory less than the recovery period ago.
    pub fn claim(&mut self, claim: &Claim) -> Result<(), Error> {
        let mut key = vec![0u8; Claim::store_key_len(&self.namespace)];
        let key = claim.store_key(&self.namespace, &mut key)?;
        let reply = match self.ask(key, claim) {
            Ok(reply) => reply,
            Err(_) => {
                // The connection may be broken: open a new one next time.
                self.conn = None;
                if self.fail_open {
                    self.accepted_unavailable = self.accepted_unavailable.saturating_add(1);
                    return Ok(());
                }
                return Err(Error::ReplayStoreUnavailable);
            }
        };
        script_outcome(reply)
    }

    fn ask(&mut self, key: &str, claim: &Claim) -> redis::RedisResult<i64> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            slot => {
                let conn = self.client.get_connection_with_timeout(self.timeout)?;
                conn.set_read_timeout(Some(self.timeout))?;
                conn.set_write_timeout(Some(self.timeout))?;
                slot.insert(conn)
            }
        };
        self.script.key(key).key(&self.marker).arg(&claim.script_args(self.recovery_ms).argv()[..]).invoke(conn)
    }
}

fn marker_key(namespace: &str) -> String {
    let mut out = vec![0u8; Claim::marker_key_len(namespace)];
    Claim::marker_key(namespace, &mut out).map(str::to_owned).unwrap_or_default()
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Verifies `request` and makes its claim good in `store`: [`Verifier::verify`] with the
/// replay record in Redis.
///
/// # Errors
/// Every error of [`Verifier::verify`], and those of [`RedisReplayStore::claim`].
pub fn verify<C: ClientStore>(
    verifier: &mut Verifier<C, Deferred>,
    store: &mut RedisReplayStore,
    scheme: &Scheme<'_>,
    request: &Request<'_>,
    now: UnixNanos,
) -> Result<Principal, Error> {
    // A claim left behind by a caller that did not take it must not be taken for this one's.
    let _ = verifier.replay_mut().take();
    let principal = verifier.verify(scheme, request, now)?;
    if let Some(claim) = verifier.replay_mut().take() {
        store.claim(&claim)?;
    }
    Ok(principal)
}

/// The shared replay record in Redis for servers on a tokio runtime: one multiplexed
/// connection shared by every task (redis-rs's connection manager, opened on first use and
/// reopened after a failure), so no claim blocks a runtime thread. Clone it freely.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use apisig_redis::AsyncRedisReplayStore;
/// let store = AsyncRedisReplayStore::new(redis::Client::open("redis://127.0.0.1/")?, "shop-api")?;
/// # let claim = apisig::claim::Claim::Nonce { key_id: "aevo-key-1".try_into().map_err(|_| "long")?, nonce: 1 };
/// store.claim(&claim).await?;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "tokio")]
#[derive(Clone)]
pub struct AsyncRedisReplayStore {
    conn: redis::aio::ConnectionManager,
    namespace: String,
    marker: String,
    recovery_ms: u64,
    fail_open: bool,
    script: redis::Script,
    accepted_unavailable: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[cfg(feature = "tokio")]
impl core::fmt::Debug for AsyncRedisReplayStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncRedisReplayStore")
            .field("namespace", &self.namespace)
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "tokio")]
impl AsyncRedisReplayStore {
    /// A store on `client` with keys under `namespace`; connecting and each command time out
    /// after 1 s. Call it inside a tokio runtime; it does not connect yet.
    ///
    /// # Errors
    /// redis-rs's, for a configuration it refuses.
    pub fn new(client: redis::Client, namespace: impl Into<String>) -> redis::RedisResult<Self> {
        Self::with_timeout(client, namespace, Duration::from_secs(1))
    }

    /// As [`new`](Self::new), with another timeout for connecting and for each command.
    ///
    /// # Errors
    /// redis-rs's, for a configuration it refuses.
    pub fn with_timeout(
        client: redis::Client,
        namespace: impl Into<String>,
        timeout: Duration,
    ) -> redis::RedisResult<Self> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let namespace = namespace.into();
        Ok(AsyncRedisReplayStore {
            conn: redis::aio::ConnectionManager::new_lazy_with_config(client, config)?,
            marker: marker_key(&namespace),
            namespace,
            recovery_ms: DEFAULT_RECOVERY_MS,
            fail_open: false,
            script: redis::Script::new(CLAIM_SCRIPT),
            accepted_unavailable: Default::default(),
        })
    }

    /// As [`RedisReplayStore::recovery`].
    pub fn recovery(mut self, recovery: Duration) -> Self {
        self.recovery_ms = duration_ms(recovery);
        self
    }

    /// As [`RedisReplayStore::fail_open`].
    pub fn fail_open(mut self, yes: bool) -> Self {
        self.fail_open = yes;
        self
    }

    /// How many claims were accepted without Redis because of [`fail_open`](Self::fail_open).
    pub fn accepted_unavailable(&self) -> u64 {
        self.accepted_unavailable.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Makes `claim` good, asynchronously.
    ///
    /// # Errors
    /// As [`RedisReplayStore::claim`].
    pub async fn claim(&self, claim: &Claim) -> Result<(), Error> {
        let mut key = vec![0u8; Claim::store_key_len(&self.namespace)];
        let key = claim.store_key(&self.namespace, &mut key)?;
        let mut conn = self.conn.clone();
        let argv = claim.script_args(self.recovery_ms);
        let asked: redis::RedisResult<i64> =
            self.script.key(key).key(&self.marker).arg(&argv.argv()[..]).invoke_async(&mut conn).await;
        match asked {
            Ok(reply) => script_outcome(reply),
            Err(_) if self.fail_open => {
                self.accepted_unavailable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            Err(_) => Err(Error::ReplayStoreUnavailable),
        }
    }
}
