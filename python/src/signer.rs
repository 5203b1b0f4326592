//! `Signer`: credentials + scheme → the headers of a request, with the host's clock and a
//! per-signer nonce counter (both injectable).

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use apisig::{Credentials, Request, Stamp, scheme::Field};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use zeroize::Zeroizing;

use crate::convert::{Bytes, CoreResult, DETACH_THRESHOLD, Nanos, core_headers, header_pairs, resolve_now};
use crate::scheme::{Scheme, SchemeData};

/// Signs requests for one scheme and one set of credentials.
#[pyclass(frozen, name = "Signer", module = "apisig._native")]
pub(crate) struct Signer {
    scheme: Arc<SchemeData>,
    /// The credentials, and for a preset scheme the core signer over them, built once.
    core: Prepared,
    /// The HMAC key state, computed once (`None` for an empty secret: the core then says why),
    /// for custom schemes, whose core signer is built per request.
    key: Option<apisig::MacKey>,
    /// The headers as a dict with every value that never changes (a key, a token) already
    /// in place and `None` for the computed ones, in the scheme's order: each request copies
    /// it and sets only what it computes.
    template: Py<PyDict>,
    /// Per header, in the scheme's order: its name (made once, hash cached) when its value is
    /// computed per request.
    computed: Vec<Option<Py<PyString>>>,
    clock: Option<Py<PyAny>>,
    nonces: Option<Py<PyAny>>,
    last_nonce: Mutex<u64>,
}

/// The credentials a [`Signer`] owns.
struct Creds {
    api_key: String,
    secret: Zeroizing<Vec<u8>>,
    user_id: String,
    token: String,
}

impl Creds {
    fn core(&self) -> Credentials<'_> {
        Credentials { api_key: &self.api_key, secret: &self.secret, user_id: &self.user_id, token: &self.token }
    }
}

/// The core signer a preset scheme gets (`None` for custom schemes).
type CoreSigner<'a> = Option<apisig::Signer<'a>>;

self_cell::self_cell!(
    /// Credentials and the core signer that borrows them.
    struct Prepared {
        owner: Creds,
        #[covariant]
        dependent: CoreSigner,
    }
);

/// One request as Python handed it over (text and `bytes` borrowed, not copied).
struct Owned<'b> {
    method: Cow<'b, str>,
    path: Cow<'b, str>,
    body: Bytes<'b>,
    headers: Vec<(String, Vec<u8>)>,
}

impl Signer {
    fn creds(&self) -> &Creds {
        self.core.borrow_owner()
    }

    fn needs_nonce(&self) -> bool {
        self.scheme.with(|s| s.has(Field::Nonce))
    }

    /// The stamp for one request: `now` and `nonce` if given, else the clock and the counter.
    /// The counter is strictly increasing and starts at the time in milliseconds, so a
    /// restarted client stays above the nonces a server has already seen.
    fn stamp(&self, py: Python<'_>, now: Option<Nanos>, nonce: Option<u64>) -> PyResult<Stamp> {
        let now = resolve_now(py, now, self.clock.as_ref())?;
        if !self.needs_nonce() {
            return Ok(Stamp { now, nonce });
        }
        let nonce = match (nonce, &self.nonces) {
            (Some(n), _) => n,
            // An injected source may have no nonce to give (`None`): the core then refuses.
            (None, Some(f)) => match f.bind(py).call0()?.extract::<Option<u64>>()? {
                Some(n) => n,
                None => return Ok(Stamp { now, nonce: None }),
            },
            (None, None) => {
                let mut last = self.last_nonce.lock().unwrap_or_else(PoisonError::into_inner);
                let next = last.saturating_add(1).max(now / 1_000_000);
                *last = next;
                return Ok(Stamp { now, nonce: Some(next) });
            }
        };
        let mut last = self.last_nonce.lock().unwrap_or_else(PoisonError::into_inner);
        *last = (*last).max(nonce);
        Ok(Stamp { now, nonce: Some(nonce) })
    }

