//! The C entry points, called through the `apisig-ffi` rlib with arbitrary (valid) pointers
//! and lengths — including `(NULL, 0)` and `(NULL, n > 0)` — and arbitrary enum codes. No
//! call may report `PANIC`; `(NULL, n > 0)` is refused; outputs are written
//! only on `OK`; the C answers agree with the core's; storage that holds no object gives
//! `INVALID_OBJECT`.
#![no_main]

use core::ffi::{CStr, c_char};
use core::ptr;

use apisig_ffi::*;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const OK: u32 = 0;
const NULL_PARAMETER: u32 = 1;
const INVALID_OBJECT: u32 = 3;
const PANIC: u32 = 99;

/// A `(ptr, len)` argument: real bytes, `(NULL, 0)`, or `(NULL, n)`.
#[derive(Arbitrary, Debug)]
enum Buf<'a> {
    Bytes(&'a [u8]),
    Null,
    NullWithLen(u8),
}

impl Buf<'_> {
    fn raw(&self) -> (*const u8, usize) {
        match *self {
            Buf::Bytes(b) => (if b.is_empty() { ptr::null() } else { b.as_ptr() }, b.len()),
            Buf::Null => (ptr::null(), 0),
            Buf::NullWithLen(n) => (ptr::null(), usize::from(n) + 1),
        }
    }
    fn c(&self) -> (*const c_char, usize) {
        let (p, n) = self.raw();
        (p.cast(), n)
    }
    fn null_with_len(&self) -> bool {
        matches!(self, Buf::NullWithLen(_))
    }
}

#[derive(Arbitrary, Debug)]
struct Hdr<'a> {
    name: Buf<'a>,
    value: Buf<'a>,
}

#[derive(Arbitrary, Debug)]
struct Spec<'a> {
    name: Buf<'a>,
    prefix: Buf<'a>,
    field: u32,
}

#[derive(Arbitrary, Debug)]
struct PartIn<'a> {
    kind: u32,
    data: Buf<'a>,
}

