//! OpenID Connect on both sides (the `oidc` feature): a client-credentials reqwest middleware
//! that finds its token endpoint by discovery, and a tower layer accepting an OpenID
//! provider's JWT access tokens (RS256, PS256, ES256, EdDSA) against its JWK set.
//!
//! **Client.** [`ClientCredentials`] runs the client-credentials grant (RFC 6749 §4.4) with
//! `client_secret_basic` or `client_secret_post`, at a token endpoint given or discovered
//! ([`ClientCredentials::from_issuer`]: `<issuer>/.well-known/openid-configuration`, whose
//! `issuer` must be the one asked for). As a [`Middleware`] it sends `Authorization: Bearer`;
//! the token is kept until the core's [`TokenLifetime`] says refresh, fetched once for all
//! concurrent requests (an async lock held across the fetch), and a 401 drops it, fetches a new
//! one and sends the request once more. Put it before a [`SigningMiddleware`] with ZignSec's
//! product keys (`dialect::ZIGNSEC`, rotated on 401/403) for ZignSec's OAuth2.
//!
//! **Resource server.** [`Jwks`] is one issuer's JWK set, fetched from the `jwks_uri` of its
//! discovery document and kept for `Cache-Control: max-age` (an hour when the provider says
//! nothing); a token naming an unknown `kid` makes it fetched again, at most once per 30 s
//! ([`Jwks::refetch_interval`]), and a failed fetch keeps the last good set (with none:
//! `jwks_unavailable`, 503; a `kid` still unknown: `unknown_kid`, 503). Every check on the
//! token itself is the core's ([`apisig::jws::verify`]: algorithms per issuer, never `none` or
//! `HS*`, no `jku`/`x5u`/`jwk`/`x5c`, no `crit`, `iss` exact, `aud` containing the audience,
//! `exp`/`nbf` with a leeway, `typ`). [`OidcLayer`] verifies `Authorization: Bearer <JWS>` on
//! every request and puts an [`AccessToken`] in its extensions, or answers the refusal as
//! [`Refusal`] does. Stacked with an [`ApisigLayer`](crate::server::ApisigLayer) accepting
//! `dialect::ZIGNSEC`, a request needs both its product key and its token. Opaque tokens are
//! checked by RFC 7662 introspection ([`Introspector`], in [`crate::introspection`]):
//! [`OidcLayer::introspected`] for every token, [`OidcLayer::opaque_tokens`] for those that are
//! not a JWS.
//!
//! ```no_run
//! use apisig::jwk::{Alg, AlgSet};
//! use apisig_http::oidc::{ClientCredentials, Jwks, OidcLayer};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let http = reqwest::Client::new();
//! let creds = ClientCredentials::from_issuer(&http, "https://op.example", "client", "secret").await?;
//! let client = reqwest_middleware::ClientBuilder::new(http.clone()).with(creds).build();
//! let jwks = Jwks::new(http, "https://op.example", "https://api.example")
//!     .algorithms(AlgSet::EMPTY.with(Alg::Es256));
//! let layer = OidcLayer::new(jwks); // axum: Router::new().route(…).layer(layer)
//! # let _ = (client, layer);
//! # Ok(())
//! # }
//! ```
//!
//! [`SigningMiddleware`]: crate::client::SigningMiddleware

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use apisig::jwk::{Alg, AlgSet, JwkSet};
use apisig::jws::{self, Issuer};
use apisig::{Error, TokenLifetime, UnixNanos};
use bytes::Bytes;
use http::{Extensions, HeaderValue, Request, Response, header};
use reqwest::StatusCode;
use reqwest_middleware::{Middleware, Next};
use tower_layer::Layer;
use tower_service::Service;

use crate::Refusal;
use crate::introspection::Introspector;
use crate::server::BoxFuture;

/// Where an issuer publishes its discovery document, after its identifier.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Most usable keys kept of one issuer's set.
pub const JWKS_CAPACITY: usize = 16;

