//! The keyring: registered clients (key id or label, primary and secondary key or secret,
//! role, user id), in caller-owned storage.

use core::ffi::c_char;

use apisig::names::Named;
use apisig::policy::RoleId;
use apisig::{
    Error,
    client::{Client, KEY_ID_MAX, Scopes, Slot, Status},
    keyring::Keyring,
};

use crate::convert::{Res, in_bytes, in_ref, in_str, out_buf, out_ref};
#[cfg(feature = "std")]
use crate::heapring::HeapRing;
use crate::lookup::CStore;
use crate::result::apisig_result;
use crate::storage::{self, tag};
use crate::verify::{apisig_verifier, verifier};

/// Most clients a keyring in fixed storage holds (host builds choose any number at run time:
/// `apisig_keyring_new_with_capacity`).
pub const APISIG_KEYRING_CAPACITY: usize = 8;

pub(crate) type CoreKeyring = Keyring<APISIG_KEYRING_CAPACITY>;

/// An empty keyring (a constant: writing it stores only the length, no large temporary).
pub(crate) const EMPTY: CoreKeyring = CoreKeyring::new();

/// Size in bytes of `apisig_keyring`.
pub const APISIG_KEYRING_SIZE: usize = 7168;
/// Alignment in bytes of `apisig_keyring` (and every storage type).
pub const APISIG_STORAGE_ALIGN: usize = 8;

/// Storage for a keyring of up to `APISIG_KEYRING_CAPACITY` clients. Declare it anywhere
/// (static, stack, heap), call `apisig_keyring_init`, and do not copy it afterwards: pass
/// its address. Secrets are kept only as SHA-256 digests and keyed HMAC states;
/// `apisig_keyring_wipe` zeroizes them. Its first word is a tag set by
/// `apisig_keyring_init`: storage that was not initialised, was wiped or holds another type
/// gives `APISIG_RESULT_INVALID_OBJECT`.
#[repr(C)]
pub struct apisig_keyring {
    pub(crate) opaque: [u64; 896],
}
storage!(apisig_keyring, CoreKeyring, tag::KEYRING);
const _: () = assert!(core::mem::align_of::<apisig_keyring>() == APISIG_STORAGE_ALIGN);
const _: () = assert!(core::mem::size_of::<apisig_keyring>() == APISIG_KEYRING_SIZE);

/// The slot numbered `code` (an `apisig_slot`); `UNKNOWN_KEY` for a number with none.
pub(crate) fn slot(code: u32) -> Res<Slot> {
    Slot::from_code(code).ok_or(Error::UnknownKey.into())
}

pub(crate) fn slot_code(slot: Slot) -> u32 {
    slot.code()
}

/// What the keyring functions need of a keyring: the fixed one (`CoreKeyring`, no heap) or,
/// in host builds, one on the heap with a run-time capacity (`HeapRing`).
pub(crate) trait CRing {
    /// Registers `client` (see `Keyring::insert`).
    fn insert(&mut self, client: Client) -> Result<(), Error>;
    /// Changes the client called `id` (see `Keyring::update`).
    fn update(&mut self, id: &str, change: &mut dyn FnMut(&mut Client) -> Result<(), Error>) -> Result<(), Error>;
    /// The client numbered `n` (registration order).
    fn nth(&self, n: usize) -> Option<&Client>;
    /// The number of the client called `id`.
    fn position(&self, id: &str) -> Option<usize>;
    /// How many clients.
    fn len(&self) -> usize;
    /// Removes (zeroizes) every client.
    fn clear(&mut self);

    /// Registers a client called `id` with `secret` as its primary key.
    fn add(&mut self, id: &str, secret: &[u8]) -> Result<(), Error> {
        let mut client = Client::new(id)?;
        client.set_secret(Slot::Primary, Some(secret))?;
        self.insert(client)
    }
}

