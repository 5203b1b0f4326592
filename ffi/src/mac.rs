//! One-shot HMAC-SHA256, as libsodium's `crypto_auth_hmacsha256`.

use apisig::{Error, MacKey, TAG_LEN};

use crate::convert::{in_bytes, out_buf};
use crate::result::apisig_result;

/// Length of an HMAC-SHA256 tag in bytes.
pub const APISIG_TAG_BYTES: usize = 32;
const _: () = assert!(APISIG_TAG_BYTES == TAG_LEN);

/// `APISIG_TAG_BYTES`, for bindings that cannot read the macro.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_tag_bytes() -> usize {
    APISIG_TAG_BYTES
}

/// Writes HMAC-SHA256(`key`, `msg`) into `(out, out_cap)` (`APISIG_TAG_BYTES` bytes) and
/// `APISIG_TAG_BYTES` into `*out_len`.
///
/// # Errors
/// `NULL_PARAMETER`; `EMPTY_SECRET` for an empty key; `BUFFER_TOO_SMALL` with `*out_len` set
/// to `APISIG_TAG_BYTES`.
///
/// # Safety
/// `(key, key_len)` and `(msg, msg_len)` must be readable; `out` must point to `out_cap`
/// writable bytes (or be NULL with `out_cap == 0`), `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_hmac_sha256(
    key: *const u8,
    key_len: usize,
    msg: *const u8,
    msg_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (key, msg, mut out) = unsafe { (in_bytes(key, key_len)?, in_bytes(msg, msg_len)?, out_buf(out, out_cap, out_len)?) };
        let mac = MacKey::new(key)?;
        out.check(TAG_LEN)?;
        out.put(mac.sign(msg).as_bytes())
    }
}

/// Checks `tag` against HMAC-SHA256(`key`, `msg`) in constant time (in the data, not the
/// length).
///
/// # Errors
/// `NULL_PARAMETER`; `EMPTY_SECRET`; `INVALID_SIGNATURE_ENCODING` when `tag_len` is not
/// `APISIG_TAG_BYTES`; `SIGNATURE_MISMATCH`.
///
/// # Safety
/// The three `(ptr, len)` pairs must be readable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_hmac_sha256_verify(
    key: *const u8,
    key_len: usize,
    msg: *const u8,
    msg_len: usize,
    tag: *const u8,
    tag_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pair.
        let (key, msg, tag) = unsafe { (in_bytes(key, key_len)?, in_bytes(msg, msg_len)?, in_bytes(tag, tag_len)?) };
        MacKey::new(key)?.verify(msg, tag).map_err(|e: Error| e.into())
    }
}
