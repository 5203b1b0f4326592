//! A client store that the C server provides: lookup callbacks with a context pointer, for a
//! server that keeps its clients' keys elsewhere (its own database, table or service).
//!
//! The verifier's store is either its own keyring or such a lookup. A lookup fills the one
//! client it finds into a scratch keyring held in the verifier's storage, through the usual
//! `apisig_keyring_*` calls on the handle it is given: no heap, so it works in firmware.

use core::cell::{Ref, RefCell};
use core::ffi::c_void;
use core::mem::ManuallyDrop;
use core::ops::Deref;

use apisig::Error;
use apisig::client::Client;
use apisig::names::Named;
use apisig::pin::{PIN_LEN, PinKind};
use apisig::store::{ClientStore, PresentedKey};

use crate::keyring::{CoreKeyring, EMPTY, apisig_keyring};
use crate::storage::tag;

/// A lookup found the client and filled it in.
pub const APISIG_LOOKUP_FOUND: u32 = 0;
/// A lookup found no such client (the request is refused with `UNKNOWN_KEY`, or the
/// credential's own "not found" code).
pub const APISIG_LOOKUP_NOT_FOUND: u32 = 1;
/// The server's store could not answer: the request is refused with `STORE_UNAVAILABLE`
/// (HTTP 503), failing closed. Any number that is no `APISIG_LOOKUP_*` counts as this.
pub const APISIG_LOOKUP_UNAVAILABLE: u32 = 2;
/// `advance_nonce` only: the nonce is not above the client's mark (`REPLAYED_REQUEST`).
pub const APISIG_LOOKUP_REPLAYED: u32 = 3;

/// Finds the client whose key id (or label) is `(id, id_len)`, for signed and key-and-secret
/// schemes, bearer JWTs and session tokens. To answer `APISIG_LOOKUP_FOUND`, register that
/// one client into `out` (`apisig_keyring_add` or `apisig_keyring_add_client`, then
/// `apisig_keyring_set_*` on client 0); `out` is empty on entry and valid only during the
/// call. A client whose id is not `id` counts as not found.
pub type apisig_lookup_by_id =
    Option<unsafe extern "C" fn(context: *mut c_void, id: *const u8, id_len: usize, out: *mut apisig_keyring) -> u32>;

/// Finds the client a static key `(key, key_len)` belongs to; `digest` is its SHA-256 (32
/// bytes), what a store keeps instead of the key, computed once by the verifier (look it up
/// by `digest`; `key` is there for a server that checks its own key format first). Fill `out`
/// as for `by_id` (with the key, `apisig_keyring_add`, or its digest,
/// `apisig_keyring_set_key_digest`); the verifier compares the same digest with the client's
/// in constant time.
pub type apisig_lookup_by_static_key = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        key: *const u8,
        key_len: usize,
        digest: *const u8,
        out: *mut apisig_keyring,
    ) -> u32,
>;

/// Finds the client pinned to a certificate fingerprint (32 bytes) of `kind` (an
/// `apisig_pin_kind`). Fill `out` as for `by_id`, with the pin (`apisig_keyring_set_pin`);
/// the verifier compares it again.
pub type apisig_lookup_by_pin = Option<
    unsafe extern "C" fn(context: *mut c_void, kind: u32, fingerprint: *const u8, out: *mut apisig_keyring) -> u32,
>;

/// Nonce-only schemes (APEX): refuse `nonce` unless it is above the client's mark
/// (`APISIG_LOOKUP_REPLAYED`), else record it as the new mark (`APISIG_LOOKUP_FOUND`).
pub type apisig_lookup_advance_nonce =
    Option<unsafe extern "C" fn(context: *mut c_void, id: *const u8, id_len: usize, nonce: u64) -> u32>;

