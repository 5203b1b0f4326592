//! Opaque access tokens checked by OAuth2 token introspection (RFC 7662), for the `oidc`
//! feature's [`OidcLayer`](crate::oidc::OidcLayer).
//!
//! An [`Introspector`] is the resource server as an OAuth client of the provider: it `POST`s
//! `token=<token>&token_type_hint=access_token` to the `introspection_endpoint` of the issuer's
//! discovery document (or one given), authenticated with `client_secret_basic` or
//! `client_secret_post` as [`ClientCredentials`](crate::oidc::ClientCredentials) is at the
//! token endpoint. What the answer means is the core's ([`apisig::introspect::check`]: `active`,
//! `exp`/`nbf`/`iat` with a leeway, `iss` exact when present, `aud` containing the audience when
//! one is configured); nothing of RFC 7662 is decided here.
//!
//! - **Cache.** An active answer is kept for the core's [`cache_seconds`]: until the token's
//!   `exp` and at most [`Introspector::max_cache`] (300 s). Entries are keyed by the token's
//!   SHA-256, never the token; at most [`Introspector::capacity`] (10,000) are kept, expired
//!   ones dropped first, then those expiring soonest. Refusals are not kept. Concurrent requests
//!   with the same token not yet kept send one introspection request: the others wait for its
//!   answer.
//! - **Fail closed.** The endpoint unreachable, answering other than 200 (a wrong client secret
//!   is `401 invalid_client`: [`OidcError::Introspection`]) or not with an RFC 7662 answer: the
//!   layer refuses with `introspection_unavailable` or `introspection_malformed` (503). Kept
//!   answers are still used until they expire. Two opt-ins, named as the stores' are:
//!   [`Introspector::serve_stale`] uses kept answers a while longer (never past `exp`), as
//!   `apisig-store`'s `CacheConfig::serve_stale`; [`Introspector::fail_open`] accepts such tokens
//!   with a principal of no client, as `apisig-redis`'s `fail_open` accepts claims Redis cannot
//!   answer (counted in [`Introspector::served_stale`], [`Introspector::accepted_unavailable`]).
//!
//! ```no_run
//! use apisig_http::introspection::Introspector;
//! use apisig_http::oidc::{AuthMethod, OidcLayer};
//! use std::sync::Arc;
//! let http = reqwest::Client::new();
//! let opaque = Introspector::new(&http, "https://op.example", "rs-client", "rs-secret")
//!     .audience("https://api.example")
//!     .auth_method(AuthMethod::ClientSecretPost);
//! let layer = OidcLayer::introspected(Arc::new(opaque)); // axum: Router::new().route(…).layer(layer)
//! # let _ = layer;
//! ```
//!
//! [`cache_seconds`]: apisig::introspect::cache_seconds

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use apisig::introspect::{self, Expected};
use apisig::jws::ACCESS_TOKEN_MAX;
use apisig::store::key_digest;
use apisig::{Error, UnixNanos};
use reqwest::StatusCode;

use crate::oidc::{AccessToken, AuthMethod, Clock, OidcError, authenticated_post, discover, endpoint, read_capped};

/// A kept answer: the principal, until when (seconds since the UNIX epoch, by the
/// introspector's clock) it is used, and until when it may stand in for an answer the provider
/// cannot give ([`Introspector::serve_stale`]; `fresh_s` without it).
struct Entry {
    fresh_s: u64,
    stale_s: u64,
    token: AccessToken,
}

type Digest = [u8; 32];

type Gates = Mutex<HashMap<Digest, Arc<tokio::sync::Mutex<()>>>>;

