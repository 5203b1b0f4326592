//! `apisig._native`, the pyo3 face of the apisig core.
//!
//! Thin by design: every protocol decision is the core's. This crate converts Python values
//! to the core's borrowed types and back, supplies the host clock and a nonce counter (both
//! injectable), holds shared verifier and rotation state behind mutexes, and releases the GIL
//! for large bodies. Exceptions are Python classes in `apisig/exceptions.py`, looked up by the
//! core error's stable code.

// Python signatures take keyword arguments (body, headers, now, nonce, ...) that clippy counts
// as positional ones.
#![allow(clippy::too_many_arguments)]

use pyo3::prelude::*;
use pyo3::types::PyBytes;

mod convert;
mod ocsp;
mod rotation;
mod scheme;
mod signer;
mod tokens;
mod verifier;

use convert::Bytes;

use convert::{CoreResult, DETACH_THRESHOLD};

/// HMAC-SHA256 of `msg` under `key`.
#[pyfunction]
fn hmac_sign<'py>(py: Python<'py>, key: Bytes<'_>, msg: Bytes<'_>) -> PyResult<Bound<'py, PyBytes>> {
    let run = || apisig::sign(&key, &msg).map(apisig::Tag::into_bytes);
    let tag = if msg.len() >= DETACH_THRESHOLD { py.detach(run) } else { run() };
    Ok(PyBytes::new(py, &tag.py(py)?))
}

/// Checks `tag` against HMAC-SHA256 of `msg` under `key` in constant time; raises on mismatch.
#[pyfunction]
fn hmac_verify(py: Python<'_>, key: Bytes<'_>, msg: Bytes<'_>, tag: Bytes<'_>) -> PyResult<()> {
    let run = || apisig::verify(&key, &msg, &tag);
    let result = if msg.len() >= DETACH_THRESHOLD { py.detach(run) } else { run() };
    result.py(py)
}

/// Every core error as `(code, name, message)`, in code order.
#[pyfunction]
fn error_table() -> Vec<(u32, &'static str, &'static str)> {
    apisig::Error::ALL.iter().map(|e| (e.code(), e.name(), e.as_str())).collect()
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
    use super::ocsp::{ocsp_cache_until, ocsp_verdict};
    #[pymodule_export]
    use super::rotation::{Attempt, Next, Rotation};
    #[pymodule_export]
    use super::scheme::{Policy, Scheme, check_canonical, pattern_matches};
    #[pymodule_export]
    use super::signer::Signer;
    #[pymodule_export]
    use super::tokens::{JwtClaims, Session, SessionKeys, TokenLifetime, fingerprint, jwt_encode, jwt_verify};
    #[pymodule_export]
    use super::verifier::{Principal, ReplayClaim, Verifier};
    #[pymodule_export]
    use super::{error_table, hmac_sign, hmac_verify, preset_names};

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
        m.add("PIN_LEN", apisig::pin::PIN_LEN)?;
        m.add("OCSP_RESPONSE_MAX_LEN", apisig::ocsp::RESPONSE_MAX_LEN)?;
        m.add("ADVANCE_NONCE_SCRIPT", apisig::claim::ADVANCE_NONCE_SCRIPT)?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        Ok(())
    }
}
