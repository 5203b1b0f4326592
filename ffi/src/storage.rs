//! Caller-owned storage: C declares `apisig_keyring ring;` (static, stack or heap) and the
//! `_init` function writes a core object into it. The storage structs are arrays of
//! `uint64_t`, so any C declaration is aligned for the core types; compile-time asserts keep
//! the sizes honest on every target.
//!
//! The first word of every storage object is a tag that names its type, written by `_init`
//! (after the object) and cleared by `_wipe`; the object follows it. Every other call reads
//! the tag first, so storage that was never initialised (zeroed or garbage), was wiped, or
//! holds another type gives `INVALID_OBJECT` instead of being read as an object. The tags are
//! random 64-bit constants: garbage matches one with probability 2^-64, and zeroed storage
//! never does.
//!
//! The contract that makes the tag read sound: storage passed to any function but `_init`
//! has been written (by `_init`, by `memset`, or with any bytes at all), never left
//! uninitialised — C code that declares an object and calls `_init` first does this; static
//! storage is zero. Rust models a read of uninitialised memory as undefined even for an
//! integer, so that case alone is the caller's (as in libsodium and rustls-ffi).

use crate::convert::Res;
use crate::result::apisig_result;

/// The tag word of each storage type (nonzero, distinct: checked below). Zero is the tag of
/// wiped (and zeroed) storage.
pub(crate) mod tag {
    pub(crate) const KEYRING: u64 = 0x2d87_4ca2_8cf1_99dc;
    pub(crate) const VERIFIER: u64 = 0xdd6e_ffc1_3880_f991;
    pub(crate) const SIGNER: u64 = 0x411f_741e_7694_f024;
    pub(crate) const ROTATION: u64 = 0x57c5_42d6_b968_0b3f;
    pub(crate) const ATTEMPT: u64 = 0x3784_b5c9_097f_d8a8;
    pub(crate) const AEVO_SIGNER: u64 = 0x9c3e_5a71_d20b_46e8;
    pub(crate) const APEX_SIGNER: u64 = 0x6b14_f08d_39a7_c25d;
    /// A keyring on the heap (host builds), in `apisig_keyring` storage.
    pub(crate) const HEAP_KEYRING: u64 = 0xe2a9_07c4_5b1d_3f86;
    /// A key store (host builds with the `store` feature), at the start of its heap object.
    pub(crate) const STORE: u64 = 0x5f0c_b83e_a1d4_6927;

    const ALL: [u64; 9] = [KEYRING, VERIFIER, SIGNER, ROTATION, ATTEMPT, AEVO_SIGNER, APEX_SIGNER, HEAP_KEYRING, STORE];
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // const-evaluated
    const _: () = {
        let mut i = 0;
        while i < ALL.len() {
            assert!(ALL[i] != 0);
            let mut j = i + 1;
            while j < ALL.len() {
                assert!(ALL[i] != ALL[j]);
                j += 1;
            }
            i += 1;
        }
    };
}

/// A C storage type and the core object its `_init` writes into it, after the tag word.
///
/// # Safety
/// The storage type must be 8-aligned and hold the tag word plus an `Object` (what
/// [`storage!`] asserts at compile time).
pub(crate) unsafe trait Storage {
    /// What the storage holds once initialised.
    type Object;
    /// Its tag word (one of [`tag`]).
    const TAG: u64;
}

/// Declares that storage type `$s` holds a `$t` tagged `$tag`, and asserts that it fits.
macro_rules! storage {
    ($s:ty, $t:ty, $tag:expr) => {
        // SAFETY: the size and alignment are asserted just below.
        unsafe impl $crate::storage::Storage for $s {
            type Object = $t;
            const TAG: u64 = $tag;
        }
        const _: () = assert!(
            core::mem::size_of::<$t>() + core::mem::size_of::<u64>() <= core::mem::size_of::<$s>()
                && core::mem::align_of::<$t>() <= core::mem::align_of::<u64>()
                && core::mem::align_of::<$s>() == core::mem::align_of::<u64>()
        );
    };
}

