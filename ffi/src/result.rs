//! Result codes: the core's stable error codes, plus the four that belong to the C ABI.
//!
//! The codes are not re-tabled here: a core error's number, name and message are the core's
//! (`apisig::Error`), and the C ABI adds only the rows of [`own_codes!`]. The header's
//! `apisig_result` enum is written from both by `c_enums` (cbindgen cannot expand the core's
//! table), and the header test checks it.

use core::ffi::{CStr, c_char};
use core::fmt;

use apisig::Error;

/// What a call did: `APISIG_RESULT_OK` (0), one of the C ABI's own codes, or a core error's
/// stable code (`apisig::Error::code`). A `uint32_t`, so any value C passes back
/// (`apisig_strerror`) is defined; the header spells each code `APISIG_RESULT_<NAME>`.
#[repr(transparent)]
#[derive(Copy, Clone, Eq, PartialEq, Hash)]
pub struct apisig_result(pub u32);

/// Defines the C ABI's own codes, as associated constants of [`apisig_result`] (spelled
/// like enum variants, as callers in this crate match on them) and as the rows [`OWN`] that
/// `apisig_strerror` and the header read. Each row: `Name = code, "name", "message";`.
macro_rules! own_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, $name:literal, $message:literal; )*) => {
        #[allow(non_upper_case_globals)] // the Rust spelling of the C enumerators
        impl apisig_result {
            $( $(#[doc = $doc])* pub const $variant: apisig_result = apisig_result($code); )*
        }

        /// The C ABI's own codes, in code order.
        pub(crate) const OWN: [Own; [$($code),*].len()] = [
            $( Own { code: $code, variant: stringify!($variant), name: concat!($name, "\0"), message: concat!($message, "\0"), doc: concat!($($doc, "\n"),*) }, )*
        ];
    };
}

/// A code of the C ABI's own: its number, Rust spelling, NUL-terminated name and message,
/// and its doc.
pub(crate) struct Own {
    pub(crate) code: u32,
    /// Read by the header generator (`cenums`, std builds) only.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) variant: &'static str,
    pub(crate) name: &'static str,
    pub(crate) message: &'static str,
    /// Read by the header generator (`cenums`, std builds) only.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) doc: &'static str,
}

own_codes! {
    /// Success; outputs were written.
    Ok = 0, "ok", "ok";
    /// A required pointer argument was NULL (or a `(NULL, n > 0)` input).
    NullParameter = 1, "null_parameter", "a required pointer argument is NULL";
    /// The object's storage was not initialised by its `_init` function, was wiped, or holds
    /// another type. Nothing was read from it or written to it.
    InvalidObject = 3, "invalid_object",
        "the object's storage was not initialised by its _init function, was wiped, or holds another type";
    /// A panic was caught at the boundary: a bug in apisig. Outputs were not written.
    Panic = 99, "panic", "internal error: a panic was caught at the C boundary";
}

/// No core error uses a code of the C ABI's own.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // const-evaluated
const _: () = {
    let mut i = 0;
    while i < OWN.len() {
        assert!(Error::from_code(OWN[i].code).is_none(), "a C ABI code is also a core error code");
        i += 1;
    }
};

impl From<Error> for apisig_result {
    fn from(e: Error) -> Self {
        apisig_result(e.code())
    }
}

impl fmt::Debug for apisig_result {
    /// The code and its name: `apisig_result(22 signature_mismatch)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "apisig_result({} {})", self.0, describe(self.0).1.to_str().unwrap_or("?"))
    }
}

/// Room for one NUL-terminated message or name.
const TEXT_MAX: usize = 96;
const N: usize = Error::ALL.len();

