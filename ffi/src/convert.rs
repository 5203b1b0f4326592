//! C arguments to core types, and core results to C outputs. Nothing here decides anything
//! the core decides; it only checks pointers and copies.

use core::ffi::c_char;

use apisig::headers::Header;
use apisig::{Error, Request, scheme::Scheme};

use crate::result::apisig_result;

pub(crate) type Res<T> = Result<T, apisig_result>;

/// `(ptr, len)` as a slice: `(NULL, 0)` and `(p, 0)` are empty; `(NULL, n > 0)` is an error.
///
/// # Safety
/// When `ptr` is non-null it must point to `len` readable bytes that stay valid and unchanged
/// for `'a`.
pub(crate) unsafe fn in_bytes<'a, T>(ptr: *const T, len: usize) -> Res<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(apisig_result::NullParameter);
    }
    // SAFETY: non-null, and the caller guarantees `len` readable elements for 'a.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `(ptr, len)` text as `&str`; text that is not UTF-8 gives `invalid`.
///
/// # Safety
/// As [`in_bytes`].
pub(crate) unsafe fn in_str<'a>(ptr: *const c_char, len: usize, invalid: Error) -> Res<&'a str> {
    // SAFETY: forwarded contract; c_char and u8 have the same size and alignment.
    let bytes = unsafe { in_bytes(ptr.cast::<u8>(), len) }?;
    text(bytes).ok_or(apisig_result::from(invalid))
}

/// `bytes` as `&str` if UTF-8. Methods, paths and header names are ASCII (the core refuses
/// anything else): checked inline, a word at a time, rather than by the general validator.
fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Some(unsafe { core::str::from_utf8_unchecked(bytes) });
    }
    core::str::from_utf8(bytes).ok()
}

/// A required pointer argument as a shared reference.
///
/// # Safety
/// When non-null, `ptr` must point to a valid, aligned `T` that outlives `'a`.
pub(crate) unsafe fn in_ref<'a, T>(ptr: *const T) -> Res<&'a T> {
    // SAFETY: forwarded contract.
    unsafe { ptr.as_ref() }.ok_or(apisig_result::NullParameter)
}

/// A required output pointer as a mutable reference.
///
/// # Safety
/// When non-null, `ptr` must point to a writable, aligned `T`, not aliased for `'a`.
pub(crate) unsafe fn out_ref<'a, T>(ptr: *mut T) -> Res<&'a mut T> {
    // SAFETY: forwarded contract.
    unsafe { ptr.as_mut() }.ok_or(apisig_result::NullParameter)
}

/// An output triple `(out, cap, *out_len)` after its pointers were checked.
pub(crate) struct Out<'a> {
    pub(crate) buf: &'a mut [u8],
    pub(crate) len: &'a mut usize,
}

impl Out<'_> {
    /// Reports that `needed` bytes are needed, as `BUFFER_TOO_SMALL` when they do not fit.
    pub(crate) fn check(&mut self, needed: usize) -> Res<()> {
        if needed > self.buf.len() {
            *self.len = needed;
            return Err(apisig_result::from(Error::BufferTooSmall));
        }
        Ok(())
    }

    /// Copies `data` and sets the length, or reports the size needed.
    pub(crate) fn put(self, data: &[u8]) -> Res<()> {
        let dst = self.buf.get_mut(..data.len());
        match dst {
            Some(dst) => {
                dst.copy_from_slice(data);
                *self.len = data.len();
                Ok(())
            }
            None => {
                *self.len = data.len();
                Err(apisig_result::from(Error::BufferTooSmall))
            }
        }
    }
}

/// Checks an output triple: `out_len` must be non-null; `out` may be NULL only with
/// `cap == 0` (a size query).
///
/// # Safety
/// When non-null, `out` must point to `cap` writable bytes and `out_len` to a writable
/// `size_t`, neither aliased for `'a`.
pub(crate) unsafe fn out_buf<'a>(out: *mut u8, cap: usize, out_len: *mut usize) -> Res<Out<'a>> {
    // SAFETY: forwarded contract.
    let len = unsafe { out_ref(out_len) }?;
    let buf: &mut [u8] = if cap == 0 {
        &mut []
    } else if out.is_null() {
        return Err(apisig_result::NullParameter);
    } else {
        // SAFETY: non-null; the caller guarantees `cap` writable, unaliased bytes.
        unsafe { core::slice::from_raw_parts_mut(out, cap) }
    };
    Ok(Out { buf, len })
}

