//! The library's version, as macros for the preprocessor and a string at run time.

use core::ffi::c_char;

/// Major version of the apisig C ABI (checked against the crate version by a test).
pub const APISIG_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const APISIG_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const APISIG_VERSION_PATCH: u32 = 0;

/// The library's version, `"MAJOR.MINOR.PATCH"`: a static, NUL-terminated string (compare
/// it with the `APISIG_VERSION_*` macros to catch a header/library mismatch).
#[unsafe(no_mangle)]
pub extern "C" fn apisig_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
