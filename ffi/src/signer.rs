//! A signer kept across requests: the scheme and credentials checked and the HMAC key state
//! computed once, in caller-owned storage, so each `apisig_signer_sign` costs only the request
//! (what `apisig_sign` costs minus checking the scheme and credentials and hashing the
//! secret).

use apisig::scheme::Scheme;
use apisig::{Signer, dialect};

use crate::convert::{Res, apisig_request, in_ref, out_buf, out_ref, request};
use crate::result::apisig_result;
use crate::scheme::{SchemeStore, apisig_scheme, scheme};
use crate::sign::{apisig_credentials, apisig_headers, apisig_stamp, credentials, stamp, write_headers};
use crate::storage::{self, tag};

/// Size in bytes of `apisig_signer`.
pub const APISIG_SIGNER_SIZE: usize = 1536;

/// Storage for a signer: a scheme and credentials, checked, with the HMAC key state
/// precomputed. Declare it anywhere (static, stack, heap), call `apisig_signer_init`, and do
/// not copy it afterwards: pass its address. It borrows the scheme's strings and arrays and
/// the credentials' buffers: keep them alive and unchanged until `apisig_signer_wipe`.
/// `apisig_signer_sign` only reads it, so one signer may sign from several threads at once.
/// Its first word is a tag set by a successful `apisig_signer_init`: storage that was not
/// initialised, was wiped or holds another type gives `APISIG_RESULT_INVALID_OBJECT`.
#[repr(C)]
pub struct apisig_signer {
    pub(crate) opaque: [u64; 192],
}

/// What the storage holds. `signer` borrows `store` (described schemes are converted into
/// it) and the caller's buffers; neither moves while the storage is initialized. `signer`
/// is declared first so that it is dropped first, while `store` is still there.
pub(crate) struct State {
    signer: Option<Signer<'static>>,
    store: Option<SchemeStore<'static>>,
}

storage!(apisig_signer, State, tag::SIGNER);
const _: () = assert!(core::mem::size_of::<apisig_signer>() == APISIG_SIGNER_SIZE);

/// `sizeof(apisig_signer)`, for bindings that cannot read the macro.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_signer_size() -> usize {
    core::mem::size_of::<apisig_signer>()
}

/// Checks `scheme` and `creds` (as `apisig_sign` does), precomputes the HMAC key state into
/// `*s` and sets its tag. The previous contents of `*s` are not read (it may be
/// uninitialised). On error `*s` is left without a tag: using it gives `INVALID_OBJECT`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_TEMPLATE` for an incoherent scheme; `EMPTY_SECRET`,
/// `INVALID_HEADER_VALUE` for unusable credentials.
///
/// # Safety
/// `s` must point to writable storage of `APISIG_SIGNER_SIZE` bytes that is not moved while
/// initialized; `scheme` and `creds` must be valid, and everything they point to must stay
/// valid and unchanged until `apisig_signer_wipe`. Every other function that takes a signer
/// reads its tag first, so it must get written storage: initialized by this function, or any
/// bytes at all (zeroed, wiped, garbage, another object), which give `INVALID_OBJECT` —
/// never uninitialised memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_signer_init(
    s: *mut apisig_signer,
    scheme: *const apisig_scheme,
    creds: *const apisig_credentials,
) -> apisig_result {
    // SAFETY: the caller's contract above; the scheme is converted into the storage's own
    // `store`, which stays put, and the caller keeps the scheme's buffers alive.
    unsafe { init(s, creds, |store| self::scheme(in_ref(scheme)?, store)) }
}

/// `apisig_signer_init` with the Aevo scheme (`apisig_preset("aevo")`), named at compile
/// time: a firmware that signs only Aevo links neither the scheme conversion nor the other
/// presets. Sign with `apisig_signer_sign`, wipe with `apisig_signer_wipe`.
///
/// # Errors
/// As `apisig_signer_init`.
///
/// # Safety
/// As `apisig_signer_init` (without the scheme).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_aevo_signer_init(
    s: *mut apisig_signer,
    creds: *const apisig_credentials,
) -> apisig_result {
    // SAFETY: the caller's contract above.
    unsafe { init(s, creds, |_| Ok(dialect::AEVO)) }
}

