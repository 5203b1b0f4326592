//! Signers typed by preset, sized for devices: `apisig_aevo_signer` and `apisig_apex_signer`
//! sign exactly what `apisig_signer_sign` signs with the Aevo (APEX) preset, with the preset
//! fixed at compile time (the core's `preset::PresetSigner`): a firmware that signs one
//! dialect links that dialect's code only — no scheme conversion, template walk, request
//! conversion, base64 or UTF-8 validation (docs/embedded.md has the figures).

use core::ffi::c_char;

use apisig::preset::{Aevo, Apex, Preset, PresetSigner, Signed};
use apisig::scheme::Field;
use apisig::{Error, Stamp};

use crate::convert::{Out, Res, in_bytes, in_ref, out_buf, out_ref};
use crate::result::apisig_result;
use crate::sign::{apisig_credentials, apisig_header, apisig_headers};
use crate::storage::{self, Storage, tag};

/// Size in bytes of `apisig_aevo_signer` and `apisig_apex_signer`.
pub const APISIG_PRESET_SIGNER_SIZE: usize = 256;

/// Storage for an Aevo signer typed at compile time (`apisig_aevo_signer_setup`): the
/// credentials checked, the HMAC key state precomputed. As `apisig_signer` (declare it
/// anywhere, do not copy it once set up, keep the credentials' buffers alive and unchanged
/// until `apisig_aevo_signer_wipe`, sign from several threads at once), in 256 bytes.
#[repr(C)]
pub struct apisig_aevo_signer {
    pub(crate) opaque: [u64; 32],
}

/// Storage for an APEX signer typed at compile time (`apisig_apex_signer_setup`), as
/// `apisig_aevo_signer`.
#[repr(C)]
pub struct apisig_apex_signer {
    pub(crate) opaque: [u64; 32],
}

storage!(apisig_aevo_signer, Option<PresetSigner<'static, Aevo>>, tag::AEVO_SIGNER);
const _: () = assert!(core::mem::size_of::<apisig_aevo_signer>() == APISIG_PRESET_SIGNER_SIZE);
const _: () = assert!(core::mem::size_of::<apisig_apex_signer>() == APISIG_PRESET_SIGNER_SIZE);
storage!(apisig_apex_signer, Option<PresetSigner<'static, Apex>>, tag::APEX_SIGNER);

/// The body of the `_setup` functions: the credentials the preset reads (the API key, the
/// secret, and for APEX the user id), checked and keyed in place.
///
/// # Safety
/// As `apisig_aevo_signer_setup`.
unsafe fn setup<P: Preset, S: Storage<Object = Option<PresetSigner<'static, P>>>>(
    s: *mut S,
    creds: *const apisig_credentials,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees writable storage.
        unsafe { storage::init(s, None) }?;
        let build = || -> Res<()> {
            // SAFETY: just initialized (not moved while set up: the caller's contract); the
            // caller keeps the credentials' buffers alive, so the borrows may be 'static.
            unsafe {
                let slot = storage::get(s)?;
                let c = in_ref(creds)?;
                let user_id: &[u8] =
                    if P::SCHEME.has(Field::UserId) { in_bytes(c.user_id.cast(), c.user_id_len)? } else { b"" };
                let api_key = in_bytes(c.api_key.cast(), c.api_key_len)?;
                PresetSigner::new_in_bytes(slot, api_key, in_bytes(c.secret, c.secret_len)?, user_id)?;
            }
            Ok(())
        };
        build().or_else(|e| {
            // SAFETY: initialized above; wiping drops it and clears the tag.
            unsafe { storage::wipe(s) }?;
            Err(e)
        })
    }
}

/// The body of the `_sign` functions.
///
/// # Safety
/// As `apisig_aevo_signer_sign`.
#[allow(clippy::too_many_arguments)]
unsafe fn sign<P: Preset, S: Storage<Object = Option<PresetSigner<'static, P>>>>(
    s: *const S,
    request: [(*const u8, usize); 3],
    stamp: Stamp,
    headers: *mut apisig_headers,
    buf: *mut u8,
    buf_cap: usize,
    buf_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees the output pointers.
        let (headers, mut out) = unsafe { (out_ref(headers)?, out_buf(buf, buf_cap, buf_len)?) };
        // SAFETY: the caller guarantees written storage; it is only read.
        let signer = unsafe { storage::get_ref(s) }?.as_ref().ok_or(apisig_result::InvalidObject)?;
        let [(method, method_len), (path, path_len), (body, body_len)] = request;
        // SAFETY: the caller guarantees the request's (ptr, len) pairs.
        let (method, path, body) =
            unsafe { (in_bytes(method, method_len)?, in_bytes(path, path_len)?, in_bytes(body, body_len)?) };
        let mut signed = Signed::new();
        signer.sign_into(method, path, body, stamp, &mut signed)?;
        write_lines(signer, &signed, headers, &mut out)
    }
}

