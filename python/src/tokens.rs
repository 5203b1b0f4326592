//! Tokens and certificates: HS256 JWTs (`jwt_encode`, `jwt_verify`, `JwtClaims`, and the
//! verifier's `JwtPolicy`), APEX session tokens (`SessionKeys`, `Session`), access-token
//! lifetimes (`TokenLifetime`) and certificate fingerprints (`fingerprint`). Each is a thin
//! wrapper over the core's type or function of that name.

use apisig::jwt::{self, Validation};
use apisig::pin::{self, PinKind};
use apisig::session;
use apisig::{Error, MacKey};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::convert::{Bytes, CoreResult, Nanos, resolve_now, system_now_ns, to_pyerr};
use crate::verifier::slot_name;

/// A token given as `str` or bytes, byte for byte.
fn token_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.as_bytes().to_vec());
    }
    Ok(obj.extract::<Bytes<'_>>()?.into_owned())
}

/// `"certificate"` (SHA-256 of the whole DER) or `"spki"` (of its SubjectPublicKeyInfo).
pub(crate) fn parse_pin_kind(kind: &str) -> PyResult<PinKind> {
    crate::convert::parse_name("kind", kind)
}

/// The SHA-256 fingerprint of a DER certificate (`kind="certificate"`) or of its
/// SubjectPublicKeyInfo (`kind="spki"`).
#[pyfunction]
#[pyo3(signature = (der, kind = "certificate"))]
pub(crate) fn fingerprint<'py>(py: Python<'py>, der: Bytes<'_>, kind: &str) -> PyResult<Bound<'py, PyBytes>> {
    let kind = parse_pin_kind(kind)?;
    Ok(PyBytes::new(py, &pin::fingerprint(&der, kind).py(py)?))
}

/// A compact HS256 JWT over `claims` (a JSON object, written as given) with `header` (default
/// `{"alg":"HS256","typ":"JWT"}`, PyJWT's), also written as given.
#[pyfunction]
#[pyo3(signature = (secret, claims, header = None))]
pub(crate) fn jwt_encode(
    py: Python<'_>,
    secret: Bytes<'_>,
    claims: Bytes<'_>,
    header: Option<Bytes<'_>>,
) -> PyResult<String> {
    let header = header.as_deref().unwrap_or(jwt::DEFAULT_HEADER);
    // base64url is 4/3 of its input; twice the input is always enough.
    let room = header.len().saturating_add(claims.len()).saturating_add(apisig::TAG_LEN).saturating_mul(2);
    let mut out = vec![0u8; room.saturating_add(8)];
    let key = MacKey::new(&secret).py(py)?;
    let token = jwt::encode(&key, header, &claims, &mut out).py(py)?;
    Ok(String::from_utf8_lossy(token).into_owned())
}

/// The registered claims of a verified JWT, and the whole claims set as JSON.
#[pyclass(frozen, eq, name = "JwtClaims", module = "apisig._native")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct JwtClaims {
    /// `iss` as written in the JSON (escapes not decoded).
    #[pyo3(get)]
    iss: Option<String>,
    /// `sub` as written in the JSON.
    #[pyo3(get)]
    sub: Option<String>,
    /// `aud`: one string or a list, as a list (empty when absent).
    #[pyo3(get)]
    aud: Vec<String>,
    /// `exp`, UNIX seconds.
    #[pyo3(get)]
    exp: Option<u64>,
    /// `nbf`, UNIX seconds.
    #[pyo3(get)]
    nbf: Option<u64>,
    /// `iat`, UNIX seconds.
    #[pyo3(get)]
    iat: Option<u64>,
    json: Vec<u8>,
}

#[pymethods]
impl JwtClaims {
    /// The claims set as the token carries it (JSON text).
    #[getter]
    fn json<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.json)
    }

    fn __repr__(&self) -> String {
        format!(
            "JwtClaims(iss={:?}, sub={:?}, aud={:?}, exp={:?}, nbf={:?}, iat={:?})",
            self.iss, self.sub, self.aud, self.exp, self.nbf, self.iat
        )
    }
}

