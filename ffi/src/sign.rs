//! The client side: sign a request, render the exact message signed, write the APEX
//! `AuthenticateUser` body.

use core::ffi::c_char;

use apisig::headers::HeaderSet;
use apisig::{Credentials, Error, Signer, Stamp};

use crate::convert::{Res, apisig_request, in_bytes, in_ref, in_str, out_buf, out_ref, request};
use crate::result::apisig_result;
use crate::scheme::{APISIG_MAX_HEADERS, apisig_scheme, scheme};

/// What a client holds. Fields a scheme does not use may be `(NULL, 0)`. Borrowed for the
/// duration of the call; `apisig_sign` copies what it sends into the caller's buffer.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_credentials {
    /// The API key: the static key itself, or the key id of a signed scheme.
    pub api_key: *const c_char,
    /// Length of `api_key`.
    pub api_key_len: usize,
    /// The API secret (the HMAC key; sent in clear only by `"aevo-secret"`).
    pub secret: *const u8,
    /// Length of `secret`.
    pub secret_len: usize,
    /// The user id (APEX).
    pub user_id: *const c_char,
    /// Length of `user_id`.
    pub user_id_len: usize,
    /// A bearer or session token.
    pub token: *const c_char,
    /// Length of `token`.
    pub token_len: usize,
}

/// The time and nonce of one request: apisig has no clock and no random source.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_stamp {
    /// Now, in nanoseconds since the UNIX epoch (converted to the scheme's unit).
    pub now_ns: u64,
    /// The nonce, for schemes that send one (APEX: a per-request counter).
    pub nonce: u64,
    /// Whether `nonce` is set (nonzero: set); a scheme that sends a nonce fails with
    /// `INVALID_NONCE` without one.
    pub has_nonce: u8,
}

/// One produced header. `name` points into the scheme (static storage for presets, the
/// caller's `apisig_header_spec` names for described schemes); `value` points into the
/// buffer given to `apisig_sign`. Neither is NUL-terminated.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_header {
    /// Field name, as the scheme spells it.
    pub name: *const c_char,
    /// Length of `name`.
    pub name_len: usize,
    /// Full value, prefix (`"Bearer "`) included.
    pub value: *const c_char,
    /// Length of `value`.
    pub value_len: usize,
    /// Whether the value is a secret (static key, API secret, token): do not log it.
    pub secret: bool,
}

/// The headers `apisig_sign` produced, in the scheme's order.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_headers {
    /// How many entries of `lines` are set.
    pub len: usize,
    /// The headers.
    pub lines: [apisig_header; APISIG_MAX_HEADERS],
}

/// The longest value apisig computes for a header (a hex signature); keys and tokens are
/// copied as given and may be longer.
pub const APISIG_SIGNATURE_TEXT_MAX: usize = 64;
const _: () = assert!(APISIG_SIGNATURE_TEXT_MAX == apisig::SIGNATURE_TEXT_MAX);

/// # Safety
/// The pointers in `c` must satisfy `in_bytes` for `'a`.
pub(crate) unsafe fn credentials<'a>(c: &apisig_credentials) -> Res<Credentials<'a>> {
    let bad = Error::InvalidHeaderValue;
    // SAFETY: the caller guarantees the (ptr, len) pairs of `c`.
    unsafe {
        Ok(Credentials {
            api_key: in_str(c.api_key, c.api_key_len, bad)?,
            secret: in_bytes(c.secret, c.secret_len)?,
            user_id: in_str(c.user_id, c.user_id_len, bad)?,
            token: in_str(c.token, c.token_len, bad)?,
        })
    }
}

pub(crate) const fn stamp(s: &apisig_stamp) -> Stamp {
    Stamp { now: s.now_ns, nonce: if s.has_nonce != 0 { Some(s.nonce) } else { None } }
}

/// Runs `f` with a signer and request built from the C arguments.
///
/// # Safety
/// As the exports: every pointer valid for the call.
unsafe fn with_signer<R>(
    c_scheme: *const apisig_scheme,
    c_creds: *const apisig_credentials,
    c_req: *const apisig_request,
    f: impl FnOnce(&Signer<'_>, &apisig::Request<'_>, &Credentials<'_>) -> Res<R>,
) -> Res<R> {
    let mut scheme_store = None;
    let mut header_store = heapless::Vec::new();
    // SAFETY: the caller guarantees the three pointers and their contents.
    let (scheme, creds, req) = unsafe {
        let scheme = scheme(in_ref(c_scheme)?, &mut scheme_store)?;
        let creds = credentials(in_ref(c_creds)?)?;
        let req = request(in_ref(c_req)?, &scheme, &mut header_store)?;
        (scheme, creds, req)
    };
    // Built in place: a signer returned by value would be copied through the stack.
    let mut slot = None;
    Signer::new_in(&mut slot, &scheme, creds)?;
    let signer = slot.as_ref().ok_or(apisig_result::InvalidObject)?;
    f(signer, &req, &creds)
}

/// Signs `req` under `scheme` with `creds` at `stamp`: fills `*headers` with the headers to
/// send, whose values are written one after another into `(buf, buf_cap)`; `*buf_len` gets
/// the bytes used.
///
/// Nothing is written on error, except `*buf_len` on `BUFFER_TOO_SMALL`, which then holds the
/// size needed (call with `(NULL, 0)` to ask). Header names point into the scheme, values
/// into `buf`: keep both alive while using `*headers`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_TEMPLATE` for an incoherent scheme; `EMPTY_SECRET`,
/// `INVALID_HEADER_VALUE` for unusable credentials; `INVALID_NONCE` when the scheme needs a
/// nonce and `stamp` has none; `INVALID_METHOD`, `INVALID_PATH`, `SEPARATOR_IN_FIELD`,
/// `MISSING_CREDENTIAL`, `DUPLICATE_HEADER` for a request the scheme cannot sign
/// unambiguously; `BUFFER_TOO_SMALL`.
///
/// # Safety
/// `scheme`, `creds` and `req` must point to valid structs whose `(ptr, len)` fields are
/// readable; `headers` to a writable `apisig_headers`; `buf` to `buf_cap` writable bytes (or
/// NULL with `buf_cap == 0`); `buf_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_sign(
    scheme: *const apisig_scheme,
    creds: *const apisig_credentials,
    req: *const apisig_request,
    stamp: apisig_stamp,
    headers: *mut apisig_headers,
    buf: *mut u8,
    buf_cap: usize,
    buf_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees the output pointers.
        let (headers, mut out) = unsafe { (out_ref(headers)?, out_buf(buf, buf_cap, buf_len)?) };
        // SAFETY: the caller guarantees the input pointers.
        unsafe {
            with_signer(scheme, creds, req, |signer, req, _| {
                let signed = signer.sign(req, self::stamp(&stamp));
                write_headers(signed.as_ref().map_err(|e| apisig_result::from(*e))?, headers, &mut out)
            })
        }
    }
}