/// Copies the signed headers into the C outputs, or writes nothing (as `write_headers`).
fn write_lines<P: Preset>(
    signer: &PresetSigner<'_, P>,
    signed: &Signed,
    headers: &mut apisig_headers,
    out: &mut Out<'_>,
) -> Res<()> {
    let needed = signer.headers(signed).try_fold(0usize, |n, (_, value)| n.checked_add(value.len()));
    out.check(needed.ok_or(apisig_result::from(Error::BufferTooSmall))?)?;
    let mut lines = signer.headers(signed);
    let (mut rest, mut used, mut count): (&mut [u8], usize, usize) = (&mut *out.buf, 0, 0);
    for slot in &mut headers.lines {
        let (name, value) = lines.next().unwrap_or(("", b""));
        let (head, tail) = core::mem::take(&mut rest).split_at_mut(value.len());
        head.copy_from_slice(value);
        *slot = apisig_header {
            name: name.as_ptr().cast(),
            name_len: name.len(),
            value: head.as_ptr().cast(),
            value_len: head.len(),
            secret: false,
        };
        count = count.saturating_add(usize::from(!name.is_empty()));
        used = used.saturating_add(head.len());
        rest = tail;
    }
    headers.len = count;
    *out.len = used;
    Ok(())
}

/// Checks the Aevo credentials (`api_key`, `secret`; the other fields are not read) as
/// `apisig_aevo_signer_init` does and precomputes the HMAC key state into `*s`. The previous
/// contents of `*s` are not read. On error `*s` is left without a tag.
///
/// Credentials are read as bytes, not validated as UTF-8 first: one that is not UTF-8 is
/// refused by the checks (`INVALID_HEADER_VALUE`, as `apisig_aevo_signer_init` refuses it)
/// in the order of the scheme's headers, so with several faults at once the code may
/// differ; fields the preset does not send are not read at all.
///
/// # Errors
/// `NULL_PARAMETER`; `EMPTY_SECRET`, `INVALID_HEADER_VALUE` for unusable credentials.
///
/// # Safety
/// `s` must point to writable storage of `APISIG_PRESET_SIGNER_SIZE` bytes that is not moved
/// while set up; `creds` must be valid, and the buffers it points to must stay valid and
/// unchanged until `apisig_aevo_signer_wipe`. The other functions taking `s` need written
/// storage, as for `apisig_signer`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_aevo_signer_setup(
    s: *mut apisig_aevo_signer,
    creds: *const apisig_credentials,
) -> apisig_result {
    // SAFETY: the caller's contract above.
    unsafe { setup::<Aevo, _>(s, creds) }
}

/// Signs an Aevo request at `now_ns` (nanoseconds since the UNIX epoch): the headers
/// `AEVO-TIMESTAMP`, `AEVO-SIGNATURE`, `AEVO-KEY`, exactly as `apisig_signer_sign` with the
/// Aevo preset writes them (same outputs, same rules: nothing is written on error, except
/// `*buf_len` on `BUFFER_TOO_SMALL`).
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` when `s` is not a set-up Aevo signer;
/// `INVALID_METHOD`, `INVALID_PATH`, `SEPARATOR_IN_FIELD`; `BUFFER_TOO_SMALL`.
///
/// # Safety
/// `s` must point to written storage; `(method, method_len)`, `(path, path_len)` and
/// `(body, body_len)` must be readable (`(NULL, 0)` is empty); `headers`, `buf`, `buf_len` as
/// in `apisig_sign`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn apisig_aevo_signer_sign(
    s: *const apisig_aevo_signer,
    method: *const c_char,
    method_len: usize,
    path: *const c_char,
    path_len: usize,
    body: *const u8,
    body_len: usize,
    now_ns: u64,
    headers: *mut apisig_headers,
    buf: *mut u8,
    buf_cap: usize,
    buf_len: *mut usize,
) -> apisig_result {
    let request = [(method.cast::<u8>(), method_len), (path.cast::<u8>(), path_len), (body, body_len)];
    let stamp = Stamp { now: now_ns, nonce: None };
    // SAFETY: the caller's contract above.
    unsafe { sign::<Aevo, _>(s, request, stamp, headers, buf, buf_cap, buf_len) }
}

/// Zeroizes the Aevo signer's key state and clears its tag.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` (also for a signer already wiped).
///
/// # Safety
/// `s` must be NULL or point to written storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_aevo_signer_wipe(s: *mut apisig_aevo_signer) -> apisig_result {
    // SAFETY: the caller guarantees written storage; dropping zeroizes the key state.
    ffi_boundary! { unsafe { storage::wipe(s) } }
}

