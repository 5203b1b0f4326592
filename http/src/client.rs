//! The client side: [`reqwest_middleware`] middleware signing every request.
//!
//! [`SigningMiddleware`] signs each request with the core [`Signer`] exactly over the bytes
//! sent (method, request target with its query, body), in any scheme: the presets of
//! [`apisig::dialect`] and schemes of your own. With several keys it drives the core's
//! [`Rotation`]: ZignSec retries with the other key on 401 or 403, Securosys rolls over to the
//! next key of a role on 401, and a key that worked stays current.
//!
//! [`ApexSession`] is AlphaPoint APEX's two-step flow: it calls `AuthenticateUser` once
//! (signed fields as headers and as the JSON body), keeps the session token from the answer
//! and sends it as `aptoken` on every request; a 401 opens a new session once.
//!
//! ```no_run
//! use apisig::{dialect, Credentials};
//! use apisig_http::client::SigningMiddleware;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let creds = Credentials { api_key: "API_KEY", secret: b"API_SECRET", ..Credentials::EMPTY };
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(SigningMiddleware::new(&dialect::AEVO, creds)?)
//!     .build();
//! let answer = client.post("https://api.example/orders").body("{\"qty\":1}").send().await?;
//! # let _ = answer;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use apisig::rotation::{Next as Step, RetryOn, Rotation};
use apisig::{
    Credentials, Error, MacKey, Request as CoreRequest, Signer, Stamp, UnixNanos,
    headers::HeaderSet,
    scheme::{Field, Scheme},
};
use bytes::Bytes;
use http::{Extensions, HeaderName, HeaderValue};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

/// Why a request could not be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The core refused to sign (the method, path or a credential cannot be signed
    /// unambiguously, see [`apisig::Error`]).
    Core(Error),
    /// The body is a stream: a signature covers the body, so it must be known in full before
    /// sending (give reqwest bytes or a string).
    StreamingBody,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::Core(e) => write!(f, "apisig: {e}"),
            SignError::StreamingBody => f.write_str("apisig: a streamed request body cannot be signed"),
        }
    }
}

impl std::error::Error for SignError {}

impl From<Error> for SignError {
    fn from(e: Error) -> Self {
        SignError::Core(e)
    }
}

fn middleware_error(e: impl Into<SignError>) -> reqwest_middleware::Error {
    reqwest_middleware::Error::middleware(e.into())
}

/// Credentials owned by the middleware, with the HMAC key state computed once.
#[derive(Clone)]
struct Key {
    api_key: String,
    secret: Vec<u8>,
    user_id: String,
    token: String,
    mac: Option<MacKey>,
}

impl Key {
    fn new(scheme: &Scheme<'static>, c: Credentials<'_>) -> Result<Key, Error> {
        // Checked as the core checks them, once.
        Signer::new(scheme, c)?;
        let mac = if scheme.template.is_some() { Some(MacKey::new(c.secret)?) } else { None };
        Ok(Key {
            api_key: c.api_key.to_owned(),
            secret: c.secret.to_vec(),
            user_id: c.user_id.to_owned(),
            token: c.token.to_owned(),
            mac,
        })
    }

    fn signer<'a>(&'a self, scheme: &Scheme<'static>) -> Result<Signer<'a>, Error> {
        let creds =
            Credentials { api_key: &self.api_key, secret: &self.secret, user_id: &self.user_id, token: &self.token };
        match &self.mac {
            Some(mac) => Signer::with_key(scheme, creds, mac.clone()),
            None => Signer::new(scheme, creds),
        }
    }
}

/// A per-request counter for schemes that send a nonce (APEX): milliseconds since the epoch,
/// or one more than the last nonce when that is larger (two requests in one millisecond).
#[derive(Debug, Default)]
struct Nonces(AtomicU64);

