//! Host builds (feature `store`): a C server keeps its clients' keys in a database, through
//! the apisig-store crate — the SQLite or PostgreSQL store, its read-through cache and the
//! master key that seals HMAC secrets — the same code as the Python face and the `apisig keys`
//! command line, so each reads what the others write.
//!
//! A verifier over a store (`apisig_verifier_init_with_store`) is a verifier over a lookup
//! (`lookup.rs`) whose callbacks are this module's: each finds the client in the cache (or
//! the database behind it) and fills a copy into the lookup's scratch keyring. The server's
//! own part of the key lifecycle is here too (create, issue, revoke, invalidate); the rest
//! stays in the command line.

extern crate std;

use core::cell::Cell;
use core::ffi::{c_char, c_void};
use std::boxed::Box;
use std::string::String;
use std::sync::Arc;
use std::time::Duration;
use std::vec::Vec;

use apisig::Error;
use apisig::client::Client;
use apisig::names::Named;
use apisig::pin::{PIN_LEN, PinKind};
use apisig::policy::ScopeNames;
use apisig::store::{ClientStore, PresentedKey};
// `::`: the crate, not this module's `apisig_store` type.
use ::apisig_store::{
    CHECKSUM_LEN, CacheConfig, CachedStore, KeyKind, MASTER_KEY_LEN, MasterKey, PRODUCT_MAX, RANDOM_LEN, Store,
    StoreError,
};

use crate::convert::{Res, in_bytes, in_str, out_buf, out_ref};
use crate::keyring::{self, apisig_keyring};
use crate::lookup::{
    APISIG_LOOKUP_FOUND, APISIG_LOOKUP_NOT_FOUND, APISIG_LOOKUP_REPLAYED, APISIG_LOOKUP_UNAVAILABLE, apisig_lookup,
};
use crate::result::apisig_result;
use crate::storage::tag;
use crate::verify::{apisig_verifier, apisig_verifier_init_with_lookup};

/// A static key: the store keeps its SHA-256 only (`<product>_sk_…`).
pub const APISIG_KEY_STATIC: u32 = 0;
/// An HMAC secret, sealed under the master key in the store (`<product>_hs_…`).
pub const APISIG_KEY_HMAC: u32 = 1;

/// Longest key `apisig_store_issue` writes, in bytes (a 16-letter product).
pub const APISIG_ISSUED_KEY_MAX: usize = 69;
const _: () = assert!(APISIG_ISSUED_KEY_MAX == PRODUCT_MAX + 4 + RANDOM_LEN + CHECKSUM_LEN);

/// A key store opened by `apisig_store_open`: the database and the read-through cache in
/// front of it. Safe to share between threads (one store per process, a verifier per
/// thread over it). Free it with `apisig_store_free`, after the verifiers over it.
pub struct apisig_store {
    /// `tag::STORE` while open, so that another object's pointer gives `INVALID_OBJECT`.
    tag: u64,
    cache: Arc<CachedStore>,
}

/// How `apisig_store_open` caches lookups. All zero (or a NULL pointer) is the default.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_store_config {
    /// How long a looked-up client (or the fact there is none) is used before the database
    /// is asked again, in milliseconds: the longest a change made elsewhere (a key revoked
    /// with `apisig keys revoke`, by another worker) goes unseen. 0: 10 s.
    pub cache_ttl_ms: u64,
    /// Most entries kept (clients and misses). 0: 100,000.
    pub cache_capacity: usize,
    /// While the database cannot be reached, keep serving entries up to this long past their
    /// time-to-live, in milliseconds; 0 (the default) fails closed with `STORE_UNAVAILABLE`
    /// as soon as an entry is stale.
    pub serve_stale_ms: u64,
    /// The server's role names, comma-separated, by role id: a client's stored role `admin`
    /// in `"reader,admin"` is role 1 in its principal (`apisig_securosys_authorize`). A
    /// stored role not listed gives no role. `(NULL, 0)`: none.
    pub roles: *const c_char,
    /// Length of `roles`.
    pub roles_len: usize,
    /// The server's scope names, comma-separated, by bit (at most 64): a client's stored
    /// scope `trade` in `"read,trade"` is bit 1 of its principal's `scopes`. A stored scope
    /// not listed is dropped (fewer permissions, never more). `(NULL, 0)`: none.
    pub scopes: *const c_char,
    /// Length of `scopes`.
    pub scopes_len: usize,
}

