//! The server side: a verifier (keyring + replay cache + window) in caller-owned storage.

use apisig::{Error, PreparedScheme, Verifier, Window, replay::ReplayEntry, scheme::Scheme};

use crate::convert::{apisig_request, in_bytes, in_ref, out_ref, request};
use crate::keyring::{self, EMPTY, RingMut, apisig_keyring, slot_code};
use crate::lookup::{CStore, LookupStore, apisig_lookup};
use core::net::IpAddr;

use crate::peer::{self, apisig_ip};
use crate::result::apisig_result;
use crate::scheme::{apisig_scheme, scheme};
use crate::storage::{self, tag};

/// Most requests the replay cache remembers at once. Size it for about three times the signed
/// requests expected inside one window; when full of live entries, verification fails
/// closed with `REPLAY_CACHE_FULL`.
pub const APISIG_REPLAY_CAPACITY: usize = 64;

/// The core verifier of the C face: over the client store and replay entries that sit beside
/// it in the same storage ([`Parts`]), so that `_init` writes each part in place.
type CoreVerifier = Verifier<&'static mut CStore, &'static mut [ReplayEntry]>;

/// What an `apisig_verifier` holds: the verifier, and its client store and replay entries,
/// which it refers to (the storage is never moved: C passes its address). Written part by
/// part, so no verifier-sized value is built on the stack and copied (firmware stacks).
#[repr(C)]
pub(crate) struct Parts {
    verifier: CoreVerifier,
    store: CStore,
    replay: [ReplayEntry; APISIG_REPLAY_CAPACITY],
}

/// Size in bytes of `apisig_verifier`.
pub const APISIG_VERIFIER_SIZE: usize = 10240;

/// The default freshness window, ±300 seconds, in nanoseconds.
pub const APISIG_WINDOW_DEFAULT_NS: u64 = 300_000_000_000;
const _: () = assert!(APISIG_WINDOW_DEFAULT_NS == Window::DEFAULT.tolerance_nanos());

/// Storage for a verifier: a keyring, a replay cache of `APISIG_REPLAY_CAPACITY` entries
/// and a freshness window. Declare it anywhere, call `apisig_verifier_init`, and do not copy
/// it afterwards. `apisig_verifier_wipe` zeroizes its secrets. Its first word is a tag set by
/// `apisig_verifier_init`: storage that was not initialised, was wiped or holds another type
/// gives `APISIG_RESULT_INVALID_OBJECT`.
#[repr(C)]
pub struct apisig_verifier {
    pub(crate) opaque: [u64; 1280],
}
storage!(apisig_verifier, Parts, tag::VERIFIER);
const _: () = assert!(core::mem::size_of::<apisig_verifier>() == APISIG_VERIFIER_SIZE);

/// Longest client id (key id or label), in bytes.
pub const APISIG_KEY_ID_MAX: usize = 64;
const _: () = assert!(APISIG_KEY_ID_MAX == apisig::client::KEY_ID_MAX);

/// Who a verified request comes from.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_principal {
    /// The client's number in this verifier's keyring (as `apisig_keyring_add` gave it);
    /// `APISIG_CLIENT_NONE` for a verifier over a lookup (name the client by `id`).
    pub client: u32,
    /// Which of its keys matched (an `apisig_slot`).
    pub slot: u32,
    /// Its scopes (per-key permissions): bit `i` is the server's scope `i` — the `i`-th name
    /// of `apisig_store_config.scopes`, or the bits `apisig_keyring_set_scopes` gave. Check a
    /// request's with `apisig_scopes_authorize`.
    pub scopes: u64,
    /// Whether the client has a role.
    pub has_role: bool,
    /// Its role, when `has_role` (authorize it with `apisig_securosys_authorize`).
    pub role: u8,
    /// The length of `id`.
    pub id_len: u8,
    /// The client's stable id (its key id or label), not NUL-terminated: what to log and to
    /// name it by outside this process.
    pub id: [u8; APISIG_KEY_ID_MAX],
}

