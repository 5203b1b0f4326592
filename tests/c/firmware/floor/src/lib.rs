//! The bare floor: `floor_sign(key, msg, out)` writes the 64 lowercase hex digits of
//! HMAC-SHA256(key, msg). What a firmware pays for the primitive alone, built exactly like
//! apisig's staticlib (opt-level "z", LTO, panic abort).
#![no_std]

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `msg` under `key`, as 64 hex digits into `out` (64 bytes). Returns 0, or
/// -1 when `out` is too small.
///
/// # Safety
/// Each pointer must be valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn floor_sign(
    key: *const u8,
    key_len: usize,
    msg: *const u8,
    msg_len: usize,
    out: *mut u8,
    out_cap: usize,
) -> i32 {
    // SAFETY: the caller's contract above.
    let (key, msg, out) = unsafe {
        (
            core::slice::from_raw_parts(key, key_len),
            core::slice::from_raw_parts(msg, msg_len),
            core::slice::from_raw_parts_mut(out, out_cap),
        )
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return -1;
    };
    mac.update(msg);
    match hex::encode_to_slice(mac.finalize().into_bytes(), out) {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