/// The result code of a store error (the same codes the other faces report).
fn code(e: &StoreError) -> Error {
    match e {
        StoreError::MasterKeyMissing(_) | StoreError::InvalidMasterKey(_) => Error::InvalidMasterKey,
        StoreError::WrongMasterKey { .. } => Error::WrongMasterKey,
        StoreError::InvalidUrl(_) => Error::InvalidStoreUrl,
        // The only value a C call gives that the store checks itself: a client id.
        StoreError::InvalidInput(_) => Error::InvalidHeaderValue,
        StoreError::NoSuchClient(_) | StoreError::NoSuchKey { .. } => Error::UnknownKey,
        StoreError::ClientExists(_) | StoreError::SlotOccupied { .. } => Error::DuplicateKeyId,
        StoreError::Core(e) => *e,
        _ => e.core_error().unwrap_or(Error::StoreUnavailable),
    }
}

fn store_res<T>(r: Result<T, StoreError>) -> Res<T> {
    r.map_err(|e| code(&e).into())
}

/// The master key as C passes it: `(NULL, 0)` from the environment, as the command line
/// reads it; 32 bytes; else 64 hexadecimal digits as text.
fn master_key(bytes: &[u8]) -> Result<MasterKey, StoreError> {
    match bytes.len() {
        0 => MasterKey::from_env(),
        MASTER_KEY_LEN => MasterKey::from_bytes(bytes),
        _ => match core::str::from_utf8(bytes) {
            Ok(text) => MasterKey::from_hex(text),
            Err(_) => Err(StoreError::InvalidMasterKey("a master key is 32 bytes or 64 hexadecimal digits".into())),
        },
    }
}

/// Role names, comma-separated (spaces around them ignored); empty text gives none.
fn role_names(text: &str) -> Res<Vec<String>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = text.split(',').map(|n| n.trim().into()).collect();
    if names.iter().any(String::is_empty) {
        return Err(Error::InvalidPattern.into());
    }
    if names.len() > usize::from(u8::MAX) + 1 {
        return Err(Error::FieldTooLong.into());
    }
    Ok(names)
}