impl CRing for CoreKeyring {
    fn insert(&mut self, client: Client) -> Result<(), Error> {
        Keyring::insert(self, client)
    }

    fn update(&mut self, id: &str, change: &mut dyn FnMut(&mut Client) -> Result<(), Error>) -> Result<(), Error> {
        Keyring::update(self, id, change)
    }

    fn nth(&self, n: usize) -> Option<&Client> {
        self.iter().nth(n)
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.iter().position(|c| c.id() == id)
    }

    fn len(&self) -> usize {
        Keyring::len(self)
    }

    fn clear(&mut self) {
        let p: *mut CoreKeyring = self;
        // SAFETY: dropping the keyring zeroizes its secrets, then an empty one is written over
        // it (no keyring-sized temporary on the stack).
        unsafe {
            core::ptr::drop_in_place(p);
            p.write(EMPTY);
        }
    }
}

/// The key id of the client numbered `client` (the order of `apisig_keyring_add`): the C
/// face's handle for a client, a position in this keyring; the core names it by its id.
pub(crate) fn client_id(ring: &dyn CRing, client: u32) -> Res<heapless::String<KEY_ID_MAX>> {
    let c = ring.nth(usize::try_from(client).map_err(|_| Error::UnknownKey)?).ok_or(Error::UnknownKey)?;
    heapless::String::try_from(c.id()).map_err(|_| Error::FieldTooLong.into())
}

/// The number of the client called `id` in this keyring.
pub(crate) fn client_number(ring: &dyn CRing, id: &str) -> Res<u32> {
    let at = ring.position(id).ok_or(Error::UnknownKey)?;
    u32::try_from(at).map_err(|_| Error::UnknownKey.into())
}

/// Changes the client numbered `client` (see `Keyring::update`).
pub(crate) fn update(
    ring: &mut dyn CRing,
    client: u32,
    change: impl FnOnce(&mut Client) -> Result<(), Error>,
) -> Res<()> {
    let id = client_id(ring, client)?;
    let mut change = Some(change);
    Ok(ring.update(&id, &mut |c| change.take().map_or(Err(Error::UnknownKey), |f| f(c)))?)
}

/// `sizeof(apisig_keyring)`, for bindings that cannot read the macro.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_keyring_size() -> usize {
    core::mem::size_of::<apisig_keyring>()
}

