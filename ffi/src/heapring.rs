//! Host builds (feature `std`): a keyring on the heap whose capacity the caller chooses at
//! run time (`apisig_keyring_new_with_capacity`, `apisig_verifier_new_with_capacity`). The
//! same C calls manage it as the fixed keyring; lookups go through hash maps (constant cost
//! whatever the number of clients). Firmware builds keep the fixed keyring, no heap.

extern crate std;

use std::collections::HashMap;
use std::string::String;
use std::vec::Vec;

use apisig::Error;
use apisig::client::{Client, Slot};
use apisig::names::Named;
use apisig::pin::{PIN_LEN, PinKind};
use apisig::store::{ClientStore, PresentedKey};

use crate::keyring::CRing;

const SLOTS: [Slot; 2] = [Slot::Primary, Slot::Secondary];

/// Registered clients, in registration order, and their indexes.
#[derive(Default)]
pub(crate) struct HeapRing {
    capacity: usize,
    clients: Vec<Client>,
    by_id: HashMap<String, usize>,
    /// By the digest of either slot's key.
    by_key: HashMap<[u8; 32], usize>,
    /// By (pin kind, fingerprint) of either slot's pin.
    by_pin: HashMap<(u32, [u8; PIN_LEN]), usize>,
    /// Each client's nonce high-water mark (nonce-only schemes), by position.
    nonces: Vec<Option<u64>>,
}

fn keys(c: &Client) -> impl Iterator<Item = [u8; 32]> + '_ {
    SLOTS.into_iter().filter_map(|s| c.key_digest(s))
}

fn pins(c: &Client) -> impl Iterator<Item = (u32, [u8; PIN_LEN])> + '_ {
    SLOTS.into_iter().filter_map(|s| c.pin(s)).map(|p| (p.kind.code(), p.fingerprint))
}

impl HeapRing {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        HeapRing { capacity, ..HeapRing::default() }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// `DuplicateKeyId` when a key or pin of `c` is another client's (or both its slots').
    fn check_unique(&self, c: &Client, me: Option<usize>) -> Result<(), Error> {
        let other = |at: Option<&usize>| at.is_some_and(|&j| Some(j) != me);
        let k: Vec<_> = keys(c).collect();
        let p: Vec<_> = pins(c).collect();
        if k.windows(2).any(|w| w.first() == w.get(1))
            || p.windows(2).any(|w| w.first() == w.get(1))
            || k.iter().any(|d| other(self.by_key.get(d)))
            || p.iter().any(|d| other(self.by_pin.get(d)))
        {
            return Err(Error::DuplicateKeyId);
        }
        Ok(())
    }

    fn link(&mut self, i: usize) {
        if let Some(c) = self.clients.get(i) {
            self.by_key.extend(keys(c).map(|d| (d, i)));
            self.by_pin.extend(pins(c).map(|d| (d, i)));
        }
    }

    fn unlink(&mut self, i: usize) {
        if let Some(c) = self.clients.get(i) {
            keys(c).for_each(|d| _ = self.by_key.remove(&d));
            pins(c).for_each(|d| _ = self.by_pin.remove(&d));
        }
    }
}

impl CRing for HeapRing {
    fn insert(&mut self, client: Client) -> Result<(), Error> {
        if self.by_id.contains_key(client.id()) {
            return Err(Error::DuplicateKeyId);
        }
        if self.clients.len() >= self.capacity {
            return Err(Error::KeyringFull);
        }
        self.check_unique(&client, None)?;
        let i = self.clients.len();
        self.by_id.insert(client.id().into(), i);
        self.clients.push(client);
        self.nonces.push(None);
        self.link(i);
        Ok(())
    }

    fn update(&mut self, id: &str, change: &mut dyn FnMut(&mut Client) -> Result<(), Error>) -> Result<(), Error> {
        let i = *self.by_id.get(id).ok_or(Error::UnknownKey)?;
        let mut client = self.clients.get(i).ok_or(Error::UnknownKey)?.clone();
        change(&mut client)?;
        self.check_unique(&client, Some(i))?;
        self.unlink(i);
        if let Some(c) = self.clients.get_mut(i) {
            *c = client;
        }
        self.link(i);
        Ok(())
    }

    fn nth(&self, n: usize) -> Option<&Client> {
        self.clients.get(n)
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    fn len(&self) -> usize {
        self.clients.len()
    }

    fn clear(&mut self) {
        *self = HeapRing::with_capacity(self.capacity);
    }
}

impl ClientStore for HeapRing {
    type Found<'a> = &'a Client;

    fn by_id(&self, id: &[u8]) -> Result<Option<&Client>, Error> {
        let i = core::str::from_utf8(id).ok().and_then(|id| self.by_id.get(id));
        Ok(i.and_then(|&i| self.clients.get(i)))
    }

    fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<&Client>, Error> {
        Ok(self.by_key.get(key.digest()).and_then(|&i| self.clients.get(i)))
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<&Client>, Error> {
        Ok(self.by_pin.get(&(kind.code(), *fingerprint)).and_then(|&i| self.clients.get(i)))
    }

    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        self.clients.iter().for_each(f);
        Ok(())
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        let i = *self.by_id.get(id).ok_or(Error::UnknownKey)?;
        let mark = self.nonces.get_mut(i).ok_or(Error::UnknownKey)?;
        if mark.is_some_and(|last| nonce <= last) {
            return Err(Error::ReplayedRequest);
        }
        *mark = Some(nonce);
        Ok(())
    }
}
