//! The server side: a tower [`Layer`] verifying requests for axum, hyper or any tower service.
//!
//! An [`Authenticator`] holds a core [`Verifier`] (behind a `std::sync::Mutex` held only for
//! the core's call, never across an `.await`) and the schemes the service accepts, presets
//! and user-defined alike. [`ApisigLayer`] wraps a service with it:
//!
//! * Which scheme a request uses is read from its headers: the accepted schemes whose headers
//!   are all present are tried, those with more headers first; the first that verifies wins,
//!   else the first error is answered.
//! * The body is buffered (up to [`Authenticator::max_body`], else 413) only when one of those
//!   schemes signs it; the very bytes verified are handed on, unchanged. Otherwise the body is
//!   not touched.
//! * The verified client is put in the request's extensions as a [`Principal`] (axum:
//!   `Extension<Principal>`).
//! * With a [`Policy`] the principal's role must allow the path ([`Policy::authorize`]).
//! * Refusals are answered by the layer: 401, 403 or 503 with `WWW-Authenticate` and the JSON
//!   body `{"error": name, "code": code, "message": text}` (see [`Refusal`]). A gRPC request
//!   (content type `application/grpc`) is refused as gRPC refuses: HTTP 200 with
//!   `grpc-status` `UNAUTHENTICATED`, `PERMISSION_DENIED` or `UNAVAILABLE` (see
//!   [`grpc_answer`](crate::grpc_answer)).
//! * tonic: the layer goes on the service's axum router, which tonic's server serves:
//!   `Server::builder().add_routes(Routes::from(Routes::new(svc).into_axum_router().layer(layer)))`
//!   (the router hands the layer axum's body, which it can rebuild from the bytes it verified;
//!   tonic's own body type cannot be). The principal is in the `tonic::Request`'s extensions.
//! * Mutual TLS: the server's TLS acceptor puts the client's certificate in the request's
//!   extensions as a [`PeerCertificate`]; [`Mtls`] says how it counts. With the `ocsp`
//!   feature and [`Authenticator::ocsp`], the pinned certificate is checked first, then its
//!   revocation status (OCSP), then the credentials.
//! * Several workers share one replay record through a [`ClaimStore`] (Redis, with the
//!   `redis` feature): the verifier records a claim, the layer makes it good asynchronously.
//! * APEX: with [`Authenticator::apex_login`] the layer answers `AuthenticateUser` itself and
//!   issues the session token later requests send as `aptoken`.
//! * Allowed addresses ([`Client::set_allowed`](apisig::client::Client::set_allowed)): the
//!   address checked is the connection's peer ([`PeerAddr`], else with the `axum` feature
//!   axum's `ConnectInfo<SocketAddr>`) or, when that peer is one of
//!   [`Authenticator::trusted_proxies`], the address they report in `X-Forwarded-For`
//!   ([`peer_behind_proxies`]).
//! * A client store that does I/O (apisig-store's `CachedStore` over SQLite or PostgreSQL):
//!   [`Authenticator::offload`] runs every verification on tokio's blocking pool.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use apisig::claim::{Claim, Deferred};
use apisig::session::{Session, TOKEN_MAX};
use apisig::{
    Error, PreparedScheme, Request as CoreRequest, UnixNanos, Verifier,
    client::{Cidr, Slot, peer_behind_proxies},
    dialect,
    headers::Header,
    message::Part,
    policy::{Policy, RoleId},
    replay::{ReplayEntry, ReplayStore},
    scheme::Scheme,
    store::ClientStore,
};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderName, Method, Request, Response, StatusCode, header, request::Parts};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Limited};
use smallvec::SmallVec;
use tower_layer::Layer;
use tower_service::Service;

use crate::Refusal;

/// A boxed, sendable future (what [`ClaimStore::claim`] and the layer's service return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who a verified request comes from: put in the request's extensions by the layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The client's stable id (its key id).
    pub client_id: String,
    /// Which of its keys matched.
    pub slot: Slot,
    /// Its role, if it has one.
    pub role_id: Option<RoleId>,
    /// Its role's name, when the authenticator has a [`Policy`] naming it.
    pub role: Option<&'static str>,
    /// The user id bound to the client (APEX).
    pub user_id: Option<String>,
    /// The scheme that verified the request (`"mtls"` for a certificate alone).
    pub scheme: &'static str,
}

/// The address of the peer a request came from, for clients restricted to some addresses
/// ([`Client::set_allowed`](apisig::client::Client::set_allowed)): the connection's peer.
/// A hyper server inserts it in each request's extensions; with axum, serve
/// `into_make_service_with_connect_info::<SocketAddr>()` and enable the `axum` feature, and
/// the layer reads axum's `ConnectInfo` instead. Behind reverse proxies, name them in
/// [`Authenticator::trusted_proxies`]: the address they report in `X-Forwarded-For` is then
/// taken. Without a peer address, a client with an allow-list is refused
/// (`address_not_allowed`, 403): fail closed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::IpAddr);

