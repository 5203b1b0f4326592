//! Caller-owned storage: C declares `apisig_keyring ring;` (static, stack or heap) and the
//! `_init` function writes a core object into it. The storage structs are arrays of
//! `uint64_t`, so any C declaration is aligned for the core types; compile-time asserts keep
//! the sizes honest on every target.

use crate::convert::Res;
use crate::result::apisig_result;

/// A pointer to initialized storage as the core object it holds.
///
/// # Safety
/// When non-null, `p` must point to storage that an `_init` function initialized as a `T`,
/// not aliased for `'a`.
pub(crate) unsafe fn get<'a, S, T>(p: *mut S) -> Res<&'a mut T> {
    if p.is_null() || !p.cast::<T>().is_aligned() {
        return Err(apisig_result::NullParameter);
    }
    // SAFETY: non-null and aligned; the caller guarantees it holds an initialized `T`, and
    // the storage's size is asserted at compile time to hold one.
    Ok(unsafe { &mut *p.cast::<T>() })
}

/// Writes `value` into storage without reading (or dropping) what was there.
///
/// # Safety
/// When non-null, `p` must point to writable storage of `size_of::<S>()` bytes, with
/// `size_of::<T>() <= size_of::<S>()` (asserted where each storage type is defined).
pub(crate) unsafe fn init<S, T>(p: *mut S, value: T) -> Res<()> {
    if p.is_null() || !p.cast::<T>().is_aligned() {
        return Err(apisig_result::NullParameter);
    }
    // SAFETY: non-null, aligned, large enough; `write` does not read the old bytes.
    unsafe { p.cast::<T>().write(value) };
    Ok(())
}

/// Asserts that storage type `S` can hold a `T`.
macro_rules! assert_fits {
    ($s:ty, $t:ty) => {
        const _: () = assert!(
            core::mem::size_of::<$t>() <= core::mem::size_of::<$s>()
                && core::mem::align_of::<$t>() <= core::mem::align_of::<$s>()
        );
    };
}