    /// Runs `f` with the core signer: the one built once for a preset scheme, or one built
    /// now (from the key state computed once) for a custom scheme.
    fn with_core<T>(
        &self,
        f: impl FnOnce(&apisig::Signer<'_>) -> Result<T, apisig::Error>,
    ) -> Result<T, apisig::Error> {
        if let Some(signer) = self.core.borrow_dependent() {
            return f(signer);
        }
        let creds = self.creds().core();
        self.scheme.with(|s| match &self.key {
            Some(key) => f(&apisig::Signer::with_key(s, creds, key.clone())?),
            None => f(&apisig::Signer::new(s, creds)?),
        })
    }

    /// Runs `f` with the core signer and request, without the GIL for large bodies.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        req: &Owned<'_>,
        f: impl FnOnce(&apisig::Signer<'_>, &Request<'_>) -> Result<T, apisig::Error> + Send,
    ) -> PyResult<T> {
        let work = || {
            let headers = core_headers(&req.headers);
            let request = Request::new(&req.method, &req.path).with_body(&req.body).with_headers(&headers);
            self.with_core(|signer| f(signer, &request))
        };
        let result = if req.body.len() >= DETACH_THRESHOLD { py.detach(work) } else { work() };
        result.py(py)
    }
}

impl Signer {
    /// The produced headers as a dict: a copy of the template, with the computed values set.
    fn header_dict<'py>(&self, py: Python<'py>, set: &apisig::headers::HeaderSet<'_>) -> PyResult<Bound<'py, PyDict>> {
        let out = self.template.bind(py).copy()?;
        for (line, name) in set.iter().zip(&self.computed) {
            if let Some(name) = name {
                out.set_item(name.bind(py), value_string(py, &line))?;
            }
        }
        Ok(out)
    }
}

/// A header's whole value (prefix included) as a Python string.
fn value_string<'py>(py: Python<'py>, line: &apisig::headers::HeaderLine<'_>) -> Bound<'py, PyString> {
    if line.prefix.is_empty() {
        PyString::new(py, line.value)
    } else {
        PyString::new(py, &format!("{}{}", line.prefix, line.value))
    }
}

#[pymethods]
impl Signer {
    #[new]
    #[pyo3(signature = (scheme, *, api_key = String::new(), secret = Bytes::EMPTY, user_id = String::new(), token = String::new(), clock = None, nonces = None))]
    fn new(
        py: Python<'_>,
        scheme: &Scheme,
        api_key: String,
        secret: Bytes<'_>,
        user_id: String,
        token: String,
        clock: Option<Py<PyAny>>,
        nonces: Option<Py<PyAny>>,
    ) -> PyResult<Signer> {
        let creds = Creds { api_key, secret: Zeroizing::new(secret.into_owned()), user_id, token };
        let key = apisig::MacKey::new(&creds.secret).ok();
        // Built here for every scheme, so an unusable scheme or credentials fail now; the
        // headers it sends unchanged go into the template.
        let template = PyDict::new(py);
        let computed = scheme.data.with(|s| {
            let signer = apisig::Signer::new(s, creds.core()).py(py)?;
            s.headers
                .iter()
                .zip(signer.fixed_headers().iter())
                .map(|(h, line)| {
                    let name = PyString::intern(py, line.name);
                    if h.field.per_request() {
                        template.set_item(&name, py.None()).map(|()| Some(name.unbind()))
                    } else {
                        template.set_item(&name, value_string(py, &line)).map(|()| None)
                    }
                })
                .collect::<PyResult<Vec<_>>>()
        })?;
        let preset = match &*scheme.data {
            SchemeData::Preset(s, _) => Some(*s),
            SchemeData::Custom { .. } => None,
        };
        let core = Prepared::try_new(creds, |c| preset.map(|s| apisig::Signer::new(s, c.core())).transpose()).py(py)?;
        Ok(Signer {
            scheme: Arc::clone(&scheme.data),
            core,
            key,
            template: template.unbind(),
            computed,
            clock,
            nonces,
            last_nonce: Mutex::new(0),
        })
    }

    /// The scheme this signer uses.
    #[getter]
    fn scheme(&self) -> Scheme {
        Scheme { data: Arc::clone(&self.scheme) }
    }

