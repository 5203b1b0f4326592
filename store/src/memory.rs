//! The in-memory store without a capacity ceiling: clients registered from code or loaded at
//! start-up, found through hash maps by id, by static-key digest and by pin.

use std::collections::HashMap;
use std::sync::Arc;

use apisig::Error;
use apisig::client::{Client, Slot};
use apisig::names::Named;
use apisig::pin::{PIN_LEN, PinKind};
use apisig::store::{ClientStore, key_digest};

use crate::KeyFormat;

/// A client as the store keeps it, with its APEX nonce mark.
#[derive(Clone, Debug)]
struct Held {
    client: Arc<Client>,
    last_nonce: Option<u64>,
}

/// Clients in memory, as many as memory holds: a hash map by id, one by the SHA-256 digest of
/// each slot's key (static keys are found by the digest of the presented key, at the same cost
/// whatever the number of clients), one by certificate pin. Clients are shared as
/// `Arc<Client>`, so a lookup copies no key material.
///
/// With a [`KeyFormat`] ([`with_key_format`](Self::with_key_format)), a presented static key
/// that claims the format (starts with its prefix) is checked before the lookup: a typo is
/// refused with [`Error::InvalidKeyFormat`]. Keys in other formats are looked up as they are.
///
/// ```
/// use apisig::client::{Client, Slot};
/// use apisig::store::ClientStore;
/// use apisig_store::MemoryStore;
/// let mut store = MemoryStore::new();
/// let mut c = Client::new("signius-client")?;
/// c.set_secret(Slot::Primary, Some(b"SIGNIUS-STATIC-KEY"))?;
/// store.insert(c)?;
/// assert_eq!(store.by_static_key(b"SIGNIUS-STATIC-KEY")?.map(|c| c.id().to_owned()).as_deref(), Some("signius-client"));
/// # Ok::<(), apisig::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    by_id: HashMap<Box<str>, Held>,
    by_digest: HashMap<[u8; 32], Box<str>>,
    by_pin: HashMap<(PinKind, [u8; PIN_LEN]), Box<str>>,
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
        if self.by_id.contains_key(client.id()) {
            return Err(Error::DuplicateKeyId);
        }
        let digests: Vec<[u8; 32]> = Slot::ALL.iter().filter_map(|s| client.key_digest(*s)).collect();
        let pins: Vec<(PinKind, [u8; PIN_LEN])> =
            Slot::ALL.iter().filter_map(|s| client.pin(*s)).map(|p| (p.kind, p.fingerprint)).collect();
        if digests.iter().any(|d| self.by_digest.contains_key(d)) || pins.iter().any(|p| self.by_pin.contains_key(p)) {
            return Err(Error::DuplicateKeyId);
        }
        let id: Box<str> = client.id().into();
        for d in digests {
            self.by_digest.insert(d, id.clone());
        }
        for p in pins {
            self.by_pin.insert(p, id.clone());
        }
        self.by_id.insert(id, Held { client: Arc::new(client), last_nonce: None });
        Ok(())
    }

    /// Replaces the client of the same id (its keys, pins, status, …: a rotation, a
    /// revocation), or adds it; its APEX nonce mark is kept.
    ///
    /// # Errors
    /// [`Error::DuplicateKeyId`] when one of its keys or pins belongs to another client;
    /// nothing changes.
    pub fn upsert(&mut self, client: Client) -> Result<(), Error> {
        let id: Box<str> = client.id().into();
        let other = |owner: Option<&Box<str>>| owner.is_some_and(|o| *o != id);
        let taken = Slot::ALL.iter().filter_map(|s| client.key_digest(*s)).any(|d| other(self.by_digest.get(&d)))
            || Slot::ALL
                .iter()
                .filter_map(|s| client.pin(*s))
                .any(|p| other(self.by_pin.get(&(p.kind, p.fingerprint))));
        if taken {
            return Err(Error::DuplicateKeyId);
        }
        let last_nonce = self.remove_held(&id).and_then(|h| h.last_nonce);
        // Cannot fail: the id is free and no other client holds its keys or pins.
        self.insert(client)?;
        if let Some(h) = self.by_id.get_mut(&id) {
            h.last_nonce = last_nonce;
        }
        Ok(())
    }

    /// Removes the client with this id; the removed client, if there was one.
    pub fn remove(&mut self, id: &str) -> Option<Arc<Client>> {
        self.remove_held(id).map(|h| h.client)
    }

    fn remove_held(&mut self, id: &str) -> Option<Held> {
        let held = self.by_id.remove(id)?;
        for &s in Slot::ALL {
            if let Some(d) = held.client.key_digest(s) {
                self.by_digest.remove(&d);
            }
            if let Some(p) = held.client.pin(s) {
                self.by_pin.remove(&(p.kind, p.fingerprint));
            }
        }
        Some(held)
    }

    /// The client with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Client>> {
        self.by_id.get(id).map(|h| &h.client)
    }

    /// How many clients the store holds.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the store holds no client.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn client(&self, id: Option<&str>) -> Option<Arc<Client>> {
        id.and_then(|id| self.by_id.get(id)).map(|h| Arc::clone(&h.client))
    }
}

/// The store as a verifier's: every lookup in constant expected time.
impl ClientStore for MemoryStore {
    type Found<'a> = Arc<Client>;

    fn by_id(&self, id: &[u8]) -> Result<Option<Arc<Client>>, Error> {
        Ok(core::str::from_utf8(id).ok().and_then(|id| self.client(Some(id))))
    }

    fn by_static_key(&self, key: &[u8]) -> Result<Option<Arc<Client>>, Error> {
        if let Some(format) = self.format.as_ref().filter(|f| f.claims(key)) {
            format.check(core::str::from_utf8(key).map_err(|_| Error::InvalidKeyFormat)?)?;
        }
        Ok(self.client(self.by_digest.get(&key_digest(key)).map(|id| &**id)))
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<Arc<Client>>, Error> {
        Ok(self.client(self.by_pin.get(&(kind, *fingerprint)).map(|id| &**id)))
    }

    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        self.by_id.values().for_each(|h| f(&h.client));
        Ok(())
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        let held = self.by_id.get_mut(id).ok_or(Error::UnknownKey)?;
        if held.last_nonce.is_some_and(|last| nonce <= last) {
            return Err(Error::ReplayedRequest);
        }
        held.last_nonce = Some(nonce);
        Ok(())
    }
}