/// Longest provider document read (discovery, JWK set, token answer): 1 MiB; the core refuses
/// JWK sets over 32 KiB itself.
const DOCUMENT_MAX: usize = 1 << 20;

/// Why the client could not get a token.
#[derive(Debug)]
#[non_exhaustive]
pub enum OidcError {
    /// The provider could not be reached (or its answer not read).
    Http(reqwest::Error),
    /// The discovery document is not the issuer's, or lacks what is needed
    /// ([`Error::DiscoveryMismatch`]), or could not be had ([`Error::JwksUnavailable`]).
    Core(Error),
    /// The token endpoint did not give an access token: its status and RFC 6749 §5.2 `error`.
    Token {
        /// The HTTP status.
        status: u16,
        /// The `error` member, when it sent one.
        error: Option<String>,
    },
    /// The introspection endpoint answered other than 200: its status and `error` (`401
    /// invalid_client`: the resource server's own credentials are wrong, not the token).
    Introspection {
        /// The HTTP status.
        status: u16,
        /// The `error` member, when it sent one.
        error: Option<String>,
    },
}

impl fmt::Display for OidcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OidcError::Http(e) => write!(f, "OpenID provider unreachable: {e}"),
            OidcError::Core(e) => write!(f, "{}", e.as_str()),
            OidcError::Token { status, error } => {
                write!(f, "token endpoint answered {status} {}", error.as_deref().unwrap_or("without a token"))
            }
            OidcError::Introspection { status, error } => {
                write!(
                    f,
                    "introspection endpoint answered {status} {}",
                    error.as_deref().unwrap_or("without an answer")
                )
            }
        }
    }
}

impl std::error::Error for OidcError {}

impl From<reqwest::Error> for OidcError {
    fn from(e: reqwest::Error) -> OidcError {
        OidcError::Http(e)
    }
}

impl From<Error> for OidcError {
    fn from(e: Error) -> OidcError {
        OidcError::Core(e)
    }
}

/// GETs `url`: status, `Cache-Control` and body (at most [`DOCUMENT_MAX`]).
async fn get(http: &reqwest::Client, url: &str) -> Result<(StatusCode, Option<String>, Bytes), reqwest::Error> {
    let res = http.get(url).header(header::ACCEPT, "application/json").send().await?;
    let status = res.status();
    let cache = res.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = read_capped(res).await?;
    Ok((status, cache, body))
}

pub(crate) async fn read_capped(mut res: reqwest::Response) -> Result<Bytes, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        out.extend_from_slice(&chunk);
        if out.len() > DOCUMENT_MAX {
            out.truncate(DOCUMENT_MAX);
            break;
        }
    }
    Ok(Bytes::from(out))
}

/// The issuer's discovery document, checked to be the issuer's own (`issuer` equal exactly).
///
/// # Errors
/// [`OidcError::Core`] with [`Error::JwksUnavailable`] when it cannot be had (not 200), with
/// [`Error::DiscoveryMismatch`] when it is not JSON or names another issuer;
/// [`OidcError::Http`] when the provider is unreachable.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<serde_json::Value, OidcError> {
    let url = format!("{}{DISCOVERY_PATH}", issuer.trim_end_matches('/'));
    let (status, _, body) = get(http, &url).await?;
    if status != StatusCode::OK {
        return Err(Error::JwksUnavailable.into());
    }
    let doc: serde_json::Value = serde_json::from_slice(&body).map_err(|_| Error::DiscoveryMismatch)?;
    if doc.get("issuer").and_then(|v| v.as_str()) != Some(issuer) {
        return Err(Error::DiscoveryMismatch.into());
    }
    Ok(doc)
}

pub(crate) fn endpoint(doc: &serde_json::Value, name: &str) -> Result<String, Error> {
    doc.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_owned).ok_or(Error::DiscoveryMismatch)
}

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Copy, Clone, Debug, Default, Eq, PartialEq)]
pub enum AuthMethod {
    /// HTTP Basic with the form-urlencoded id and secret (the default).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

impl AuthMethod {
    /// The name discovery documents use.
    pub const fn name(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
        }
    }
}