/// A caller's place among those introspecting the same token: they take its gate in turn, so
/// the first asks the provider and the others find its answer kept. Leaving (a request
/// finished or dropped) removes the gate once nobody else holds it.
struct InFlight<'a> {
    gates: &'a Gates,
    digest: Digest,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl<'a> InFlight<'a> {
    fn join(gates: &'a Gates, digest: Digest) -> InFlight<'a> {
        let gate = Arc::clone(lock(gates).entry(digest).or_default());
        InFlight { gates, digest, gate }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut gates = lock(self.gates);
        // Only the map and this caller hold the gate (others clone it under the same lock).
        if Arc::strong_count(&self.gate) == 2 {
            gates.remove(&self.digest);
        }
    }
}

/// RFC 7662 introspection of one issuer's opaque access tokens, with its cache. Share one (it
/// is used through `&self`) between every request of a server.
pub struct Introspector {
    issuer: String,
    audience: Option<String>,
    client_id: String,
    secret: String,
    auth: AuthMethod,
    leeway_s: u64,
    max_cache: Duration,
    serve_stale: Duration,
    capacity: usize,
    fail_open: bool,
    http: reqwest::Client,
    clock: Clock,
    endpoint: tokio::sync::OnceCell<String>,
    cache: Mutex<HashMap<Digest, Entry>>,
    in_flight: Gates,
    requests: AtomicU64,
    served_stale: AtomicU64,
    accepted_unavailable: AtomicU64,
    last_failure: Mutex<Option<String>>,
}

impl fmt::Debug for Introspector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspector")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .field("fail_open", &self.fail_open)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Introspector {
    /// Introspection of `issuer`'s tokens by the OAuth client `client_id` (the resource
    /// server's own credentials at the provider), with `http` (its TLS settings apply):
    /// `client_secret_basic`, the endpoint from discovery, no audience required, no leeway,
    /// answers kept at most 300 s, at most 10,000 of them, failing closed.
    pub fn new(
        http: &reqwest::Client,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Introspector {
        Introspector {
            issuer: issuer.into(),
            audience: None,
            client_id: client_id.into(),
            secret: secret.into(),
            auth: AuthMethod::default(),
            leeway_s: 0,
            max_cache: Duration::from_secs(300),
            serve_stale: Duration::ZERO,
            capacity: 10_000,
            fail_open: false,
            http: http.clone(),
            clock: Arc::new(crate::now),
            endpoint: tokio::sync::OnceCell::new(),
            cache: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            served_stale: AtomicU64::new(0),
            accepted_unavailable: AtomicU64::new(0),
            last_failure: Mutex::new(None),
        }
    }

    /// This resource server's audience: the answer's `aud` must contain it.
    pub fn audience(mut self, audience: impl Into<String>) -> Introspector {
        self.audience = Some(audience.into());
        self
    }

    /// How to authenticate at the introspection endpoint (RFC 7662 §2.1).
    pub fn auth_method(mut self, method: AuthMethod) -> Introspector {
        self.auth = method;
        self
    }

    /// The introspection endpoint, instead of the discovery document's
    /// `introspection_endpoint`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Introspector {
        self.endpoint = tokio::sync::OnceCell::new_with(Some(url.into()));
        self
    }

    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub fn leeway(mut self, seconds: u64) -> Introspector {
        self.leeway_s = seconds;
        self
    }

    /// The longest an active answer is kept (300 s; never past the token's `exp`): the longest
    /// a revoked token is still accepted. Whole seconds; zero keeps nothing.
    pub fn max_cache(mut self, max: Duration) -> Introspector {
        self.max_cache = max;
        self
    }

    /// While the provider cannot be asked (unreachable, not 200, not an RFC 7662 answer), use a
    /// kept answer up to this long past [`max_cache`](Self::max_cache), never past the token's
    /// `exp`, instead of failing closed (zero, the default: fail closed as soon as it is not
    /// fresh), as `apisig-store`'s `CacheConfig::serve_stale`. Opting in trades revocations
    /// going unseen for that long against availability; counted in
    /// [`served_stale`](Self::served_stale). Whole seconds.
    pub fn serve_stale(mut self, extra: Duration) -> Introspector {
        self.serve_stale = extra;
        self
    }

    /// Most answers kept (10,000).
    pub fn capacity(mut self, entries: usize) -> Introspector {
        self.capacity = entries;
        self
    }

    /// With `true`, a token the provider cannot be asked about (unreachable, not 200, not an
    /// RFC 7662 answer) is accepted with a principal of no client and no claims, counted in
    /// [`accepted_unavailable`](Self::accepted_unavailable): availability over revocation while
    /// the provider is down. Off by default (503).
    pub fn fail_open(mut self, yes: bool) -> Introspector {
        self.fail_open = yes;
        self
    }

    /// The clock (nanoseconds since the UNIX epoch) the answers' times and the cache are
    /// checked against; tests inject one.
    pub fn clock(mut self, clock: impl Fn() -> UnixNanos + Send + Sync + 'static) -> Introspector {
        self.clock = Arc::new(clock);
        self
    }

    /// How many introspection requests were sent (for monitoring and tests).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// How many requests were served a kept answer past its time because of
    /// [`serve_stale`](Self::serve_stale).
    pub fn served_stale(&self) -> u64 {
        self.served_stale.load(Ordering::Relaxed)
    }

    /// How many tokens were accepted without an answer because of [`fail_open`](Self::fail_open).
    pub fn accepted_unavailable(&self) -> u64 {
        self.accepted_unavailable.load(Ordering::Relaxed)
    }

    /// How many answers are kept.
    pub fn cached(&self) -> usize {
        lock(&self.cache).len()
    }

    /// How many distinct tokens are being introspected (or waited for) now.
    pub fn in_flight(&self) -> usize {
        lock(&self.in_flight).len()
    }

    /// Why the provider last could not be asked (the last [`OidcError`] other than a refusal of
    /// the token), for logs: the layer's 503 says only `introspection_unavailable`.
    pub fn last_failure(&self) -> Option<String> {
        lock(&self.last_failure).clone()
    }

    /// The introspection endpoint: the one given, else the discovery document's (found once).
    ///
    /// # Errors
    /// As [`discover`], with [`Error::IntrospectionUnavailable`] for a document that cannot be
    /// had; [`Error::DiscoveryMismatch`] when it names another issuer or has no
    /// `introspection_endpoint`.
    pub async fn introspection_endpoint(&self) -> Result<&str, OidcError> {
        let url = self
            .endpoint
            .get_or_try_init(|| async {
                // A document that cannot be had leaves the introspection endpoint unknown.
                let doc = discover(&self.http, &self.issuer).await.map_err(|e| match e {
                    OidcError::Core(Error::JwksUnavailable) => OidcError::Core(Error::IntrospectionUnavailable),
                    e => e,
                })?;
                Ok::<_, OidcError>(endpoint(&doc, "introspection_endpoint")?)
            })
            .await?;
        Ok(url)
    }

    /// The principal of `token` from the provider's answer, as the core judges it: the kept
    /// answer while there is one, else one introspection request (one for all concurrent
    /// callers with the same token).
    ///
    /// # Errors
    /// [`OidcError::Core`] with [`Error::TokenTooLong`] for a token over [`ACCESS_TOKEN_MAX`]
    /// (not sent), the refusals of [`introspect::check`] ([`Error::TokenInactive`],
    /// [`Error::TokenExpired`], [`Error::AudienceMismatch`], [`Error::IntrospectionMalformed`],
    /// …) or [`Error::DiscoveryMismatch`]; [`OidcError::Http`] when the provider is
    /// unreachable; [`OidcError::Introspection`] when the endpoint answers other than 200.
    pub async fn introspect(&self, token: &str) -> Result<AccessToken, OidcError> {
        // Longer than any access token the core reads: refused without asking the provider.
        if token.len() > ACCESS_TOKEN_MAX {
            return Err(Error::TokenTooLong.into());
        }
        let digest = key_digest(token.as_bytes());
        if let Some(hit) = self.kept(&digest) {
            return Ok(hit);
        }
        let flight = InFlight::join(&self.in_flight, digest);
        let _one = flight.gate.lock().await;
        match self.kept(&digest) {
            Some(hit) => Ok(hit),
            None => self.ask(token, &digest).await,
        }
    }

    /// [`introspect`](Self::introspect) as the layer uses it: the core's error of a refusal
    /// ([`Error::IntrospectionUnavailable`] when the provider could not be asked), or with
    /// [`fail_open`](Self::fail_open) the principal of no client for a provider unavailable.
    ///
    /// # Errors
    /// The core's errors of [`introspect`](Self::introspect).
    pub async fn verify(&self, token: &str) -> Result<AccessToken, Error> {
        let error = match self.introspect(token).await {
            Ok(principal) => return Ok(principal),
            Err(OidcError::Core(e)) => e,
            Err(_) => Error::IntrospectionUnavailable,
        };
        if self.fail_open && matches!(error, Error::IntrospectionUnavailable | Error::IntrospectionMalformed) {
            self.accepted_unavailable.fetch_add(1, Ordering::Relaxed);
            return Ok(AccessToken {
                alg: None,
                client_id: None,
                subject: None,
                scopes: Vec::new(),
                audience: Vec::new(),
                expires: None,
                claims: String::from("{}"),
            });
        }
        Err(error)
    }

    fn now_s(&self) -> u64 {
        (self.clock)() / 1_000_000_000
    }

    /// The kept answer for `digest` while it is fresh (`stale`: while it may stand in for one
    /// the provider cannot give); one past both is dropped.
    fn kept_until(&self, digest: &Digest, stale: bool) -> Option<AccessToken> {
        let now = self.now_s();
        let mut cache = lock(&self.cache);
        let entry = cache.get(digest)?;
        if now < entry.fresh_s || (stale && now < entry.stale_s) {
            return Some(entry.token.clone());
        }
        if now >= entry.stale_s {
            cache.remove(digest);
        }
        None
    }

    fn kept(&self, digest: &Digest) -> Option<AccessToken> {
        self.kept_until(digest, false)
    }

    /// One introspection request and the core's judgement of its answer, kept when active; a
    /// provider that cannot answer makes a stale answer serve, when allowed.
    async fn ask(&self, token: &str, digest: &Digest) -> Result<AccessToken, OidcError> {
        let answer = self.judge(token, digest).await;
        let Err(e) = &answer else { return answer };
        let unavailable = match e {
            OidcError::Core(e) => matches!(e, Error::IntrospectionUnavailable | Error::IntrospectionMalformed),
            OidcError::Http(_) | OidcError::Introspection { .. } => true,
            OidcError::Token { .. } => false,
        };
        if unavailable || !matches!(e, OidcError::Core(e) if e.http_status() < 500) {
            *lock(&self.last_failure) = Some(e.to_string());
        }
        if unavailable && let Some(stale) = self.kept_until(digest, true) {
            self.served_stale.fetch_add(1, Ordering::Relaxed);
            return Ok(stale);
        }
        if !unavailable {
            // The provider refused the token (inactive, revoked, another audience): a kept
            // answer must not be served again while the provider is down later.
            lock(&self.cache).remove(digest);
        }
        answer
    }

    async fn judge(&self, token: &str, digest: &Digest) -> Result<AccessToken, OidcError> {
        let body = self.request(token).await?;
        let now = (self.clock)();
        let expected = Expected { issuer: &self.issuer, audience: self.audience.as_deref(), leeway_s: self.leeway_s };
        let claims = introspect::check(&body, &expected, now)?;
        let max_s = self.max_cache.as_secs();
        let keep_s = introspect::cache_seconds(&claims, now, max_s);
        let stale_keep_s = introspect::cache_seconds(&claims, now, max_s.saturating_add(self.serve_stale.as_secs()));
        let principal = AccessToken {
            alg: None,
            client_id: claims.client_id.map(str::to_owned),
            subject: claims.sub.map(str::to_owned),
            scopes: claims.scope.unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            audience: claims.aud.iter().map(|a| (*a).to_owned()).collect(),
            expires: claims.exp,
            claims: String::from_utf8_lossy(claims.json).into_owned(),
        };
        if stale_keep_s > 0 && self.capacity > 0 {
            let now_s = now / 1_000_000_000;
            let mut cache = lock(&self.cache);
            if cache.len() >= self.capacity && !cache.contains_key(digest) {
                cache.retain(|_, e| e.stale_s > now_s);
                if cache.len() >= self.capacity
                    && let Some(soonest) = cache.iter().min_by_key(|(_, e)| e.stale_s).map(|(k, _)| *k)
                {
                    cache.remove(&soonest);
                }
            }
            let entry = Entry {
                fresh_s: now_s.saturating_add(keep_s),
                stale_s: now_s.saturating_add(stale_keep_s),
                token: principal.clone(),
            };
            cache.insert(*digest, entry);
        }
        Ok(principal)
    }

    /// The endpoint's 200 answer about `token` (RFC 7662 §2.1, §2.2).
    async fn request(&self, token: &str) -> Result<bytes::Bytes, OidcError> {
        let url = self.introspection_endpoint().await?;
        let form = [("token", token), ("token_type_hint", "access_token")];
        let req = authenticated_post(&self.http, url, self.auth, &self.client_id, &self.secret, &form);
        let res = req.send().await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let status = res.status();
        let body = read_capped(res).await?;
        if status != StatusCode::OK {
            let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let error = answer.get("error").and_then(|e| e.as_str()).map(str::to_owned);
            return Err(OidcError::Introspection { status: status.as_u16(), error });
        }
        Ok(body)
    }
}