/// Checks the APEX credentials (`api_key`, `secret`, `user_id`; the token is not read) as
/// `apisig_apex_signer_init` does and precomputes the HMAC key state into `*s`, as
/// `apisig_aevo_signer_setup`.
///
/// # Errors
/// As `apisig_aevo_signer_setup`.
///
/// # Safety
/// As `apisig_aevo_signer_setup`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_apex_signer_setup(
    s: *mut apisig_apex_signer,
    creds: *const apisig_credentials,
) -> apisig_result {
    // SAFETY: the caller's contract above.
    unsafe { setup::<Apex, _>(s, creds) }
}

/// Signs an APEX `AuthenticateUser` with `nonce`: the headers `APIKey`, `Signature`,
/// `UserId`, `Nonce`, exactly as `apisig_signer_sign` with the APEX preset writes them (the
/// APEX message signs no part of the request). Outputs as `apisig_aevo_signer_sign`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` when `s` is not a set-up APEX signer;
/// `BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `apisig_aevo_signer_sign`, without the request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_apex_signer_sign(
    s: *const apisig_apex_signer,
    nonce: u64,
    headers: *mut apisig_headers,
    buf: *mut u8,
    buf_cap: usize,
    buf_len: *mut usize,
) -> apisig_result {
    let request = [(core::ptr::null(), 0); 3];
    let stamp = Stamp { now: 0, nonce: Some(nonce) };
    // SAFETY: the caller's contract above.
    unsafe { sign::<Apex, _>(s, request, stamp, headers, buf, buf_cap, buf_len) }
}

/// Zeroizes the APEX signer's key state and clears its tag.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` (also for a signer already wiped).
///
/// # Safety
/// `s` must be NULL or point to written storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_apex_signer_wipe(s: *mut apisig_apex_signer) -> apisig_result {
    // SAFETY: the caller guarantees written storage; dropping zeroizes the key state.
    ffi_boundary! { unsafe { storage::wipe(s) } }
}

#[cfg(test)]
mod tests {
    //! Against `apisig_signer_sign` with the preset-named inits (themselves checked against
    //! the shared vectors) as the oracle.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::convert::apisig_request;
    use crate::sign::apisig_stamp;
    use crate::signer::{
        APISIG_SIGNER_SIZE, apisig_aevo_signer_init, apisig_apex_signer_init, apisig_signer, apisig_signer_sign,
    };

    type Lines = (apisig_result, Vec<(Vec<u8>, Vec<u8>)>, usize);

    /// Runs a sign call with fresh outputs of `cap` bytes; the result, the lines, `*buf_len`.
    fn run(cap: usize, f: &dyn Fn(*mut apisig_headers, *mut u8, usize, *mut usize) -> apisig_result) -> Lines {
        let mut h = core::mem::MaybeUninit::<apisig_headers>::zeroed();
        let (mut buf, mut len) = (vec![0u8; cap.max(1)], 0usize);
        let rc = f(h.as_mut_ptr(), buf.as_mut_ptr(), cap, &mut len);
        // SAFETY: zeroed is a valid apisig_headers (null pointers, zero lengths).
        let h = unsafe { h.assume_init() };
        let lines = h.lines[..h.len]
            .iter()
            // SAFETY: names point into the scheme, values into `buf`, as documented.
            .map(|l| unsafe {
                (
                    core::slice::from_raw_parts(l.name.cast::<u8>(), l.name_len).to_vec(),
                    core::slice::from_raw_parts(l.value.cast::<u8>(), l.value_len).to_vec(),
                )
            })
            .collect();
        (rc, lines, len)
    }

    fn creds(key: &'static [u8], secret: &'static [u8], user: &'static [u8]) -> apisig_credentials {
        apisig_credentials {
            api_key: key.as_ptr().cast(),
            api_key_len: key.len(),
            secret: secret.as_ptr(),
            secret_len: secret.len(),
            user_id: user.as_ptr().cast(),
            user_id_len: user.len(),
            token: core::ptr::null(),
            token_len: 0,
        }
    }

