//! Host-only conveniences (feature `std`): heap-allocated objects. Firmware builds do not
//! have these symbols; use caller-owned storage and the `_init` functions there.

extern crate std;

use std::boxed::Box;

use crate::heapring::HeapRing;
use crate::keyring::{HeapKeyring, apisig_keyring, apisig_keyring_init, apisig_keyring_wipe};
use crate::result::apisig_result;
use crate::storage;
use crate::verify::{apisig_verifier, apisig_verifier_init, apisig_verifier_wipe};

/// A new, empty keyring on the heap; NULL on failure. Free it with `apisig_keyring_free`.
/// Host builds only (not in `--no-default-features` firmware builds).
#[unsafe(no_mangle)]
pub extern "C" fn apisig_keyring_new() -> *mut apisig_keyring {
    ffi_value!(core::ptr::null_mut(), {
        let p = Box::into_raw(Box::new(apisig_keyring { opaque: [0; crate::keyring::APISIG_KEYRING_SIZE / 8] }));
        // SAFETY: `p` is a fresh, aligned allocation of the storage type.
        match unsafe { apisig_keyring_init(p) } {
            apisig_result::Ok => p,
            _ => {
                // SAFETY: `p` came from Box::into_raw above and holds no keyring.
                drop(unsafe { Box::from_raw(p) });
                core::ptr::null_mut()
            }
        }
    })
}

/// Zeroizes and frees a keyring from `apisig_keyring_new`. NULL is ignored.
///
/// # Safety
/// `ring` must be NULL or come from `apisig_keyring_new` or
/// `apisig_keyring_new_with_capacity`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_free(ring: *mut apisig_keyring) {
    if ring.is_null() {
        return;
    }
    ffi_value!((), {
        // SAFETY: the caller guarantees `ring` came from apisig_keyring_new; wiping drops the
        // secrets, and the storage itself needs no drop.
        unsafe {
            let _ = apisig_keyring_wipe(ring);
            drop(Box::from_raw(ring));
        }
    })
}

/// A new verifier on the heap (see `apisig_verifier_init` for `ring` and `window_ns`); NULL
/// on failure. Free it with `apisig_verifier_free`. Host builds only.
///
/// # Safety
/// `ring` must be NULL or point to an initialized keyring.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_new(ring: *mut apisig_keyring, window_ns: u64) -> *mut apisig_verifier {
    ffi_value!(core::ptr::null_mut(), {
        let p = Box::into_raw(Box::new(apisig_verifier { opaque: [0; crate::verify::APISIG_VERIFIER_SIZE / 8] }));
        // SAFETY: `p` is a fresh allocation; the caller guarantees `ring`.
        match unsafe { apisig_verifier_init(p, ring, window_ns) } {
            apisig_result::Ok => p,
            _ => {
                // SAFETY: `p` came from Box::into_raw above and holds no verifier.
                drop(unsafe { Box::from_raw(p) });
                core::ptr::null_mut()
            }
        }
    })
}

/// Zeroizes and frees a verifier from `apisig_verifier_new`. NULL is ignored.
///
/// # Safety
/// `v` must be NULL or come from `apisig_verifier_new`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_free(v: *mut apisig_verifier) {
    if v.is_null() {
        return;
    }
    ffi_value!((), {
        // SAFETY: as in apisig_keyring_free.
        unsafe {
            let _ = apisig_verifier_wipe(v);
            drop(Box::from_raw(v));
        }
    })
}

/// A new, empty keyring on the heap for up to `capacity` clients, chosen at run time (the
/// fixed `apisig_keyring` holds `APISIG_KEYRING_CAPACITY`); NULL on failure. Every
/// `apisig_keyring_*` function takes it; registering past `capacity` gives `KEYRING_FULL`;
/// lookups cost the same whatever the number of clients. `apisig_verifier_init` and
/// `apisig_verifier_new` move its clients into the verifier, as from a fixed keyring. Free it
/// with `apisig_keyring_free`. Host builds only: firmware keeps the fixed keyring, no heap.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_keyring_new_with_capacity(capacity: usize) -> *mut apisig_keyring {
    ffi_value!(core::ptr::null_mut(), {
        let p = Box::into_raw(Box::new(apisig_keyring { opaque: [0; crate::keyring::APISIG_KEYRING_SIZE / 8] }));
        // SAFETY: `p` is a fresh, aligned allocation of the storage type; `HeapKeyring` is
        // that storage, transparent.
        match unsafe { storage::init(p.cast::<HeapKeyring>(), Box::new(HeapRing::with_capacity(capacity))) } {
            Ok(()) => p,
            Err(_) => {
                // SAFETY: `p` came from Box::into_raw above and holds no keyring.
                drop(unsafe { Box::from_raw(p) });
                core::ptr::null_mut()
            }
        }
    })
}

/// A new verifier on the heap (see `apisig_verifier_init` for `window_ns`) whose own keyring
/// holds up to `capacity` clients, chosen at run time (add them through
/// `apisig_verifier_keyring`); NULL on failure. Free it with `apisig_verifier_free`. Host
/// builds only.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_verifier_new_with_capacity(capacity: usize, window_ns: u64) -> *mut apisig_verifier {
    ffi_value!(core::ptr::null_mut(), {
        let ring = apisig_keyring_new_with_capacity(capacity);
        // SAFETY: `ring` is NULL or a fresh heap keyring; its (no) clients move into the
        // verifier, then the emptied keyring is freed.
        unsafe {
            if ring.is_null() {
                return core::ptr::null_mut();
            }
            let v = apisig_verifier_new(ring, window_ns);
            apisig_keyring_free(ring);
            v
        }
    })
}