/// `apisig_principal.client` of a verifier over a lookup, which numbers no clients.
pub const APISIG_CLIENT_NONE: u32 = u32::MAX;

pub(crate) fn principal(store: &CStore, p: &apisig::Principal) -> Result<apisig_principal, apisig_result> {
    let mut id = [0u8; APISIG_KEY_ID_MAX];
    id.iter_mut().zip(p.id.as_bytes()).for_each(|(d, s)| *d = *s);
    Ok(apisig_principal {
        client: match store {
            CStore::Ring(ring) => keyring::client_number(ring, &p.id)?,
            #[cfg(feature = "std")]
            CStore::Heap(ring) => keyring::client_number(&**ring, &p.id)?,
            CStore::Lookup(_) => APISIG_CLIENT_NONE,
        },
        slot: slot_code(p.slot),
        scopes: p.scopes.0,
        has_role: p.role.is_some(),
        role: p.role.map_or(0, |r| r.0),
        id_len: u8::try_from(p.id.len()).map_err(|_| Error::FieldTooLong)?,
        id,
    })
}

/// `sizeof(apisig_verifier)`, for bindings that cannot read the macro.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_verifier_size() -> usize {
    core::mem::size_of::<apisig_verifier>()
}

/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` for storage that is not a verifier.
///
/// # Safety
/// `v` must be NULL or written storage (see `storage`), not aliased for `'a`.
pub(crate) unsafe fn verifier<'a>(v: *mut apisig_verifier) -> Result<&'a mut CoreVerifier, apisig_result> {
    // SAFETY: forwarded contract.
    if unsafe { storage::tag_of(v) }? != tag::VERIFIER {
        return Err(apisig_result::InvalidObject);
    }
    // SAFETY: the tag is only written after the parts; only the verifier field is borrowed
    // (its store and replay entries are reached through the references it holds).
    Ok(unsafe { &mut *core::ptr::addr_of_mut!((*storage::object(v)).verifier) })
}