    #[test]
    fn typed_signers_sign_what_the_preset_signers_sign() {
        let all = [
            creds(b"d6b1bf0e2c1f4bd8", b"5a2c7e9f", b"12345"),
            creds(b"k,ey", b"s", b"u"),
            creds(b"", b"s", b"u"),
            creds(b"k", b"", b"u"),
            creds(b"k", b"s", b""),
            creds(b"k\r\n", b"s", b"u"),
        ];
        let requests: [(&[u8], &[u8], &[u8]); 5] = [
            (b"post", b"/orders?x=1", br#"{"a":1,"b":2}"#),
            (b"GET", b"/account", b""),
            (b"G T", b"/a", b""),
            (b"GET", b"/a,b", b""),
            (b"GET", b"a", b""),
        ];
        let (mut generic, mut aevo, mut apex) = (
            apisig_signer { opaque: [0; APISIG_SIGNER_SIZE / 8] },
            apisig_aevo_signer { opaque: [0; 32] },
            apisig_apex_signer { opaque: [0; 32] },
        );
        let mut signed = 0;
        for c in &all {
            // SAFETY: storage and credentials outlive the signers.
            let (want, got) =
                unsafe { (apisig_aevo_signer_init(&mut generic, c), apisig_aevo_signer_setup(&mut aevo, c)) };
            assert_eq!(got, want);
            for (method, path, body) in requests {
                for now in [1_700_000_000_123_456_789u64, 0, u64::MAX] {
                    let req = apisig_request {
                        method: method.as_ptr().cast(),
                        method_len: method.len(),
                        path: path.as_ptr().cast(),
                        path_len: path.len(),
                        body: body.as_ptr(),
                        body_len: body.len(),
                        headers: core::ptr::null(),
                        headers_len: 0,
                    };
                    let st = apisig_stamp { now_ns: now, nonce: 0, has_nonce: 0 };
                    for cap in [256, 10, 0] {
                        // SAFETY: every pointer is valid for the calls.
                        let want =
                            run(cap, &|h, b, n, l| unsafe { apisig_signer_sign(&generic, &req, st, h, b, n, l) });
                        // SAFETY: as above.
                        let got = run(cap, &|h, b, n, l| unsafe {
                            apisig_aevo_signer_sign(
                                &aevo,
                                req.method,
                                req.method_len,
                                req.path,
                                req.path_len,
                                req.body,
                                req.body_len,
                                now,
                                h,
                                b,
                                n,
                                l,
                            )
                        });
                        assert_eq!(got, want);
                        signed += usize::from(got.0 == apisig_result::Ok);
                    }
                }
            }
            // SAFETY: as above.
            let (want, got) =
                unsafe { (apisig_apex_signer_init(&mut generic, c), apisig_apex_signer_setup(&mut apex, c)) };
            assert_eq!(got, want);
            let req = apisig_request {
                method: c"POST".as_ptr(),
                method_len: 4,
                path: c"/AuthenticateUser".as_ptr(),
                path_len: 17,
                body: core::ptr::null(),
                body_len: 0,
                headers: core::ptr::null(),
                headers_len: 0,
            };
            for nonce in [0, 1_700_000_000_123, u64::MAX] {
                let st = apisig_stamp { now_ns: 5, nonce, has_nonce: 1 };
                for cap in [256, 10, 0] {
                    // SAFETY: as above.
                    let want = run(cap, &|h, b, n, l| unsafe { apisig_signer_sign(&generic, &req, st, h, b, n, l) });
                    // SAFETY: as above.
                    let got = run(cap, &|h, b, n, l| unsafe { apisig_apex_signer_sign(&apex, nonce, h, b, n, l) });
                    assert_eq!(got, want);
                    signed += usize::from(got.0 == apisig_result::Ok);
                }
            }
        }
        assert_eq!(signed, 18, "Aevo: 2 requests × 3 times, APEX: 2 credentials × 3 nonces");
        // Wiped, another type, or never set up: not a signer.
        // SAFETY: as above.
        unsafe {
            // The last credentials were refused: neither storage holds a signer.
            assert_eq!(apisig_aevo_signer_wipe(&mut aevo), apisig_result::InvalidObject);
            assert_eq!(apisig_aevo_signer_setup(&mut aevo, &all[0]), apisig_result::Ok);
            assert_eq!(apisig_apex_signer_setup(&mut apex, &all[0]), apisig_result::Ok);
            assert_eq!(apisig_aevo_signer_wipe(&mut aevo), apisig_result::Ok);
            assert_eq!(apisig_aevo_signer_wipe(&mut aevo), apisig_result::InvalidObject);
            let apex_as_aevo = (&raw const apex).cast::<apisig_aevo_signer>();
            let got = run(256, &|h, b, n, l| {
                apisig_aevo_signer_sign(
                    apex_as_aevo,
                    c"GET".as_ptr(),
                    3,
                    c"/".as_ptr(),
                    1,
                    core::ptr::null(),
                    0,
                    1,
                    h,
                    b,
                    n,
                    l,
                )
            });
            assert_eq!(got.0, apisig_result::InvalidObject);
            assert_eq!(apisig_apex_signer_setup(&mut apex, core::ptr::null()), apisig_result::NullParameter);
            let got = run(256, &|h, b, n, l| apisig_apex_signer_sign(&apex, 1, h, b, n, l));
            assert_eq!(got.0, apisig_result::InvalidObject);
            let bad = creds("é".as_bytes(), b"s", b"u");
            assert_eq!(apisig_aevo_signer_setup(&mut aevo, &bad), apisig_result::from(Error::InvalidHeaderValue));
        }
    }
}