impl Nonces {
    fn next(&self, now: UnixNanos) -> u64 {
        let ms = now / 1_000_000;
        let mut last = self.0.load(Ordering::Relaxed);
        loop {
            let next = ms.max(last.saturating_add(1));
            match self.0.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }
}

type Clock = std::sync::Arc<dyn Fn() -> UnixNanos + Send + Sync>;

/// The request target as sent: the URL's path and query.
fn target(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Puts a signed header set on `headers` (replacing headers of the same names); secret values
/// are marked sensitive, so reqwest's and hyper's `Debug` and HPACK keep them out.
fn put_headers(set: &HeaderSet<'_>, headers: &mut http::HeaderMap) -> Result<(), Error> {
    for line in set.iter() {
        let name = HeaderName::from_bytes(line.name.as_bytes()).map_err(|_| Error::InvalidHeaderValue)?;
        let mut value =
            HeaderValue::from_str(&format!("{}{}", line.prefix, line.value)).map_err(|_| Error::InvalidHeaderValue)?;
        value.set_sensitive(line.secret);
        headers.insert(name, value);
    }
    Ok(())
}

/// Signs every request in one scheme, with one key or several in rotation.
pub struct SigningMiddleware {
    scheme: Scheme<'static>,
    keys: Vec<Key>,
    rotation: Mutex<Rotation>,
    nonces: Nonces,
    clock: Clock,
}

impl fmt::Debug for SigningMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningMiddleware")
            .field("scheme", &self.scheme.name)
            .field("keys", &self.keys.len())
            .field("current", &self.current_key())
            .finish_non_exhaustive()
    }
}

impl SigningMiddleware {
    /// Signs with one set of credentials.
    ///
    /// # Errors
    /// Those of [`Signer::new`]: an incoherent scheme, an empty or unsendable credential.
    pub fn new(scheme: &Scheme<'static>, creds: Credentials<'_>) -> Result<SigningMiddleware, Error> {
        Self::with_keys(scheme, [creds])
    }