/// Scope names, comma-separated (spaces around them ignored), as the core's `ScopeNames`
/// table: empty text gives none.
///
/// # Errors
/// `FIELD_TOO_LONG` past 64 names; `INVALID_PATTERN` for an empty one or one named twice.
fn scope_names(text: &str) -> Res<Vec<String>> {
    let names = role_names(text)?;
    if names.len() > 64 {
        return Err(Error::FieldTooLong.into());
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    ScopeNames { names: &refs }.check()?;
    Ok(names)
}

/// # Safety
/// `config` must be NULL or point to a valid `apisig_store_config` whose `roles` and `scopes`
/// are readable.
unsafe fn cache_config(config: *const apisig_store_config) -> Res<CacheConfig> {
    let mut out = CacheConfig::default();
    // SAFETY: forwarded contract.
    let Some(c) = (unsafe { config.as_ref() }) else { return Ok(out) };
    if c.cache_ttl_ms != 0 {
        out.ttl = Duration::from_millis(c.cache_ttl_ms);
    }
    if c.cache_capacity != 0 {
        out.capacity = c.cache_capacity;
    }
    out.serve_stale = (c.serve_stale_ms != 0).then(|| Duration::from_millis(c.serve_stale_ms));
    // SAFETY: forwarded contract.
    out.roles = role_names(unsafe { in_str(c.roles, c.roles_len, Error::InvalidPattern) }?)?;
    // SAFETY: forwarded contract.
    out.scopes = scope_names(unsafe { in_str(c.scopes, c.scopes_len, Error::InvalidPattern) }?)?;
    Ok(out)
}

/// Opens (creating and migrating where needed) the key store `url` names, with the server's
/// master key, and sets `*out` to it (only on `OK`):
///
/// - `sqlite:PATH` (`sqlite:///ABSOLUTE/PATH`): an SQLite file, created if missing, shared by
///   the processes of one machine; `sqlite::memory:` for tests;
/// - `postgres://USER:PASSWORD@HOST:PORT/DATABASE`: PostgreSQL, for workers on several
///   machines.
///
/// `(master_key, master_key_len)` is the key the store's HMAC secrets are sealed under, as
/// `apisig keys init --generate-master-key` printed it: 64 hexadecimal digits (surrounding
/// whitespace ignored), or 32 raw bytes; `(NULL, 0)` reads it from the environment as the
/// command line does (`APISIG_MASTER_KEY`, else the file `APISIG_MASTER_KEY_FILE` names).
/// `config` NULL is the default cache (see `apisig_store_config`). Free the store with
/// `apisig_store_free`. Host builds only.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_STORE_URL`; `INVALID_MASTER_KEY` (missing, or not a key);
/// `WRONG_MASTER_KEY` when the store was created under another master key;
/// `STORE_UNAVAILABLE` when the database cannot be opened or reached; `INVALID_PATTERN` for an
/// empty role name in `config`, `FIELD_TOO_LONG` past 256 of them; `INVALID_PATTERN` for an
/// empty scope name or one named twice, `FIELD_TOO_LONG` past 64 of them.
///
/// # Safety
/// The `(ptr, len)` pairs must be readable, `config` be NULL or point to a valid
/// `apisig_store_config`, `out` point to a writable `apisig_store *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_store_open(
    url: *const c_char,
    url_len: usize,
    master_key: *const u8,
    master_key_len: usize,
    config: *const apisig_store_config,
    out: *mut *mut apisig_store,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (url, key, config, out) = unsafe {
            (
                in_str(url, url_len, Error::InvalidStoreUrl)?,
                in_bytes(master_key, master_key_len)?,
                cache_config(config)?,
                out_ref(out)?,
            )
        };
        let store = store_res(Store::open(url, store_res(self::master_key(key))?))?;
        let cache = Arc::new(CachedStore::new(store, config));
        *out = Box::into_raw(Box::new(apisig_store { tag: tag::STORE, cache }));
        Ok(())
    }
}

/// Closes a store from `apisig_store_open`. NULL is ignored.
///
/// # Safety
/// `store` must be NULL or come from `apisig_store_open`, not yet freed, with no verifier
/// over it still in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_store_free(store: *mut apisig_store) {
    if store.is_null() {
        return;
    }
    ffi_value!((), {
        // SAFETY: the caller guarantees `store` came from apisig_store_open; the tag is
        // cleared so that a use after free is more likely to be caught than to read a store.
        unsafe {
            (*store).tag = 0;
            drop(Box::from_raw(store));
        }
    })
}

/// # Safety
/// `store` must be NULL or point to a store from `apisig_store_open`, not yet freed.
unsafe fn open<'a>(store: *const apisig_store) -> Res<&'a apisig_store> {
    // SAFETY: forwarded contract.
    match unsafe { store.as_ref() } {
        None => Err(apisig_result::NullParameter),
        Some(s) if s.tag == tag::STORE => Ok(s),
        Some(_) => Err(apisig_result::InvalidObject),
    }
}

/// A client id as C passes it (checked as the core checks ids).
///
/// # Safety
/// As `in_str`.
unsafe fn client_id<'a>(id: *const c_char, id_len: usize) -> Res<&'a str> {
    // SAFETY: forwarded contract.
    let id = unsafe { in_str(id, id_len, Error::InvalidHeaderValue) }?;
    Client::new(id)?;
    Ok(id)
}

