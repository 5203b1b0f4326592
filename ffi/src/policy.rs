//! Roles: the Securosys TSB role table, and pattern matching for user tables; the scope check.

use core::ffi::c_char;

use apisig::Error;
use apisig::client::Scopes;
use apisig::dialect::SECUROSYS_ROLES;
use apisig::policy::{RoleId, pattern_matches};

use crate::convert::{in_bytes, in_str, out_buf, out_ref};
use crate::result::apisig_result;

/// The Securosys role called `name` (`"keyManagementToken"`, `"keyOperationToken"`,
/// `"approverToken"`, `"serviceToken"`, `"approverKeyManagementToken"`); `*role` is written
/// only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `FORBIDDEN` when there is no such role.
///
/// # Safety
/// `(name, name_len)` must be readable; `role` must point to a writable `uint8_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_securosys_role(name: *const c_char, name_len: usize, role: *mut u8) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pointers.
        let (name, role) = unsafe { (in_str(name, name_len, Error::Forbidden)?, out_ref(role)?) };
        *role = SECUROSYS_ROLES.role_id(name).ok_or(Error::Forbidden)?.0;
        Ok(())
    }
}

/// Writes the name of Securosys role `role`, not NUL-terminated, into `(out, out_cap)` and
/// its length into `*out_len`.
///
/// # Errors
/// `NULL_PARAMETER`; `FORBIDDEN` for a role that does not exist; `BUFFER_TOO_SMALL` with
/// `*out_len` set to the length needed.
///
/// # Safety
/// `out` must point to `out_cap` writable bytes (or be NULL with `out_cap == 0`), `out_len`
/// to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_securosys_role_name(
    role: u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees the output triple.
        let out = unsafe { out_buf(out, out_cap, out_len) }?;
        let r = SECUROSYS_ROLES.role(RoleId(role)).ok_or(Error::Forbidden)?;
        out.put(r.name.as_bytes())
    }
}

/// Decides whether Securosys role `role` may request `target` (path and optional query; the
/// query is not matched). A path that is not canonical is refused, never normalised.
///
/// # Errors
/// `NULL_PARAMETER`; `NON_CANONICAL_PATH`; `FORBIDDEN` (also for a role that does not
/// exist).
///
/// # Safety
/// `(target, target_len)` must be readable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_securosys_authorize(
    role: u8,
    target: *const c_char,
    target_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `target`.
        let target = unsafe { in_bytes(target.cast::<u8>(), target_len) }?;
        Ok(SECUROSYS_ROLES.authorize(RoleId(role), target)?)
    }
}

/// Whether `path` matches `pattern` (`*` within one segment, `**` across segments). `OK`
/// means it matches; the path is not checked for canonical form here.
///
/// # Errors
/// `NULL_PARAMETER`; `FORBIDDEN` when it does not match; `INVALID_PATTERN`.
///
/// # Safety
/// Both `(ptr, len)` pairs must be readable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_pattern_match(
    pattern: *const c_char,
    pattern_len: usize,
    path: *const c_char,
    path_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pairs.
        let (pattern, path) =
            unsafe { (in_str(pattern, pattern_len, Error::InvalidPattern)?, in_bytes(path.cast::<u8>(), path_len)?) };
        if pattern_matches(pattern, path)? { Ok(()) } else { Err(Error::Forbidden.into()) }
    }
}

/// Decides whether a client holding the scopes `granted` (its `apisig_principal.scopes`) may
/// make a request that needs every scope in `required` (bit `i`: the server's scope `i`):
/// the core's rule, as the Python face's `require_scopes` applies it.
///
/// # Errors
/// `FORBIDDEN` (HTTP 403) when one is missing.
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn apisig_scopes_authorize(granted: u64, required: u64) -> apisig_result {
    ffi_boundary! {
        Ok(Scopes(granted).authorize(Scopes(required))?)
    }
}