/// The TLS client certificate (DER) of the connection a request came on. The server's TLS
/// acceptor inserts it in each request's extensions after the TLS library checked the chain
/// (with tokio-rustls and the `rustls` feature: `PeerCertificate::from_rustls`); the layer
/// reads it when the [`Authenticator`] has an [`Mtls`] mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCertificate(pub Bytes);

#[cfg(feature = "rustls")]
impl PeerCertificate {
    /// The client's certificate on a rustls server connection, once the handshake is done
    /// (the first of its peer certificates); `None` when the client sent none.
    pub fn from_rustls(connection: &rustls::ServerConnection) -> Option<PeerCertificate> {
        let first = connection.peer_certificates()?.first()?;
        Some(PeerCertificate(Bytes::copy_from_slice(first.as_ref())))
    }
}

/// How a pinned client certificate counts.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Mtls {
    /// The pinned certificate authenticates by itself (the principal's scheme is `"mtls"`).
    Alone,
    /// The pinned certificate and a scheme's credentials, naming the same client, are both
    /// required (Securosys TSB: API key plus client certificate).
    Combined,
}

/// A replay record shared by several workers, asked asynchronously: the verifier (with a
/// [`Deferred`] store) hands over a [`Claim`], the layer makes it good here before the request
/// is accepted.
pub trait ClaimStore: Send + Sync + 'static {
    /// Records `claim` (it names the client by its key id).
    ///
    /// # Errors
    /// [`Error::ReplayedRequest`] when the record already holds it;
    /// [`Error::ReplayStoreUnavailable`] when the store cannot answer (fail closed).
    fn claim<'a>(&'a self, claim: &'a Claim) -> BoxFuture<'a, Result<(), Error>>;
}

/// A store behind an `Arc`, so the caller keeps a handle on it (counters, shutdown).
impl<T: ClaimStore> ClaimStore for Arc<T> {
    fn claim<'a>(&'a self, claim: &'a Claim) -> BoxFuture<'a, Result<(), Error>> {
        T::claim(self, claim)
    }
}

#[cfg(feature = "redis")]
impl ClaimStore for apisig_redis::AsyncRedisReplayStore {
    fn claim<'a>(&'a self, claim: &'a Claim) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(apisig_redis::AsyncRedisReplayStore::claim(self, claim))
    }
}

/// The in-memory replay record of one server process, sized when the server starts and kept
/// on the heap (the core's [`ReplayCache`](apisig::replay::ReplayCache) is sized at compile time, for
/// firmware). Size it for about three times the requests expected inside one window: it
/// refuses (503, failing closed) rather than forget a live record.
#[derive(Clone)]
pub struct MemoryReplay {
    entries: Box<[ReplayEntry]>,
}

impl fmt::Debug for MemoryReplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplay").field("capacity", &self.entries.len()).finish()
    }
}

impl MemoryReplay {
    /// A record of `capacity` entries (at least one), all free.
    pub fn new(capacity: usize) -> MemoryReplay {
        MemoryReplay { entries: vec![ReplayEntry::EMPTY; capacity.max(1)].into_boxed_slice() }
    }

    /// How many entries it holds.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// How many records are live at `now`.
    pub fn live(&self, now: UnixNanos) -> usize {
        apisig::replay::live(&self.entries, now)
    }
}

impl ReplayStore for MemoryReplay {
    fn check_and_insert(
        &mut self,
        key_id: &str,
        id: &[u8; apisig::replay::REPLAY_ID_LEN],
        expires: UnixNanos,
        now: UnixNanos,
    ) -> Result<(), Error> {
        self.entries.check_and_insert(key_id, id, expires, now)
    }

    fn advance_nonce(&mut self, key_id: &str, nonce: u64) -> Result<(), Error> {
        self.entries.advance_nonce(key_id, nonce)
    }
}

/// Which of the core's verifications a request gets.
#[derive(Copy, Clone)]
enum Check<'s> {
    /// The scheme's credentials in the headers ([`Verifier::verify_prepared`]).
    Headers(&'s PreparedScheme<'static>),
    /// The scheme's credentials in the headers or the JSON body
    /// ([`Verifier::verify_json_body`]: APEX `AuthenticateUser`).
    JsonBody(&'s PreparedScheme<'static>),
    /// The pinned client certificate (DER, if the client sent one), alone or with the
    /// scheme's credentials naming the same client ([`Verifier::verify_with_certificate`]).
    Certificate(Option<&'s PreparedScheme<'static>>, Option<&'s [u8]>),
}

