//! `_AsgiGate` (private to `apisig.server`): the ASGI middleware's per-request work in one native call. Given the ASGI scope
//! and the body, it reads the method, the raw target and the raw header list where uvicorn
//! (or any ASGI server) put them, chooses the schemes whose headers are present, verifies, and
//! hands back the scope the application gets (with the principal). Done in Python, the same
//! steps cost about as much again as the verification itself (header names decoded, the
//! target joined, a set of names, a coroutine, a dict copy: docs/benchmarks.md).
//!
//! The rules are `apisig.server.Authenticator`'s: the configured schemes whose header names
//! (case-insensitively) are all present are tried, those with more headers first; the first
//! that verifies wins, else the first error is raised, except that a refusal by the role
//! policy (`AuthorizationFailed`) is raised at once. Whatever the gate does not handle it
//! leaves to the Python path by returning `None`: no scheme's headers present (the Python path
//! raises `MissingCredential`, or judges mutual TLS), a scope that is not as the ASGI
//! specification says (not a dict, no `raw_path`, headers not a list of `bytes` pairs, a header name not
//! UTF-8).

use std::borrow::Cow;
use std::net::IpAddr;

use apisig::client::{Cidr, peer_behind_proxies};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};
use smallvec::SmallVec;

use crate::convert::{Bytes, CoreHeaders, CoreResult, INLINE_HEADERS, to_pyerr};
use crate::scheme::Scheme;
use crate::verifier::{Presented, Principal, ReplayClaim, Verifier};

/// `apisig.exceptions.AuthorizationFailed`, looked up once (on the first refusal).
static AUTHORIZATION_FAILED: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The scope key of the principal (`apisig.server.PRINCIPAL_KEY`).
const PRINCIPAL_KEY: &str = "apisig.principal";
/// The key of the principal in the scope's `state` (Starlette's `request.state`).
const STATE_KEY: &str = "apisig_principal";

/// A scheme with the lowercase names of its headers.
struct Candidate {
    scheme: Py<Scheme>,
    names: Vec<String>,
}

/// Verifies ASGI requests for a verifier and its schemes (see the module docs); built once by
/// the middleware.
#[pyclass(frozen, name = "_AsgiGate", module = "apisig._native")]
pub(crate) struct AsgiGate {
    verifier: Py<Verifier>,
    /// The schemes in the order they are tried: more headers first, else as configured.
    candidates: Vec<Candidate>,
    authorize: bool,
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    trusted: Vec<Cidr>,
}

/// The reverse proxies a server trusts to report the client's address in `X-Forwarded-For`
/// (`apisig.server`'s `trusted_proxies=`): the core's rule, [`peer_behind_proxies`].
#[pyclass(frozen, name = "_TrustedProxies", module = "apisig._native")]
pub(crate) struct TrustedProxies(Vec<Cidr>);

/// Parses `ranges` (`"10.0.0.0/8"`, `"2001:db8::/32"`, an address).
fn parse_ranges(py: Python<'_>, ranges: &[String]) -> PyResult<Vec<Cidr>> {
    ranges.iter().map(|r| Cidr::parse(r)).collect::<Result<Vec<_>, _>>().py(py)
}

/// The client's address for the allow-list: `direct` (the connection's peer; `None`, or text
/// that is no IP address such as a test client's name or a UNIX socket, is unknown) or,
/// from a trusted proxy, the address it reports in the `X-Forwarded-For` lines of `forwarded`.
fn client_address<'a>(
    py: Python<'_>,
    direct: Option<&str>,
    forwarded: impl DoubleEndedIterator<Item = &'a [u8]>,
    trusted: &[Cidr],
) -> PyResult<Option<IpAddr>> {
    let Some(direct) = direct.and_then(|d| d.parse::<IpAddr>().ok()) else { return Ok(None) };
    peer_behind_proxies(direct, forwarded, trusted).map(Some).map_err(|e| to_pyerr(py, e))
}

