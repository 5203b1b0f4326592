//! OpenID providers' keys and access tokens (`JwkSet`): a thin face over the core's `jwk`
//! (parsing, key choice) and `jws` (verification), and the core's `introspect` (RFC 7662
//! answers). Fetching, caching and discovery stay in Python; every decision is the core's.

use apisig::introspect;
use apisig::jwk::{Alg, AlgSet, JwkSet as CoreSet};
use apisig::jws::{self, Issuer};
use apisig::jwt::Claims;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{Bytes, CoreResult, Nanos, resolve_now};

/// Most usable keys one issuer's set may hold.
pub(crate) const JWKS_CAPACITY: usize = 16;

/// One issuer's JWK set, parsed and validated once (RSA, EC P-256, Ed25519; other keys skipped).
#[pyclass(frozen, name = "JwkSet", module = "apisig._native")]
pub(crate) struct JwkSet {
    set: Box<CoreSet<JWKS_CAPACITY>>,
}

#[pymethods]
impl JwkSet {
    /// Parses a JWK set document (`{"keys": [...]}`) as bytes.
    #[new]
    fn new(py: Python<'_>, json: Bytes<'_>) -> PyResult<Self> {
        Ok(JwkSet { set: Box::new(CoreSet::parse(&json).py(py)?) })
    }

    /// The `kid` of every usable key, in the document's order (`None` for a key without one).
    #[getter]
    fn kids(&self) -> Vec<Option<String>> {
        self.set.keys().iter().map(|k| k.kid().map(str::to_owned)).collect()
    }

    /// Whether a key has this `kid`.
    fn has_kid(&self, kid: &str) -> bool {
        self.set.has_kid(kid)
    }

    fn __len__(&self) -> usize {
        self.set.len()
    }

    /// Verifies an access token of `issuer` for `audience`, signed with one of `algorithms`
    /// (names: RS256, PS256, ES256, EdDSA/Ed25519), and returns its claims as a dict (`alg`,
    /// `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `client_id`, `scope`, `jti`, `json`).
    #[pyo3(signature = (token, issuer, audience, algorithms, leeway_s = 0, strict = false, max_len = jws::ACCESS_TOKEN_MAX, now = None, clock = None))]
    #[allow(clippy::too_many_arguments)] // keyword arguments in Python
    fn verify<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        issuer: &str,
        audience: &str,
        algorithms: Vec<String>,
        leeway_s: u64,
        strict: bool,
        max_len: usize,
        now: Option<Nanos>,
        clock: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut algs = AlgSet::EMPTY;
        for name in &algorithms {
            let alg = Alg::from_name(name)
                .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("unknown algorithm {name:?}")))?;
            algs = algs.with(alg);
        }
        let now = resolve_now(py, now, clock.as_ref())?;
        let iss = Issuer { issuer, audience, algorithms: algs, leeway_s, strict, max_len };
        let mut scratch = vec![0u8; token.len()];
        let v = jws::verify(&self.set, &iss, token.as_bytes(), now, &mut scratch).py(py)?;
        let d = claims_dict(py, &v.claims)?;
        d.set_item("alg", v.alg.name())?;
        Ok(d)
    }
}

/// The core's judgement of an RFC 7662 introspection answer (`body`, the endpoint's JSON) at
/// `now` (ns): the claims of an active token as a dict (`iss`, `sub`, `aud`, `exp`, `nbf`,
/// `iat`, `client_id`, `scope`, `jti`, `json`) plus `cache_s`, how many seconds it may be kept
/// (`max_cache_s`, never past `exp`).
#[pyfunction]
#[pyo3(signature = (body, issuer, audience = None, *, leeway_s = 0, max_cache_s = 300, now = None, clock = None))]
#[allow(clippy::too_many_arguments)] // keyword arguments in Python
pub(crate) fn introspection_check<'py>(
    py: Python<'py>,
    body: Bytes<'_>,
    issuer: &str,
    audience: Option<&str>,
    leeway_s: u64,
    max_cache_s: u64,
    now: Option<Nanos>,
    clock: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let now = resolve_now(py, now, clock.as_ref())?;
    let expected = introspect::Expected { issuer, audience, leeway_s };
    let c = introspect::check(&body, &expected, now).py(py)?;
    let d = claims_dict(py, &c)?;
    d.set_item("cache_s", introspect::cache_seconds(&c, now, max_cache_s))?;
    Ok(d)
}

fn claims_dict<'py>(py: Python<'py>, c: &Claims<'_>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("iss", c.iss)?;
    d.set_item("sub", c.sub)?;
    d.set_item("aud", c.aud.iter().copied().collect::<Vec<_>>())?;
    d.set_item("exp", c.exp)?;
    d.set_item("nbf", c.nbf)?;
    d.set_item("iat", c.iat)?;
    d.set_item("client_id", c.client_id)?;
    d.set_item("scope", c.scope)?;
    d.set_item("jti", c.jti)?;
    d.set_item("json", String::from_utf8_lossy(c.json).into_owned())?;
    Ok(d)
}