/// Where the object of storage `p` lives: just after the tag word.
pub(crate) fn object<S: Storage>(p: *mut S) -> *mut S::Object {
    p.cast::<u64>().wrapping_add(1).cast()
}

/// The tag word of `p`: `NULL_PARAMETER` for NULL; `INVALID_OBJECT` for a pointer that is not
/// 8-aligned (no `_init` accepts one).
///
/// # Safety
/// When non-null, `p` must point to at least 8 readable, written bytes (see the module doc).
pub(crate) unsafe fn tag_of<S>(p: *const S) -> Res<u64> {
    if p.is_null() {
        return Err(apisig_result::NullParameter);
    }
    let word = p.cast::<u64>();
    if !word.is_aligned() {
        return Err(apisig_result::InvalidObject);
    }
    // SAFETY: non-null, aligned, readable and written (the caller's contract). Volatile, so
    // the check is a real load even when the compiler can see the C side (cross-language LTO).
    Ok(unsafe { word.read_volatile() })
}

/// Storage `p` as the object it holds, when its tag says it holds one.
///
/// # Errors
/// `NULL_PARAMETER` for NULL; `INVALID_OBJECT` for storage not initialised as an `S`.
///
/// # Safety
/// When non-null, `p` must point to written storage of `size_of::<S>()` bytes (or, when its
/// tag matches, storage initialised as an `S`) not aliased for `'a`.
pub(crate) unsafe fn get<'a, S: Storage>(p: *mut S) -> Res<&'a mut S::Object> {
    // SAFETY: forwarded contract.
    if unsafe { tag_of(p) }? != S::TAG {
        return Err(apisig_result::InvalidObject);
    }
    // SAFETY: the tag is only ever written after an `Object` was written behind it.
    Ok(unsafe { &mut *object(p) })
}

/// As [`get`], shared: for objects that calls only read.
///
/// # Errors
/// As [`get`].
///
/// # Safety
/// As [`get`], except that `p` may be shared (no one writes it for `'a`).
pub(crate) unsafe fn get_ref<'a, S: Storage>(p: *const S) -> Res<&'a S::Object> {
    // SAFETY: forwarded contract.
    if unsafe { tag_of(p) }? != S::TAG {
        return Err(apisig_result::InvalidObject);
    }
    // SAFETY: as in `get`.
    Ok(unsafe { &*object(p.cast_mut()) })
}

/// Writes `value` and then the tag into storage, without reading (or dropping) what was
/// there.
///
/// # Errors
/// `NULL_PARAMETER` when `p` is NULL or not 8-aligned.
///
/// # Safety
/// When non-null, `p` must point to writable storage of `size_of::<S>()` bytes.
pub(crate) unsafe fn init<S: Storage>(p: *mut S, value: S::Object) -> Res<()> {
    if p.is_null() || !p.cast::<u64>().is_aligned() {
        return Err(apisig_result::NullParameter);
    }
    // SAFETY: non-null, aligned, large enough (asserted by `storage!`); `write` does not read
    // the old bytes.
    unsafe {
        object(p).write(value);
        p.cast::<u64>().write(S::TAG);
    }
    Ok(())
}

/// Drops the object held by `p` (secrets zeroize on drop) and clears the tag: the storage
/// is no longer initialised.
///
/// # Errors
/// As [`get`].
///
/// # Safety
/// As [`get`].
pub(crate) unsafe fn wipe<S: Storage>(p: *mut S) -> Res<()> {
    // SAFETY: forwarded contract.
    let obj: *mut S::Object = unsafe { get(p) }?;
    // SAFETY: `obj` holds an initialised object, dropped once: the tag is cleared right after.
    // Volatile, so the clearing is not elided as a store to memory about to go away.
    unsafe {
        core::ptr::drop_in_place(obj);
        p.cast::<u64>().write_volatile(0);
    }
    Ok(())
}