    /// Signs with the first of several keys (ZignSec primary and secondary, Securosys keys of
    /// one role) and moves to the next as the scheme's service documents
    /// ([`Rotation::for_scheme`]: ZignSec on 401 or 403, Securosys on 401).
    ///
    /// # Errors
    /// Those of [`Signer::new`] for any key; [`Error::EmptySecret`] for no key at all,
    /// [`Error::KeyringFull`] for more than 255.
    pub fn with_keys<'c>(
        scheme: &Scheme<'static>,
        keys: impl IntoIterator<Item = Credentials<'c>>,
    ) -> Result<SigningMiddleware, Error> {
        let keys = keys.into_iter().map(|c| Key::new(scheme, c)).collect::<Result<Vec<_>, _>>()?;
        let n = u8::try_from(keys.len()).map_err(|_| Error::KeyringFull)?;
        if n == 0 {
            return Err(Error::EmptySecret);
        }
        Ok(SigningMiddleware {
            scheme: *scheme,
            keys,
            rotation: Mutex::new(Rotation::for_scheme(scheme, n)),
            nonces: Nonces::default(),
            clock: std::sync::Arc::new(crate::now),
        })
    }

    /// Which responses move to the next key (instead of the scheme's own,
    /// [`Scheme::retry_on`]).
    pub fn retry_on(self, retry_on: RetryOn) -> SigningMiddleware {
        let n = u8::try_from(self.keys.len()).unwrap_or(u8::MAX);
        SigningMiddleware { rotation: Mutex::new(Rotation::new(n, retry_on)), ..self }
    }

    /// The clock (nanoseconds since the UNIX epoch), [`crate::now`] by default.
    pub fn clock(self, clock: impl Fn() -> UnixNanos + Send + Sync + 'static) -> SigningMiddleware {
        SigningMiddleware { clock: std::sync::Arc::new(clock), ..self }
    }

    /// The key new requests start with.
    pub fn current_key(&self) -> usize {
        self.rotation().current()
    }

    fn rotation(&self) -> std::sync::MutexGuard<'_, Rotation> {
        // The rotation is two small integers: a panic elsewhere cannot leave it inconsistent.
        self.rotation.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Signs `req` with key number `key`: the scheme's headers, replacing any of the same
    /// names.
    ///
    /// # Errors
    /// [`SignError::StreamingBody`] for a streamed body; [`SignError::Core`] for what the
    /// core refuses to sign (or a key number out of range: [`Error::UnknownKey`]).
    pub fn sign(&self, req: &mut Request, key: usize) -> Result<(), SignError> {
        let body: &[u8] = match req.body() {
            None => b"",
            Some(b) => b.as_bytes().ok_or(SignError::StreamingBody)?,
        };
        let target = target(req.url());
        let now = (self.clock)();
        let nonce = self.scheme.has(Field::Nonce).then(|| self.nonces.next(now));
        let signer = self.keys.get(key).ok_or(Error::UnknownKey)?.signer(&self.scheme)?;
        let set =
            signer.sign(&CoreRequest::new(req.method().as_str(), &target).with_body(body), Stamp { now, nonce })?;
        put_headers(&set, req.headers_mut())?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Middleware for SigningMiddleware {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let mut attempt = self.rotation().begin();
        let mut original = Some(req);
        loop {
            let Some(unsigned) = original.take() else {
                return Err(middleware_error(Error::InvalidTemplate));
            };
            // Kept for a retry when another key may follow (a streamed body cannot be).
            original = if self.keys.len() > 1 { unsigned.try_clone() } else { None };
            let mut req = unsigned;
            self.sign(&mut req, attempt.key()).map_err(middleware_error)?;
            let res = next.clone().run(req, extensions).await?;
            let step = self.rotation().on_response(&mut attempt, res.status().as_u16());
            match step {
                Step::Retry(_) if original.is_some() => continue,
                Step::Retry(_) | Step::Done | Step::Exhausted => return Ok(res),
            }
        }
    }
}

/// AlphaPoint APEX: `AuthenticateUser` once, then the session token as `aptoken`.
pub struct ApexSession {
    key: Key,
    authenticate: String,
    token: Mutex<Option<String>>,
    nonces: Nonces,
    clock: Clock,
}

impl fmt::Debug for ApexSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApexSession").field("authenticate", &self.authenticate).finish_non_exhaustive()
    }
}

impl ApexSession {
    /// A session for the APEX credentials `creds` (`api_key`, `secret`, `user_id`), opened at
    /// `authenticate`: a URL, or a path on each request's host (`"/AuthenticateUser"`).
    ///
    /// # Errors
    /// Those of [`Signer::new`] under [`apisig::dialect::APEX`].
    pub fn new(creds: Credentials<'_>, authenticate: impl Into<String>) -> Result<ApexSession, Error> {
        Ok(ApexSession {
            key: Key::new(&apisig::dialect::APEX, creds)?,
            authenticate: authenticate.into(),
            token: Mutex::new(None),
            nonces: Nonces::default(),
            clock: std::sync::Arc::new(crate::now),
        })
    }

    /// The clock (nanoseconds since the UNIX epoch), [`crate::now`] by default.
    pub fn clock(self, clock: impl Fn() -> UnixNanos + Send + Sync + 'static) -> ApexSession {
        ApexSession { clock: std::sync::Arc::new(clock), ..self }
    }