/// Makes `*v` a verifier with an empty replay cache and a window of ± `window_ns`
/// nanoseconds (0 means "exactly now", never "no check"; `APISIG_WINDOW_DEFAULT_NS` is
/// ±300 s), and sets its tag. When `ring` is non-NULL its clients move into the verifier and
/// `*ring` is left empty; with NULL the verifier starts with an empty keyring (add clients
/// through `apisig_verifier_keyring`). The previous contents of `*v` are not read (it may be
/// uninitialised); nothing is written on error.
///
/// # Errors
/// `NULL_PARAMETER` when `v` is NULL or misaligned; `INVALID_OBJECT` when `ring` is not a
/// keyring, or is `v`'s own.
///
/// # Safety
/// `v` must point to writable storage of `APISIG_VERIFIER_SIZE` bytes; `ring` must be NULL
/// or point to written storage (a keyring; see `apisig_keyring_init`) that does not overlap
/// `*v`. Every other function that takes a verifier reads its tag first, so it must get
/// written storage: initialized by this function, or any bytes at all (zeroed, wiped,
/// garbage, another object), which give `INVALID_OBJECT` — never uninitialised memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_init(
    v: *mut apisig_verifier,
    ring: *mut apisig_keyring,
    window_ns: u64,
) -> apisig_result {
    ffi_boundary! {
        if !ring.is_null() && ring.cast::<u8>() == v.cast::<u8>() {
            return Err(apisig_result::InvalidObject);
        }
        // SAFETY: the caller guarantees the storage, and that `ring` (checked before anything
        // is written) does not overlap it. The verifier is written in place, then (when `ring`
        // is given) its empty keyring is swapped with the caller's, so no large temporary lands
        // on a firmware stack and the secrets move rather than being copied.
        unsafe {
            let r = if ring.is_null() { None } else { Some(keyring::ring_of(ring)?) };
            write_empty(v, None, Window::from_nanos(window_ns))?;
            let store = verifier(v)?.store_mut();
            match (r, store) {
                // Swapped byte by byte (a keyring-sized `mem::swap` temporary would land on
                // a firmware stack): the secrets move, the caller's keyring becomes empty.
                (Some(RingMut::Fixed(r)), CStore::Ring(mine)) => core::ptr::swap_nonoverlapping(
                    core::ptr::from_mut(mine).cast::<core::mem::MaybeUninit<u8>>(),
                    core::ptr::from_mut(r).cast::<core::mem::MaybeUninit<u8>>(),
                    core::mem::size_of::<keyring::CoreKeyring>(),
                ),
                // A keyring on the heap: the verifier takes its clients and capacity.
                #[cfg(feature = "std")]
                (Some(RingMut::Heap(h)), store) => {
                    let capacity = h.capacity();
                    **store = CStore::Heap(std::boxed::Box::new(core::mem::replace(
                        h,
                        crate::heapring::HeapRing::with_capacity(capacity),
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Writes an empty verifier (over `lookup` when given, else with an empty keyring) into
/// storage, part by part and in place, without reading the old bytes; then sets the tag.
///
/// # Errors
/// `NULL_PARAMETER` when `v` is NULL or misaligned.
///
/// # Safety
/// As `storage::init`.
// Inlined, so that each `_init` holds only its own store's construction (a lookup store's
// would otherwise size the plain verifier's stack frame too).
#[inline(always)]
unsafe fn write_empty(
    v: *mut apisig_verifier,
    lookup: Option<apisig_lookup>,
    window: Window,
) -> Result<(), apisig_result> {
    if v.is_null() || !v.cast::<u64>().is_aligned() {
        return Err(apisig_result::NullParameter);
    }
    let parts = storage::object(v);
    // SAFETY: `v` is writable storage large enough for the tag and `Parts` (asserted by
    // `storage!`), aligned; each field is written once through its own pointer, then the
    // verifier refers to the other two, which nothing else borrows.
    unsafe {
        let store = core::ptr::addr_of_mut!((*parts).store);
        match lookup {
            None => store.write(CStore::Ring(EMPTY)),
            Some(calls) => store.write(CStore::Lookup(LookupStore::new(calls))),
        }
        let replay = core::ptr::addr_of_mut!((*parts).replay).cast::<ReplayEntry>();
        for i in 0..APISIG_REPLAY_CAPACITY {
            replay.add(i).write(ReplayEntry::EMPTY);
        }
        let replay = core::slice::from_raw_parts_mut(replay, APISIG_REPLAY_CAPACITY);
        core::ptr::addr_of_mut!((*parts).verifier).write(CoreVerifier::new(&mut *store, replay, window));
        v.cast::<u64>().write(tag::VERIFIER);
    }
    Ok(())
}

/// Makes `*v` a verifier that finds its clients through the server's `*lookup` callbacks
/// (copied: `*lookup` need not outlive this call, its `context` must outlive the verifier),
/// with an empty replay cache and a window of ± `window_ns` nanoseconds, and sets its tag.
/// It has no keyring (`apisig_verifier_keyring` gives NULL) and its principals' `client` is
/// `APISIG_CLIENT_NONE`. A lookup answering `APISIG_LOOKUP_UNAVAILABLE` refuses the request
/// with `STORE_UNAVAILABLE` (HTTP 503). The previous contents of `*v` are not read.
///
/// # Errors
/// `NULL_PARAMETER` when `v` or `lookup` is NULL, or `v` is misaligned.
///
/// # Safety
/// `v` must point to writable storage of `APISIG_VERIFIER_SIZE` bytes (then as in
/// `apisig_verifier_init`); `lookup` to a valid `apisig_lookup` whose callbacks are safe to
/// call with its `context` for as long as the verifier is used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_init_with_lookup(
    v: *mut apisig_verifier,
    lookup: *const apisig_lookup,
    window_ns: u64,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `lookup` and the storage.
        unsafe {
            let calls = *in_ref(lookup)?;
            write_empty(v, Some(calls), Window::from_nanos(window_ns))
        }
    }
}

/// Zeroizes the verifier's secrets (its keyring's, JWT and session keys) and clears its tag:
/// the storage is no longer a verifier (calls other than `apisig_verifier_init` give
/// `INVALID_OBJECT`, also through the handle `apisig_verifier_keyring` returned). Call it
/// before the storage goes out of scope.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` (also for a verifier already wiped).
///
/// # Safety
/// `v` must be NULL or point to written storage (see `apisig_verifier_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_wipe(v: *mut apisig_verifier) -> apisig_result {
    // SAFETY: the caller guarantees written storage; a verifier is dropped in place (its
    // secrets zeroize on drop).
    ffi_boundary! { unsafe { storage::wipe(v) } }
}

/// The verifier's own keyring, to register, rotate or revoke clients with the
/// `apisig_keyring_*` functions: a handle that the keyring functions accept (it is the
/// verifier's address, not a separate keyring's storage). NULL when `v` is NULL, not a
/// verifier, or a verifier over a lookup. Valid as long as `*v` is (after `apisig_verifier_wipe`, calls with it give
/// `INVALID_OBJECT`); do not pass it to `apisig_keyring_init` or copy what it points to.
///
/// # Safety
/// `v` must be NULL or point to written storage (see `apisig_verifier_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_keyring(v: *mut apisig_verifier) -> *mut apisig_keyring {
    ffi_value!(core::ptr::null_mut(), {
        // SAFETY: the caller guarantees `v`.
        match unsafe { verifier(v) } {
            Ok(verifier) if !matches!(verifier.store(), CStore::Lookup(_)) => v.cast::<apisig_keyring>(),
            _ => core::ptr::null_mut(),
        }
    })
}

/// Verifies `req` under `scheme` at `now_ns` (nanoseconds since the UNIX epoch), reading the
/// credentials from the request's headers (for the APEX body variant, see
/// `apisig_verifier_verify_json_body`). On `OK`, `*who` says which client, key slot and
/// role, and the request is recorded against replay; on error nothing is recorded and `*who`
/// is not written.
///
/// # Errors
/// `NULL_PARAMETER`; `MISSING_CREDENTIAL`, `DUPLICATE_HEADER`; `UNKNOWN_KEY`,
/// `SECRET_MISMATCH`, `SIGNATURE_MISMATCH`, `INVALID_SIGNATURE_ENCODING`, `USER_ID_MISMATCH`;
/// `INVALID_TIMESTAMP`, `TIMESTAMP_OUTSIDE_WINDOW`, `INVALID_NONCE`, `REPLAYED_REQUEST`,
/// `REPLAY_CACHE_FULL`; `INVALID_METHOD`, `INVALID_PATH`, `SEPARATOR_IN_FIELD`;
/// `UNSUPPORTED_CREDENTIAL` for token schemes; `INVALID_TEMPLATE`; `INVALID_OBJECT`.
///
/// # Safety
/// `v` must point to written storage (a verifier; see `apisig_verifier_init`); `scheme` and
/// `req` to valid structs whose `(ptr, len)` fields are readable; `who` to a writable
/// `apisig_principal`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_verify(
    v: *mut apisig_verifier,
    scheme: *const apisig_scheme,
    req: *const apisig_request,
    now_ns: u64,
    who: *mut apisig_principal,
) -> apisig_result {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { verify_request(v, scheme, req, NoPeer, now_ns, who, Presented::Headers) }
}

/// As `apisig_verifier_verify`, for a request received from `*peer` (the socket's peer, or
/// the client behind trusted proxies: `apisig_peer_behind_proxies`): a client restricted to
/// some addresses (`apisig_keyring_set_allowed`, a key store's allowed ranges) is admitted
/// only from them. `peer` NULL is an unknown address, as `apisig_verifier_verify`: such a
/// client is then refused.
///
/// # Errors
/// As `apisig_verifier_verify`; `ADDRESS_NOT_ALLOWED` (HTTP 403) for a peer outside the
/// client's ranges; `INVALID_ADDRESS` for a `*peer` of no known family.
///
/// # Safety
/// As `apisig_verifier_verify`; `peer` must be NULL or point to a valid `apisig_ip`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_verify_from(
    v: *mut apisig_verifier,
    scheme: *const apisig_scheme,
    req: *const apisig_request,
    peer: *const apisig_ip,
    now_ns: u64,
    who: *mut apisig_principal,
) -> apisig_result {
    // SAFETY: the caller's guarantees, passed on.
    unsafe {
        match peer::peer(peer) {
            Ok(peer) => verify_request(v, scheme, req, peer, now_ns, who, Presented::Headers),
            Err(e) => e,
        }
    }
}

/// As `apisig_verifier_verify`, for a request whose credentials may come in its JSON body
/// instead of its headers: APEX `AuthenticateUser`, which sends
/// `{"APIKey", "Signature", "UserId", "Nonce"}` in its body (`UserName` and other members are
/// ignored) or as headers. When the headers name every header of the scheme they are used and
/// the body is not read; otherwise the credentials are the body's members named exactly like
/// the scheme's headers: strings, or for a timestamp, nonce or user id numbers, taken as
/// written.
///
/// # Errors
/// As `apisig_verifier_verify`; from the body, `INVALID_BODY` (not one JSON object, or a
/// credential of another type or written with escapes) and `DUPLICATE_HEADER` (a credential
/// named twice).
///
/// # Safety
/// As `apisig_verifier_verify`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_verify_json_body(
    v: *mut apisig_verifier,
    scheme: *const apisig_scheme,
    req: *const apisig_request,
    now_ns: u64,
    who: *mut apisig_principal,
) -> apisig_result {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { verify_request(v, scheme, req, NoPeer, now_ns, who, Presented::HeadersOrJsonBody) }
}

/// As `apisig_verifier_verify_json_body`, for a request received from `*peer` (see
/// `apisig_verifier_verify_from`).
///
/// # Errors
/// As `apisig_verifier_verify_json_body` and `apisig_verifier_verify_from`.
///
/// # Safety
/// As `apisig_verifier_verify_from`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_verify_json_body_from(
    v: *mut apisig_verifier,
    scheme: *const apisig_scheme,
    req: *const apisig_request,
    peer: *const apisig_ip,
    now_ns: u64,
    who: *mut apisig_principal,
) -> apisig_result {
    // SAFETY: the caller's guarantees, passed on.
    unsafe {
        match peer::peer(peer) {
            Ok(peer) => verify_request(v, scheme, req, peer, now_ns, who, Presented::HeadersOrJsonBody),
            Err(e) => e,
        }
    }
}