/// A keyring as its storage holds it.
pub(crate) enum RingMut<'a> {
    Fixed(&'a mut CoreKeyring),
    #[cfg(feature = "std")]
    Heap(&'a mut HeapRing),
}

/// The keyring `ring` points to: a keyring's storage (fixed, or in host builds on the heap),
/// or a verifier's storage (the handle `apisig_verifier_keyring` returns), whose own keyring
/// it is.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` for storage that holds neither, or a verifier over a
/// lookup (it has no keyring).
///
/// # Safety
/// `ring` must be NULL or written storage (see `storage`), not aliased for `'a`.
pub(crate) unsafe fn ring_of<'a>(ring: *mut apisig_keyring) -> Res<RingMut<'a>> {
    // SAFETY: forwarded contract.
    match unsafe { storage::tag_of(ring) }? {
        // SAFETY: as above; the tag says it is a verifier's storage.
        tag::VERIFIER => match unsafe { verifier(ring.cast::<apisig_verifier>()) }?.store_mut() {
            CStore::Ring(r) => Ok(RingMut::Fixed(r)),
            #[cfg(feature = "std")]
            CStore::Heap(h) => Ok(RingMut::Heap(h)),
            CStore::Lookup(_) => Err(apisig_result::InvalidObject),
        },
        // SAFETY: as above.
        #[cfg(feature = "std")]
        tag::HEAP_KEYRING => unsafe { storage::get(ring.cast::<HeapKeyring>()) }.map(|h| RingMut::Heap(h)),
        // SAFETY: as above.
        _ => unsafe { storage::get(ring) }.map(RingMut::Fixed),
    }
}

/// As [`ring_of`], for the keyring functions.
///
/// # Errors
/// As [`ring_of`].
///
/// # Safety
/// As [`ring_of`].
pub(crate) unsafe fn ring<'a>(ring: *mut apisig_keyring) -> Res<&'a mut dyn CRing> {
    // SAFETY: forwarded contract.
    Ok(match unsafe { ring_of(ring) }? {
        RingMut::Fixed(r) => r,
        #[cfg(feature = "std")]
        RingMut::Heap(h) => h,
    })
}

/// The storage of a keyring on the heap (host builds): `apisig_keyring` storage holding a
/// pointer to it, under its own tag.
#[cfg(feature = "std")]
#[repr(transparent)]
pub(crate) struct HeapKeyring(pub(crate) apisig_keyring);
#[cfg(feature = "std")]
storage!(HeapKeyring, std::boxed::Box<HeapRing>, tag::HEAP_KEYRING);

/// Makes `*ring` an empty keyring and sets its tag. The storage's previous contents are not
/// read (it may be uninitialised): call `apisig_keyring_wipe` first to zeroize a keyring that
/// held secrets.
///
/// # Errors
/// `NULL_PARAMETER` when `ring` is NULL or not aligned to `APISIG_STORAGE_ALIGN`.
///
/// # Safety
/// `ring` must point to writable storage of `APISIG_KEYRING_SIZE` bytes. Every other
/// function that takes a keyring reads its tag first, so it must get written storage:
/// initialized by this function, or any bytes at all (zeroed, wiped, garbage, another
/// object), which give `INVALID_OBJECT` — never uninitialised memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_init(ring: *mut apisig_keyring) -> apisig_result {
    // SAFETY: the caller guarantees the storage.
    ffi_boundary! { unsafe { storage::init(ring, EMPTY) } }
}

/// Zeroizes every secret in `*ring` and clears its tag: the storage is no longer a keyring
/// (calls other than `apisig_keyring_init` give `INVALID_OBJECT`). Call it before the
/// storage goes out of scope. On a verifier's keyring (from `apisig_verifier_keyring`) it
/// removes every client and the verifier stays usable.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT` (also for a keyring already wiped).
///
/// # Safety
/// `ring` must be NULL or point to written storage (see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_wipe(ring: *mut apisig_keyring) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees written storage.
        match unsafe { storage::tag_of(ring) }? {
            // SAFETY: as above; dropping the keyring zeroizes its secrets.
            tag::KEYRING => unsafe { storage::wipe(ring) },
            // SAFETY: as above.
            #[cfg(feature = "std")]
            tag::HEAP_KEYRING => unsafe { storage::wipe(ring.cast::<HeapKeyring>()) },
            // A verifier's keyring: emptied, the verifier stays.
            _ => {
                // SAFETY: as above.
                unsafe { self::ring(ring) }?.clear();
                Ok(())
            }
        }
    }
}

/// Registers a client: `id` is its key id (signed and key-and-secret schemes) or a label
/// (static keys); `secret` its primary key or secret. `*client` gets its number (stable:
/// clients are never moved), written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `INVALID_HEADER_VALUE` for an empty or unsendable id (or
/// one not UTF-8); `FIELD_TOO_LONG` past 64 bytes; `EMPTY_SECRET`; `DUPLICATE_KEY_ID` when the
/// id or the secret is already registered; `KEYRING_FULL`. Nothing changes on error.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`); `(id, id_len)`
/// and `(secret, secret_len)` to readable bytes; `client` to a writable `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_add(
    ring: *mut apisig_keyring,
    id: *const c_char,
    id_len: usize,
    secret: *const u8,
    secret_len: usize,
    client: *mut u32,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (ring, id, secret, client) = unsafe {
            (
                self::ring(ring)?,
                in_str(id, id_len, Error::InvalidHeaderValue)?,
                in_bytes(secret, secret_len)?,
                out_ref(client)?,
            )
        };
        ring.add(id, secret)?;
        *client = client_number(ring, id)?;
        Ok(())
    }
}

