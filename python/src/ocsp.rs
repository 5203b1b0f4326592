//! OCSP: the core's decision on a client certificate's revocation status. `apisig/ocsp.py`
//! fetches and parses the response with `cryptography` and passes the facts here.

use apisig::Error;
use apisig::ocsp::{CertStatus, Nonce, Policy, Response, Signer, Verdict};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::{CoreResult, Nanos, to_pyerr};

fn parse<T: Copy>(what: &str, text: &str, table: &[(&str, T)]) -> PyResult<T> {
    table
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, v)| *v)
        .ok_or_else(|| PyValueError::new_err(format!("{what} is not one of the known values: {text:?}")))
}

/// The verdict on a client certificate (times in nanoseconds since the epoch, `skew` and
/// `max_age` in nanoseconds). `failure`: the code of the error that kept the caller from
/// reading a response (then the other facts are ignored). Returns `None` when the certificate
/// is good, the error to log as a warning when fail-soft lets it through; raises the error
/// otherwise.
#[pyfunction]
#[pyo3(signature = (
    *, now, skew, max_age, fail_soft, failure = None, signer = "unrelated", signature_valid = false,
    cert_id_matches = false, nonce = "not_sent", status = "unknown", this_update = 0,
    next_update = None, responder_issued_by_issuer = false, responder_ocsp_signing = false,
    responder_not_before = 0, responder_not_after = 0,
))]
pub(crate) fn ocsp_verdict(
    py: Python<'_>,
    now: Nanos,
    skew: Nanos,
    max_age: Nanos,
    fail_soft: bool,
    failure: Option<u32>,
    signer: &str,
    signature_valid: bool,
    cert_id_matches: bool,
    nonce: &str,
    status: &str,
    this_update: u64,
    next_update: Option<Nanos>,
    responder_issued_by_issuer: bool,
    responder_ocsp_signing: bool,
    responder_not_before: u64,
    responder_not_after: u64,
) -> PyResult<Option<Py<PyAny>>> {
    let policy = Policy { skew: skew.0, max_age: max_age.0, fail_soft };
    let facts = match failure {
        Some(code) => Err(Error::from_code(code)
            .ok_or_else(|| PyValueError::new_err(format!("{code} is not an apisig error code")))?),
        None => Ok(Response {
            signer: match signer {
                "issuer" => Signer::Issuer,
                "delegated" => Signer::Delegated {
                    issued_by_issuer: responder_issued_by_issuer,
                    ocsp_signing: responder_ocsp_signing,
                    not_before: responder_not_before,
                    not_after: responder_not_after,
                },
                other => parse("signer", other, &[("unrelated", Signer::Unrelated)])?,
            },
            signature_valid,
            cert_id_matches,
            nonce: parse(
                "nonce",
                nonce,
                &[
                    ("not_sent", Nonce::NotSent),
                    ("echoed", Nonce::Echoed),
                    ("missing", Nonce::Missing),
                    ("different", Nonce::Different),
                ],
            )?,
            status: parse(
                "status",
                status,
                &[("good", CertStatus::Good), ("revoked", CertStatus::Revoked), ("unknown", CertStatus::Unknown)],
            )?,
            this_update,
            next_update: next_update.map(|n| n.0),
        }),
    };
    match apisig::ocsp::verdict(facts.as_ref().map_err(|e| *e), now.0, &policy).py(py)? {
        Verdict::Good => Ok(None),
        Verdict::FailSoft(e) => Ok(Some(to_pyerr(py, e).into_value(py).into_any())),
    }
}

/// Until when (nanoseconds) a response fetched at `now` may be reused, or `None`.
#[pyfunction]
#[pyo3(signature = (this_update, next_update, now, max_age))]
pub(crate) fn ocsp_cache_until(
    this_update: Nanos,
    next_update: Option<Nanos>,
    now: Nanos,
    max_age: Nanos,
) -> Option<u64> {
    apisig::ocsp::cache_until(this_update.0, next_update.map(|n| n.0), now.0, max_age.0)
}