/// Where `verify_request` reads the credentials.
#[derive(Copy, Clone)]
enum Presented {
    Headers,
    HeadersOrJsonBody,
}

/// The peer address a verify call passes on: none (the calls without `_from`), or the one the
/// server gave. A type rather than an `Option` argument, so that the calls without a peer
/// compile without any peer code (firmware images that only verify).
trait Peer: Copy {
    fn get(self) -> Option<IpAddr>;
}

/// No peer address.
#[derive(Copy, Clone)]
struct NoPeer;

impl Peer for NoPeer {
    #[inline(always)]
    fn get(self) -> Option<IpAddr> {
        None
    }
}

impl Peer for Option<IpAddr> {
    #[inline(always)]
    fn get(self) -> Option<IpAddr> {
        self
    }
}

/// The body of `apisig_verifier_verify` and `apisig_verifier_verify_json_body` (and their
/// `_from` variants).
///
/// # Safety
/// As `apisig_verifier_verify`.
unsafe fn verify_request<P: Peer>(
    v: *mut apisig_verifier,
    scheme: *const apisig_scheme,
    req: *const apisig_request,
    peer: P,
    now_ns: u64,
    who: *mut apisig_principal,
    presented: Presented,
) -> apisig_result {
    ffi_boundary! {
        let mut scheme_store = None;
        let mut header_store = heapless::Vec::new();
        // SAFETY: the caller guarantees every pointer and the contents of `scheme`, `req`.
        let (v, c_scheme, scheme, mut req, who) = unsafe {
            let v = verifier(v)?;
            let c_scheme = in_ref(scheme)?;
            let scheme = self::scheme(c_scheme, &mut scheme_store)?;
            let req = request(in_ref(req)?, &scheme, &mut header_store)?;
            (v, c_scheme, scheme, req, out_ref(who)?)
        };
        if let Some(peer) = peer.get() {
            req.peer = Some(peer);
        }
        let mut here = None;
        let prepared = prepared(c_scheme.preset, &scheme, &mut here)?;
        let verified = match presented {
            Presented::Headers => v.verify_prepared(prepared, &req, now_ns),
            Presented::HeadersOrJsonBody => v.verify_json_body(prepared, &req, now_ns),
        };
        *who = principal(v.store(), &refined(verified)?)?;
        Ok(())
    }
}

