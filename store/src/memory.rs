//! The in-memory store without a capacity ceiling: clients registered from code or loaded at
//! start-up, found through hash tables by id, by static-key digest and by pin.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use apisig::Error;
use apisig::client::{Client, Slot};
use apisig::names::Named;
use apisig::pin::{PIN_LEN, PinKind};
use apisig::store::{ClientStore, PresentedKey};
use foldhash::fast::RandomState;

use crate::KeyFormat;

/// A client in the by-id set: hashed and compared by its id, so the set needs no copy of it.
#[derive(Clone, Debug)]
struct ById(Arc<Client>);

impl Borrow<str> for ById {
    fn borrow(&self) -> &str {
        self.0.id()
    }
}

impl Hash for ById {
    fn hash<H: Hasher>(&self, h: &mut H) {
        // As `str` hashes, so that lookups by `&str` find it.
        self.0.id().hash(h);
    }
}

impl PartialEq for ById {
    fn eq(&self, other: &ById) -> bool {
        self.0.id() == other.0.id()
    }
}

impl Eq for ById {}

/// Clients in memory, as many as memory holds: a hash set by id (the id is the client's own,
/// not a copy), a hash map by the SHA-256 digest of each slot's key (static keys are found by
/// the digest of the presented key, at the same cost whatever the number of clients) and one by
/// certificate pin, each holding the client itself (`Arc<Client>`): a lookup is one probe, and
/// copies no key material. As a verifier's store it lends the client (`&Client`): no
/// reference count is touched per request. The tables hash with foldhash (seeded per store):
/// SipHash, std's default, costs more than the probe it feeds.
///
/// With a [`KeyFormat`] ([`with_key_format`](Self::with_key_format)), a presented static key
/// that claims the format (starts with its prefix) is checked before the lookup: a typo is
/// refused with [`Error::InvalidKeyFormat`]. Keys in other formats are looked up as they are.
///
/// ```
/// use apisig::client::{Client, Slot};
/// use apisig::store::{ClientStore, PresentedKey};
/// use apisig_store::MemoryStore;
/// let mut store = MemoryStore::new();
/// let mut c = Client::new("signius-client")?;
/// c.set_secret(Slot::Primary, Some(b"SIGNIUS-STATIC-KEY"))?;
/// store.insert(c)?;
/// assert_eq!(store.by_static_key(&PresentedKey::new(b"SIGNIUS-STATIC-KEY"))?.map(|c| c.id().to_owned()).as_deref(), Some("signius-client"));
/// # Ok::<(), apisig::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    by_id: HashSet<ById, RandomState>,
    by_digest: HashMap<[u8; 32], Arc<Client>, RandomState>,
    by_pin: HashMap<(PinKind, [u8; PIN_LEN]), Arc<Client>, RandomState>,
    /// APEX nonce marks, by client id.
    nonces: HashMap<Box<str>, u64, RandomState>,
    format: Option<KeyFormat>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store that checks presented static keys claiming `format` before looking.
    pub fn with_key_format(format: KeyFormat) -> MemoryStore {
        MemoryStore { format: Some(format), ..MemoryStore::default() }
    }

    /// Adds a client.
    ///
    /// # Errors
    /// [`Error::DuplicateKeyId`] when a client with this id, or with one of its keys or pins,
    /// is already in the store; nothing changes.
    pub fn insert(&mut self, client: Client) -> Result<(), Error> {
        if self.by_id.contains(client.id()) || self.taken(&client, |_| true) {
            return Err(Error::DuplicateKeyId);
        }
        let client = Arc::new(client);
        for s in Slot::ALL {
            if let Some(d) = client.key_digest(*s) {
                self.by_digest.insert(d, Arc::clone(&client));
            }
            if let Some(p) = client.pin(*s) {
                self.by_pin.insert((p.kind, p.fingerprint), Arc::clone(&client));
            }
        }
        self.by_id.insert(ById(client));
        Ok(())
    }

    /// Whether one of `client`'s keys or pins is held by a client for which `counts` is true.
    fn taken(&self, client: &Client, counts: impl Fn(&Client) -> bool) -> bool {
        Slot::ALL.iter().any(|s| {
            client.key_digest(*s).and_then(|d| self.by_digest.get(&d)).is_some_and(|o| counts(o))
                || client.pin(*s).and_then(|p| self.by_pin.get(&(p.kind, p.fingerprint))).is_some_and(|o| counts(o))
        })
    }

    /// Replaces the client of the same id (its keys, pins, status, …: a rotation, a
    /// revocation), or adds it; its APEX nonce mark is kept.
    ///
    /// # Errors
    /// [`Error::DuplicateKeyId`] when one of its keys or pins belongs to another client;
    /// nothing changes.
    pub fn upsert(&mut self, client: Client) -> Result<(), Error> {
        let id = client.id().to_owned();
        if self.taken(&client, |o| o.id() != id) {
            return Err(Error::DuplicateKeyId);
        }
        self.unindex(&id);
        // Cannot fail: the id is free and no other client holds its keys or pins.
        self.insert(client)
    }

    /// Removes the client with this id; the removed client, if there was one.
    pub fn remove(&mut self, id: &str) -> Option<Arc<Client>> {
        self.nonces.remove(id);
        self.unindex(id)
    }

    fn unindex(&mut self, id: &str) -> Option<Arc<Client>> {
        let ById(client) = self.by_id.take(id)?;
        for s in Slot::ALL {
            if let Some(d) = client.key_digest(*s) {
                self.by_digest.remove(&d);
            }
            if let Some(p) = client.pin(*s) {
                self.by_pin.remove(&(p.kind, p.fingerprint));
            }
        }
        Some(client)
    }

    /// The client with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Client>> {
        self.by_id.get(id).map(|c| &c.0)
    }

    /// The client a presented static key belongs to ([`ClientStore::by_static_key`], shared).
    ///
    /// # Errors
    /// [`Error::InvalidKeyFormat`] for a key that claims the store's [`KeyFormat`] and fails
    /// its checksum.
    pub fn get_by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<&Arc<Client>>, Error> {
        if let Some(format) = self.format.as_ref().filter(|f| f.claims(key.key())) {
            format.check(core::str::from_utf8(key.key()).map_err(|_| Error::InvalidKeyFormat)?)?;
        }
        Ok(self.by_digest.get(key.digest()))
    }

    /// The client pinned to a certificate fingerprint of `kind` ([`ClientStore::by_pin`], shared).
    pub fn get_by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Option<&Arc<Client>> {
        self.by_pin.get(&(kind, *fingerprint))
    }

    /// How many clients the store holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the store holds no client.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The store as a verifier's: every lookup one probe of a hash table, the client lent.
impl ClientStore for MemoryStore {
    type Found<'a> = &'a Client;

    fn by_id(&self, id: &[u8]) -> Result<Option<&Client>, Error> {
        Ok(core::str::from_utf8(id).ok().and_then(|id| self.get(id)).map(|c| &**c))
    }

    fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<&Client>, Error> {
        Ok(self.get_by_static_key(key)?.map(|c| &**c))
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<&Client>, Error> {
        Ok(self.get_by_pin(kind, fingerprint).map(|c| &**c))
    }

    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        self.by_id.iter().for_each(|c| f(&c.0));
        Ok(())
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        if !self.by_id.contains(id) {
            return Err(Error::UnknownKey);
        }
        match self.nonces.get_mut(id) {
            Some(last) if nonce <= *last => Err(Error::ReplayedRequest),
            Some(last) => {
                *last = nonce;
                Ok(())
            }
            None => {
                self.nonces.insert(id.into(), nonce);
                Ok(())
            }
        }
    }
}
