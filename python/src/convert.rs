//! Conversions between Python values and the core's borrowed types (and the names of its
//! enums), the host clock, and the mapping of core errors to the exception classes defined in
//! `apisig/exceptions.py`.

use std::borrow::Cow;
use std::ops::Deref;
use std::time::{SystemTime, UNIX_EPOCH};

use apisig::names::Named;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};
use smallvec::SmallVec;

/// Binary input: `bytes` (borrowed, never copied), `bytearray`, `memoryview` or any other
/// object with the buffer protocol (copied once). `str` and other types are refused with a
/// message that says what to pass instead; Python adds the argument's name as a note.
pub(crate) struct Bytes<'a>(Cow<'a, [u8]>);

impl Bytes<'_> {
    /// The empty input, for defaults.
    pub(crate) const EMPTY: Bytes<'static> = Bytes(Cow::Borrowed(&[]));

    pub(crate) fn into_owned(self) -> Vec<u8> {
        self.0.into_owned()
    }
}

impl Deref for Bytes<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Bytes<'a> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if ob.is_instance_of::<PyBytes>() {
            // pyo3's own conversion borrows the bytes object's buffer.
            return Ok(Bytes(Cow::<'a, [u8]>::extract(ob)?));
        }
        if let Ok(array) = ob.cast::<PyByteArray>() {
            return Ok(Bytes(Cow::Owned(array.to_vec())));
        }
        if ob.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err("expected bytes, not str: encode the text first (e.g. value.encode())"));
        }
        match pyo3::buffer::PyBuffer::<u8>::get(&ob) {
            Ok(buffer) => Ok(Bytes(Cow::Owned(buffer.to_vec(ob.py())?))),
            Err(_) => Err(PyTypeError::new_err(format!(
                "expected bytes, bytearray or memoryview, not {}",
                ob.get_type().name().map_or_else(|_| "an object".to_owned(), |n| n.to_string())
            ))),
        }
    }
}

/// Nanoseconds since the UNIX epoch (a `now` argument, or what a clock returns): any `int` in
/// `0..2**64`. Read as a signed machine word first — CPython converts that in a short loop,
/// while its unsigned 64-bit conversion goes through a general byte-array routine (about
/// 40 ns more on every request) — and only above `2**63` as unsigned.
#[derive(Copy, Clone)]
pub(crate) struct Nanos(pub(crate) u64);

impl<'a, 'py> FromPyObject<'a, 'py> for Nanos {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match ob.extract::<i64>().map(u64::try_from) {
            Ok(Ok(n)) => Ok(Nanos(n)),
            // Negative, above i64, or not an int: the unsigned conversion's own error.
            _ => ob.extract::<u64>().map(Nanos),
        }
    }
}

/// Bodies at least this long are signed and verified without holding the GIL (the threshold
/// cryptography and hashlib use).
pub(crate) const DETACH_THRESHOLD: usize = 2048;

/// `apisig.exceptions._from_code`, looked up once.
static FROM_CODE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The Python exception for a core error: an instance of the class in `apisig.exceptions`
/// whose `code` is the error's stable code, carrying the core's message.
pub(crate) fn to_pyerr(py: Python<'_>, e: apisig::Error) -> PyErr {
    to_pyerr_with(py, e, e.as_str())
}

/// [`to_pyerr`] carrying `message` (a store's, which says what could not be reached) instead of
/// the core's.
pub(crate) fn to_pyerr_with(py: Python<'_>, e: apisig::Error, message: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let from_code = FROM_CODE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            Ok(py.import("apisig.exceptions")?.getattr("_from_code")?.unbind())
        })?;
        Ok(PyErr::from_value(from_code.bind(py).call1((e.code(), e.name(), message))?))
    };
    build().unwrap_or_else(|import_failed| {
        let err = PyRuntimeError::new_err(format!("apisig error {} ({})", e.code(), e.name()));
        err.set_cause(py, Some(import_failed));
        err
    })
}

/// The variant of a core enum called `name` (its core name, see `apisig::names`); a
/// `ValueError` naming the accepted names otherwise.
pub(crate) fn parse_name<T: Named>(what: &str, name: &str) -> PyResult<T> {
    T::from_name(name).ok_or_else(|| {
        let names: Vec<String> = T::ALL.iter().map(|v| format!("'{}'", v.name())).collect();
        let accepted = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        PyValueError::new_err(format!("unknown {what} '{name}': {accepted}"))
    })
}