/// Verifies a request from a TLS peer whose client certificate `(der, der_len)` the TLS
/// library has checked (mutual TLS). With `scheme` NULL the pinned certificate authenticates
/// by itself (`req` is not read and may be NULL); with a scheme, `req` must also carry the
/// scheme's credentials, naming the client the certificate is pinned to (Securosys TSB: API
/// key plus client certificate), and `*who` is the credentials' principal. The certificate is
/// checked first: a request refused for it records nothing, nor does one whose credentials
/// name another client. `*who` is written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `MISSING_CREDENTIAL` when `(der, der_len)` is `(NULL, 0)` (no
/// certificate); `INVALID_CERTIFICATE`; `UNPINNED_CERTIFICATE` when no client is pinned to it
/// or the credentials name another client; with a scheme, every error of
/// `apisig_verifier_verify`.
///
/// # Safety
/// `v` must point to an initialized verifier; `scheme` be NULL or point to a valid
/// `apisig_scheme`; `req` point to a valid `apisig_request` (or be NULL when `scheme` is);
/// `(der, der_len)` be readable; `who` point to a writable `apisig_principal`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_verify_with_certificate(
    v: *mut apisig_verifier,
    scheme: *const apisig_scheme,
    req: *const apisig_request,
    der: *const u8,
    der_len: usize,
    now_ns: u64,
    who: *mut apisig_principal,
) -> apisig_result {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { verify_with_certificate(v, scheme, req, der, der_len, NoPeer, now_ns, who) }
}

