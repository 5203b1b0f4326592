//! `apisig._native`, the pyo3 face of the apisig core.
//!
//! Thin by design: every protocol decision is the core's. This crate converts Python values
//! to the core's borrowed types and back, supplies the host clock and a nonce counter (both
//! injectable), holds shared verifier and rotation state behind mutexes, and releases the GIL
//! for large bodies. Exceptions are Python classes in `apisig/exceptions.py` (generated from
//! [`error_table`] by `python/tests/test_exceptions.py`), looked up by the core error's
//! stable code.

// Python signatures take keyword arguments (body, headers, now, nonce, ...) that clippy counts
// as positional ones.
#![allow(clippy::too_many_arguments)]

use apisig::names::Named as _;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

mod asgi;
mod clients;
mod convert;
mod jwks;
mod ocsp;
mod rotation;
mod scheme;
mod signer;
mod store;
mod tokens;
mod verifier;

use convert::Bytes;

use convert::{CoreResult, DETACH_THRESHOLD};

/// HMAC-SHA256 of `msg` under `key`.
#[pyfunction]
fn hmac_sign<'py>(py: Python<'py>, key: Bytes<'_>, msg: Bytes<'_>) -> PyResult<Bound<'py, PyBytes>> {
    let run = || apisig::hmac_sign(&key, &msg).map(apisig::Tag::into_bytes);
    let tag = if msg.len() >= DETACH_THRESHOLD { py.detach(run) } else { run() };
    Ok(PyBytes::new(py, &tag.py(py)?))
}

/// Checks `tag` against HMAC-SHA256 of `msg` under `key` in constant time; raises on mismatch.
#[pyfunction]
fn hmac_verify(py: Python<'_>, key: Bytes<'_>, msg: Bytes<'_>, tag: Bytes<'_>) -> PyResult<()> {
    let run = || apisig::hmac_verify(&key, &msg, &tag);
    let result = if msg.len() >= DETACH_THRESHOLD { py.detach(run) } else { run() };
    result.py(py)
}

/// One row of the core's error table: what `apisig/exceptions.py` is generated from.
#[pyclass(frozen, name = "ErrorInfo", module = "apisig._native")]
struct ErrorInfo(apisig::Error);

#[pymethods]
impl ErrorInfo {
    /// The stable numeric code (the C ABI's `apisig_result`).
    #[getter]
    fn code(&self) -> u32 {
        self.0.code()
    }

    /// The stable snake_case name.
    #[getter]
    fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The message an exception carries.
    #[getter]
    fn message(&self) -> &'static str {
        self.0.as_str()
    }

    /// What a caller does about the error.
    #[getter]
    fn family(&self) -> FamilyInfo {
        FamilyInfo(self.0.family())
    }

    /// The HTTP status a server answers (the family's).
    #[getter]
    fn http_status(&self) -> u16 {
        self.0.http_status()
    }

    /// The core's documentation of the error.
    #[getter]
    fn doc(&self) -> &'static str {
        self.0.doc()
    }

    fn __repr__(&self) -> String {
        format!("ErrorInfo({}, {:?}, family={:?})", self.0.code(), self.0.name(), self.0.family().name())
    }
}

/// A family of core errors: what every face derives its exception bases and HTTP statuses
/// from.
#[pyclass(frozen, name = "FamilyInfo", module = "apisig._native")]
struct FamilyInfo(apisig::Family);

#[pymethods]
impl FamilyInfo {
    /// The stable name: `"malformed"`, `"authentication"`, `"forbidden"`, `"unavailable"` or
    /// `"configuration"`.
    #[getter]
    fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The HTTP status a server answers a request refused with an error of this family.
    #[getter]
    fn http_status(&self) -> u16 {
        self.0.http_status()
    }

    /// The core's documentation of the family.
    #[getter]
    fn doc(&self) -> &'static str {
        self.0.doc()
    }

    fn __repr__(&self) -> String {
        format!("FamilyInfo({:?}, http_status={})", self.0.name(), self.0.http_status())
    }
}

/// Every core error, in code order.
#[pyfunction]
fn error_table() -> Vec<ErrorInfo> {
    apisig::Error::ALL.iter().copied().map(ErrorInfo).collect()
}

/// The names of the preset schemes.
#[pyfunction]
fn preset_names() -> Vec<&'static str> {
    apisig::dialect::ALL.iter().map(|s| s.name).collect()
}

/// The Python module `apisig._native`.
#[pymodule(gil_used = false)]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::asgi::{AsgiGate, TrustedProxies};
    #[pymodule_export]
    use super::jwks::{JwkSet, introspection_check};
    #[pymodule_export]
    use super::ocsp::{ocsp_cache_until, ocsp_verdict};
    #[pymodule_export]
    use super::rotation::{Attempt, Next, Rotation};
    #[pymodule_export]
    use super::scheme::{Policy, Scheme, check_canonical, pattern_matches};
    #[pymodule_export]
    use super::signer::Signer;
    #[pymodule_export]
    use super::store::{ClientInfo, KeyInfo, MasterKeyError, Store, StoreError};
    #[pymodule_export]
    use super::tokens::{
        JwtClaims, JwtPolicy, Session, SessionKeys, TokenLifetime, fingerprint, jwt_encode, jwt_verify,
    };
    #[pymodule_export]
    use super::verifier::{Principal, ReplayClaim, Verifier};
    #[pymodule_export]
    use super::{ErrorInfo, FamilyInfo, error_table, hmac_sign, hmac_verify, preset_names};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        for s in apisig::dialect::ALL {
            let constant = s.name.to_ascii_uppercase().replace('-', "_");
            m.add(constant, super::scheme::Scheme::preset(m.py(), s)?)?;
        }
        m.add("SECUROSYS_ROLES", super::scheme::Policy::securosys())?;
        m.add("TAG_LEN", apisig::TAG_LEN)?;
        m.add("DETACH_THRESHOLD", super::DETACH_THRESHOLD)?;
        m.add("JWT_MAX_LEN", apisig::jwt::TOKEN_MAX)?;
        m.add("ACCESS_TOKEN_MAX_LEN", apisig::jws::ACCESS_TOKEN_MAX)?;
        m.add("JWKS_CAPACITY", super::jwks::JWKS_CAPACITY)?;
        m.add("INTROSPECTION_MAX_LEN", apisig::introspect::INTROSPECTION_MAX)?;
        m.add("PIN_LEN", apisig::pin::PIN_LEN)?;
        m.add("OCSP_RESPONSE_MAX_LEN", apisig::ocsp::RESPONSE_MAX_LEN)?;
        m.add("CLAIM_SCRIPT", apisig::claim::CLAIM_SCRIPT)?;
        m.add("CLAIM_RECOVERY_MS", apisig::claim::DEFAULT_RECOVERY_MS)?;
        m.add("CLAIM_MARKER_SUFFIX", apisig::claim::MARKER_SUFFIX)?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        Ok(())
    }
}