/// `apisig_signer_init` with the APEX scheme (`apisig_preset("apex")`), named at compile
/// time, as `apisig_aevo_signer_init`.
///
/// # Errors
/// As `apisig_signer_init`.
///
/// # Safety
/// As `apisig_signer_init` (without the scheme).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_apex_signer_init(
    s: *mut apisig_signer,
    creds: *const apisig_credentials,
) -> apisig_result {
    // SAFETY: the caller's contract above.
    unsafe { init(s, creds, |_| Ok(dialect::APEX)) }
}

/// The body of the `_signer_init` functions: `scheme` gives the scheme, converting a C one
/// into the storage's `store` when it must.
///
/// # Safety
/// As `apisig_signer_init`; what `scheme` borrows must live until `apisig_signer_wipe`.
unsafe fn init(
    s: *mut apisig_signer,
    creds: *const apisig_credentials,
    scheme: impl FnOnce(&'static mut Option<SchemeStore<'static>>) -> Res<Scheme<'static>>,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees writable storage.
        unsafe { storage::init(s, State { signer: None, store: None }) }?;
        // SAFETY: just initialized.
        let p: *mut State = unsafe { storage::get(s) }?;
        let build = || -> Res<()> {
            // SAFETY: `p` was just initialized. The storage's `store` stays put (the caller
            // does not move the storage), and the caller keeps the scheme's and credentials'
            // buffers alive: the borrows may be 'static. The signer is built in place, in
            // `signer`, which is disjoint from the `store` it borrows.
            unsafe {
                let store: &'static mut Option<SchemeStore<'static>> = &mut *core::ptr::addr_of_mut!((*p).store);
                let scheme = scheme(store)?;
                let creds = credentials(in_ref(creds)?)?;
                Signer::new_in(&mut *core::ptr::addr_of_mut!((*p).signer), &scheme, creds)?;
                Ok(())
            }
        };
        build().or_else(|e| {
            // SAFETY: initialized above; wiping drops it and clears the tag.
            unsafe { storage::wipe(s) }?;
            Err(e)
        })
    }
}

/// Signs `req` at `stamp` with the signer: as `apisig_sign` with the signer's scheme and
/// credentials (same outputs, same rules: nothing is written on error, except `*buf_len` on
/// `BUFFER_TOO_SMALL`).
///
/// # Errors
/// As `apisig_sign`; `INVALID_OBJECT` when `s` is not a signer (never initialized, its
/// `apisig_signer_init` failed, wiped, or another object).
///
/// # Safety
/// `s` must point to written storage (see `apisig_signer_init`); when it is a signer, its
/// scheme and credentials must still be valid. `req`, `headers` and `(buf, buf_cap, buf_len)`
/// as in `apisig_sign`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_signer_sign(
    s: *const apisig_signer,
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
        // SAFETY: the caller guarantees written storage. It is only read (shared), so several
        // threads may sign with it at once.
        let state: &State = unsafe { storage::get_ref(s) }?;
        let signer = state.signer.as_ref().ok_or(apisig_result::InvalidObject)?;
        let mut header_store = heapless::Vec::new();
        // SAFETY: the caller guarantees the request and its contents.
        let req = unsafe { request(in_ref(req)?, signer.scheme(), &mut header_store) };
        // The request and the set are borrowed where they were returned: a move of either,
        // just written, would stall on its stores.
        let req = req.as_ref().map_err(|e| *e)?;
        let signed = signer.sign(req, self::stamp(&stamp));
        write_headers(signed.as_ref().map_err(|e| apisig_result::from(*e))?, headers, &mut out)
    }
}

/// Zeroizes the signer's key state and clears its tag: the storage is no longer a signer
/// (calls other than `apisig_signer_init` give `INVALID_OBJECT`). Call it before the storage
/// goes out of scope (after it, the scheme and credentials may go).
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` (also for a signer already wiped).
///
/// # Safety
/// `s` must be NULL or point to written storage (see `apisig_signer_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_signer_wipe(s: *mut apisig_signer) -> apisig_result {
    // SAFETY: the caller guarantees written storage; dropping the signer zeroizes its key
    // state.
    ffi_boundary! { unsafe { storage::wipe(s) } }
}