/// Verifies a compact HS256 JWT and returns its claims; raises an `apisig.InvalidToken`
/// subclass (or `EmptySecret`) otherwise. `now` is nanoseconds since the UNIX epoch (default:
/// the system clock); `leeway` is in seconds and applies to `exp`, `nbf` and `iat`.
#[pyfunction]
#[pyo3(signature = (
    secret, token, *, now = None, leeway = 0, require_exp = true, issuer = None, audience = None, subject = None,
    max_len = jwt::TOKEN_MAX,
))]
pub(crate) fn jwt_verify(
    py: Python<'_>,
    secret: Bytes<'_>,
    token: &Bound<'_, PyAny>,
    now: Option<Nanos>,
    leeway: u64,
    require_exp: bool,
    issuer: Option<&str>,
    audience: Option<&str>,
    subject: Option<&str>,
    max_len: usize,
) -> PyResult<JwtClaims> {
    let token = token_bytes(token)?;
    let key = MacKey::new(&secret).py(py)?;
    let now = now.map_or_else(system_now_ns, |n| n.0);
    let v = Validation { leeway_s: leeway, require_exp, issuer, audience, subject, max_len };
    // The length is checked before the scratch space is allocated.
    if token.len() > max_len {
        return Err(Error::TokenTooLong).py(py);
    }
    let mut scratch = vec![0u8; token.len()];
    let c = jwt::verify(&key, &token, &v, now, &mut scratch).py(py)?;
    Ok(JwtClaims {
        iss: c.iss.map(str::to_owned),
        sub: c.sub.map(str::to_owned),
        aud: c.aud.iter().map(|a| (*a).to_owned()).collect(),
        exp: c.exp,
        nbf: c.nbf,
        iat: c.iat,
        json: c.json.to_vec(),
    })
}

/// `FieldTooLong` for an argument longer than the core keeps, with the note pyo3 gives an
/// argument it cannot convert.
fn too_long(py: Python<'_>, arg: &str) -> PyErr {
    let err = to_pyerr(py, Error::FieldTooLong);
    let _ = err.add_note(py, format!("while processing '{arg}'"));
    err
}

/// What a verifier accepts as a bearer JWT (`Verifier(jwt=...)`): the core's
/// [`jwt::JwtPolicy`], HS256 under one secret with an optional required issuer and audience.
#[pyclass(frozen, name = "JwtPolicy", module = "apisig._native")]
pub(crate) struct JwtPolicy {
    pub(crate) policy: jwt::JwtPolicy,
}

#[pymethods]
impl JwtPolicy {
    #[new]
    #[pyo3(signature = (secret, *, issuer = None, audience = None, leeway = 0, require_exp = true))]
    fn new(
        py: Python<'_>,
        secret: Bytes<'_>,
        issuer: Option<&str>,
        audience: Option<&str>,
        leeway: u64,
        require_exp: bool,
    ) -> PyResult<JwtPolicy> {
        let mut policy = jwt::JwtPolicy::new(&secret).py(py)?;
        policy.leeway_s = leeway;
        policy.require_exp = require_exp;
        policy.issuer = issuer.map(|i| i.try_into().map_err(|_| too_long(py, "issuer"))).transpose()?;
        policy.audience = audience.map(|a| a.try_into().map_err(|_| too_long(py, "audience"))).transpose()?;
        Ok(JwtPolicy { policy })
    }

    /// The required `iss`, if any.
    #[getter]
    fn issuer(&self) -> Option<&str> {
        self.policy.issuer.as_deref()
    }

    /// The audience `aud` must name, if any.
    #[getter]
    fn audience(&self) -> Option<&str> {
        self.policy.audience.as_deref()
    }

    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    #[getter]
    fn leeway(&self) -> u64 {
        self.policy.leeway_s
    }

    /// Whether a token without `exp` is refused.
    #[getter]
    fn require_exp(&self) -> bool {
        self.policy.require_exp
    }

    fn __repr__(&self) -> String {
        let text = |s: Option<&str>| s.map_or_else(|| "None".to_owned(), |s| format!("{s:?}"));
        let p = &self.policy;
        format!(
            "JwtPolicy(<redacted>, issuer={}, audience={}, leeway={}, require_exp={})",
            text(p.issuer.as_deref()),
            text(p.audience.as_deref()),
            p.leeway_s,
            if p.require_exp { "True" } else { "False" }
        )
    }
}

/// What an APEX session token says.
#[pyclass(frozen, eq, name = "Session", module = "apisig._native")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Session {
    /// The authenticated user id.
    #[pyo3(get)]
    user_id: String,
    /// The API key id the session was opened with.
    #[pyo3(get)]
    key_id: String,
    /// The first moment the token is no longer valid, UNIX seconds.
    #[pyo3(get)]
    expires: u64,
    /// Which server secret made it: `"primary"` or `"secondary"`.
    #[pyo3(get)]
    slot: &'static str,
}

#[pymethods]
impl Session {
    fn __repr__(&self) -> String {
        format!(
            "Session(user_id={:?}, key_id={:?}, expires={}, slot={:?})",
            self.user_id, self.key_id, self.expires, self.slot
        )
    }
}