/// What the layer asks of the core verifier, whatever its client store and replay store.
trait Core: Send {
    fn verify(
        &mut self,
        check: Check<'_>,
        req: &CoreRequest<'_>,
        now: UnixNanos,
    ) -> Result<(apisig::Principal, Option<Claim>), Error>;
    /// The bound user id of the client called `id`, if it has one.
    fn user_id(&self, id: &str) -> Result<Option<String>, Error>;
    fn issue(&self, session: &Session<'_>) -> Result<String, Error>;
    /// The concrete `Held` verifier, for [`Authenticator::with_verifier`].
    fn as_any(&mut self) -> &mut dyn std::any::Any;
}

struct Held<C, S> {
    verifier: Verifier<C, S>,
    /// Takes the claim a [`Deferred`] store holds; nothing for stores that decide themselves.
    take: fn(&mut S) -> Option<Claim>,
}

impl<C: ClientStore + Send + 'static, S: ReplayStore + Send + 'static> Core for Held<C, S> {
    fn verify(
        &mut self,
        check: Check<'_>,
        req: &CoreRequest<'_>,
        now: UnixNanos,
    ) -> Result<(apisig::Principal, Option<Claim>), Error> {
        // A claim left by a request refused after it was made must not be taken for this one.
        let _ = (self.take)(self.verifier.replay_mut());
        let v = &mut self.verifier;
        let principal = match check {
            Check::Headers(scheme) => v.verify_prepared(scheme, req, now),
            Check::JsonBody(scheme) => v.verify_json_body(scheme, req, now),
            Check::Certificate(scheme, der) => v.verify_with_certificate(scheme, req, der, now),
        }?;
        Ok((principal, (self.take)(self.verifier.replay_mut())))
    }

    fn user_id(&self, id: &str) -> Result<Option<String>, Error> {
        let client = self.verifier.store().by_id(id.as_bytes())?.ok_or(Error::UnknownKey)?;
        Ok(client.user_id().map(str::to_owned))
    }

    fn issue(&self, session: &Session<'_>) -> Result<String, Error> {
        let keys = self.verifier.session_keys().ok_or(Error::UnsupportedCredential)?;
        let mut out = [0u8; TOKEN_MAX];
        let token = keys.issue(session, &mut out)?;
        String::from_utf8(token.to_vec()).map_err(|_| Error::InvalidHeaderValue)
    }

    fn as_any(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// One accepted scheme, prepared once.
struct Accepted {
    prepared: PreparedScheme<'static>,
    names: Vec<HeaderName>,
    signs_body: bool,
}

impl Accepted {
    fn new(scheme: &Scheme<'static>) -> Result<Accepted, Error> {
        let prepared = PreparedScheme::new(scheme)?;
        let names = scheme
            .headers
            .iter()
            .map(|h| HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| Error::InvalidTemplate))
            .collect::<Result<_, _>>()?;
        let signs_body = scheme.template.is_some_and(|t| t.uses(Part::Body));
        Ok(Accepted { prepared, names, signs_body })
    }

    fn scheme(&self) -> &Scheme<'static> {
        self.prepared.scheme()
    }
}

type Clock = Arc<dyn Fn() -> UnixNanos + Send + Sync>;

/// The positions of the schemes whose headers a request carries (on the stack for up to four:
/// nothing is allocated per request for them).
type Candidates = SmallVec<[usize; 4]>;

/// What the layer verifies and how: a core verifier, the accepted schemes and the options.
///
/// ```
/// use apisig::{dialect, Verifier, Window, keyring::Keyring, replay::ReplayCache};
/// use apisig_http::server::Authenticator;
///
/// let mut keyring = Keyring::<16>::new();
/// keyring.add("aevo-key-1", b"aevo-secret-1")?;
/// let verifier = Verifier::new(keyring, ReplayCache::<4096>::new(), Window::from_secs(30));
/// let layer = Authenticator::new(verifier)
///     .scheme(&dialect::AEVO)?
///     .max_body(1 << 20)
///     .exempt("/health")
///     .layer();
/// # let _ = layer;
/// # Ok::<(), apisig::Error>(())
/// ```
pub struct Authenticator {
    core: Mutex<Box<dyn Core>>,
    claims: Option<Arc<dyn ClaimStore>>,
    schemes: Vec<Accepted>,
    apex: Accepted,
    policy: Option<Policy<'static>>,
    max_body: usize,
    mtls: Option<Mtls>,
    #[cfg(feature = "ocsp")]
    ocsp: Option<Arc<crate::ocsp::OcspChecker>>,
    apex_login: Option<String>,
    session_lifetime: u64,
    exempt: Vec<String>,
    realm: String,
    clock: Clock,
    trusted_proxies: Vec<Cidr>,
    offload: bool,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("schemes", &self.schemes.iter().map(|a| a.scheme().name).collect::<Vec<_>>())
            .field("shared_replay", &self.claims.is_some())
            .field("policy", &self.policy.is_some())
            .field("max_body", &self.max_body)
            .field("mtls", &self.mtls)
            .field("apex_login", &self.apex_login)
            .field("exempt", &self.exempt)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("offload", &self.offload)
            .finish_non_exhaustive()
    }
}

