//! `Rotation`: the core's key-rotation state machine (ZignSec other-key retry, Securosys
//! roll-over), shared by the threads of a client behind a mutex.

use std::sync::{Mutex, PoisonError};

use apisig::rotation::{self, RetryOn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::scheme::Scheme;

/// What to do after a response.
#[pyclass(frozen, eq, eq_int, name = "Next", module = "apisig._native")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Hand the response to the caller.
    #[pyo3(name = "DONE")]
    Done,
    /// Send the request again with `attempt.key`.
    #[pyo3(name = "RETRY")]
    Retry,
    /// Every key was refused; hand the last response to the caller.
    #[pyo3(name = "EXHAUSTED")]
    Exhausted,
}

/// One request's progress through the keys.
#[pyclass(name = "Attempt", module = "apisig._native")]
pub(crate) struct Attempt {
    inner: rotation::Attempt,
}

#[pymethods]
impl Attempt {
    /// The index of the key to send now.
    #[getter]
    fn key(&self) -> usize {
        self.inner.key()
    }

    fn __repr__(&self) -> String {
        format!("Attempt(key={})", self.inner.key())
    }
}

/// A client's keys for one service: how many, which is current, when to move on.
#[pyclass(frozen, name = "Rotation", module = "apisig._native")]
pub(crate) struct Rotation {
    inner: Mutex<rotation::Rotation>,
}

impl Rotation {
    fn from_core(r: rotation::Rotation) -> Rotation {
        Rotation { inner: Mutex::new(r) }
    }

    fn get(&self) -> rotation::Rotation {
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl Rotation {
    /// `keys` keys (1 to 255); retry on 401, and on 403 too with `retry_on_forbidden`.
    #[new]
    #[pyo3(signature = (keys, *, retry_on_forbidden = false))]
    fn new(keys: usize, retry_on_forbidden: bool) -> PyResult<Rotation> {
        let keys = u8::try_from(keys).ok().filter(|k| *k > 0).ok_or_else(|| PyValueError::new_err("1 to 255 keys"))?;
        let on = if retry_on_forbidden { RetryOn::UnauthorizedOrForbidden } else { RetryOn::Unauthorized };
        Ok(Rotation::from_core(rotation::Rotation::new(keys, on)))
    }

    /// `keys` keys for a service that speaks `scheme`, retried on the responses the scheme
    /// names: 401 or 403 for ZignSec (`scheme.retry_on_forbidden`), 401 for every other.
    #[staticmethod]
    fn for_scheme(scheme: &Scheme, keys: usize) -> PyResult<Rotation> {
        let keys = u8::try_from(keys).ok().filter(|k| *k > 0).ok_or_else(|| PyValueError::new_err("1 to 255 keys"))?;
        Ok(Rotation::from_core(scheme.data.with(|s| rotation::Rotation::for_scheme(s, keys))))
    }

    /// ZignSec: primary and secondary key, retry on 401 or 403.
    #[staticmethod]
    fn zignsec() -> Rotation {
        Rotation::from_core(rotation::Rotation::zignsec())
    }

    /// Securosys: `keys` keys of one role, roll over on 401.
    #[staticmethod]
    fn securosys(keys: usize) -> PyResult<Rotation> {
        let keys = u8::try_from(keys).ok().filter(|k| *k > 0).ok_or_else(|| PyValueError::new_err("1 to 255 keys"))?;
        Ok(Rotation::from_core(rotation::Rotation::securosys(keys)))
    }

    /// The key new requests start with.
    #[getter]
    fn current(&self) -> usize {
        self.get().current()
    }

    /// How many keys there are.
    #[getter]
    fn keys(&self) -> usize {
        self.get().keys()
    }

    /// Starts a request.
    fn begin(&self) -> Attempt {
        Attempt { inner: self.get().begin() }
    }

    /// Takes the response status of `attempt` and says what to do next; on `Next.RETRY`,
    /// `attempt.key` is the key to send.
    fn on_response(&self, attempt: &Bound<'_, Attempt>, status: u16) -> PyResult<Next> {
        let mut a = attempt.try_borrow_mut()?;
        let mut r = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(match r.on_response(&mut a.inner, status) {
            rotation::Next::Done => Next::Done,
            rotation::Next::Retry(_) => Next::Retry,
            rotation::Next::Exhausted => Next::Exhausted,
        })
    }

    fn __repr__(&self) -> String {
        let r = self.get();
        format!("Rotation(keys={}, current={})", r.keys(), r.current())
    }
}