/// The callbacks of a server that keeps its clients itself (`apisig_verifier_init_with_lookup`).
/// Each gets `context` first. A NULL lookup finds nothing; a NULL `advance_nonce` refuses
/// nonce-only schemes with `UNSUPPORTED_CREDENTIAL`. Signed schemes that send no key id
/// (which would need every client) are refused with `UNSUPPORTED_CREDENTIAL`. Callbacks run
/// inside the verify call: they must not call functions on the same verifier.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_lookup {
    /// Passed to every callback as is.
    pub context: *mut c_void,
    /// By key id (see `apisig_lookup_by_id`).
    pub by_id: apisig_lookup_by_id,
    /// By static key (see `apisig_lookup_by_static_key`).
    pub by_static_key: apisig_lookup_by_static_key,
    /// By certificate pin (see `apisig_lookup_by_pin`).
    pub by_pin: apisig_lookup_by_pin,
    /// The nonce mark of nonce-only schemes (see `apisig_lookup_advance_nonce`).
    pub advance_nonce: apisig_lookup_advance_nonce,
}

/// The scratch keyring a lookup fills: laid out as `apisig_keyring` storage (tag word, then
/// the keyring), so its address is a handle the `apisig_keyring_*` functions accept.
#[repr(C)]
struct Scratch {
    tag: u64,
    ring: ManuallyDrop<CoreKeyring>,
}

impl Scratch {
    fn tag(&self) -> u64 {
        // SAFETY: a plain read of our own field; volatile because C code may have written it
        // through the handle (`apisig_keyring_wipe` clears it).
        unsafe { core::ptr::from_ref(&self.tag).read_volatile() }
    }

    /// Drops (zeroizes) what the last lookup left and makes the keyring empty and tagged.
    fn reset(&mut self) {
        if self.tag() == tag::KEYRING {
            // SAFETY: the tag says the keyring is live (a wiped one had its tag cleared).
            unsafe { ManuallyDrop::drop(&mut self.ring) };
        }
        self.ring = ManuallyDrop::new(EMPTY);
        self.tag = tag::KEYRING;
    }

    /// The one client a lookup registered.
    fn found(&self) -> Option<&Client> {
        if self.tag() != tag::KEYRING || self.ring.len() != 1 {
            return None;
        }
        self.ring.iter().next()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.tag() == tag::KEYRING {
            // SAFETY: as in `reset`; dropped once, the tag is cleared below.
            unsafe { ManuallyDrop::drop(&mut self.ring) };
            self.tag = 0;
        }
    }
}

/// A lookup as a client store.
pub(crate) struct LookupStore {
    calls: apisig_lookup,
    scratch: RefCell<Scratch>,
}

impl LookupStore {
    pub(crate) const fn new(calls: apisig_lookup) -> Self {
        LookupStore { calls, scratch: RefCell::new(Scratch { tag: 0, ring: ManuallyDrop::new(EMPTY) }) }
    }