/// How much of a body is buffered by default to verify it: 8 MiB.
pub const DEFAULT_MAX_BODY: usize = 8 << 20;

/// From this body size on (256 KiB, a few hundred microseconds of HMAC), verification runs on
/// tokio's blocking pool rather than on the thread serving other requests.
pub const OFFLOAD_BODY: usize = 256 << 10;

impl Authenticator {
    /// An authenticator over `verifier`, whose replay store decides by itself (the core's
    /// in-memory [`ReplayCache`](apisig::replay::ReplayCache): one process). Accepts no scheme yet.
    pub fn new<C: ClientStore + Send + 'static, S: ReplayStore + Send + 'static>(
        verifier: Verifier<C, S>,
    ) -> Authenticator {
        Self::with_core(Box::new(Held { verifier, take: |_| None }), None)
    }

    /// An authenticator whose replay record is `store`, shared by every worker: the
    /// verifier's [`Deferred`] store hands each accepted request's claim to it.
    pub fn shared<C: ClientStore + Send + 'static>(
        verifier: Verifier<C, Deferred>,
        store: impl ClaimStore,
    ) -> Authenticator {
        Self::with_core(Box::new(Held { verifier, take: Deferred::take }), Some(Arc::new(store)))
    }

    fn with_core(core: Box<dyn Core>, claims: Option<Arc<dyn ClaimStore>>) -> Authenticator {
        Authenticator {
            core: Mutex::new(core),
            claims,
            schemes: Vec::new(),
            // The presets are coherent (the core's tests check them): this cannot fail.
            apex: Accepted { prepared: apex_prepared(), names: Vec::new(), signs_body: false },
            policy: None,
            max_body: DEFAULT_MAX_BODY,
            mtls: None,
            #[cfg(feature = "ocsp")]
            ocsp: None,
            apex_login: None,
            session_lifetime: 3600,
            exempt: Vec::new(),
            realm: "apisig".to_owned(),
            clock: Arc::new(crate::now),
            trusted_proxies: Vec::new(),
            offload: false,
        }
    }

    /// Accepts requests under `scheme` too (a preset from [`apisig::dialect`] or a scheme of
    /// your own). Schemes sending more headers are tried first.
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`] for an incoherent scheme ([`Scheme::check`]).
    pub fn scheme(mut self, scheme: &Scheme<'static>) -> Result<Authenticator, Error> {
        let accepted = Accepted::new(scheme)?;
        let at = self.schemes.iter().position(|a| a.names.len() < accepted.names.len()).unwrap_or(self.schemes.len());
        self.schemes.insert(at, accepted);
        Ok(self)
    }

    /// Requires the principal's role to allow the path under `policy` (Securosys: the
    /// role's endpoint patterns, e.g. [`dialect::SECUROSYS_ROLES`]); a principal without a
    /// role is refused (403).
    ///
    /// # Errors
    /// [`Error::InvalidPattern`] for a policy with an invalid pattern.
    pub fn policy(mut self, policy: Policy<'static>) -> Result<Authenticator, Error> {
        policy.check()?;
        self.policy = Some(policy);
        Ok(self)
    }

    /// The largest body buffered to verify a scheme that signs it (default
    /// [`DEFAULT_MAX_BODY`]); a larger one is answered 413.
    pub fn max_body(mut self, bytes: usize) -> Authenticator {
        self.max_body = bytes;
        self
    }

    /// Requires a pinned client certificate ([`PeerCertificate`]), alone or with a scheme's
    /// credentials.
    pub fn mtls(mut self, mode: Mtls) -> Authenticator {
        self.mtls = Some(mode);
        self
    }

    /// With an [`Mtls`] mode, checks the client certificate's revocation status with
    /// `checker` after its pin and before the credentials: refused with 403 when revoked or
    /// unknown, 503 when the status cannot be established (fail closed); a failure fail-soft
    /// lets through leaves an [`OcspWarning`](crate::ocsp::OcspWarning) in the request's
    /// extensions.
    #[cfg(feature = "ocsp")]
    pub fn ocsp(mut self, checker: crate::ocsp::OcspChecker) -> Authenticator {
        self.ocsp = Some(Arc::new(checker));
        self
    }

    /// Answers APEX `AuthenticateUser` at `path` (e.g. `"/AuthenticateUser"`): the signed
    /// fields as headers or in the JSON body, verified under [`dialect::APEX`]; the answer is
    /// `{"Authenticated": true, "SessionToken": …, "User": {"UserId": …}}` with a token
    /// issued by the verifier's session keys, which later requests send as `aptoken`
    /// (accept [`dialect::APEX_SESSION`] for them).
    pub fn apex_login(mut self, path: impl Into<String>) -> Authenticator {
        self.apex_login = Some(path.into());
        self
    }

    /// How long issued session tokens last (default one hour).
    pub fn session_lifetime(mut self, lifetime: std::time::Duration) -> Authenticator {
        self.session_lifetime = lifetime.as_secs().max(1);
        self
    }

    /// Lets requests for exactly `path` through unauthenticated (health checks).
    pub fn exempt(mut self, path: impl Into<String>) -> Authenticator {
        self.exempt.push(path.into());
        self
    }

    /// The realm named in `WWW-Authenticate` (default `"apisig"`).
    pub fn realm(mut self, realm: impl Into<String>) -> Authenticator {
        self.realm = realm.into();
        self
    }

    /// Believes `X-Forwarded-For` from peers in `proxies` (your reverse proxies, e.g.
    /// `Cidr::parse("10.0.0.0/8")?`): the address checked against a client's allow-list is then
    /// the right-most one in that header that is not itself a trusted proxy
    /// ([`peer_behind_proxies`]). From any other peer the header is ignored; a malformed one
    /// from a trusted proxy is refused (`invalid_forwarded_for`, 401).
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = Cidr>) -> Authenticator {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// Verifies every request on tokio's blocking pool (`true`), not only those with a body of
    /// [`OFFLOAD_BODY`] or more: for a client store whose lookups may block on I/O
    /// (apisig-store's `CachedStore` in front of SQLite or PostgreSQL), so a slow database
    /// holds up no thread serving other requests. Costs a hand-off per request (a few
    /// microseconds); an in-memory store does not need it. A PostgreSQL store requires it: the
    /// synchronous `postgres` client runs its own runtime, which panics on a tokio worker
    /// thread. The verifier's lock is taken on the pool too, so requests missing the cache
    /// wait on one another, not on the runtime.
    pub fn offload(mut self, offload: bool) -> Authenticator {
        self.offload = offload;
        self
    }

    /// The clock (nanoseconds since the UNIX epoch), [`crate::now`] by default.
    pub fn clock(mut self, clock: impl Fn() -> UnixNanos + Send + Sync + 'static) -> Authenticator {
        self.clock = Arc::new(clock);
        self
    }

    /// Runs `change` on the verifier while serving (register, rotate or revoke clients
    /// through [`Verifier::store_mut`], change the window): under the verifier's lock, so
    /// keep it short. `C` and `S` must be the verifier's client store and replay store, as
    /// given to [`new`](Self::new) or [`shared`](Self::shared); `None` when they are not.
    ///
    /// ```
    /// use apisig::{dialect, Verifier, Window, client::Slot, keyring::Keyring, replay::ReplayCache};
    /// use apisig_http::server::Authenticator;
    ///
    /// let verifier = Verifier::new(Keyring::<8>::new(), ReplayCache::<64>::new(), Window::DEFAULT);
    /// let layer = Authenticator::new(verifier).scheme(&dialect::ZIGNSEC)?.layer();
    /// let added = layer.authenticator().with_verifier(|v: &mut Verifier<Keyring<8>, ReplayCache<64>>| {
    ///     v.store_mut().add("zs-acme", b"zs-primary-key")
    /// });
    /// assert!(matches!(added, Some(Ok(_))));
    /// # Ok::<(), apisig::Error>(())
    /// ```
    pub fn with_verifier<C: ClientStore + Send + 'static, S: ReplayStore + Send + 'static, R>(
        &self,
        change: impl FnOnce(&mut Verifier<C, S>) -> R,
    ) -> Option<R> {
        let mut core = self.core();
        let held = core.as_any().downcast_mut::<Held<C, S>>()?;
        Some(change(&mut held.verifier))
    }

    /// The layer verifying requests with this authenticator.
    pub fn layer(self) -> ApisigLayer {
        ApisigLayer { auth: Arc::new(self) }
    }

    /// The verifier, locked. Held only for the core's own calls, never across an `.await`.
    fn core(&self) -> std::sync::MutexGuard<'_, Box<dyn Core>> {
        // A panic while the lock was held cannot have left the verifier half-changed in a way
        // that matters more than refusing every request from then on would.
        self.core.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The client's address: the connection's peer ([`PeerAddr`], else axum's `ConnectInfo`),
    /// or behind trusted proxies the address they report; `None` when the server gave none.
    fn peer(&self, parts: &Parts) -> Result<Option<IpAddr>, Error> {
        let direct = parts.extensions.get::<PeerAddr>().map(|p| p.0);
        #[cfg(feature = "axum")]
        let direct = direct.or_else(|| {
            let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
            info.map(|i| i.0.ip())
        });
        let Some(direct) = direct else { return Ok(None) };
        let forwarded = parts.headers.get_all("x-forwarded-for").into_iter().map(http::HeaderValue::as_bytes);
        peer_behind_proxies(direct, forwarded, &self.trusted_proxies).map(Some)
    }

    /// Runs `work` on tokio's blocking pool when `heavy` or [`offload`](Self::offload) asks
    /// (and a runtime runs), else here; the 500 answer if it panicked there.
    async fn run<T: Send + 'static, R: From<Bytes>>(
        self: &Arc<Self>,
        heavy: bool,
        work: impl FnOnce(&Authenticator) -> T + Send + 'static,
    ) -> Result<T, Response<R>> {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if heavy || self.offload => {
                let auth = Arc::clone(self);
                runtime
                    .spawn_blocking(move || work(&auth))
                    .await
                    .map_err(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, r#"{"error":"internal_error"}"#))
            }
            _ => Ok(work(self)),
        }
    }

    /// Verifies a request's credentials (`body`: the bytes received, empty when no candidate
    /// scheme signs it; `json_body`: the candidates' credentials may be the body's members)
    /// and returns the principal with the claim still to be made good.
    fn verify(
        &self,
        parts: &Parts,
        candidates: &[&Accepted],
        body: &[u8],
        json_body: bool,
    ) -> Result<(Principal, Option<Claim>), Error> {
        let target = target(parts);
        let now = (self.clock)();
        let certificate = parts.extensions.get::<PeerCertificate>().map(|c| &c.0[..]);
        let headers: SmallVec<[Header<'_>; 8]> = parts
            .headers
            .iter()
            .filter(|(name, _)| candidates.iter().any(|a| a.scheme().reads(name.as_str().as_bytes())))
            .map(|(name, value)| Header { name: name.as_str(), value: value.as_bytes() })
            .collect();
        let peer = self.peer(parts)?;
        let req = CoreRequest { method: parts.method.as_str(), path: target, body, headers: &headers, peer };

        let mut core = self.core();
        let (found, claim, scheme) = if self.mtls == Some(Mtls::Alone) {
            let (p, claim) = core.verify(Check::Certificate(None, certificate), &req, now)?;
            (p, claim, "mtls")
        } else {
            // A pinned certificate checked before the credentials when a request comes with
            // both in a way the core takes in two calls (the JSON body).
            let pinned = match (self.mtls, json_body) {
                (Some(Mtls::Combined), true) => Some(core.verify(Check::Certificate(None, certificate), &req, now)?.0),
                _ => None,
            };
            let mut first = None;
            let mut verified = None;
            for a in candidates {
                let check = match (self.mtls, json_body) {
                    (_, true) => Check::JsonBody(&a.prepared),
                    (Some(Mtls::Combined), false) => Check::Certificate(Some(&a.prepared), certificate),
                    _ => Check::Headers(&a.prepared),
                };
                match core.verify(check, &req, now) {
                    Ok((p, claim)) => {
                        verified = Some((p, claim, a.scheme().name));
                        break;
                    }
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            let found = verified.ok_or(first.unwrap_or(Error::MissingCredential))?;
            if pinned.is_some_and(|p| p.id != found.0.id) {
                return Err(Error::UnpinnedCertificate);
            }
            found
        };
        let user_id = core.user_id(&found.id)?;
        drop(core);
        let client_id = found.id.as_str().to_owned();

        if let Some(policy) = &self.policy {
            policy.authorize(found.role.ok_or(Error::Forbidden)?, target.as_bytes())?;
        }
        let role = found.role.and_then(|r| self.policy.and_then(|p| p.roles.get(usize::from(r.0))).map(|r| r.name));
        let principal = Principal { client_id, slot: found.slot, role_id: found.role, role, user_id, scheme };
        Ok((principal, claim))
    }

    /// The pinned client certificate's revocation status: `Some` warning when fail-soft let a
    /// failure through.
    #[cfg(feature = "ocsp")]
    async fn revocation<R: From<Bytes>>(
        self: &Arc<Self>,
        checker: &crate::ocsp::OcspChecker,
        parts: &Parts,
    ) -> Result<Option<crate::ocsp::OcspWarning>, Response<R>> {
        let certificate = parts.extensions.get::<PeerCertificate>().map(|c| c.0.clone());
        let now = (self.clock)();
        // The pin first: no responder is asked about a certificate no client is pinned to
        // (looked up in the store, so on the blocking pool when the authenticator offloads).
        let peer = self.peer(parts).map_err(|e| self.refuse(e))?;
        let (method, path, pinned) = (parts.method.clone(), target(parts).to_owned(), certificate.clone());
        self.run(false, move |auth| {
            let req = CoreRequest { method: method.as_str(), path: &path, body: b"", headers: &[], peer };
            auth.core().verify(Check::Certificate(None, pinned.as_deref()), &req, now).map(|_| ())
        })
        .await?
        .map_err(|e| self.refuse(e))?;
        let certificate = certificate.ok_or_else(|| self.refuse(Error::MissingCredential))?;
        Ok(match checker.check(&certificate, now).await.map_err(|e| self.refuse(e))? {
            apisig::ocsp::Verdict::Good => None,
            apisig::ocsp::Verdict::FailSoft(e) => Some(crate::ocsp::OcspWarning(e)),
        })
    }

    /// Makes a verified request's claim good in the shared store, if there is one.
    async fn settle(&self, claim: Option<Claim>) -> Result<(), Error> {
        match (&self.claims, claim) {
            (Some(store), Some(claim)) => store.claim(&claim).await,
            _ => Ok(()),
        }
    }

    /// Verifies `req`: the request to hand on (with the principal in its extensions and the
    /// body it came with), or the answer to send instead.
    async fn admit<B, R>(self: Arc<Self>, req: Request<B>) -> Result<Request<B>, Response<R>>
    where
        B: Body + From<Bytes> + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        R: From<Bytes>,
    {
        let path = req.uri().path();
        if self.exempt.iter().any(|p| p == path) {
            return Ok(req);
        }
        if self.apex_login.as_deref() == Some(path) && req.method() == Method::POST {
            let (parts, body) = req.into_parts();
            let body = self.buffer(&parts, body).await?;
            let verified = self.run(body.len() >= OFFLOAD_BODY, move |auth| auth.apex_verify(&parts, &body)).await?;
            return Err(self.apex_answer(verified).await);
        }
        #[cfg_attr(not(feature = "ocsp"), allow(unused_mut))]
        let (mut parts, body) = req.into_parts();
        #[cfg(feature = "ocsp")]
        if let (Some(checker), Some(_)) = (&self.ocsp, self.mtls)
            && let Some(warning) = self.revocation(checker, &parts).await?
        {
            parts.extensions.insert(warning);
        }
        let candidates: Candidates = (0..self.schemes.len())
            .filter(|&i| self.schemes.get(i).is_some_and(|a| a.names.iter().all(|n| parts.headers.contains_key(n))))
            .collect();
        if candidates.is_empty() && self.mtls != Some(Mtls::Alone) {
            return Err(self.refuse(Error::MissingCredential));
        }
        let signs_body = candidates.iter().any(|&i| self.schemes.get(i).is_some_and(|a| a.signs_body));
        let (body, bytes) =
            if signs_body { (None, self.buffer(&parts, body).await?) } else { (Some(body), Bytes::new()) };
        // A large body's MAC, or a store's I/O, takes long enough to hold up other requests:
        // then verified on tokio's blocking pool (the verifier's lock is taken there too).
        let heavy = bytes.len() >= OFFLOAD_BODY;
        let (mut parts, bytes, verified) = self
            .run(heavy, move |auth| {
                let verified = auth.verify(&parts, &auth.candidates(&candidates), &bytes, false);
                (parts, bytes, verified)
            })
            .await?;
        let body = body.unwrap_or_else(|| B::from(bytes));
        let (principal, claim) = verified.map_err(|e| self.refuse(e))?;
        self.settle(claim).await.map_err(|e| self.refuse(e))?;
        parts.extensions.insert(principal);
        Ok(Request::from_parts(parts, body))
    }

    /// The accepted schemes at positions `indices`.
    fn candidates(&self, indices: &[usize]) -> SmallVec<[&Accepted; 4]> {
        indices.iter().filter_map(|&i| self.schemes.get(i)).collect()
    }

    /// The whole body, if it is at most `max_body` bytes (else the 413 answer).
    async fn buffer<B, R>(&self, parts: &Parts, body: B) -> Result<Bytes, Response<R>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        R: From<Bytes>,
    {
        let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let too_large = || plain(StatusCode::PAYLOAD_TOO_LARGE, r#"{"error":"body_too_large"}"#);
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(too_large());
        }
        let refuse = |e: Box<dyn std::error::Error + Send + Sync>| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large()
            } else {
                plain(StatusCode::BAD_REQUEST, r#"{"error":"body_unreadable"}"#)
            }
        };
        let mut body = std::pin::pin!(Limited::new(body, self.max_body));
        // A small request's body is one frame, the last: taken as it is (no list of frames to
        // collect and join).
        let first = match body.frame().await {
            None => return Ok(Bytes::new()),
            Some(frame) => frame.map_err(refuse)?,
        };
        let first = match first.into_data() {
            Ok(mut data) if body.is_end_stream() => return Ok(data.copy_to_bytes(data.remaining())),
            Ok(data) => Frame::data(data),
            Err(frame) => frame,
        };
        let rest = body.collect().await.map_err(refuse)?;
        let mut whole = BytesMut::new();
        if let Ok(mut data) = first.into_data() {
            whole.put(&mut data);
        }
        whole.put(rest.aggregate());
        Ok(whole.freeze())
    }

    fn refuse<R: From<Bytes>>(&self, error: Error) -> Response<R> {
        Refusal { error }.response(&self.realm)
    }

    /// Answers APEX `AuthenticateUser` once its credentials were `verified`.
    async fn apex_answer<R: From<Bytes>>(&self, verified: Result<(Principal, Option<Claim>), Error>) -> Response<R> {
        let issued = match verified {
            Ok((principal, claim)) => match self.settle(claim).await {
                Ok(()) => self.apex_session(&principal).map(|token| (principal, token)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let (status, answer) = match issued {
            Ok((principal, token)) => (
                StatusCode::OK,
                serde_json::json!({
                    "Authenticated": true,
                    "SessionToken": token,
                    "User": {"UserId": principal.user_id.unwrap_or_default()},
                }),
            ),
            Err(error) => (
                crate::status_for(error),
                serde_json::json!({
                    "Authenticated": false,
                    "errormsg": error.as_str(),
                    "error": error.name(),
                    "code": error.code(),
                }),
            ),
        };
        plain(status, &answer.to_string())
    }

    /// `AuthenticateUser`: the APEX fields as headers, or as the JSON body's members (read by
    /// the core).
    fn apex_verify(&self, parts: &Parts, body: &[u8]) -> Result<(Principal, Option<Claim>), Error> {
        self.verify(parts, &[&self.apex], body, true)
    }

    fn apex_session(&self, principal: &Principal) -> Result<String, Error> {
        let expires = ((self.clock)() / 1_000_000_000).saturating_add(self.session_lifetime);
        let user_id = principal.user_id.as_deref().unwrap_or_default();
        let session = Session { user_id, key_id: &principal.client_id, expires };
        self.core().issue(&session)
    }
}

#[allow(clippy::expect_used)] // a preset checked by the core's own tests
fn apex_prepared() -> PreparedScheme<'static> {
    PreparedScheme::new(&dialect::APEX).expect("the APEX preset is coherent")
}

/// The request target exactly as received: path and query.
fn target(parts: &Parts) -> &str {
    parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |pq| pq.as_str())
}

fn plain<R: From<Bytes>>(status: StatusCode, json: &str) -> Response<R> {
    let mut res = Response::new(R::from(Bytes::copy_from_slice(json.as_bytes())));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    res
}

/// A tower [`Layer`] verifying every request with an [`Authenticator`]. Cheap to clone.
///
/// With axum: `Router::new().route(…).layer(authenticator.layer())`; the handler takes
/// `Extension<Principal>`. With hyper or any tower service: `ServiceBuilder::new().layer(…)`.
/// The request body type must be buildable from [`Bytes`] (axum's `Body`,
/// `http_body_util::Full<Bytes>`), since a verified body is handed on as the bytes received.
#[derive(Clone, Debug)]
pub struct ApisigLayer {
    auth: Arc<Authenticator>,
}

impl ApisigLayer {
    /// The authenticator.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

impl<S> Layer<S> for ApisigLayer {
    type Service = Apisig<S>;

    fn layer(&self, inner: S) -> Apisig<S> {
        Apisig { inner, auth: Arc::clone(&self.auth) }
    }
}

/// The service [`ApisigLayer`] makes: verifies, then calls the inner service or answers.
#[derive(Clone, Debug)]
pub struct Apisig<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S, B, R> Service<Request<B>> for Apisig<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    B: Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: From<Bytes> + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The service that was polled ready handles this request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = Arc::clone(&self.auth);
        let grpc = crate::is_grpc(req.headers());
        Box::pin(async move {
            match auth.admit(req).await {
                Ok(req) => inner.call(req).await,
                Err(answer) if grpc => Ok(crate::grpc_answer(answer)),
                Err(answer) => Ok(answer),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_replay_refuses_a_live_record_and_reuses_expired_ones() {
        let mut record = MemoryReplay::new(64);
        assert_eq!((record.capacity(), MemoryReplay::new(0).capacity()), (64, 1));
        let id = [7u8; apisig::replay::REPLAY_ID_LEN];
        assert_eq!(record.check_and_insert("a", &id, 100, 10), Ok(()));
        assert_eq!(record.check_and_insert("a", &id, 100, 20), Err(Error::ReplayedRequest));
        assert_eq!(record.check_and_insert("b", &id, 100, 20), Ok(()), "another client's record");
        assert_eq!(record.live(50), 2);
        assert_eq!(record.check_and_insert("a", &id, 300, 200), Ok(()), "expired: accepted again");
        assert_eq!(record.live(200), 1);
    }
}
