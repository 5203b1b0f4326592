//! Where the verifier finds its clients: the [`ClientStore`] interface.
//!
//! The fixed-capacity [`Keyring`](crate::keyring::Keyring) is the core's implementation (no
//! heap: firmware); stores for servers (unbounded in memory, SQLite, PostgreSQL, a cache in
//! front of them) implement the same trait outside the core. The verifier asks the store for
//! the one client a credential names and then checks that credential itself, in constant
//! time; a store only finds candidates, by public data (a key id) or by a digest.

use crate::client::Client;
use crate::pin::{PIN_LEN, PinKind};
use crate::{Error, mac};

/// The clients a [`Verifier`](crate::Verifier) knows, looked up by what a credential presents.
///
/// Every lookup answers `Ok(None)` when there is no such client, and an [`Error`] when the
/// store cannot answer ([`Error::StoreUnavailable`] for one that cannot be reached): the
/// verifier then refuses the request with that error, failing closed.
pub trait ClientStore {
    /// A found client: `&Client` for the keyring, e.g. `Arc<Client>` for a cached std store.
    type Found<'a>: core::ops::Deref<Target = Client>
    where
        Self: 'a;

    /// By key id / client name (HMAC dialects, key + secret, JWT `sub`, session key id).
    ///
    /// # Errors
    /// [`Error::StoreUnavailable`] (or another error) when the store cannot answer.
    fn by_id(&self, id: &[u8]) -> Result<Option<Self::Found<'_>>, Error>;

    /// By a presented static key, hashed once by the verifier: the store checks what it
    /// needs on [`key.key()`](PresentedKey::key) (an issued key's checksum, before any lookup)
    /// and then looks up [`key.digest()`](PresentedKey::digest) in an index of both slots'
    /// digests. The verifier compares the same digest with the found client's slots, in
    /// constant time.
    ///
    /// # Errors
    /// As [`by_id`](Self::by_id).
    fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<Self::Found<'_>>, Error>;

    /// By a certificate pin fingerprint of the given kind (either slot).
    ///
    /// # Errors
    /// As [`by_id`](Self::by_id).
    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<Self::Found<'_>>, Error>;

    /// Calls `f` with every client, for signed schemes that send no key id.
    ///
    /// # Errors
    /// [`Error::UnsupportedCredential`] from a store that cannot enumerate its clients; as
    /// [`by_id`](Self::by_id).
    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error>;

    /// The nonce high-water mark of nonce-only schemes (APEX): refuses `nonce` unless it is
    /// above the client's mark, then records it as the new mark.
    ///
    /// # Errors
    /// [`Error::ReplayedRequest`] when `nonce` is not above the mark (nothing recorded);
    /// [`Error::UnknownKey`] for an unknown client; as [`by_id`](Self::by_id).
    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error>;
}

impl<C: ClientStore + ?Sized> ClientStore for &mut C {
    type Found<'a>
        = C::Found<'a>
    where
        Self: 'a;

    fn by_id(&self, id: &[u8]) -> Result<Option<Self::Found<'_>>, Error> {
        (**self).by_id(id)
    }

    fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<Self::Found<'_>>, Error> {
        (**self).by_static_key(key)
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<Self::Found<'_>>, Error> {
        (**self).by_pin(kind, fingerprint)
    }

    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        (**self).for_each(f)
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        (**self).advance_nonce(id, nonce)
    }
}

/// A presented static key with its SHA-256 digest, computed once: a store finds the client by
/// the digest (after checking the key's own format, if it issues keys in one), and the
/// verifier compares the same digest with the found client's slots. The digest is always the
/// key's: it cannot be given apart from it.
///
/// ```
/// use apisig::store::{PresentedKey, key_digest};
/// let key = PresentedKey::new(b"static-key");
/// assert_eq!(key.key(), b"static-key");
/// assert_eq!(key.digest(), &key_digest(b"static-key"));
/// ```
#[derive(Clone, Copy)]
pub struct PresentedKey<'a> {
    key: &'a [u8],
    digest: [u8; 32],
}

impl<'a> PresentedKey<'a> {
    /// `key` and its digest ([`key_digest`]).
    pub fn new(key: &'a [u8]) -> Self {
        PresentedKey { key, digest: key_digest(key) }
    }

    /// The key as presented.
    pub fn key(&self) -> &'a [u8] {
        self.key
    }

    /// Its SHA-256 digest.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
}

/// Shows neither the key nor its digest.
impl core::fmt::Debug for PresentedKey<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PresentedKey").finish_non_exhaustive()
    }
}

/// The SHA-256 digest of a static key (or secret): what stores keep and index instead of the
/// key, and what [`Client::set_key_digest`] takes.
///
/// ```
/// use apisig::client::{Client, Slot};
/// let mut c = Client::new("label")?;
/// c.set_secret(Slot::Primary, Some(b"static-key"))?;
/// assert_eq!(c.key_digest(Slot::Primary), Some(apisig::store::key_digest(b"static-key")));
/// # Ok::<(), apisig::Error>(())
/// ```
pub fn key_digest(key: &[u8]) -> [u8; 32] {
    mac::digest(key)
}