/// As `apisig_verifier_verify_with_certificate`, for a request received from `*peer` (see
/// `apisig_verifier_verify_from`); with `scheme` NULL, the certificate alone, as
/// `apisig_verifier_verify_certificate` from that peer.
///
/// # Errors
/// As `apisig_verifier_verify_with_certificate` and `apisig_verifier_verify_from`.
///
/// # Safety
/// As `apisig_verifier_verify_with_certificate`; `peer` must be NULL or point to a valid
/// `apisig_ip`.
#[must_use]
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the C signature: the certificate call's, plus the peer
pub unsafe extern "C" fn apisig_verifier_verify_with_certificate_from(
    v: *mut apisig_verifier,
    scheme: *const apisig_scheme,
    req: *const apisig_request,
    der: *const u8,
    der_len: usize,
    peer: *const apisig_ip,
    now_ns: u64,
    who: *mut apisig_principal,
) -> apisig_result {
    // SAFETY: the caller's guarantees, passed on.
    unsafe {
        match peer::peer(peer) {
            Ok(peer) => verify_with_certificate(v, scheme, req, der, der_len, peer, now_ns, who),
            Err(e) => e,
        }
    }
}

/// The body of the two certificate calls.
///
/// # Safety
/// As `apisig_verifier_verify_with_certificate_from`.
#[allow(clippy::too_many_arguments)] // the C call's arguments
unsafe fn verify_with_certificate<P: Peer>(
    v: *mut apisig_verifier,
    scheme: *const apisig_scheme,
    req: *const apisig_request,
    der: *const u8,
    der_len: usize,
    peer: P,
    now_ns: u64,
    who: *mut apisig_principal,
) -> apisig_result {
    ffi_boundary! {
        let mut scheme_store = None;
        let mut header_store = heapless::Vec::new();
        // SAFETY: the caller guarantees every pointer and the contents of `scheme`, `req`.
        let (v, der, who) = unsafe { (verifier(v)?, in_bytes(der, der_len)?, out_ref(who)?) };
        let certificate = (!der.is_empty()).then_some(der);
        let verified = if scheme.is_null() {
            let mut req = apisig::Request::new("", "");
            req.peer = peer.get();
            v.verify_with_certificate(None, &req, certificate, now_ns)
        } else {
            // SAFETY: as above.
            let (c_scheme, scheme, mut req) = unsafe {
                let c_scheme = in_ref(scheme)?;
                let scheme = self::scheme(c_scheme, &mut scheme_store)?;
                let req = request(in_ref(req)?, &scheme, &mut header_store)?;
                (c_scheme, scheme, req)
            };
            req.peer = peer.get();
            let mut here = None;
            v.verify_with_certificate(Some(prepared(c_scheme.preset, &scheme, &mut here)?), &req, certificate, now_ns)
        };
        *who = principal(v.store(), &refined(verified)?)?;
        Ok(())
    }
}