/// Sets the key or secret in `slot` (an `apisig_slot`) of `client`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client or slot; `EMPTY_SECRET`;
/// `DUPLICATE_KEY_ID` when another slot already holds this secret.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`), `(secret,
/// secret_len)` to readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_secret(
    ring: *mut apisig_keyring,
    client: u32,
    slot: u32,
    secret: *const u8,
    secret_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (ring, secret) = unsafe { (self::ring(ring)?, in_bytes(secret, secret_len)?) };
        let slot = self::slot(slot)?;
        update(ring, client, |c| c.set_secret(slot, Some(secret)))
    }
}

/// Sets the SHA-256 digest (32 bytes) of a static key in `slot` (an `apisig_slot`) of
/// `client`: what a store keeps instead of the key. The slot then matches that static key
/// (compared in constant time) but cannot check signatures.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client or slot;
/// `DUPLICATE_KEY_ID` when another slot already holds this key.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`), `digest` to
/// 32 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_key_digest(
    ring: *mut apisig_keyring,
    client: u32,
    slot: u32,
    digest: *const u8,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (ring, digest) = unsafe { (self::ring(ring)?, in_ref(digest.cast::<[u8; 32]>())?) };
        let slot = self::slot(slot)?;
        update(ring, client, |c| c.set_key_digest(slot, Some(*digest)))
    }
}

/// Removes the key in `slot` of `client` (its secret state is zeroized). Removing both slots
/// revokes the client.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client or slot.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_remove_secret(
    ring: *mut apisig_keyring,
    client: u32,
    slot: u32,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `ring`.
        let ring = unsafe { self::ring(ring) }?;
        let slot = self::slot(slot)?;
        update(ring, client, |c| c.set_secret(slot, None))
    }
}

/// Gives `client` the role `role` (an index into a role table, e.g. from
/// `apisig_securosys_role`).
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_role(ring: *mut apisig_keyring, client: u32, role: u8) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `ring`.
        let ring = unsafe { self::ring(ring) }?;
        update(ring, client, |c| {
            c.set_role(Some(RoleId(role)));
            Ok(())
        })
    }
}

/// Takes `client`'s role away.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_clear_role(ring: *mut apisig_keyring, client: u32) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `ring`.
        let ring = unsafe { self::ring(ring) }?;
        update(ring, client, |c| {
            c.set_role(None);
            Ok(())
        })
    }
}

/// Gives `client` the scopes `scopes` (per-key permissions, replacing its own): bit `i` is
/// the server's scope `i`. Its principals carry them; check a request's with
/// `apisig_scopes_authorize`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_scopes(
    ring: *mut apisig_keyring,
    client: u32,
    scopes: u64,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `ring`.
        let ring = unsafe { self::ring(ring) }?;
        update(ring, client, |c| {
            c.set_scopes(Scopes(scopes));
            Ok(())
        })
    }
}

/// Binds a user id to `client`'s key (APEX): a request naming another user id is refused.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY`; `INVALID_HEADER_VALUE` for an empty or
/// unsendable user id; `FIELD_TOO_LONG` past 64 bytes.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`), `(user_id,
/// user_id_len)` to readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_bind_user_id(
    ring: *mut apisig_keyring,
    client: u32,
    user_id: *const c_char,
    user_id_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (ring, user_id) =
            unsafe { (self::ring(ring)?, in_str(user_id, user_id_len, Error::InvalidHeaderValue)?) };
        update(ring, client, |c| c.bind_user_id(user_id))
    }
}