#[pymethods]
impl TrustedProxies {
    #[new]
    fn new(py: Python<'_>, ranges: Vec<String>) -> PyResult<TrustedProxies> {
        Ok(TrustedProxies(parse_ranges(py, &ranges)?))
    }

    /// The client's address (text) behind these proxies: `direct` unless it is one of them,
    /// else the right-most `X-Forwarded-For` address (`forwarded`: the header's values, in
    /// order) that is not; `None` when `direct` is `None` or no IP address. Raises
    /// `InvalidForwardedFor` for a malformed header from a trusted proxy.
    fn peer(&self, py: Python<'_>, direct: Option<&str>, forwarded: Vec<Vec<u8>>) -> PyResult<Option<String>> {
        Ok(client_address(py, direct, forwarded.iter().map(Vec::as_slice), &self.0)?.map(|a| a.to_string()))
    }
}

/// A header name as `str` for the core: ASGI's are `bytes` (lowercase), taken as they are if
/// UTF-8.
fn header_name<'a>(obj: &'a Bound<'_, PyAny>) -> Option<&'a str> {
    let bytes = obj.cast::<PyBytes>().ok()?;
    std::str::from_utf8(bytes.as_bytes()).ok()
}

/// `raw_path` (and `?query_string` when there is one) as the target the client signed; bytes
/// outside ASCII are taken as Latin-1, as the Python path decodes them.
fn target<'a>(raw_path: &'a [u8], query: &[u8]) -> Cow<'a, str> {
    let latin1 = |bytes: &[u8], out: &mut String| out.extend(bytes.iter().map(|&b| char::from(b)));
    match (query.is_empty(), std::str::from_utf8(raw_path)) {
        (true, Ok(path)) if path.is_ascii() => Cow::Borrowed(path),
        _ => {
            let mut out = String::with_capacity(raw_path.len().saturating_add(query.len()).saturating_add(1));
            latin1(raw_path, &mut out);
            if !query.is_empty() {
                out.push('?');
                latin1(query, &mut out);
            }
            Cow::Owned(out)
        }
    }
}

#[pymethods]
impl AsgiGate {
    #[new]
    #[pyo3(signature = (verifier, schemes, *, authorize = false, trusted_proxies = Vec::new()))]
    fn new(
        py: Python<'_>,
        verifier: Py<Verifier>,
        schemes: Vec<Py<Scheme>>,
        authorize: bool,
        trusted_proxies: Vec<String>,
    ) -> PyResult<AsgiGate> {
        let mut candidates: Vec<Candidate> = schemes
            .into_iter()
            .map(|scheme| {
                let names = scheme.get().data.with(|s| s.headers.iter().map(|h| h.name.to_ascii_lowercase()).collect());
                Candidate { scheme, names }
            })
            .collect();
        // Stable: schemes with as many headers keep their configured order.
        candidates.sort_by_key(|c| std::cmp::Reverse(c.names.len()));
        Ok(AsgiGate { verifier, candidates, authorize, trusted: parse_ranges(py, &trusted_proxies)? })
    }