pub(crate) type Clock = Arc<dyn Fn() -> UnixNanos + Send + Sync>;

/// A client's credentials at one token endpoint and the access token they were last exchanged
/// for; a reqwest [`Middleware`] sending it as `Authorization: Bearer`. Share one (it is used
/// through `&self`) between every request of the same client.
pub struct ClientCredentials {
    token_url: String,
    client_id: String,
    secret: String,
    auth: AuthMethod,
    form: Vec<(String, String)>,
    skew_s: u64,
    default_lifetime_s: u64,
    http: reqwest::Client,
    clock: Clock,
    token: tokio::sync::Mutex<Option<(String, TokenLifetime)>>,
    fetches: AtomicU64,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// Credentials at `token_url`; tokens are fetched with `http` (its TLS settings apply),
    /// `client_secret_basic`, a 60 s refresh skew, 1200 s when the answer has no `expires_in`.
    pub fn new(
        http: &reqwest::Client,
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> ClientCredentials {
        ClientCredentials {
            token_url: token_url.into(),
            client_id: client_id.into(),
            secret: secret.into(),
            auth: AuthMethod::default(),
            form: Vec::new(),
            skew_s: 60,
            default_lifetime_s: 1200,
            http: http.clone(),
            clock: Arc::new(crate::now),
            token: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// Credentials at the `token_endpoint` of `issuer`'s discovery document ([`discover`]).
    ///
    /// # Errors
    /// As [`discover`]; [`Error::DiscoveryMismatch`] when the document has no `token_endpoint`.
    pub async fn from_issuer(
        http: &reqwest::Client,
        issuer: &str,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Result<ClientCredentials, OidcError> {
        let doc = discover(http, issuer).await?;
        Ok(ClientCredentials::new(http, endpoint(&doc, "token_endpoint")?, client_id, secret))
    }

    /// How to authenticate at the token endpoint.
    pub fn auth_method(mut self, method: AuthMethod) -> ClientCredentials {
        self.auth = method;
        self
    }

    /// Adds a form parameter to every token request (`scope`, `resource`, `audience`, …).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> ClientCredentials {
        self.form.push((name.into(), value.into()));
        self
    }

    /// Seconds before expiry to refresh (capped at half the lifetime by the core).
    pub fn skew(mut self, seconds: u64) -> ClientCredentials {
        self.skew_s = seconds;
        self
    }

    /// The clock (nanoseconds since the UNIX epoch) deciding when to refresh; tests inject one.
    pub fn clock(mut self, clock: impl Fn() -> UnixNanos + Send + Sync + 'static) -> ClientCredentials {
        self.clock = Arc::new(clock);
        self
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// How many tokens were fetched (for monitoring and tests).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The current token: the one kept unless the core says refresh, else a new one. One
    /// caller fetches while the others wait for its token.
    ///
    /// # Errors
    /// [`OidcError::Http`] when the endpoint is unreachable; [`OidcError::Token`] when it does
    /// not give a bearer token.
    pub async fn token(&self) -> Result<String, OidcError> {
        let mut held = self.token.lock().await;
        if let Some((token, lifetime)) = held.as_ref()
            && !lifetime.needs_refresh((self.clock)())
        {
            return Ok(token.clone());
        }
        let requested_at = (self.clock)();
        let (token, lifetime_s) = self.fetch().await?;
        let lifetime = TokenLifetime { issued_at: requested_at, lifetime_s, skew_s: self.skew_s };
        *held = Some((token.clone(), lifetime));
        self.fetches.fetch_add(1, Ordering::Relaxed);
        Ok(token)
    }

    /// Drops the kept token if it is still `token` (a 401 for a token another request already
    /// replaced changes nothing).
    pub async fn invalidate(&self, token: &str) {
        let mut held = self.token.lock().await;
        if held.as_ref().is_some_and(|(t, _)| t == token) {
            *held = None;
        }
    }

    /// One token request (RFC 6749 §4.4.2) and its answer (§5.1, §5.2).
    async fn fetch(&self) -> Result<(String, u64), OidcError> {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(self.form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let req = authenticated_post(&self.http, &self.token_url, self.auth, &self.client_id, &self.secret, &form);
        let res = req.send().await?;
        let status = res.status();
        let body = read_capped(res).await?;
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let refused = |error: Option<&str>| OidcError::Token {
            status: status.as_u16(),
            error: error.or_else(|| answer.get("error").and_then(|e| e.as_str())).map(str::to_owned),
        };
        let token = answer.get("access_token").and_then(|t| t.as_str()).filter(|t| !t.is_empty());
        let (true, Some(token)) = (status == StatusCode::OK, token) else { return Err(refused(None)) };
        let bearer = answer.get("token_type").and_then(|t| t.as_str()).is_none_or(|t| t.eq_ignore_ascii_case("bearer"));
        if !bearer {
            return Err(refused(Some("unsupported_token_type")));
        }
        let lifetime = match answer.get("expires_in") {
            None => self.default_lifetime_s,
            Some(v) => {
                v.as_u64().or_else(|| v.as_str()?.parse().ok()).ok_or_else(|| refused(Some("invalid_expires_in")))?
            }
        };
        Ok((token.to_owned(), lifetime))
    }
}

/// A form `POST` to `url` authenticated as the client `client_id` (RFC 6749 §2.3.1): HTTP Basic
/// with the form-urlencoded id and secret, or both in the form.
pub(crate) fn authenticated_post(
    http: &reqwest::Client,
    url: &str,
    auth: AuthMethod,
    client_id: &str,
    secret: &str,
    pairs: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(pairs);
    if auth == AuthMethod::ClientSecretPost {
        form.append_pair("client_id", client_id);
        form.append_pair("client_secret", secret);
    }
    let req = http
        .post(url)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let req = match auth {
        AuthMethod::ClientSecretBasic => req.basic_auth(enc(client_id), Some(enc(secret))),
        AuthMethod::ClientSecretPost => req,
    };
    req.body(form.finish())
}

fn bearer(token: &str) -> Result<HeaderValue, reqwest_middleware::Error> {
    HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| reqwest_middleware::Error::middleware(OidcError::Core(Error::InvalidHeaderValue)))
}

#[async_trait::async_trait]
impl Middleware for ClientCredentials {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let token = self.token().await.map_err(reqwest_middleware::Error::middleware)?;
        let retry = req.try_clone();
        let mut req = req;
        req.headers_mut().insert(header::AUTHORIZATION, bearer(&token)?);
        let res = next.clone().run(req, extensions).await?;
        let (StatusCode::UNAUTHORIZED, Some(mut again)) = (res.status(), retry) else { return Ok(res) };
        self.invalidate(&token).await;
        let token = self.token().await.map_err(reqwest_middleware::Error::middleware)?;
        again.headers_mut().insert(header::AUTHORIZATION, bearer(&token)?);
        next.run(again, extensions).await
    }
}

/// The principal of a request with a verified access token: put in its extensions by
/// [`OidcLayer`] (axum: `Extension<AccessToken>`), for a JWT as for an introspected token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    /// The algorithm a JWT was signed with; `None` for a token checked by introspection.
    pub alg: Option<Alg>,
    /// `client_id` (RFC 9068), as written in the token.
    pub client_id: Option<String>,
    /// `sub`.
    pub subject: Option<String>,
    /// `scope`, split on spaces.
    pub scopes: Vec<String>,
    /// `aud`: one audience or several.
    pub audience: Vec<String>,
    /// `exp`, seconds since the UNIX epoch.
    pub expires: Option<u64>,
    /// The whole claims set (or introspection answer), as JSON.
    pub claims: String,
}

/// What [`Jwks`] keeps: the last good set and when to look again.
struct Kept {
    set: Option<Arc<JwkSet<JWKS_CAPACITY>>>,
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
    jwks_uri: Option<String>,
}

/// One issuer's JWK set, fetched and kept fresh, and the rules its access tokens must meet.
pub struct Jwks {
    issuer: String,
    audience: String,
    algorithms: AlgSet,
    leeway_s: u64,
    strict: bool,
    refetch: Duration,
    default_max_age: Duration,
    http: reqwest::Client,
    clock: Clock,
    kept: Mutex<Kept>,
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwks")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

impl Jwks {
    /// The keys of `issuer` for tokens meant for `audience`, fetched with `http` from the
    /// `jwks_uri` of the issuer's discovery document: RS256 only (the OpenID default; see
    /// [`Jwks::algorithms`]), no leeway, not strict, refetched at most every 30 s, kept an hour
    /// when the provider gives no `max-age`.
    pub fn new(http: reqwest::Client, issuer: impl Into<String>, audience: impl Into<String>) -> Jwks {
        Jwks {
            issuer: issuer.into(),
            audience: audience.into(),
            algorithms: AlgSet::EMPTY.with(Alg::Rs256),
            leeway_s: 0,
            strict: false,
            refetch: Duration::from_secs(30),
            default_max_age: Duration::from_secs(3600),
            http,
            clock: Arc::new(crate::now),
            kept: Mutex::new(Kept { set: None, fresh_until: None, last_attempt: None, jwks_uri: None }),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// The algorithms the issuer signs with (never taken from the token).
    pub fn algorithms(mut self, algorithms: AlgSet) -> Jwks {
        self.algorithms = algorithms;
        self
    }

    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub fn leeway(mut self, seconds: u64) -> Jwks {
        self.leeway_s = seconds;
        self
    }

    /// Require the RFC 9068 profile (`typ` `at+jwt`; `sub`, `client_id`, `iat`, `jti`).
    pub fn strict(mut self, strict: bool) -> Jwks {
        self.strict = strict;
        self
    }

    /// The JWK set's address, instead of discovering it.
    pub fn jwks_uri(self, uri: impl Into<String>) -> Jwks {
        self.kept().jwks_uri = Some(uri.into());
        self
    }

    /// The least time between two fetches (30 s): tokens naming unknown kids cannot make the
    /// server hammer the provider.
    pub fn refetch_interval(mut self, interval: Duration) -> Jwks {
        self.refetch = interval;
        self
    }

    /// How long a set is kept when the provider sends no `Cache-Control: max-age` (an hour).
    pub fn default_max_age(mut self, age: Duration) -> Jwks {
        self.default_max_age = age;
        self
    }

    /// The clock (nanoseconds since the UNIX epoch) the tokens' times are checked against.
    pub fn clock(mut self, clock: impl Fn() -> UnixNanos + Send + Sync + 'static) -> Jwks {
        self.clock = Arc::new(clock);
        self
    }

    /// How many sets were loaded (for monitoring and tests).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Whether the set in use has a key with this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.kept().set.as_ref().is_some_and(|s| s.has_kid(kid))
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fetches the set unless one was tried less than the refetch interval ago, or (without
    /// `force`) the one kept is still fresh; whether a new set was loaded. A failure keeps the
    /// last good set.
    ///
    /// # Errors
    /// [`Error::JwksUnavailable`] when the set (or the discovery document) could not be
    /// fetched; [`Error::DiscoveryMismatch`]; the JWK set's own errors ([`JwkSet::parse`]).
    pub async fn refresh(&self, force: bool) -> Result<bool, Error> {
        let _one = self.fetching.lock().await;
        let now = Instant::now();
        let uri = {
            let mut kept = self.kept();
            if kept.last_attempt.is_some_and(|t| now.duration_since(t) < self.refetch) {
                return Ok(false);
            }
            if !force && kept.set.is_some() && kept.fresh_until.is_some_and(|t| now < t) {
                return Ok(false);
            }
            kept.last_attempt = Some(now);
            kept.jwks_uri.clone()
        };
        let uri = match uri {
            Some(uri) => uri,
            None => {
                let doc = discover(&self.http, &self.issuer).await.map_err(|e| match e {
                    OidcError::Core(e) => e,
                    _ => Error::JwksUnavailable,
                })?;
                let uri = endpoint(&doc, "jwks_uri")?;
                self.kept().jwks_uri = Some(uri.clone());
                uri
            }
        };
        let (status, cache, body) = get(&self.http, &uri).await.map_err(|_| Error::JwksUnavailable)?;
        if status != StatusCode::OK {
            return Err(Error::JwksUnavailable);
        }
        let set = JwkSet::parse(&body)?;
        let age = cache.as_deref().map_or(self.default_max_age, |c| max_age(c).unwrap_or(self.default_max_age));
        let mut kept = self.kept();
        kept.set = Some(Arc::new(set));
        kept.fresh_until = now.checked_add(age);
        self.fetches.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }

    /// The set to verify with: the kept one, refreshed first when it is stale.
    async fn current(&self) -> Result<Arc<JwkSet<JWKS_CAPACITY>>, Error> {
        let stale = {
            let kept = self.kept();
            kept.set.is_none() || kept.fresh_until.is_none_or(|t| Instant::now() >= t)
        };
        let failed = if stale { self.refresh(false).await.err() } else { None };
        match (self.kept().set.clone(), failed) {
            (Some(set), _) => Ok(set),
            // The deployment's mistake says so; anything else is "unavailable".
            (None, Some(Error::DiscoveryMismatch)) => Err(Error::DiscoveryMismatch),
            (None, _) => Err(Error::JwksUnavailable),
        }
    }

    /// Verifies an access token: its claims, or the core's refusal. A token naming an unknown
    /// `kid` makes the set fetched again first (at most once per refetch interval).
    ///
    /// # Errors
    /// The errors of [`jws::verify`]; [`Error::JwksUnavailable`] when no set could ever be
    /// fetched; [`Error::DiscoveryMismatch`].
    pub async fn verify(&self, token: &str) -> Result<AccessToken, Error> {
        let set = self.current().await?;
        match self.check(&set, token) {
            Err(Error::UnknownKid) => {
                if !self.refresh(true).await.unwrap_or(false) {
                    return Err(Error::UnknownKid);
                }
                let set = self.current().await?;
                self.check(&set, token)
            }
            other => other,
        }
    }

    fn check(&self, set: &JwkSet<JWKS_CAPACITY>, token: &str) -> Result<AccessToken, Error> {
        let issuer = Issuer {
            issuer: &self.issuer,
            audience: &self.audience,
            algorithms: self.algorithms,
            leeway_s: self.leeway_s,
            strict: self.strict,
            max_len: jws::ACCESS_TOKEN_MAX,
        };
        let mut scratch = vec![0u8; token.len()];
        let v = jws::verify(set, &issuer, token.as_bytes(), (self.clock)(), &mut scratch)?;
        let c = &v.claims;
        Ok(AccessToken {
            alg: Some(v.alg),
            client_id: c.client_id.map(str::to_owned),
            subject: c.sub.map(str::to_owned),
            scopes: c.scope.unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            audience: c.aud.iter().map(|a| (*a).to_owned()).collect(),
            expires: c.exp,
            claims: String::from_utf8_lossy(c.json).into_owned(),
        })
    }
}

/// Seconds a response may be kept by its `Cache-Control` (`no-store`/`no-cache`: 0), or `None`
/// when it does not say.
fn max_age(cache_control: &str) -> Option<Duration> {
    let mut age = None;
    for directive in cache_control.split(',').map(str::trim) {
        let (name, value) = directive.split_once('=').map_or((directive, None), |(n, v)| (n.trim(), Some(v.trim())));
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            age = value.map(|v| v.trim_matches('"')).and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs);
        }
    }
    age
}

/// A tower [`Layer`] accepting a request only with a valid access token of one issuer
/// (`Authorization: Bearer <token>`): a JWT checked against the issuer's [`Jwks`], or an opaque
/// token checked by introspection ([`Introspector`]), or both: with both, a token of three
/// dot-separated parts (a JWS) goes to the JWK set and any other to introspection (as the
/// Python middleware's `oidc=` and `introspection=`). Refusals are answered as [`Refusal`] does
/// (401, or 503 when the keys or the introspection endpoint are unavailable). Cheap to clone.
#[derive(Clone, Debug)]
pub struct OidcLayer {
    tokens: Tokens,
    realm: Arc<str>,
}

/// What checks the layer's tokens.
#[derive(Clone, Debug)]
enum Tokens {
    Jwt(Arc<Jwks>),
    Opaque(Arc<Introspector>),
    /// A JWS by the JWK set, any other token by introspection.
    Either(Arc<Jwks>, Arc<Introspector>),
}

impl OidcLayer {
    /// The layer over `jwks`.
    pub fn new(jwks: Jwks) -> OidcLayer {
        OidcLayer::shared(Arc::new(jwks))
    }

    /// The layer over a [`Jwks`] shared with other code (to read its counters, say).
    pub fn shared(jwks: Arc<Jwks>) -> OidcLayer {
        OidcLayer { tokens: Tokens::Jwt(jwks), realm: Arc::from("apisig") }
    }

    /// The layer checking every bearer token by introspection (opaque tokens only).
    pub fn introspected(introspection: Arc<Introspector>) -> OidcLayer {
        OidcLayer { tokens: Tokens::Opaque(introspection), realm: Arc::from("apisig") }
    }

    /// Tokens that are not a JWS checked by `introspection`, JWS ones still by the JWK set (a
    /// layer made by [`introspected`](Self::introspected) uses `introspection` instead).
    pub fn opaque_tokens(mut self, introspection: Arc<Introspector>) -> OidcLayer {
        self.tokens = match self.tokens {
            Tokens::Jwt(jwks) | Tokens::Either(jwks, _) => Tokens::Either(jwks, introspection),
            Tokens::Opaque(_) => Tokens::Opaque(introspection),
        };
        self
    }

    /// The principal of `token`, or the core's refusal.
    async fn check(&self, token: &str) -> Result<AccessToken, Error> {
        match &self.tokens {
            Tokens::Jwt(jwks) => jwks.verify(token).await,
            Tokens::Either(jwks, _) if token.bytes().filter(|b| *b == b'.').count() == 2 => jwks.verify(token).await,
            Tokens::Opaque(introspection) | Tokens::Either(_, introspection) => introspection.verify(token).await,
        }
    }

    /// The realm of the `WWW-Authenticate` challenge.
    pub fn realm(mut self, realm: &str) -> OidcLayer {
        self.realm = Arc::from(realm);
        self
    }
}

impl<S> Layer<S> for OidcLayer {
    type Service = Oidc<S>;

    fn layer(&self, inner: S) -> Oidc<S> {
        Oidc { inner, layer: self.clone() }
    }
}

/// The service [`OidcLayer`] makes.
#[derive(Clone, Debug)]
pub struct Oidc<S> {
    inner: S,
    layer: OidcLayer,
}

/// The bearer token of a request: exactly one `Authorization: Bearer <token>`.
fn bearer_token<B>(req: &Request<B>) -> Result<&str, Error> {
    let mut values = req.headers().get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if req.headers().contains_key(header::AUTHORIZATION) {
            Error::DuplicateHeader
        } else {
            Error::MissingCredential
        });
    };
    let text = value.to_str().map_err(|_| Error::InvalidHeaderValue)?;
    let (scheme, token) = text.split_once(' ').ok_or(Error::MissingCredential)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Error::MissingCredential);
    }
    Ok(token)
}

impl<S, B, R> Service<Request<B>> for Oidc<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    R: From<Bytes> + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let verified = match bearer_token(&req) {
                Ok(token) => layer.check(token).await,
                Err(e) => Err(e),
            };
            match verified {
                Ok(principal) => {
                    req.extensions_mut().insert(principal);
                    inner.call(req).await
                }
                Err(error) => Ok(Refusal { error }.response(&layer.realm)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(max_age("max-age=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("max-age=60, no-cache"), Some(Duration::ZERO));
        assert_eq!(max_age("private"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