#[cfg(test)]
mod tests {
    //! Against `apisig_sign` (the stateless path) as the oracle.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::sign::apisig_sign;

    #[test]
    fn signs_what_apisig_sign_signs() {
        let mut scheme = core::mem::MaybeUninit::<apisig_scheme>::uninit();
        // SAFETY: valid name and output.
        let rc = unsafe { crate::scheme::apisig_preset(c"aevo".as_ptr(), 4, scheme.as_mut_ptr()) };
        assert_eq!(rc, apisig_result::Ok);
        // SAFETY: written by apisig_preset.
        let scheme = unsafe { scheme.assume_init() };
        let creds = apisig_credentials {
            api_key: c"API_KEY".as_ptr(),
            api_key_len: 7,
            secret: b"API_SECRET".as_ptr(),
            secret_len: 10,
            user_id: core::ptr::null(),
            user_id_len: 0,
            token: core::ptr::null(),
            token_len: 0,
        };
        let body = br#"{"a":1}"#;
        let req = apisig_request {
            method: c"post".as_ptr(),
            method_len: 4,
            path: c"/orders".as_ptr(),
            path_len: 7,
            body: body.as_ptr(),
            body_len: body.len(),
            headers: core::ptr::null(),
            headers_len: 0,
        };
        let mut storage = apisig_signer { opaque: [0; APISIG_SIGNER_SIZE / 8] };
        // SAFETY: storage, scheme and creds outlive the signer.
        assert_eq!(unsafe { apisig_signer_init(&mut storage, &scheme, &creds) }, apisig_result::Ok);
        for now in [1_673_425_955_575_713_842u64, 1, u64::MAX] {
            let st = apisig_stamp { now_ns: now, nonce: 0, has_nonce: 0 };
            let run = |f: &dyn Fn(*mut apisig_headers, *mut u8, usize, *mut usize) -> apisig_result| {
                let mut h = core::mem::MaybeUninit::<apisig_headers>::zeroed();
                let (mut buf, mut len) = ([0u8; 256], 0usize);
                let rc = f(h.as_mut_ptr(), buf.as_mut_ptr(), buf.len(), &mut len);
                // SAFETY: zeroed is a valid apisig_headers (null pointers, zero lengths).
                let h = unsafe { h.assume_init() };
                let lines: Vec<(Vec<u8>, Vec<u8>)> = h.lines[..h.len]
                    .iter()
                    // SAFETY: names point into the scheme, values into `buf`, as documented.
                    .map(|l| unsafe {
                        (
                            core::slice::from_raw_parts(l.name.cast::<u8>(), l.name_len).to_vec(),
                            core::slice::from_raw_parts(l.value.cast::<u8>(), l.value_len).to_vec(),
                        )
                    })
                    .collect();
                (rc, lines)
            };
            // SAFETY: all pointers valid for the calls.
            let ours = run(&|h, b, c, l| unsafe { apisig_signer_sign(&storage, &req, st, h, b, c, l) });
            // SAFETY: as above.
            let oracle = run(&|h, b, c, l| unsafe { apisig_sign(&scheme, &creds, &req, st, h, b, c, l) });
            assert_eq!(ours, oracle);
            assert_eq!(ours.0, apisig_result::Ok);
        }
        // SAFETY: initialized above.
        assert_eq!(unsafe { apisig_signer_wipe(&mut storage) }, apisig_result::Ok);
        let st = apisig_stamp { now_ns: 1, nonce: 0, has_nonce: 0 };
        let mut h = core::mem::MaybeUninit::<apisig_headers>::zeroed();
        let (mut buf, mut len) = ([0u8; 256], 0usize);
        // SAFETY: as above; the wiped signer refuses.
        let rc =
            unsafe { apisig_signer_sign(&storage, &req, st, h.as_mut_ptr(), buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(rc, apisig_result::InvalidObject);
        // An incoherent credential leaves the storage without a signer.
        let empty = apisig_credentials { secret_len: 0, ..creds };
        // SAFETY: as above.
        let rc = unsafe { apisig_signer_init(&mut storage, &scheme, &empty) };
        assert_eq!(rc, apisig_result::from(apisig::Error::EmptySecret));
        // SAFETY: as above.
        let rc =
            unsafe { apisig_signer_sign(&storage, &req, st, h.as_mut_ptr(), buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(rc, apisig_result::InvalidObject);
    }

    /// The preset-named inits sign exactly what `apisig_signer_init` with the preset signs
    /// (itself checked against the shared vectors), and refuse what it refuses.
    #[test]
    fn preset_named_inits_match_the_preset() {
        type Init = unsafe extern "C" fn(*mut apisig_signer, *const apisig_credentials) -> apisig_result;
        let inits: [(&core::ffi::CStr, Init); 2] =
            [(c"aevo", apisig_aevo_signer_init), (c"apex", apisig_apex_signer_init)];
        for (name, init) in inits {
            let mut scheme = core::mem::MaybeUninit::<apisig_scheme>::uninit();
            // SAFETY: valid name and output.
            let rc = unsafe { crate::scheme::apisig_preset(name.as_ptr(), name.count_bytes(), scheme.as_mut_ptr()) };
            assert_eq!(rc, apisig_result::Ok);
            // SAFETY: written by apisig_preset.
            let scheme = unsafe { scheme.assume_init() };
            let creds = apisig_credentials {
                api_key: c"d6b1bf0e2c1f4bd8".as_ptr(),
                api_key_len: 16,
                secret: b"5a2c7e9f".as_ptr(),
                secret_len: 8,
                user_id: c"12345".as_ptr(),
                user_id_len: 5,
                token: core::ptr::null(),
                token_len: 0,
            };
            let req = apisig_request {
                method: c"POST".as_ptr(),
                method_len: 4,
                path: c"/AuthenticateUser".as_ptr(),
                path_len: 17,
                body: b"{}".as_ptr(),
                body_len: 2,
                headers: core::ptr::null(),
                headers_len: 0,
            };
            let sign = |storage: &apisig_signer, st: apisig_stamp| {
                let mut h = core::mem::MaybeUninit::<apisig_headers>::zeroed();
                let (mut buf, mut len) = ([0u8; 256], 0usize);
                // SAFETY: all pointers valid for the call.
                let rc = unsafe {
                    apisig_signer_sign(storage, &req, st, h.as_mut_ptr(), buf.as_mut_ptr(), buf.len(), &mut len)
                };
                (rc, buf[..len].to_vec())
            };
            let mut named = apisig_signer { opaque: [0; APISIG_SIGNER_SIZE / 8] };
            let mut generic = apisig_signer { opaque: [0; APISIG_SIGNER_SIZE / 8] };
            // SAFETY: storage, scheme and creds outlive the signers.
            unsafe {
                assert_eq!(init(&mut named, &creds), apisig_result::Ok);
                assert_eq!(apisig_signer_init(&mut generic, &scheme, &creds), apisig_result::Ok);
            }
            for st in [
                apisig_stamp { now_ns: 1_700_000_000_123_456_789, nonce: 1_700_000_000_123, has_nonce: 1 },
                apisig_stamp { now_ns: u64::MAX, nonce: u64::MAX, has_nonce: 1 },
                apisig_stamp { now_ns: 1, nonce: 0, has_nonce: 0 },
            ] {
                let ours = sign(&named, st);
                assert_eq!(ours, sign(&generic, st), "{name:?}");
                assert!(ours.0 == apisig_result::Ok || (name == c"apex" && st.has_nonce == 0), "{name:?}");
            }
            let empty = apisig_credentials { secret_len: 0, ..creds };
            // SAFETY: as above.
            assert_eq!(unsafe { init(&mut named, &empty) }, apisig_result::from(apisig::Error::EmptySecret));
            // SAFETY: as above.
            assert_eq!(unsafe { init(&mut named, core::ptr::null()) }, apisig_result::NullParameter);
            // SAFETY: wiping initialized storage.
            assert_eq!(unsafe { apisig_signer_wipe(&mut generic) }, apisig_result::Ok);
        }
    }
}