    /// Verifies the request of ASGI `scope` with `body`: `(scope for the application, claim)`,
    /// the scope a copy with the principal under `"apisig.principal"` and in `state`, the
    /// claim what the verifier's shared replay store must still make good (or `None`). Raises
    /// the refusal; `None` when the request is for the Python path (see the module docs).
    fn enter<'py>(
        &self,
        py: Python<'py>,
        scope: &Bound<'py, PyAny>,
        body: Bytes<'_>,
    ) -> PyResult<Option<(Bound<'py, PyDict>, Option<ReplayClaim>)>> {
        let Ok(scope) = scope.cast::<PyDict>() else { return Ok(None) };
        let Some(raw_path) = scope.get_item(intern!(py, "raw_path"))? else { return Ok(None) };
        let Ok(raw_path) = raw_path.cast::<PyBytes>() else { return Ok(None) };
        let query = scope.get_item(intern!(py, "query_string"))?;
        let query = match &query {
            None => &[][..],
            Some(q) => match q.cast::<PyBytes>() {
                Ok(q) => q.as_bytes(),
                Err(_) => return Ok(None),
            },
        };
        if raw_path.as_bytes().is_empty() {
            return Ok(None);
        }
        let Some(method) = scope.get_item(intern!(py, "method"))? else { return Ok(None) };
        let Ok(method) = method.cast::<PyString>() else { return Ok(None) };
        let method = method.to_str()?;
        let Some(headers) = scope.get_item(intern!(py, "headers"))? else { return Ok(None) };
        let Ok(headers) = headers.cast::<PyList>() else { return Ok(None) };

        // The pairs, held while the core borrows their bytes.
        let mut pairs: SmallVec<[(Bound<'py, PyAny>, Bound<'py, PyAny>); INLINE_HEADERS]> = SmallVec::new();
        for item in headers.iter() {
            let Ok(pair) = item.cast::<PyTuple>() else { return Ok(None) };
            if pair.len() != 2 {
                return Ok(None);
            }
            pairs.push((pair.get_item(0)?, pair.get_item(1)?));
        }
        let mut hs = CoreHeaders::new();
        for (name, value) in &pairs {
            let (Some(name), Ok(value)) = (header_name(name), value.cast::<PyBytes>()) else { return Ok(None) };
            hs.push(apisig::headers::Header { name, value: value.as_bytes() });
        }

        // The connection's peer (`scope["client"]`: `(host, port)` or `None`), or the address
        // a trusted proxy reports for it.
        let client = scope.get_item(intern!(py, "client"))?;
        let host = match &client {
            Some(c) if !c.is_none() => Some(c.get_item(0)?),
            _ => None,
        };
        let host = match host.as_ref().map(|h| h.cast::<PyString>()) {
            Some(Ok(h)) => Some(h.to_str()?),
            _ => None,
        };
        let forwarded = hs.iter().filter(|h| h.name.eq_ignore_ascii_case("x-forwarded-for")).map(|h| h.value);
        let peer = client_address(py, host, forwarded, &self.trusted)?;

        let present = |names: &[String]| names.iter().all(|n| hs.iter().any(|h| h.name.eq_ignore_ascii_case(n)));
        let target = target(raw_path.as_bytes(), query);
        let verifier = self.verifier.get();
        let mut first: Option<PyErr> = None;
        for candidate in self.candidates.iter().filter(|c| present(&c.names)) {
            let scheme = candidate.scheme.get();
            let how = Presented::Headers;
            match verifier.verify_core_headers(
                py,
                Some(scheme),
                method,
                &target,
                &hs,
                &body,
                None,
                self.authorize,
                how,
                peer,
            ) {
                Ok((principal, claim)) => return Ok(Some((with_principal(py, scope, principal)?, claim))),
                Err(e) => {
                    let class = AUTHORIZATION_FAILED.import(py, "apisig.exceptions", "AuthorizationFailed")?;
                    if e.is_instance(py, class) {
                        return Err(e);
                    }
                    first.get_or_insert(e);
                }
            }
        }
        first.map_or(Ok(None), Err)
    }
}

/// A copy of `scope` with `principal` under [`PRINCIPAL_KEY`] and in a copy of its `state`.
fn with_principal<'py>(
    py: Python<'py>,
    scope: &Bound<'py, PyDict>,
    principal: Py<Principal>,
) -> PyResult<Bound<'py, PyDict>> {
    let out = scope.copy()?;
    // `dict(scope.get("state") or {})`, as the Python path makes it.
    let state = match scope.get_item(intern!(py, "state"))? {
        Some(s) if s.is_truthy()? => match s.cast::<PyDict>() {
            Ok(d) => d.copy()?,
            Err(_) => py.get_type::<PyDict>().call1((s,))?.cast_into::<PyDict>()?,
        },
        _ => PyDict::new(py),
    };
    state.set_item(intern!(py, STATE_KEY), &principal)?;
    out.set_item(intern!(py, PRINCIPAL_KEY), principal)?;
    out.set_item(intern!(py, "state"), state)?;
    Ok(out)
}