/// Creates the client `id` in the store, with no key yet (issue one with
/// `apisig_store_issue`), active, any address, no role.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `INVALID_HEADER_VALUE` for an id that is empty, not
/// printable ASCII or holds a space or comma; `FIELD_TOO_LONG` past 64 bytes;
/// `DUPLICATE_KEY_ID` when the client exists; `STORE_UNAVAILABLE`.
///
/// # Safety
/// `store` must come from `apisig_store_open`; `(id, id_len)` be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_store_create_client(
    store: *const apisig_store,
    id: *const c_char,
    id_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pointers.
        let (s, id) = unsafe { (open(store)?, client_id(id, id_len)?) };
        let created = s.cache.store().create_client(id);
        s.cache.invalidate(id);
        store_res(created)
    }
}

/// Issues a new key of `kind` (`APISIG_KEY_STATIC`, `APISIG_KEY_HMAC`) into the empty `slot`
/// (an `apisig_slot`) of the client `id`, and writes it to `(out, cap, *out_len)` (not
/// NUL-terminated, at most `APISIG_ISSUED_KEY_MAX` bytes): the only time the key exists in
/// clear. Give it to the client; the store keeps a static key's SHA-256 only, an HMAC secret
/// sealed under the master key. A short `cap` gives `BUFFER_TOO_SMALL` (with `*out_len`
/// the size needed) before anything is issued.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `BUFFER_TOO_SMALL`; `INVALID_TEMPLATE` for an unknown
/// kind; `UNKNOWN_KEY` for an unknown client or slot; `DUPLICATE_KEY_ID` when the slot holds a
/// key already; `STORE_UNAVAILABLE`. Nothing is issued on error.
///
/// # Safety
/// `store` must come from `apisig_store_open`; `(id, id_len)` be readable; `out` point to
/// `cap` writable bytes (or be NULL with `cap` 0) and `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // id, slot, kind and the output triple
pub unsafe extern "C" fn apisig_store_issue(
    store: *const apisig_store,
    id: *const c_char,
    id_len: usize,
    slot: u32,
    kind: u32,
    out: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (s, id, mut out) = unsafe { (open(store)?, client_id(id, id_len)?, out_buf(out.cast::<u8>(), cap, out_len)?) };
        let slot = keyring::slot(slot)?;
        let kind = match kind {
            APISIG_KEY_STATIC => KeyKind::Static,
            APISIG_KEY_HMAC => KeyKind::Hmac,
            _ => return Err(Error::InvalidTemplate.into()),
        };
        let store = s.cache.store();
        out.check(store.key_format().prefix(kind).len().saturating_add(RANDOM_LEN).saturating_add(CHECKSUM_LEN))?;
        let issued = store.issue(id, slot, kind);
        s.cache.invalidate(id);
        out.put(store_res(issued)?.as_str().as_bytes())
    }
}

/// Revokes the key in `slot` (an `apisig_slot`) of the client `id`: refused from now on with
/// `KEY_REVOKED` by this process's verifiers, and by other processes' within their cache's
/// time-to-live. The client's other key keeps working.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for an unknown client, slot or an empty
/// slot; `STORE_UNAVAILABLE`.
///
/// # Safety
/// `store` must come from `apisig_store_open`; `(id, id_len)` be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_store_revoke_key(
    store: *const apisig_store,
    id: *const c_char,
    id_len: usize,
    slot: u32,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pointers.
        let (s, id) = unsafe { (open(store)?, client_id(id, id_len)?) };
        let slot = keyring::slot(slot)?;
        let revoked = s.cache.store().revoke_key(id, slot);
        s.cache.invalidate(id);
        store_res(revoked)
    }
}