/// Adapts a `Result<T, apisig::Error>` to `PyResult<T>`.
pub(crate) trait CoreResult<T> {
    /// Converts the error with [`to_pyerr`].
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> CoreResult<T> for Result<T, apisig::Error> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_pyerr(py, e))
    }
}

/// Nanoseconds since the UNIX epoch from the system clock (what `time.time_ns()` returns).
pub(crate) fn system_now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)).unwrap_or(0)
}

/// `now` if given, else the injected clock (a callable returning ns), else the system clock.
pub(crate) fn resolve_now(py: Python<'_>, now: Option<Nanos>, clock: Option<&Py<PyAny>>) -> PyResult<u64> {
    match (now, clock) {
        (Some(n), _) => Ok(n.0),
        (None, Some(c)) => Ok(c.bind(py).call0()?.extract::<Nanos>()?.0),
        (None, None) => Ok(system_now_ns()),
    }
}

/// Request headers as owned `(name, value)` pairs (the signer's, which may outlive the GIL).
/// Accepts a mapping or an iterable of pairs; names are `str` (or UTF-8 `bytes`, as ASGI
/// servers give them) and values `str` or `bytes` (taken byte for byte).
pub(crate) fn header_pairs(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, Vec<u8>)>> {
    let Some(obj) = obj else { return Ok(Vec::new()) };
    let mut objects = HeaderObjects::default();
    objects.gather(obj)?;
    let mut headers = CoreHeaders::new();
    objects.core_into(&mut headers)?;
    Ok(headers.iter().map(|h| (h.name.to_owned(), h.value.to_vec())).collect())
}

/// Request headers as the Python objects holding them, kept alive and borrowed from, never
/// copied (the verifier's per-request path). Up to [`INLINE_HEADERS`] are held without an
/// allocation; both this and the core's view are filled where the caller keeps them (a
/// returned `SmallVec` would be copied, hundreds of bytes, on every request).
#[derive(Default)]
pub(crate) struct HeaderObjects<'py>(SmallVec<[(Bound<'py, PyAny>, Bound<'py, PyAny>); INLINE_HEADERS]>);

/// Headers a request carries without a heap allocation on the verifier's path (more are
/// fine).
pub(crate) const INLINE_HEADERS: usize = 8;

/// The core's view of [`HeaderObjects`].
pub(crate) type CoreHeaders<'a> = SmallVec<[apisig::headers::Header<'a>; INLINE_HEADERS]>;

impl<'py> HeaderObjects<'py> {
    /// Takes the headers of `obj`: a mapping, an iterable of pairs, or `None` (no headers).
    pub(crate) fn gather(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<()> {
        if obj.is_none() {
            return Ok(());
        }
        if let Ok(dict) = obj.cast::<PyDict>() {
            self.0.extend(dict.iter());
        } else if let Ok(list) = obj.cast::<PyList>() {
            // ASGI's headers (and the middlewares'): walked in place, not through `iter()`,
            // and without asking a list for `items` (a raised and discarded AttributeError).
            for item in list.iter() {
                self.0.push(item.extract()?);
            }
        } else {
            let items = if obj.hasattr("items")? { obj.call_method0("items")? } else { obj.clone() };
            for item in items.try_iter()? {
                self.0.push(item?.extract()?);
            }
        }
        Ok(())
    }

    /// The core's view of the headers, borrowed from the objects, into `out`; a `TypeError`
    /// for a name or value of the wrong type.
    pub(crate) fn core_into<'s>(&'s self, out: &mut CoreHeaders<'s>) -> PyResult<()> {
        for (n, v) in &self.0 {
            out.push(apisig::headers::Header { name: borrow_text(n, "header name")?, value: borrow_value(v)? });
        }
        Ok(())
    }
}

fn borrow_text<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<&'a str> {
    if let Ok(s) = obj.cast::<PyString>() {
        return s.to_str();
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        if let Ok(s) = std::str::from_utf8(b.as_bytes()) {
            return Ok(s);
        }
    }
    Err(PyTypeError::new_err(format!("{what} must be str or UTF-8 bytes")))
}

fn borrow_value<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<&'a [u8]> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.as_bytes());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes());
    }
    Err(PyTypeError::new_err("header value must be str or bytes"))
}

/// Borrowed core headers over owned pairs.
pub(crate) fn core_headers(pairs: &[(String, Vec<u8>)]) -> Vec<apisig::headers::Header<'_>> {
    pairs.iter().map(|(n, v)| apisig::headers::Header { name: n.as_str(), value: v.as_slice() }).collect()
}