    /// Runs one lookup `call` on an emptied scratch keyring, and gives the client it found.
    fn ask(&self, call: impl FnOnce(*mut apisig_keyring) -> Option<u32>) -> Result<Option<Ref<'_, Client>>, Error> {
        {
            // A lookup while a found client is still in use (a callback re-entering the
            // verifier) cannot be answered.
            let mut s = self.scratch.try_borrow_mut().map_err(|_| Error::StoreUnavailable)?;
            s.reset();
            match call(core::ptr::from_mut::<Scratch>(&mut s).cast::<apisig_keyring>()) {
                None | Some(APISIG_LOOKUP_NOT_FOUND) => return Ok(None),
                Some(APISIG_LOOKUP_FOUND) => {}
                Some(_) => return Err(Error::StoreUnavailable),
            }
        }
        // "Found" without exactly one client registered is a store that cannot answer.
        let found = Ref::filter_map(self.scratch.borrow(), Scratch::found).map_err(|_| Error::StoreUnavailable)?;
        Ok(Some(found))
    }

    fn by_id(&self, id: &[u8]) -> Result<Option<Ref<'_, Client>>, Error> {
        let Some(f) = self.calls.by_id else { return Ok(None) };
        // SAFETY: the C side's callback, called as its type says; `id` outlives the call.
        let found = self.ask(|out| Some(unsafe { f(self.calls.context, id.as_ptr(), id.len(), out) }))?;
        Ok(found.filter(|c| c.id().as_bytes() == id))
    }

    fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<Ref<'_, Client>>, Error> {
        let Some(f) = self.calls.by_static_key else { return Ok(None) };
        let (digest, key) = (key.digest(), key.key());
        // SAFETY: as in `by_id`.
        self.ask(|out| Some(unsafe { f(self.calls.context, key.as_ptr(), key.len(), digest.as_ptr(), out) }))
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<Ref<'_, Client>>, Error> {
        let Some(f) = self.calls.by_pin else { return Ok(None) };
        // SAFETY: as in `by_id`.
        self.ask(|out| Some(unsafe { f(self.calls.context, kind.code(), fingerprint.as_ptr(), out) }))
    }

    fn advance_nonce(&self, id: &str, nonce: u64) -> Result<(), Error> {
        let f = self.calls.advance_nonce.ok_or(Error::UnsupportedCredential)?;
        // SAFETY: as in `by_id`.
        match unsafe { f(self.calls.context, id.as_ptr(), id.len(), nonce) } {
            APISIG_LOOKUP_FOUND => Ok(()),
            APISIG_LOOKUP_NOT_FOUND => Err(Error::UnknownKey),
            APISIG_LOOKUP_REPLAYED => Err(Error::ReplayedRequest),
            _ => Err(Error::StoreUnavailable),
        }
    }
}

/// The C verifier's client store: its own keyring, or the server's lookup.
pub(crate) enum CStore {
    Ring(CoreKeyring),
    /// Host builds: a keyring with a run-time capacity.
    #[cfg(feature = "std")]
    Heap(std::boxed::Box<crate::heapring::HeapRing>),
    Lookup(LookupStore),
}

/// A client found in a [`CStore`].
pub(crate) enum Found<'a> {
    Ring(&'a Client),
    Lookup(Ref<'a, Client>),
}

impl Deref for Found<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        match self {
            Found::Ring(c) => c,
            Found::Lookup(c) => c,
        }
    }
}

impl ClientStore for CStore {
    type Found<'a> = Found<'a>;

    fn by_id(&self, id: &[u8]) -> Result<Option<Found<'_>>, Error> {
        match self {
            CStore::Ring(r) => Ok(r.by_id(id)?.map(Found::Ring)),
            #[cfg(feature = "std")]
            CStore::Heap(h) => Ok(h.by_id(id)?.map(Found::Ring)),
            CStore::Lookup(l) => Ok(l.by_id(id)?.map(Found::Lookup)),
        }
    }

    fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<Found<'_>>, Error> {
        match self {
            CStore::Ring(r) => Ok(r.by_static_key(key)?.map(Found::Ring)),
            #[cfg(feature = "std")]
            CStore::Heap(h) => Ok(h.by_static_key(key)?.map(Found::Ring)),
            CStore::Lookup(l) => Ok(l.by_static_key(key)?.map(Found::Lookup)),
        }
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<Found<'_>>, Error> {
        match self {
            CStore::Ring(r) => Ok(r.by_pin(kind, fingerprint)?.map(Found::Ring)),
            #[cfg(feature = "std")]
            CStore::Heap(h) => Ok(h.by_pin(kind, fingerprint)?.map(Found::Ring)),
            CStore::Lookup(l) => Ok(l.by_pin(kind, fingerprint)?.map(Found::Lookup)),
        }
    }

    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        match self {
            CStore::Ring(r) => r.for_each(f),
            #[cfg(feature = "std")]
            CStore::Heap(h) => h.for_each(f),
            CStore::Lookup(_) => Err(Error::UnsupportedCredential),
        }
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        match self {
            CStore::Ring(r) => r.advance_nonce(id, nonce),
            #[cfg(feature = "std")]
            CStore::Heap(h) => h.advance_nonce(id, nonce),
            CStore::Lookup(l) => l.advance_nonce(id, nonce),
        }
    }
}