/// Revokes the client `id` for good: every credential of it (keys, pins, tokens) is refused
/// with `CLIENT_REVOKED`, here at once and in other processes within their cache's
/// time-to-live.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for an unknown client;
/// `STORE_UNAVAILABLE`.
///
/// # Safety
/// `store` must come from `apisig_store_open`; `(id, id_len)` be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_store_revoke_client(
    store: *const apisig_store,
    id: *const c_char,
    id_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pointers.
        let (s, id) = unsafe { (open(store)?, client_id(id, id_len)?) };
        let revoked = s.cache.store().revoke_client(id);
        s.cache.invalidate(id);
        store_res(revoked)
    }
}

/// Forgets what the cache holds about the client `id` (found by id, key or pin), so that a
/// change made elsewhere (`apisig keys …`, another worker) is seen at the next request rather
/// than within the time-to-live. `apisig_store_*` changes invalidate by themselves.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `INVALID_HEADER_VALUE` for an id that is not UTF-8.
///
/// # Safety
/// `store` must come from `apisig_store_open`; `(id, id_len)` be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_store_invalidate(
    store: *const apisig_store,
    id: *const c_char,
    id_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pointers.
        let (s, id) = unsafe { (open(store)?, in_str(id, id_len, Error::InvalidHeaderValue)?) };
        s.cache.invalidate(id);
        Ok(())
    }
}

/// Forgets everything the cache holds, misses included.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`.
///
/// # Safety
/// `store` must be NULL or come from `apisig_store_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_store_invalidate_all(store: *const apisig_store) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `store`.
        unsafe { open(store) }?.cache.invalidate_all();
        Ok(())
    }
}

/// Makes `*v` a verifier whose clients are the store's (found through its cache), with an
/// empty replay cache and a window of ± `window_ns` nanoseconds, and sets its tag; as
/// `apisig_verifier_init_with_lookup` otherwise (no keyring, principals name the client by
/// `id`). A database that cannot be reached refuses requests with `STORE_UNAVAILABLE` (HTTP
/// 503) unless `serve_stale_ms` was set; a static key not in the store's issued format is
/// refused with `INVALID_KEY_FORMAT` before the store is asked. Pass the peer address
/// (`apisig_verifier_verify_from`) for clients restricted to some addresses. The store must
/// outlive the verifier. Host builds only.
///
/// # Errors
/// `NULL_PARAMETER` when `v` or `store` is NULL, or `v` misaligned; `INVALID_OBJECT` when
/// `store` is not an open store.
///
/// # Safety
/// `v` must point to writable storage of `APISIG_VERIFIER_SIZE` bytes (then as in
/// `apisig_verifier_init`); `store` come from `apisig_store_open` and stay open while the
/// verifier is used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_init_with_store(
    v: *mut apisig_verifier,
    store: *const apisig_store,
    window_ns: u64,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `store`.
        let s = unsafe { open(store) }?;
        let calls = apisig_lookup {
            context: core::ptr::from_ref(s).cast_mut().cast::<c_void>(),
            by_id: Some(by_id),
            by_static_key: Some(by_static_key),
            by_pin: Some(by_pin),
            advance_nonce: Some(advance_nonce),
        };
        // SAFETY: the caller guarantees `v`; the callbacks take the store as their context,
        // which the caller keeps open.
        match unsafe { apisig_verifier_init_with_lookup(v, &calls, window_ns) } {
            apisig_result::Ok => Ok(()),
            e => Err(e),
        }
    }
}

/// A new verifier on the heap over `store` (see `apisig_verifier_init_with_store`); NULL on
/// failure. Free it with `apisig_verifier_free` before the store. Host builds only.
///
/// # Safety
/// `store` must be NULL or come from `apisig_store_open`, and stay open while the verifier
/// is used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_new_with_store(
    store: *const apisig_store,
    window_ns: u64,
) -> *mut apisig_verifier {
    ffi_value!(core::ptr::null_mut(), {
        let p = Box::into_raw(Box::new(apisig_verifier { opaque: [0; crate::verify::APISIG_VERIFIER_SIZE / 8] }));
        // SAFETY: `p` is a fresh allocation; the caller guarantees `store`.
        match unsafe { apisig_verifier_init_with_store(p, store, window_ns) } {
            apisig_result::Ok => p,
            _ => {
                // SAFETY: `p` came from Box::into_raw above and holds no verifier.
                drop(unsafe { Box::from_raw(p) });
                core::ptr::null_mut()
            }
        }
    })
}