#[derive(Arbitrary, Debug)]
enum Call<'a> {
    PatternMatch(Buf<'a>, Buf<'a>),
    Authorize(u8, Buf<'a>),
    Fingerprint(Buf<'a>, u32, u8),
    JwtVerify { key: Buf<'a>, token: Buf<'a>, leeway: u64, exp: u8, iss: Option<Buf<'a>>, max_len: u16, now: u64, scratch: u16 },
    JwtEncode { key: Buf<'a>, header: Buf<'a>, claims: Buf<'a>, cap: u16 },
    SessionVerify { primary: Buf<'a>, secondary: Option<Buf<'a>>, token: Buf<'a>, now: u64 },
    SessionIssue { secret: Buf<'a>, user: Buf<'a>, key: Buf<'a>, expires: u64, cap: u16 },
    Hmac { key: Buf<'a>, msg: Buf<'a>, tag: Buf<'a>, cap: u8 },
    Verify { preset: Buf<'a>, headers: Vec<Hdr<'a>>, method: Buf<'a>, path: Buf<'a>, body: Buf<'a>, now: u64 },
    Sign { specs: Vec<Spec<'a>>, parts: Vec<PartIn<'a>>, sep: Buf<'a>, encoding: u32, unit: u32, api_key: Buf<'a>, secret: Buf<'a>, method: Buf<'a>, path: Buf<'a>, now: u64, nonce: Option<u64>, cap: u16 },
    Keyring { id: Buf<'a>, secret: Buf<'a>, client: u32, slot: u32, role: u8, user: Buf<'a>, find: Buf<'a>, kind: u32, fp: Buf<'a> },
    Strings(u32, Buf<'a>),
    /// Object storage that holds no object: filled with `fill`, its first (tag) word `first`.
    Garbage { first: u64, fill: u8, kind: u8 },
}

fn check(r: apisig_result) -> u32 {
    let code = r.0;
    assert_ne!(code, PANIC, "the core panicked");
    // Every code has a name and a message.
    // SAFETY: both return static NUL-terminated strings.
    unsafe {
        assert!(!CStr::from_ptr(apisig_strerror(code)).to_bytes().is_empty());
        assert!(!CStr::from_ptr(apisig_result_name(code)).to_bytes().is_empty());
    }
    code
}

fn opt_str(b: &Option<Buf<'_>>) -> apisig_opt_str {
    match b {
        None => apisig_opt_str { present: 0, ptr: ptr::null(), len: 0 },
        Some(b) => {
            let (ptr, len) = b.c();
            apisig_opt_str { present: 1, ptr, len }
        }
    }
}

fuzz_target!(|calls: Vec<Call<'_>>| {
    // SAFETY (whole body): every pointer passed is NULL or points to live memory of at least
    // the length passed with it, as the C contract requires.
    unsafe {
        let mut verifier: Box<apisig_verifier> = Box::new(core::mem::zeroed());
        assert_eq!(check(apisig_verifier_init(&mut *verifier, ptr::null_mut(), 300_000_000_000)), OK);
        let ring = apisig_verifier_keyring(&mut *verifier);
        let mut c = 0u32;
        assert_eq!(check(apisig_keyring_add(ring, c"API_KEY".as_ptr(), 7, b"API_SECRET".as_ptr(), 10, &mut c)), OK);
        // The tag words of real objects: garbage may not carry one (the contract leaves that
        // to `_init`; a random word matches with probability 2^-64, a fuzzer could aim).
        let first_word = |p: *const u8| p.cast::<u64>().read();
        let mut real_ring: Box<apisig_keyring> = Box::new(core::mem::zeroed());
        assert_eq!(check(apisig_keyring_init(&mut *real_ring)), OK);
        let mut real_rotation: apisig_rotation = core::mem::zeroed();
        let mut real_attempt: apisig_attempt = core::mem::zeroed();
        assert_eq!(check(apisig_rotation_zignsec(&mut real_rotation)), OK);
        assert_eq!(check(apisig_rotation_begin(&real_rotation, &mut real_attempt)), OK);
        // A keyring of run-time capacity (host builds) has its own tag, and a pointer to the
        // heap behind it: garbage carrying that tag is as much outside the contract.
        let heap_ring = apisig_keyring_new_with_capacity(4);
        assert!(!heap_ring.is_null());
        let tags = [
            first_word((&raw const *real_ring).cast()),
            first_word((&raw const *verifier).cast()),
            first_word((&raw const real_rotation).cast()),
            first_word((&raw const real_attempt).cast()),
            first_word(heap_ring.cast_const().cast()),
        ];
        apisig_keyring_free(heap_ring);
        for call in calls.iter().take(16) {
            match call {
                Call::PatternMatch(p, s) => {
                    let (pp, pl) = p.c();
                    let (sp, sl) = s.c();
                    let r = check(apisig_pattern_match(pp, pl, sp, sl));
                    if p.null_with_len() || s.null_with_len() {
                        // NULL_PARAMETER, unless the other argument is refused first.
                        assert!(r == NULL_PARAMETER || (r != OK && !p.null_with_len()), "{r}");
                    } else if let (Buf::Bytes(pb), Buf::Bytes(sb)) = (p, s) {
                        if let Ok(ps) = std::str::from_utf8(pb) {
                            let want = match apisig::policy::pattern_matches(ps, sb) {
                                Ok(true) => OK,
                                Ok(false) => apisig::Error::Forbidden.code(),
                                Err(e) => e.code(),
                            };
                            assert_eq!(r, want);
                        }
                    }
                }
                Call::Authorize(role, t) => {
                    let (tp, tl) = t.c();
                    let r = check(apisig_securosys_authorize(*role, tp, tl));
                    if let Buf::Bytes(tb) = t {
                        let want = apisig::dialect::SECUROSYS_ROLES
                            .authorize(apisig::policy::RoleId(*role), tb)
                            .map_or_else(|e| e.code(), |()| OK);
                        assert_eq!(r, want);
                    }
                }
                Call::Fingerprint(der, kind, cap) => {
                    let (dp, dl) = der.raw();
                    let mut out = [0xa5u8; 40];
                    let mut len = 0usize;
                    let cap = usize::from(*cap) % 41;
                    let r = check(apisig_certificate_fingerprint(dp, dl, *kind, out.as_mut_ptr(), cap, &mut len));
                    if r != OK {
                        assert!(out.iter().all(|&b| b == 0xa5), "written on error");
                    }
                }
                Call::JwtVerify { key, token, leeway, exp, iss, max_len, now, scratch } => {
                    let (kp, kl) = key.raw();
                    let (tp, tl) = token.raw();
                    let v = apisig_jwt_validation {
                        leeway_s: *leeway,
                        require_exp: *exp,
                        issuer: opt_str(iss),
                        audience: opt_str(&None),
                        subject: opt_str(&None),
                        max_len: usize::from(*max_len),
                    };
                    let mut buf = vec![0u8; usize::from(*scratch) % 4096];
                    let mut claims: apisig_jwt_claims = core::mem::zeroed();
                    let r = check(apisig_jwt_verify(kp, kl, tp, tl, &v, *now, buf.as_mut_ptr(), buf.len(), &mut claims));
                    if key.null_with_len() || token.null_with_len() {
                        assert_ne!(r, OK);
                    }
                }
                Call::JwtEncode { key, header, claims, cap } => {
                    let (kp, kl) = key.raw();
                    let (hp, hl) = header.raw();
                    let (cp, cl) = claims.raw();
                    let mut out = vec![0xa5u8; usize::from(*cap) % 2048];
                    let mut len = 0usize;
                    let r = check(apisig_jwt_encode(kp, kl, hp, hl, cp, cl, out.as_mut_ptr(), out.len(), &mut len));
                    if r == OK {
                        let mut scratch = vec![0u8; len];
                        let mut cl: apisig_jwt_claims = core::mem::zeroed();
                        let v = apisig_jwt_validation {
                            leeway_s: u64::MAX,
                            require_exp: 0,
                            issuer: opt_str(&None),
                            audience: opt_str(&None),
                            subject: opt_str(&None),
                            max_len: usize::MAX,
                        };
                        let r2 = check(apisig_jwt_verify(kp, kl, out.as_ptr(), len, &v, 0, scratch.as_mut_ptr(), len, &mut cl));
                        assert!(r2 == OK || r2 == apisig::Error::TokenNotYetValid.code(), "encoded JWT refused: {r2}");
                    } else {
                        assert!(out.iter().all(|&b| b == 0xa5), "written on error");
                    }
                }
                Call::SessionVerify { primary, secondary, token, now } => {
                    let (pp, pl) = primary.raw();
                    let sec = match secondary {
                        None => apisig_opt_bytes { present: 0, ptr: ptr::null(), len: 0 },
                        Some(b) => {
                            let (ptr, len) = b.raw();
                            apisig_opt_bytes { present: 1, ptr, len }
                        }
                    };
                    let (tp, tl) = token.raw();
                    let mut out: apisig_session = core::mem::zeroed();
                    out.expires = 0xa5a5;
                    let r = check(apisig_session_verify(pp, pl, sec, tp, tl, *now, &mut out));
                    if r != OK {
                        assert_eq!(out.expires, 0xa5a5, "written on error");
                    }
                }
                Call::SessionIssue { secret, user, key, expires, cap } => {
                    let (sp, sl) = secret.raw();
                    let (up, ul) = user.c();
                    let (kp, kl) = key.c();
                    let mut out = vec![0xa5u8; usize::from(*cap) % 512];
                    let mut len = 0usize;
                    let r = check(apisig_session_issue(sp, sl, up, ul, kp, kl, *expires, out.as_mut_ptr(), out.len(), &mut len));
                    if r == OK {
                        let mut s: apisig_session = core::mem::zeroed();
                        let none = apisig_opt_bytes { present: 0, ptr: ptr::null(), len: 0 };
                        let r2 = check(apisig_session_verify(sp, sl, none, out.as_ptr(), len, 0, &mut s));
                        assert!(r2 == OK || (*expires == 0 && r2 == apisig::Error::TokenExpired.code()), "issued token refused: {r2}");
                    }
                }
                Call::Hmac { key, msg, tag, cap } => {
                    let (kp, kl) = key.raw();
                    let (mp, ml) = msg.raw();
                    let (tp, tl) = tag.raw();
                    let mut out = [0u8; 64];
                    let mut len = 0usize;
                    let r = check(apisig_hmac_sha256(kp, kl, mp, ml, out.as_mut_ptr(), usize::from(*cap) % 65, &mut len));
                    let rv = check(apisig_hmac_sha256_verify(kp, kl, mp, ml, tp, tl));
                    if r == OK {
                        assert_eq!(check(apisig_hmac_sha256_verify(kp, kl, mp, ml, out.as_ptr(), len)), OK);
                        if let Buf::Bytes(t) = tag {
                            assert_eq!(rv == OK, *t == &out[..len]);
                        }
                    }
                }
                Call::Verify { preset, headers, method, path, body, now } => {
                    let mut scheme: apisig_scheme = core::mem::zeroed();
                    let (np, nl) = preset.c();
                    if check(apisig_preset(np, nl, &mut scheme)) != OK {
                        continue;
                    }
                    let hs: Vec<apisig_header_in> = headers
                        .iter()
                        .take(8)
                        .map(|h| {
                            let (name, name_len) = h.name.c();
                            let (value, value_len) = h.value.raw();
                            apisig_header_in { name, name_len, value, value_len }
                        })
                        .collect();
                    let (mp, ml) = method.c();
                    let (pp, pl) = path.c();
                    let (bp, bl) = body.raw();
                    let req = apisig_request {
                        method: mp,
                        method_len: ml,
                        path: pp,
                        path_len: pl,
                        body: bp,
                        body_len: bl,
                        headers: if hs.is_empty() { ptr::null() } else { hs.as_ptr() },
                        headers_len: hs.len(),
                    };
                    let mut who: apisig_principal = core::mem::zeroed();
                    who.client = 0xa5a5;
                    let r = check(apisig_verifier_verify(&mut *verifier, &scheme, &req, *now, &mut who));
                    if r != OK {
                        assert_eq!(who.client, 0xa5a5, "written on error");
                    }
                }
                Call::Sign { specs, parts, sep, encoding, unit, api_key, secret, method, path, now, nonce, cap } => {
                    let hs: Vec<apisig_header_spec> = specs
                        .iter()
                        .take(8)
                        .map(|s| {
                            let (name, name_len) = s.name.c();
                            let (prefix, prefix_len) = s.prefix.c();
                            apisig_header_spec { name, name_len, prefix, prefix_len, field: s.field % 10 }
                        })
                        .collect();
                    let ps: Vec<apisig_part> = parts
                        .iter()
                        .take(18)
                        .map(|p| {
                            let (data, len) = p.data.raw();
                            apisig_part { kind: p.kind % 11, data, len }
                        })
                        .collect();
                    let (sp, sl) = sep.raw();
                    let scheme = apisig_scheme {
                        preset: 0,
                        headers: if hs.is_empty() { ptr::null() } else { hs.as_ptr() },
                        headers_len: hs.len(),
                        parts: if ps.is_empty() { ptr::null() } else { ps.as_ptr() },
                        parts_len: ps.len(),
                        separator: sp,
                        separator_len: sl,
                        encoding: encoding % 6,
                        time_unit: unit % 5,
                        // The high bits of the unit, so 0, 1 and an out-of-range flag all occur.
                        retry_on_forbidden: (unit >> 8) as u8 % 3,
                    };
                    let _ = check(apisig_scheme_check(&scheme));
                    let (ap, al) = api_key.c();
                    let (kp, kl) = secret.raw();
                    let creds = apisig_credentials {
                        api_key: ap,
                        api_key_len: al,
                        secret: kp,
                        secret_len: kl,
                        user_id: c"12".as_ptr(),
                        user_id_len: 2,
                        token: ptr::null(),
                        token_len: 0,
                    };
                    let (mp, ml) = method.c();
                    let (pp, pl) = path.c();
                    let req = apisig_request {
                        method: mp,
                        method_len: ml,
                        path: pp,
                        path_len: pl,
                        body: ptr::null(),
                        body_len: 0,
                        headers: ptr::null(),
                        headers_len: 0,
                    };
                    let stamp = apisig_stamp { now_ns: *now, nonce: nonce.unwrap_or(0), has_nonce: nonce.is_some().into() };
                    let mut out = vec![0xa5u8; usize::from(*cap) % 1024];
                    let mut headers: apisig_headers = core::mem::zeroed();
                    headers.len = 0xa5;
                    let mut len = 0usize;
                    let r = check(apisig_sign(&scheme, &creds, &req, stamp, &mut headers, out.as_mut_ptr(), out.len(), &mut len));
                    if r != OK {
                        assert_eq!(headers.len, 0xa5, "written on error");
                        assert!(out.iter().all(|&b| b == 0xa5), "written on error");
                    }
                    let mut msg = vec![0xa5u8; usize::from(*cap) % 1024];
                    let r = check(apisig_message(&scheme, &creds, &req, stamp, msg.as_mut_ptr(), msg.len(), &mut len));
                    if r != OK {
                        assert!(msg.iter().all(|&b| b == 0xa5), "written on error");
                    }
                    let r = check(apisig_sign_json(&scheme, &creds, &req, stamp, msg.as_mut_ptr(), msg.len(), &mut len));
                    let _ = r;
                }
                Call::Keyring { id, secret, client, slot, role, user, find, kind, fp } => {
                    let (ip, il) = id.c();
                    let (sp, sl) = secret.raw();
                    let mut new = 0xa5a5u32;
                    let r = check(apisig_keyring_add(ring, ip, il, sp, sl, &mut new));
                    if r != OK {
                        assert_eq!(new, 0xa5a5);
                    }
                    let _ = check(apisig_keyring_set_secret(ring, *client % 10, *slot % 3, sp, sl));
                    let _ = check(apisig_keyring_set_role(ring, *client % 10, *role));
                    let (up, ul) = user.c();
                    let _ = check(apisig_keyring_bind_user_id(ring, *client % 10, up, ul));
                    let (fp_, fl) = find.c();
                    let mut found = 0u32;
                    let _ = check(apisig_keyring_find(ring, fp_, fl, &mut found));
                    let (pp, pl) = fp.raw();
                    let _ = check(apisig_keyring_set_pin(ring, *client % 10, *slot % 3, *kind % 3, pp, pl));
                    let mut out = [0u8; 80];
                    let mut len = 0usize;
                    let _ = check(apisig_keyring_client_id(ring, *client % 10, out.as_mut_ptr(), out.len(), &mut len));
                    let _ = check(apisig_keyring_remove_secret(ring, *client % 10, *slot % 3));
                    assert!(apisig_keyring_len(ring) <= APISIG_KEYRING_CAPACITY);
                }
                Call::Garbage { first, fill, kind } => {
                    if tags.contains(first) {
                        continue;
                    }
                    let mut st: Box<apisig_verifier> = Box::new(core::mem::zeroed());
                    let p = (&raw mut *st).cast::<u8>();
                    p.write_bytes(*fill, core::mem::size_of::<apisig_verifier>());
                    p.cast::<u64>().write(*first);
                    let mut out = 0xa5a5u32;
                    let r = match kind % 4 {
                        0 => check(apisig_keyring_add(p.cast(), c"k".as_ptr(), 1, b"s".as_ptr(), 1, &mut out)),
                        1 => {
                            let mut who: apisig_principal = core::mem::zeroed();
                            check(apisig_verifier_verify_certificate(p.cast(), b"0".as_ptr(), 1, 0, &mut who))
                        }
                        2 => check(apisig_rotation_begin(p.cast(), &mut real_attempt)),
                        _ => {
                            let (mut next, mut key) = (0u32, 0usize);
                            check(apisig_rotation_on_response(&mut real_rotation, p.cast(), 401, &mut next, &mut key))
                        }
                    };
                    assert_eq!(r, INVALID_OBJECT, "garbage storage accepted");
                    assert_eq!(out, 0xa5a5);
                }
                Call::Strings(code, name) => {
                    assert!(!CStr::from_ptr(apisig_strerror(*code)).to_bytes().is_empty());
                    assert!(!CStr::from_ptr(apisig_result_name(*code)).to_bytes().is_empty());
                    let (np, nl) = name.c();
                    let mut role = 0xa5u8;
                    let r = check(apisig_securosys_role(np, nl, &mut role));
                    if r != OK {
                        assert_eq!(role, 0xa5);
                    }
                }
            }
        }
        let _ = check(apisig_verifier_wipe(&mut *verifier));
        assert_eq!(check(apisig_keyring_wipe(&mut *real_ring)), OK);
    }
});
