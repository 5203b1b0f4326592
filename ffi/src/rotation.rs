//! Client-side key rotation: the core's state machine, driven from C.
//!
//! ```c
//! apisig_rotation keys; apisig_attempt a; uint32_t next; size_t key;
//! apisig_rotation_zignsec(&keys);
//! apisig_rotation_begin(&keys, &a);              // send with key apisig_attempt_key(&a)
//! apisig_rotation_on_response(&keys, &a, 401, &next, &key); // next == APISIG_NEXT_RETRY, key 1
//! ```

use apisig::rotation::{Attempt, Next, RetryOn, Rotation};

use crate::convert::{in_ref, out_ref};
use crate::result::apisig_result;
use crate::scheme::{apisig_scheme, scheme};
use crate::storage::{self, tag};

/// Storage for a rotation state (which key is current, how many, when to move on). It holds
/// no secret and may be copied. Its first word is a tag set by the `apisig_rotation_*`
/// constructors: storage that was not initialised or holds another type gives
/// `APISIG_RESULT_INVALID_OBJECT`.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct apisig_rotation {
    pub(crate) opaque: [u64; 2],
}
storage!(apisig_rotation, Rotation, tag::ROTATION);

/// Storage for one request's progress through the keys, written by `apisig_rotation_begin`.
/// It holds no secret and may be copied; tagged like `apisig_rotation`.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct apisig_attempt {
    pub(crate) opaque: [u64; 2],
}
storage!(apisig_attempt, Attempt, tag::ATTEMPT);

/// What to do after a response (`*next` of `apisig_rotation_on_response`).
#[repr(u32)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_next {
    /// Hand the response to the caller.
    Done = 0,
    /// Send the request again with key `*key`.
    Retry = 1,
    /// Every key was refused; hand the last response to the caller.
    Exhausted = 2,
}

fn init(r: *mut apisig_rotation, value: Rotation) -> apisig_result {
    // SAFETY: the exports' callers guarantee `r` points to writable apisig_rotation storage.
    ffi_boundary! { unsafe { storage::init(r, value) } }
}

/// `keys` keys (0 counts as 1), starting with key 0; a retry on 401, and also on 403 when
/// `retry_on_forbidden` is nonzero.
///
/// # Errors
/// `NULL_PARAMETER`.
///
/// # Safety
/// `r` must point to a writable `apisig_rotation`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_rotation_init(
    r: *mut apisig_rotation,
    keys: u8,
    retry_on_forbidden: u8,
) -> apisig_result {
    let on = if retry_on_forbidden != 0 { RetryOn::UnauthorizedOrForbidden } else { RetryOn::Unauthorized };
    init(r, Rotation::new(keys, on))
}

/// `keys` keys (0 counts as 1) for a service that speaks `scheme`, retried on the responses
/// the scheme names: 401 or 403 for the ZignSec presets (and described schemes with
/// `retry_on_forbidden`), 401 for every other.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_TEMPLATE` for a scheme that does not convert.
///
/// # Safety
/// `r` must point to a writable `apisig_rotation`; `s` to a valid `apisig_scheme` whose
/// arrays and strings are readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_rotation_for_scheme(
    r: *mut apisig_rotation,
    s: *const apisig_scheme,
    keys: u8,
) -> apisig_result {
    ffi_boundary! {
        let mut store = None;
        // SAFETY: the caller guarantees `s` and its contents.
        let s = unsafe { scheme(in_ref(s)?, &mut store) }?;
        // SAFETY: the caller guarantees `r`.
        unsafe { storage::init(r, Rotation::for_scheme(&s, keys)) }
    }
}

/// ZignSec: primary and secondary key, retry with the other on 401 or 403.
///
/// # Errors
/// `NULL_PARAMETER`.
///
/// # Safety
/// `r` must point to a writable `apisig_rotation`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_rotation_zignsec(r: *mut apisig_rotation) -> apisig_result {
    init(r, Rotation::zignsec())
}

/// Securosys: `keys` keys of one role, roll over to the next on 401.
///
/// # Errors
/// `NULL_PARAMETER`.
///
/// # Safety
/// `r` must point to a writable `apisig_rotation`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_rotation_securosys(r: *mut apisig_rotation, keys: u8) -> apisig_result {
    init(r, Rotation::securosys(keys))
}

/// The key new requests start with; 0 when `r` is NULL or not a rotation.
///
/// # Safety
/// `r` must be NULL or point to written storage: a rotation, or any bytes at all (never
/// uninitialised memory).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_rotation_current(r: *const apisig_rotation) -> usize {
    // SAFETY: the caller guarantees `r`; it is only read.
    ffi_value!(0, unsafe { storage::get_ref(r) }.map(Rotation::current).unwrap_or(0))
}

/// Starts a request: `*a` is written and tagged; send it with key `apisig_attempt_key(a)`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` when `r` is not a rotation.
///
/// # Safety
/// `r` must point to written storage (as in `apisig_rotation_current`), `a` to a writable
/// `apisig_attempt` (it may be uninitialised).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_rotation_begin(r: *const apisig_rotation, a: *mut apisig_attempt) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `r` (read only) and `a`.
        let r: &Rotation = unsafe { storage::get_ref(r) }?;
        // SAFETY: as above.
        unsafe { storage::init(a, r.begin()) }
    }
}

/// The key to send the attempt with; 0 when `a` is NULL or not an attempt.
///
/// # Safety
/// `a` must be NULL or point to written storage (as in `apisig_rotation_current`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_attempt_key(a: *const apisig_attempt) -> usize {
    // SAFETY: the caller guarantees `a`; it is only read.
    ffi_value!(0, unsafe { storage::get_ref(a) }.map(Attempt::key).unwrap_or(0))
}

/// Takes the HTTP `status` of the response to attempt `a` and says what to do: `*next` is an
/// `apisig_next`; for `APISIG_NEXT_RETRY`, `*key` is the key to retry with (for the other
/// values it is the attempt's key). A retried key that succeeds becomes current.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` when `r` is not a rotation or `a` not an attempt.
///
/// # Safety
/// `r` and `a` must point to written storage (as in `apisig_rotation_current`), not the
/// same; `next` and `key` to writable values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_rotation_on_response(
    r: *mut apisig_rotation,
    a: *mut apisig_attempt,
    status: u16,
    next: *mut u32,
    key: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer (distinct objects).
        let (r, a, next, key): (&mut Rotation, &mut Attempt, _, _) =
            unsafe { (storage::get(r)?, storage::get(a)?, out_ref(next)?, out_ref(key)?) };
        let (n, k) = match r.on_response(a, status) {
            Next::Done => (apisig_next::Done, a.key()),
            Next::Retry(k) => (apisig_next::Retry, k),
            Next::Exhausted => (apisig_next::Exhausted, a.key()),
        };
        *next = n as u32;
        *key = k;
        Ok(())
    }
}