/// The server secrets that issue and check APEX session tokens (`aptoken`): a primary and
/// an optional secondary, so the secret can rotate without logging everyone out.
#[pyclass(frozen, name = "SessionKeys", module = "apisig._native")]
pub(crate) struct SessionKeys {
    pub(crate) keys: session::SessionKeys,
}

#[pymethods]
impl SessionKeys {
    #[new]
    #[pyo3(signature = (primary, secondary = None))]
    fn new(py: Python<'_>, primary: Bytes<'_>, secondary: Option<Bytes<'_>>) -> PyResult<SessionKeys> {
        let keys = session::SessionKeys::new(&primary);
        let keys = match secondary {
            Some(s) => keys.and_then(|k| k.with_secondary(&s)),
            None => keys,
        };
        Ok(SessionKeys { keys: keys.py(py)? })
    }

    /// A token (made with the primary secret) for `user_id` and `key_id`, valid until
    /// `expires` (UNIX seconds).
    fn issue(&self, py: Python<'_>, user_id: &str, key_id: &str, expires: u64) -> PyResult<String> {
        let mut buf = [0u8; session::TOKEN_MAX];
        let s = session::Session { user_id, key_id, expires };
        let token = self.keys.issue(&s, &mut buf).py(py)?;
        Ok(String::from_utf8_lossy(token).into_owned())
    }

    /// What a token says, checked at `now` (nanoseconds; default: the system clock) against
    /// both secrets in constant time.
    #[pyo3(signature = (token, *, now = None))]
    fn verify(&self, py: Python<'_>, token: &Bound<'_, PyAny>, now: Option<Nanos>) -> PyResult<Session> {
        let token = token_bytes(token)?;
        let now = now.map_or_else(system_now_ns, |n| n.0);
        let mut scratch = [0u8; session::TOKEN_MAX];
        let (s, slot) = self.keys.verify(&token, now, &mut scratch).py(py)?;
        Ok(Session {
            user_id: s.user_id.to_owned(),
            key_id: s.key_id.to_owned(),
            expires: s.expires,
            slot: slot_name(slot),
        })
    }

    fn __repr__(&self) -> &'static str {
        "SessionKeys(<redacted>)"
    }
}

/// A short-lived access token's lifetime as the client saw it, and when to refresh it (the
/// core's bookkeeping, shared with firmware). Times are nanoseconds since the UNIX epoch.
#[pyclass(frozen, eq, name = "TokenLifetime", module = "apisig._native")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenLifetime {
    inner: apisig::TokenLifetime,
}

#[pymethods]
impl TokenLifetime {
    #[new]
    #[pyo3(signature = (issued_at, lifetime_s, skew_s = 60))]
    fn new(issued_at: u64, lifetime_s: u64, skew_s: u64) -> TokenLifetime {
        TokenLifetime { inner: apisig::TokenLifetime { issued_at, lifetime_s, skew_s } }
    }

    /// When the token was received.
    #[getter]
    fn issued_at(&self) -> u64 {
        self.inner.issued_at
    }

    /// Its lifetime in seconds (`expires_in`).
    #[getter]
    fn lifetime_s(&self) -> u64 {
        self.inner.lifetime_s
    }

    /// How long before expiry to refresh (capped at half the lifetime).
    #[getter]
    fn skew_s(&self) -> u64 {
        self.inner.skew_s
    }

    /// When the token expires.
    #[getter]
    fn expires_at(&self) -> u64 {
        self.inner.expires_at()
    }

    /// When to fetch a new one.
    #[getter]
    fn refresh_at(&self) -> u64 {
        self.inner.refresh_at()
    }

    /// Whether to fetch a new token before the next request, at `now` (default: the system
    /// clock).
    #[pyo3(signature = (now = None))]
    fn needs_refresh(&self, py: Python<'_>, now: Option<Nanos>) -> PyResult<bool> {
        Ok(self.inner.needs_refresh(resolve_now(py, now, None)?))
    }

    /// Whether the token has expired at `now` (default: the system clock).
    #[pyo3(signature = (now = None))]
    fn is_expired(&self, py: Python<'_>, now: Option<Nanos>) -> PyResult<bool> {
        Ok(self.inner.is_expired(resolve_now(py, now, None)?))
    }

    fn __repr__(&self) -> String {
        let t = self.inner;
        format!("TokenLifetime(issued_at={}, lifetime_s={}, skew_s={})", t.issued_at, t.lifetime_s, t.skew_s)
    }
}