std::thread_local! {
    /// The last store lookup's refusal on this thread, when it was not "unavailable": the
    /// lookup callbacks can only answer found / not found / unavailable, so a precise refusal
    /// (a key not in the issued format) waits here for the verify call to report it.
    static REFUSAL: Cell<Option<Error>> = const { Cell::new(None) };
}

/// `verified`, with the precise refusal of a store lookup in place of the
/// `STORE_UNAVAILABLE` it answered with; clears the refusal either way.
pub(crate) fn refined(verified: Result<apisig::Principal, Error>) -> Result<apisig::Principal, Error> {
    match (verified, REFUSAL.take()) {
        (Err(Error::StoreUnavailable), Some(e)) => Err(e),
        (verified, _) => verified,
    }
}

/// Answers a lookup: the client `find` gives, copied into the scratch keyring `out`.
///
/// # Safety
/// `context` must be the store `apisig_verifier_init_with_store` was given, `out` the lookup's
/// scratch keyring.
unsafe fn answer(
    context: *mut c_void,
    out: *mut apisig_keyring,
    find: impl FnOnce(&CachedStore) -> Result<Option<Arc<Client>>, Error>,
) -> u32 {
    REFUSAL.set(None);
    let run = || {
        // SAFETY: the caller's guarantees: the store is open, the scratch keyring written.
        let (s, ring) = unsafe { (open(context.cast::<apisig_store>()), keyring::ring(out)) };
        let (Ok(s), Ok(ring)) = (s, ring) else { return Err(Error::StoreUnavailable) };
        match find(&s.cache)? {
            None => Ok(APISIG_LOOKUP_NOT_FOUND),
            Some(client) => ring.insert(Client::clone(&client)).map(|()| APISIG_LOOKUP_FOUND),
        }
    };
    // A panic must not unwind through the C callback's frame.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => {
            if e != Error::StoreUnavailable {
                REFUSAL.set(Some(e));
            }
            APISIG_LOOKUP_UNAVAILABLE
        }
        Err(_) => APISIG_LOOKUP_UNAVAILABLE,
    }
}

/// `apisig_lookup_by_id` over a store.
///
/// # Safety
/// As [`answer`]; `(id, id_len)` readable.
unsafe extern "C" fn by_id(context: *mut c_void, id: *const u8, id_len: usize, out: *mut apisig_keyring) -> u32 {
    // SAFETY: the lookup passes its own (id, len) and scratch keyring.
    unsafe {
        answer(context, out, |c| match in_bytes(id, id_len) {
            Ok(id) => c.by_id(id),
            Err(_) => Err(Error::StoreUnavailable),
        })
    }
}

/// `apisig_lookup_by_static_key` over a store (the cache checks the key's format first). The
/// core's digest is not taken from the C side: `PresentedKey` computes its own (one SHA-256 of a
/// short key, beside a cache or database lookup), so it cannot disagree with the key.
///
/// # Safety
/// As [`answer`]; `(key, key_len)` readable.
unsafe extern "C" fn by_static_key(
    context: *mut c_void,
    key: *const u8,
    key_len: usize,
    _digest: *const u8,
    out: *mut apisig_keyring,
) -> u32 {
    // SAFETY: as in `by_id`.
    unsafe {
        answer(context, out, |c| match in_bytes(key, key_len) {
            Ok(key) => c.by_static_key(&PresentedKey::new(key)),
            Err(_) => Err(Error::StoreUnavailable),
        })
    }
}