    /// The headers for a request, in the scheme's order.
    #[pyo3(signature = (method, path, body = Bytes::EMPTY, headers = None, *, now = None, nonce = None))]
    fn sign<'py>(
        &self,
        py: Python<'py>,
        // Taken as the `str` objects and read here: a `Cow<str>` argument is moved through
        // pyo3's extraction `Result`s right after it is written (a stall on every call).
        method: &Bound<'py, PyString>,
        path: &Bound<'py, PyString>,
        body: Bytes<'_>,
        headers: Option<&Bound<'py, PyAny>>,
        now: Option<Nanos>,
        nonce: Option<u64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let stamp = self.stamp(py, now, nonce)?;
        let (method, path) = (Cow::Borrowed(method.to_str()?), Cow::Borrowed(path.to_str()?));
        let req = Owned { method, path, body, headers: header_pairs(headers)? };
        if req.body.len() >= DETACH_THRESHOLD {
            // Sign without the GIL; the header values are copied out before it is taken back.
            let lines = self.run(py, &req, |signer, request| {
                let set = signer.sign(request, stamp)?;
                Ok(set.iter().map(|l| (l.name.to_owned(), format!("{}{}", l.prefix, l.value))).collect::<Vec<_>>())
            })?;
            let out = PyDict::new(py);
            for (name, value) in lines {
                out.set_item(name, value)?;
            }
            return Ok(out);
        }
        // Small requests keep the GIL (as hashlib does below 2 KiB): the dict is built from
        // the header set directly, without intermediate strings.
        let headers = core_headers(&req.headers);
        let request = Request::new(&req.method, &req.path).with_body(&req.body).with_headers(&headers);
        self.with_core(|signer| {
            // Borrowed where it was returned (a move of the fresh set would stall on its stores).
            let signed = signer.sign(&request, stamp);
            Ok(self.header_dict(py, signed.as_ref().map_err(|e| *e)?))
        })
        .py(py)?
    }

    /// The produced headers as a compact JSON object, in order: the body of APEX
    /// `AuthenticateUser`.
    #[pyo3(signature = (method, path, body = Bytes::EMPTY, headers = None, *, now = None, nonce = None))]
    fn sign_json<'py>(
        &self,
        py: Python<'py>,
        method: Cow<'_, str>,
        path: Cow<'_, str>,
        body: Bytes<'_>,
        headers: Option<&Bound<'py, PyAny>>,
        now: Option<Nanos>,
        nonce: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let stamp = self.stamp(py, now, nonce)?;
        let req = Owned { method, path, body, headers: header_pairs(headers)? };
        let json = self.run(py, &req, |signer, request| {
            let set = signer.sign(request, stamp)?;
            // Every value is printable ASCII; escaping at most doubles it.
            let bound = set.iter().fold(2usize, |n, l| {
                n.saturating_add(l.name.len().saturating_mul(2))
                    .saturating_add(l.value_len().saturating_mul(2))
                    .saturating_add(6)
            });
            let mut buf = vec![0u8; bound];
            Ok(set.write_json(&mut buf)?.to_vec())
        })?;
        Ok(PyBytes::new(py, &json))
    }

    /// The exact bytes the signature covers for this request (signing schemes only).
    #[pyo3(signature = (method, path, body = Bytes::EMPTY, headers = None, *, now = None, nonce = None))]
    fn message<'py>(
        &self,
        py: Python<'py>,
        method: Cow<'_, str>,
        path: Cow<'_, str>,
        body: Bytes<'_>,
        headers: Option<&Bound<'py, PyAny>>,
        now: Option<Nanos>,
        nonce: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let stamp = self.stamp(py, now, nonce)?;
        let req = Owned { method, path, body, headers: header_pairs(headers)? };
        // Each part is fixed text or at most as long as the longest input it draws from.
        let (parts, fixed) = self.scheme.with(|s| {
            s.template.map_or((0usize, 0usize), |t| {
                let literals = t.parts.iter().fold(0usize, |n, p| match p {
                    apisig::message::Part::Literal(b) => n.saturating_add(b.len()),
                    _ => n,
                });
                (t.parts.len(), literals.saturating_add(t.separator.len().saturating_mul(t.parts.len())))
            })
        });
        let longest = [
            req.body.len(),
            req.path.len(),
            req.method.len(),
            self.creds().api_key.len(),
            self.creds().user_id.len(),
            20,
        ]
        .into_iter()
        .chain(req.headers.iter().map(|(_, v)| v.len()))
        .max()
        .unwrap_or(0);
        let bound = longest.saturating_mul(parts).saturating_add(fixed);
        let msg = self.run(py, &req, |signer, request| {
            let mut buf = vec![0u8; bound];
            Ok(signer.message(request, stamp, &mut buf)?.to_vec())
        })?;
        Ok(PyBytes::new(py, &msg))
    }

    fn __repr__(&self) -> String {
        let name = self.scheme.name().to_owned();
        format!("Signer(scheme={name:?}, credentials=<redacted>)")
    }
}