    /// The session token held now, if any.
    pub fn token(&self) -> Option<String> {
        self.slot().clone()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.token.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The signed `AuthenticateUser` request for a request to `url`: the fields as headers
    /// and as the JSON body, with one nonce.
    fn login_request(&self, url: &url::Url) -> Result<Request, SignError> {
        let url = url.join(&self.authenticate).map_err(|_| Error::InvalidPath)?;
        let target = target(&url);
        let now = (self.clock)();
        let stamp = Stamp { now, nonce: Some(self.nonces.next(now)) };
        let signer = self.key.signer(&apisig::dialect::APEX)?;
        let set = signer.sign(&CoreRequest::new("POST", &target), stamp)?;
        let mut json = vec![0u8; set.json_len()];
        set.write_json(&mut json)?;
        let mut req = Request::new(reqwest::Method::POST, url);
        put_headers(&set, req.headers_mut())?;
        req.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        *req.body_mut() = Some(json.into());
        Ok(req)
    }

    /// Opens a session: the token, or the refused answer for the caller.
    async fn login(
        &self,
        url: &url::Url,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Result<String, Response>> {
        let login = self.login_request(url).map_err(middleware_error)?;
        let res = next.run(login, extensions).await?;
        let (status, headers) = (res.status(), res.headers().clone());
        let body = res.bytes().await?;
        let token = (status == reqwest::StatusCode::OK).then(|| session_token(&body)).flatten();
        match token {
            Some(token) => {
                *self.slot() = Some(token.clone());
                Ok(Ok(token))
            }
            None => {
                let mut answer = http::Response::new(Bytes::clone(&body));
                *answer.status_mut() = status;
                *answer.headers_mut() = headers;
                Ok(Err(Response::from(answer)))
            }
        }
    }

    fn put_token(&self, token: &str, req: &mut Request) -> Result<(), Error> {
        let creds = Credentials { token, ..Credentials::EMPTY };
        let set = Signer::new(&apisig::dialect::APEX_SESSION, creds)?
            .sign(&CoreRequest::new("GET", "/"), Stamp::default())?;
        put_headers(&set, req.headers_mut())
    }

    /// Forgets `token` (refused by the server) unless another request replaced it already.
    fn forget(&self, token: &str) {
        let mut slot = self.slot();
        if slot.as_deref() == Some(token) {
            *slot = None;
        }
    }
}

/// The session token in an `AuthenticateUser` answer (the names APEX servers use).
fn session_token(body: &[u8]) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["SessionToken", "sessionToken", "session_token", "aptoken", "token"]
        .iter()
        .find_map(|k| doc.get(k)?.as_str().filter(|t| !t.is_empty()).map(str::to_owned))
}

#[async_trait::async_trait]
impl Middleware for ApexSession {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let mut original = Some(req);
        let mut renewed = false;
        loop {
            let Some(unsigned) = original.take() else {
                return Err(middleware_error(Error::InvalidTemplate));
            };
            let (token, fresh) = match self.token() {
                Some(token) if !renewed => (token, false),
                _ => match self.login(unsigned.url(), extensions, next.clone()).await? {
                    Ok(token) => (token, true),
                    Err(refused) => return Ok(refused),
                },
            };
            // A request sent with an old token may need sending again with a new one.
            original = if fresh { None } else { unsigned.try_clone() };
            let mut req = unsigned;
            self.put_token(&token, &mut req).map_err(middleware_error)?;
            let res = next.clone().run(req, extensions).await?;
            if res.status() != reqwest::StatusCode::UNAUTHORIZED || original.is_none() {
                return Ok(res);
            }
            self.forget(&token);
            renewed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_grow_within_one_millisecond() {
        let n = Nonces::default();
        let a = n.next(5_000_000);
        let b = n.next(5_000_000);
        assert_eq!((a, b), (5, 6));
        assert_eq!(n.next(100_000_000), 100);
    }

    #[test]
    fn session_token_is_read_from_the_known_names() {
        assert_eq!(session_token(br#"{"Authenticated":true,"SessionToken":"t1"}"#).as_deref(), Some("t1"));
        assert_eq!(session_token(br#"{"token":"t2"}"#).as_deref(), Some("t2"));
        assert_eq!(session_token(br#"{"SessionToken":""}"#), None);
        assert_eq!(session_token(b"not json"), None);
    }
}
