//! The C ABI of apisig: `include/apisig.h` is generated from this crate by cbindgen.
//!
//! Every export converts C arguments into the core's types, calls the core, and converts
//! the result back; no signing, matching or parsing logic lives here. The conventions,
//! from rustls-ffi and libsodium:
//!
//! - Symbols start with `apisig_`, macros with `APISIG_`.
//! - Every fallible function returns an `apisig_result`, whose numbers are the core's
//!   stable `Error::code()` values plus `OK` (0), `NULL_PARAMETER` (1), `INVALID_OBJECT` (3)
//!   and `PANIC` (99).
//! - Inputs are `(ptr, len)` pairs; `(NULL, 0)` is the empty input; `(NULL, n > 0)` gives
//!   `NULL_PARAMETER`. Outputs are `(out, cap, *out_len)`: a short `cap` gives
//!   `BUFFER_TOO_SMALL` with `*out_len` set to the size needed. Outputs are written only on
//!   `OK`.
//! - Objects (keyring, verifier, signer, rotation, attempt) live in storage the caller owns,
//!   sized by `APISIG_*_SIZE` macros; host builds add `_new`/`_free` conveniences. A tag word
//!   set by `_init` and cleared by `_wipe` is checked by every call (see `storage`).
//! - With the default `std` feature, every export runs inside `catch_unwind`; without it
//!   the crate is `no_std` for firmware and the core's panic-free code is the safeguard.
//!
//! # Cargo features
//!
//! - `std` (default): host builds — `catch_unwind` around every export, the heap-allocating
//!   `_new`/`_free` conveniences, and the core's fast JWS arithmetic (`precomputed-tables`;
//!   `ring`: RS256, PS256 and ES256 by assembly). Build with `default-features = false` for
//!   firmware: `no_std`, no allocator, the crate's own `#[panic_handler]`.
//! - `es256`, `eddsa` (default): the core's ES256 and EdDSA access-token verification
//!   (`apisig_jws_verify`); a firmware build leaves them out and links none of their code.
//! - `rsa` (default; implies `std`): RS256 and PS256 (the core's `rsa`, which needs a heap);
//!   `apisig_jws_algorithms()` says at run time which algorithms a build verifies.
//! - `store` (default; implies `std`): key stores for servers (`apisig_store_open`: SQLite,
//!   PostgreSQL, the read-through cache, the master key), through the `apisig-store` crate.
//!
//! The package carries the header, `include/apisig.h`, ready to use: it is generated in the
//! repository (cbindgen plus the C enums written from the core's tables, `tests/header.rs`),
//! not by a build script, so building the crate needs no cbindgen.

#![cfg_attr(not(feature = "std"), no_std)]
#![allow(non_camel_case_types)] // C names: apisig_result, apisig_keyring, ...

#[macro_use]
mod boundary;
#[macro_use]
mod storage;
#[cfg(feature = "std")]
mod cenums;
mod convert;
#[cfg(feature = "std")]
mod heapring;
#[cfg(feature = "std")]
mod host;
mod jws;
mod keyring;
mod lookup;
mod mac;
mod ocsp;
mod peer;
mod pin;
mod policy;
mod preset;
mod result;
mod rotation;
mod scheme;
mod sign;
mod signer;
#[cfg(feature = "store")]
mod store;
mod token;
mod verify;
mod version;

#[cfg(feature = "std")]
#[doc(hidden)] // for the header test: the C enums written from the core's tables
pub use cenums::c_enums;
pub use convert::{apisig_header_in, apisig_request};
#[cfg(feature = "std")]
pub use host::*;
pub use jws::*;
pub use keyring::*;
pub use lookup::*;
pub use mac::*;
pub use ocsp::*;
pub use peer::*;
pub use pin::*;
pub use policy::*;
pub use preset::*;
pub use result::*;
pub use rotation::*;
pub use scheme::*;
pub use sign::*;
pub use signer::*;
#[cfg(feature = "store")]
pub use store::*;
pub use token::*;
pub use verify::*;
pub use version::*;

/// Firmware builds have no std to report a panic; the core never panics on any input, so
/// reaching this is a bug. Stop here (a debugger shows where) rather than continue.
#[cfg(all(not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