/// Copies a header set into the C outputs, or writes nothing: the sizes are summed first,
/// and once they fit nothing can fail. Each line is written where C reads it (not built
/// aside and copied: a copy of just-written lines would stall on their stores).
pub(crate) fn write_headers(
    set: &HeaderSet<'_>,
    headers: &mut apisig_headers,
    out: &mut crate::convert::Out<'_>,
) -> Res<()> {
    // The lines once (each is a view made on demand), then their total size, then the copy.
    let mut views = heapless::Vec::<apisig::headers::HeaderLine<'_>, APISIG_MAX_HEADERS>::new();
    for line in set.iter() {
        views.push(line).map_err(|_| apisig_result::from(Error::InvalidTemplate))?;
    }
    let needed = views.iter().try_fold(0usize, |n, line| n.checked_add(line.value_len()));
    out.check(needed.ok_or(apisig_result::from(Error::BufferTooSmall))?)?;
    let empty = apisig_header { name: c"".as_ptr(), name_len: 0, value: c"".as_ptr(), value_len: 0, secret: false };
    let mut lines = views.iter();
    let mut rest: &mut [u8] = &mut *out.buf;
    let mut used = 0usize;
    for slot in &mut headers.lines {
        let Some(line) = lines.next() else {
            *slot = empty;
            continue;
        };
        let (head, tail) = core::mem::take(&mut rest).split_at_mut(line.value_len());
        // Cannot fail: `head` is exactly the value's length.
        let dst = line.write_value(head)?;
        *slot = apisig_header {
            name: line.name.as_ptr().cast(),
            name_len: line.name.len(),
            value: dst.as_ptr().cast(),
            value_len: dst.len(),
            secret: line.secret,
        };
        used = used.saturating_add(dst.len());
        rest = tail;
    }
    headers.len = set.len();
    *out.len = used;
    Ok(())
}

/// Writes the exact message `apisig_sign` would sign for the same arguments into
/// `(out, out_cap)` and its length into `*out_len` — for logs and debugging.
///
/// # Errors
/// As `apisig_sign`; `INVALID_TEMPLATE` for a scheme that signs nothing;
/// `BUFFER_TOO_SMALL` with `*out_len` set to the length needed (nothing else written).
///
/// # Safety
/// As `apisig_sign`, with `(out, out_cap, out_len)` for the buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_message(
    scheme: *const apisig_scheme,
    creds: *const apisig_credentials,
    req: *const apisig_request,
    stamp: apisig_stamp,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees the output triple.
        let out = unsafe { out_buf(out, out_cap, out_len) }?;
        // SAFETY: the caller guarantees the input pointers.
        unsafe {
            with_signer(scheme, creds, req, |signer, req, _| {
                let stamp = self::stamp(&stamp);
                match signer.message(req, stamp, out.buf) {
                    Ok(msg) => {
                        *out.len = msg.len();
                        Ok(())
                    }
                    Err(Error::BufferTooSmall) => {
                        *out.len = signer.message_len(req, stamp)?;
                        Err(apisig_result::from(Error::BufferTooSmall))
                    }
                    Err(e) => Err(e.into()),
                }
            })
        }
    }
}

/// Signs like `apisig_sign` and writes the produced headers as a compact JSON object,
/// `{"Name":"value",...}` in order — the body of APEX `AuthenticateUser`.
///
/// # Errors
/// As `apisig_sign`; `BUFFER_TOO_SMALL` with `*out_len` set to the length needed.
///
/// # Safety
/// As `apisig_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_sign_json(
    scheme: *const apisig_scheme,
    creds: *const apisig_credentials,
    req: *const apisig_request,
    stamp: apisig_stamp,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees the output triple.
        let out = unsafe { out_buf(out, out_cap, out_len) }?;
        // SAFETY: the caller guarantees the input pointers.
        unsafe {
            with_signer(scheme, creds, req, |signer, req, _| {
                let set = signer.sign(req, self::stamp(&stamp))?;
                match set.write_json(out.buf) {
                    Ok(json) => {
                        *out.len = json.len();
                        Ok(())
                    }
                    Err(Error::BufferTooSmall) => {
                        *out.len = set.json_len();
                        Err(apisig_result::from(Error::BufferTooSmall))
                    }
                    Err(e) => Err(e.into()),
                }
            })
        }
    }
}
