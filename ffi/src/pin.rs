//! mTLS certificate pinning: a peer certificate (DER) maps to a registered client by the
//! SHA-256 of the whole certificate or of its SubjectPublicKeyInfo.

use apisig::Error;
use apisig::names::Named;
use apisig::pin::Pin;
use apisig::pin::{PIN_LEN, PinKind, fingerprint};

use crate::convert::{Res, in_bytes, out_buf, out_ref};
use crate::keyring::{self, apisig_keyring, slot};
use crate::result::apisig_result;
use crate::verify::{apisig_principal, apisig_verifier, principal, verifier};

/// Length of a certificate pin (a SHA-256 digest).
pub const APISIG_PIN_BYTES: usize = 32;
const _: () = assert!(APISIG_PIN_BYTES == PIN_LEN);

/// The pin kind numbered `code` (an `apisig_pin_kind`); `INVALID_CERTIFICATE` for a number
/// with none.
fn kind(code: u32) -> Res<PinKind> {
    PinKind::from_code(code).ok_or(Error::InvalidCertificate.into())
}

/// Writes the `kind` fingerprint (an `apisig_pin_kind`) of a DER certificate,
/// `APISIG_PIN_BYTES` bytes, into `(out, out_cap)` and its length into `*out_len`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_CERTIFICATE` for bytes that are not one well-formed DER
/// certificate (or an unknown `kind`); `BUFFER_TOO_SMALL` with `*out_len` set to
/// `APISIG_PIN_BYTES`.
///
/// # Safety
/// `(der, der_len)` must be readable; `out` must point to `out_cap` writable bytes (or be
/// NULL with `out_cap == 0`), `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_certificate_fingerprint(
    der: *const u8,
    der_len: usize,
    kind: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (der, out) = unsafe { (in_bytes(der, der_len)?, out_buf(out, out_cap, out_len)?) };
        out.put(&fingerprint(der, self::kind(kind)?)?)
    }
}

/// Pins a client certificate to `client` in `slot` (an `apisig_slot`): a TLS peer presenting a
/// certificate with this `kind` fingerprint is this client.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client or slot;
/// `INVALID_CERTIFICATE` for an unknown `kind` or a fingerprint that is not `APISIG_PIN_BYTES`
/// long.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`), `(fp, fp_len)`
/// to readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_pin(
    ring: *mut apisig_keyring,
    client: u32,
    slot: u32,
    kind: u32,
    fp: *const u8,
    fp_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (ring, fp) = unsafe { (keyring::ring(ring)?, in_bytes(fp, fp_len)?) };
        let fingerprint: [u8; PIN_LEN] = fp.try_into().map_err(|_| Error::InvalidCertificate)?;
        let pin = Pin { kind: self::kind(kind)?, fingerprint };
        let slot = self::slot(slot)?;
        keyring::update(ring, client, |c| {
            c.set_pin(slot, Some(pin));
            Ok(())
        })
    }
}

/// Removes the certificate pin in `slot` of `client`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client or slot.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_clear_pin(ring: *mut apisig_keyring, client: u32, slot: u32) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `ring`.
        let ring = unsafe { keyring::ring(ring) }?;
        let slot = self::slot(slot)?;
        keyring::update(ring, client, |c| {
            c.set_pin(slot, None);
            Ok(())
        })
    }
}

/// The client pinned to a TLS peer's certificate (DER), with the same principal and role as its
/// other credentials, at `now_ns` (for the pin's expiry); `*who` is written only on `OK`. Call
/// it after the TLS library has checked the chain: apisig checks neither dates, issuer nor
/// signature.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `INVALID_CERTIFICATE`; `UNPINNED_CERTIFICATE`;
/// `CLIENT_REVOKED`, `CLIENT_DISABLED`, `KEY_REVOKED`, `KEY_EXPIRED`.
///
/// # Safety
/// `v` must point to written storage (a verifier; see `apisig_verifier_init`), `(der, der_len)`
/// to readable bytes, `who` to a writable `apisig_principal`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_verify_certificate(
    v: *mut apisig_verifier,
    der: *const u8,
    der_len: usize,
    now_ns: u64,
    who: *mut apisig_principal,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (v, der, who) = unsafe { (verifier(v)?, in_bytes(der, der_len)?, out_ref(who)?) };
        let verified = crate::verify::refined(v.verify_certificate(der, None, now_ns))?;
        *who = principal(v.store(), &verified)?;
        Ok(())
    }
}