/// Finds the client whose key id is `key_id`; `*client` is written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` when none has it.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`), `(key_id,
/// key_id_len)` to readable bytes, `client` to a writable `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_find(
    ring: *mut apisig_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    client: *mut u32,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (ring, key_id, client) =
            unsafe { (self::ring(ring)?, in_bytes(key_id.cast::<u8>(), key_id_len)?, out_ref(client)?) };
        *client = client_number(ring, core::str::from_utf8(key_id).map_err(|_| Error::UnknownKey)?)?;
        Ok(())
    }
}

/// Number of registered clients; 0 when `ring` is NULL or not a keyring.
///
/// # Safety
/// `ring` must be NULL or point to written storage (see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_len(ring: *mut apisig_keyring) -> usize {
    // SAFETY: the caller guarantees `ring`.
    ffi_value!(0, unsafe { self::ring(ring) }.map(|r| r.len()).unwrap_or(0))
}

/// Writes `client`'s key id (or label), not NUL-terminated, into `(out, out_cap)` and its
/// length into `*out_len`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY`; `BUFFER_TOO_SMALL` with `*out_len` set to
/// the length needed (at most 64).
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`); `out` to
/// `out_cap` writable bytes (or NULL with `out_cap == 0`); `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_client_id(
    ring: *mut apisig_keyring,
    client: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (ring, out) = unsafe { (self::ring(ring)?, out_buf(out, out_cap, out_len)?) };
        out.put(client_id(ring, client)?.as_bytes())
    }
}

/// Registers a client with no key: one that authenticates only by a certificate pin
/// (`apisig_keyring_set_pin`) or a bearer JWT naming it. `*client` gets its number, written
/// only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `INVALID_HEADER_VALUE`; `FIELD_TOO_LONG`;
/// `DUPLICATE_KEY_ID`; `KEYRING_FULL`. Nothing changes on error.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`); `(id, id_len)`
/// to readable bytes; `client` to a writable `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_add_client(
    ring: *mut apisig_keyring,
    id: *const c_char,
    id_len: usize,
    client: *mut u32,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (ring, id, client) =
            unsafe { (self::ring(ring)?, in_str(id, id_len, Error::InvalidHeaderValue)?, out_ref(client)?) };
        ring.insert(Client::new(id)?)?;
        *client = client_number(ring, id)?;
        Ok(())
    }
}

/// Sets `client`'s status (an `apisig_client_status`): a disabled or revoked client is
/// refused whatever credential it presents (`CLIENT_DISABLED`, `CLIENT_REVOKED`).
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client; `INVALID_TEMPLATE` for
/// a number that is no status.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_status(
    ring: *mut apisig_keyring,
    client: u32,
    status: u32,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `ring`.
        let ring = unsafe { self::ring(ring) }?;
        let status = Status::from_code(status).ok_or(Error::InvalidTemplate)?;
        update(ring, client, |c| {
            c.set_status(status);
            Ok(())
        })
    }
}

/// Sets when the key and pin in `slot` of `client` stop working (nanoseconds since the UNIX
/// epoch; refused from then on with `KEY_EXPIRED`), or with 0 that they do not expire.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client or slot.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_expiry(
    ring: *mut apisig_keyring,
    client: u32,
    slot: u32,
    expires_ns: u64,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `ring`.
        let ring = unsafe { self::ring(ring) }?;
        let slot = self::slot(slot)?;
        update(ring, client, |c| {
            c.set_expiry(slot, (expires_ns != 0).then_some(expires_ns));
            Ok(())
        })
    }
}

/// Revokes (`revoked` nonzero) or reinstates the key and pin in `slot` of `client`
/// (`KEY_REVOKED`); the other slot keeps working.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client or slot.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_key_revoked(
    ring: *mut apisig_keyring,
    client: u32,
    slot: u32,
    revoked: u8,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `ring`.
        let ring = unsafe { self::ring(ring) }?;
        let slot = self::slot(slot)?;
        update(ring, client, |c| {
            c.set_key_revoked(slot, revoked != 0);
            Ok(())
        })
    }
}