/// One header of a request, as received (for verification) or as the request will carry it
/// (for templates that sign another header). Borrowed for the duration of the call.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_header_in {
    /// Field name, any case; need not be NUL-terminated.
    pub name: *const c_char,
    /// Length of `name`.
    pub name_len: usize,
    /// Field value, as received.
    pub value: *const u8,
    /// Length of `value`.
    pub value_len: usize,
}

/// The parts of an HTTP request apisig looks at. Every pointer is borrowed for the duration
/// of the call only; `(NULL, 0)` is an empty field.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_request {
    /// HTTP method (`"GET"`); the signer uppercases it, the verifier takes it as received.
    pub method: *const c_char,
    /// Length of `method`.
    pub method_len: usize,
    /// Request target exactly as sent: path and query string.
    pub path: *const c_char,
    /// Length of `path`.
    pub path_len: usize,
    /// Body, byte for byte.
    pub body: *const u8,
    /// Length of `body`.
    pub body_len: usize,
    /// The request's headers (credential headers for the verifier; headers a template
    /// signs). Only headers whose names the scheme reads are looked at.
    pub headers: *const apisig_header_in,
    /// Number of entries in `headers`.
    pub headers_len: usize,
}

/// Most headers of one request whose names the scheme reads (more means a name repeats).
pub(crate) const RELEVANT_HEADERS_MAX: usize = apisig::scheme::READ_HEADERS_MAX;

/// Converts a C request. Headers the scheme does not read are skipped (so a request may carry
/// any number of them); the ones it reads are kept, in order, in `store` (a `heapless::Vec`,
/// not an array of empty headers: it is declared on every call, and only the slots used are
/// written).
///
/// # Errors
/// `NULL_PARAMETER` for a `(NULL, n > 0)` field; `INVALID_METHOD`, `INVALID_PATH`,
/// `INVALID_HEADER_VALUE` for text that is not UTF-8 (the core would refuse it anyway);
/// `DUPLICATE_HEADER` when more than [`RELEVANT_HEADERS_MAX`] headers carry names the scheme
/// reads (some name must then be repeated).
///
/// # Safety
/// Every pointer in `req` must satisfy [`in_bytes`] for `'a`.
pub(crate) unsafe fn request<'a, 's>(
    req: &apisig_request,
    scheme: &Scheme<'_>,
    store: &'s mut heapless::Vec<Header<'a>, RELEVANT_HEADERS_MAX>,
) -> Res<Request<'s>> {
    // SAFETY: the caller guarantees every (ptr, len) pair of `req`.
    let (method, path, body, c_headers) = unsafe {
        (
            in_str(req.method, req.method_len, Error::InvalidMethod)?,
            in_str(req.path, req.path_len, Error::InvalidPath)?,
            in_bytes(req.body, req.body_len)?,
            in_bytes(req.headers, req.headers_len)?,
        )
    };
    for h in c_headers {
        // SAFETY: the caller guarantees each header's (ptr, len) pairs.
        let name = unsafe { in_bytes(h.name.cast::<u8>(), h.name_len) }?;
        if !scheme.reads(name) {
            continue;
        }
        // SAFETY: as above.
        let value = unsafe { in_bytes(h.value, h.value_len) }?;
        // A name the scheme reads is ASCII, so this only fails for a name it does not read.
        let name = text(name).ok_or(apisig_result::from(Error::InvalidHeaderValue))?;
        store.push(Header { name, value }).map_err(|_| apisig_result::from(Error::DuplicateHeader))?;
    }
    let store: &'s [Header<'a>] = store;
    Ok(Request { method, path, body, headers: store, peer: None })
}