/// `apisig_lookup_by_pin` over a store.
///
/// # Safety
/// As [`answer`]; `fingerprint` 32 readable bytes.
unsafe extern "C" fn by_pin(context: *mut c_void, kind: u32, fingerprint: *const u8, out: *mut apisig_keyring) -> u32 {
    // SAFETY: as in `by_id`.
    unsafe {
        answer(context, out, |c| {
            let kind = PinKind::from_code(kind).ok_or(Error::StoreUnavailable)?;
            let fingerprint: &[u8; PIN_LEN] =
                in_bytes(fingerprint, PIN_LEN).ok().and_then(|f| f.try_into().ok()).ok_or(Error::StoreUnavailable)?;
            c.by_pin(kind, fingerprint)
        })
    }
}

/// `apisig_lookup_advance_nonce` over a store: APEX nonce marks are kept in the database, so
/// every worker sees the same mark.
///
/// # Safety
/// `context` as in [`answer`]; `(id, id_len)` readable.
unsafe extern "C" fn advance_nonce(context: *mut c_void, id: *const u8, id_len: usize, nonce: u64) -> u32 {
    REFUSAL.set(None);
    let run = || {
        // SAFETY: as in `answer`.
        let (s, id) = unsafe { (open(context.cast::<apisig_store>()), in_bytes(id, id_len)) };
        let (Ok(s), Ok(id)) = (s, id) else { return APISIG_LOOKUP_UNAVAILABLE };
        let Ok(id) = core::str::from_utf8(id) else { return APISIG_LOOKUP_NOT_FOUND };
        let mut cache: &CachedStore = &s.cache;
        match cache.advance_nonce(id, nonce) {
            Ok(()) => APISIG_LOOKUP_FOUND,
            Err(Error::ReplayedRequest) => APISIG_LOOKUP_REPLAYED,
            Err(Error::UnknownKey) => APISIG_LOOKUP_NOT_FOUND,
            Err(_) => APISIG_LOOKUP_UNAVAILABLE,
        }
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or(APISIG_LOOKUP_UNAVAILABLE)
}

#[cfg(test)]
mod tests {
    use apisig::client::Slot;

    use super::*;

    #[test]
    fn every_store_error_has_its_code() {
        let slot = Slot::Primary.name();
        let cases = [
            (StoreError::Unavailable("down".into()), Error::StoreUnavailable),
            (StoreError::Corrupt("bad".into()), Error::StoreUnavailable),
            (StoreError::Random("none".into()), Error::StoreUnavailable),
            (StoreError::MasterKeyMissing("unset".into()), Error::InvalidMasterKey),
            (StoreError::InvalidMasterKey("short".into()), Error::InvalidMasterKey),
            (StoreError::WrongMasterKey { store: "a".into(), given: "b".into() }, Error::WrongMasterKey),
            (StoreError::InvalidUrl("mysql://".into()), Error::InvalidStoreUrl),
            (StoreError::InvalidInput("a b".into()), Error::InvalidHeaderValue),
            (StoreError::NoSuchClient("c".into()), Error::UnknownKey),
            (StoreError::NoSuchKey { client: "c".into(), slot }, Error::UnknownKey),
            (StoreError::ClientExists("c".into()), Error::DuplicateKeyId),
            (StoreError::SlotOccupied { client: "c".into(), slot }, Error::DuplicateKeyId),
            (StoreError::Core(Error::InvalidKeyFormat), Error::InvalidKeyFormat),
        ];
        for (e, want) in cases {
            assert_eq!(code(&e), want, "{e}");
        }
    }

    #[test]
    fn role_names_are_listed_in_order() {
        let names = |v: &[&str]| Ok(v.iter().map(|n| String::from(*n)).collect::<Vec<_>>());
        assert_eq!(role_names(" reader, admin "), names(&["reader", "admin"]));
        assert_eq!(role_names(""), names(&[]));
        assert_eq!(role_names("reader,,admin"), Err(Error::InvalidPattern.into()));
        assert_eq!(role_names(&["r"; 256].join(",")).map(|n| n.len()), Ok(256));
        assert_eq!(role_names(&["r"; 257].join(",")), Err(Error::FieldTooLong.into()));
    }
}