/// The core's messages (`which == 0`) or names (`which == 1`), NUL-terminated, built at
/// compile time so they can never drift from the core. An over-long text fails the build.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // const-evaluated: a bad index is a compile error
const fn table(which: u8) -> [[u8; TEXT_MAX]; N] {
    let mut t = [[0u8; TEXT_MAX]; N];
    let mut i = 0;
    while i < N {
        let text = if which == 0 { Error::ALL[i].as_str() } else { Error::ALL[i].name() };
        let bytes = text.as_bytes();
        assert!(bytes.len() < TEXT_MAX);
        let mut j = 0;
        while j < bytes.len() {
            assert!(bytes[j] != 0);
            t[i][j] = bytes[j];
            j += 1;
        }
        i += 1;
    }
    t
}

static MESSAGES: [[u8; TEXT_MAX]; N] = table(0);
static NAMES: [[u8; TEXT_MAX]; N] = table(1);

/// `(message, snake_case name)` for a code, as NUL-terminated static strings.
fn describe(code: u32) -> (&'static CStr, &'static CStr) {
    let core = Error::ALL.iter().position(|e| e.code() == code).and_then(|i| {
        let msg = CStr::from_bytes_until_nul(MESSAGES.get(i)?).ok()?;
        let name = CStr::from_bytes_until_nul(NAMES.get(i)?).ok()?;
        Some((msg, name))
    });
    let own = || {
        let row = OWN.iter().find(|r| r.code == code)?;
        let msg = CStr::from_bytes_with_nul(row.message.as_bytes()).ok()?;
        let name = CStr::from_bytes_with_nul(row.name.as_bytes()).ok()?;
        Some((msg, name))
    };
    core.or_else(own).unwrap_or((c"unknown apisig result code", c"unknown"))
}

/// A human-readable message for `code` (an `apisig_result`). Never NULL: a static,
/// NUL-terminated string, also for codes this version does not know. Contains no secrets.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_strerror(code: u32) -> *const c_char {
    describe(code).0.as_ptr()
}

/// The stable snake_case name of `code` (`"signature_mismatch"`), as used in the test
/// vectors and by the Python face; `"unknown"` for codes this version does not know.
/// Never NULL: a static, NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_result_name(code: u32) -> *const c_char {
    describe(code).1.as_ptr()
}

/// The HTTP status a server answers when a request is refused with `code`, the same the
/// Python middleware answers: 401 for a malformed request or failed authentication, 403
/// when forbidden, 503 when shared state is unavailable, 500 for configuration errors; 200
/// for `APISIG_RESULT_OK`; 500 for the C ABI's own failures and for codes this version does
/// not know.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_result_http_status(code: u32) -> u16 {
    match Error::from_code(code) {
        Some(e) => e.http_status(),
        None if code == apisig_result::Ok.0 => 200,
        None => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_has_its_code_message_and_name() {
        for e in Error::ALL {
            assert_eq!(apisig_result::from(e).0, e.code(), "{e:?}");
            let (msg, name) = describe(e.code());
            assert_eq!(msg.to_str().ok(), Some(e.as_str()), "{e:?}");
            assert_eq!(name.to_str().ok(), Some(e.name()), "{e:?}");
            assert_eq!(apisig_result_http_status(e.code()), e.family().http_status());
        }
        for own in &OWN {
            let (msg, name) = describe(own.code);
            assert_eq!(msg.to_bytes_with_nul(), own.message.as_bytes());
            assert_eq!(name.to_bytes_with_nul(), own.name.as_bytes());
        }
        assert_eq!(describe(apisig_result::InvalidObject.0).1.to_bytes(), b"invalid_object");
        assert_eq!(describe(98).1.to_bytes(), b"unknown");
        assert_eq!(describe(u32::MAX).0.to_bytes(), b"unknown apisig result code");
        assert_eq!(apisig_result_http_status(0), 200);
        assert_eq!(apisig_result_http_status(apisig_result::Panic.0), 500);
        assert_eq!(
            format!("{:?}", apisig_result::from(Error::SignatureMismatch)),
            "apisig_result(22 signature_mismatch)"
        );
    }
}