/// A verification's result, with a key store's own refusal (a presented key not in the
/// issued format, say) in place of the `STORE_UNAVAILABLE` the lookup answered with; as is
/// for every other verifier.
pub(crate) fn refined(verified: Result<apisig::Principal, Error>) -> Result<apisig::Principal, Error> {
    #[cfg(feature = "store")]
    let verified = crate::store::refined(verified);
    verified
}

/// `scheme` prepared for verification: a preset's once per process, else into `here`.
fn prepared<'p, 's>(
    preset: u32,
    scheme: &Scheme<'s>,
    here: &'p mut Option<PreparedScheme<'s>>,
) -> Result<&'p PreparedScheme<'s>, apisig_result> {
    match prepared_preset(preset) {
        Some(prepared) => Ok(prepared),
        None => Ok(here.insert(PreparedScheme::new(scheme)?)),
    }
}

/// The preset numbered `preset` (as in `apisig_scheme`), prepared for verification once per
/// process. Without `std` (firmware) there is nowhere to keep it: `None`, and each call
/// prepares the scheme it verifies under.
fn prepared_preset(preset: u32) -> Option<&'static PreparedScheme<'static>> {
    #[cfg(feature = "std")]
    {
        static PRESETS: std::sync::OnceLock<[Option<PreparedScheme<'static>>; apisig::dialect::ALL.len()]> =
            std::sync::OnceLock::new();
        let all = PRESETS.get_or_init(|| {
            core::array::from_fn(|i| apisig::dialect::ALL.get(i).and_then(|s| PreparedScheme::new(s).ok()))
        });
        let i = usize::try_from(preset).ok()?.checked_sub(1)?;
        all.get(i)?.as_ref()
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = preset;
        None
    }
}

/// How many replay-cache entries are live at `now_ns`; 0 when `v` is NULL or not a verifier.
///
/// # Safety
/// `v` must be NULL or point to written storage (see `apisig_verifier_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_replay_live(v: *mut apisig_verifier, now_ns: u64) -> usize {
    // SAFETY: the caller guarantees `v`.
    ffi_value!(0, unsafe { verifier(v) }.map(|v| apisig::replay::live(v.replay(), now_ns)).unwrap_or(0))
}
