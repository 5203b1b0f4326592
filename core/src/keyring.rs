//! Registered clients, in fixed capacity. Static keys and secrets are kept only as SHA-256
//! digests plus a precomputed HMAC state — never in clear — and are zeroized on drop.

use core::fmt;

use subtle::{Choice, ConditionallySelectable};

use crate::Error;
use crate::client::{Client, Slot};
use crate::mac::{ct_eq, digest};
use crate::names::Named;
use crate::pin::{PIN_LEN, Pin, PinKind};
use crate::policy::RoleId;
use crate::store::{ClientStore, key_digest};

/// A client's position in its keyring (0, 1, …, in the order they were added), as returned by
/// [`Keyring::add`]. Stable: clients are revoked, never moved. It is not the client's id: that
/// is its key id string, [`Client::id`].
#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
pub struct ClientIndex(pub u32);

/// A chained hash index over client positions, in fixed storage: `heads[bucket]` is the
/// first client of a bucket, `next[client]` the one after it; positions are stored plus
/// one, so zero ends a chain (and an all-zero index is empty). With `N` buckets for at most
/// `N` entries, a chain is about one entry long at any capacity.
#[derive(Clone)]
struct Index<const N: usize> {
    heads: [u32; N],
    next: [u32; N],
}

impl<const N: usize> Index<N> {
    const EMPTY: Self = Index { heads: [0; N], next: [0; N] };

    fn bucket(hash: u64) -> usize {
        hash.checked_rem(N as u64).and_then(|b| usize::try_from(b).ok()).unwrap_or(0)
    }

    fn link(i: usize) -> u32 {
        u32::try_from(i).map_or(0, |i| i.saturating_add(1))
    }

    fn insert(&mut self, hash: u64, i: usize) {
        let b = Self::bucket(hash);
        if let (Some(head), Some(next)) = (self.heads.get_mut(b), self.next.get_mut(i)) {
            *next = *head;
            *head = Self::link(i);
        }
    }

    fn remove(&mut self, hash: u64, i: usize) {
        let target = Self::link(i);
        let after = self.next.get(i).copied().unwrap_or(0);
        let b = Self::bucket(hash);
        let mut cur = self.heads.get_mut(b);
        while let Some(link) = cur {
            if *link == target {
                *link = after;
                break;
            }
            let at = usize::try_from(link.wrapping_sub(1)).unwrap_or(usize::MAX);
            cur = if *link == 0 { None } else { self.next.get_mut(at) };
        }
        if let Some(n) = self.next.get_mut(i) {
            *n = 0;
        }
    }

    /// The positions in `hash`'s bucket.
    fn chain(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        let first = self.heads.get(Self::bucket(hash)).copied().unwrap_or(0);
        core::iter::successors(Some(first), |&l| self.next.get(usize::try_from(l.wrapping_sub(1)).ok()?).copied())
            .take_while(|&l| l != 0)
            .filter_map(|l| usize::try_from(l.wrapping_sub(1)).ok())
            .take(N)
    }
}

/// Bucket hash of a key id: ids are public and chosen by whoever registers clients, so a
/// fast unkeyed mix (8 bytes a step) is enough.
fn id_hash(id: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;
    let word = |w: &[u8]| w.first_chunk::<8>().map_or(0, |b| u64::from_le_bytes(*b));
    // Two lanes (even and odd words) mixed independently, so the multiplications overlap.
    let (mut a, mut b) = (K ^ id.len() as u64, K2);
    let mut pairs = id.chunks_exact(16);
    for p in &mut pairs {
        a = (a ^ word(p)).wrapping_mul(K).rotate_left(31);
        b = (b ^ word(p.get(8..).unwrap_or_default())).wrapping_mul(K2).rotate_left(29);
    }
    let rest = pairs.remainder();
    let mut tail = [0u8; 16];
    tail.iter_mut().zip(rest).for_each(|(d, s)| *d = *s);
    a = (a ^ word(&tail)).wrapping_mul(K);
    b = (b ^ word(tail.get(8..).unwrap_or_default())).wrapping_mul(K2);
    let h = a ^ b.rotate_left(17);
    h ^ (h >> 32)
}

/// Bucket hash of a secret's digest: SHA-256 output is already uniform.
fn digest_hash(d: &[u8; 32]) -> u64 {
    let mut b = [0u8; 8];
    b.iter_mut().zip(d.iter()).for_each(|(x, y)| *x = *y);
    u64::from_le_bytes(b)
}

/// Whether the key in `slot` of `c` has digest `d`, in constant time.
fn digest_eq(c: &Client, slot: Slot, d: &[u8; 32]) -> Choice {
    c.secret(slot).map_or(Choice::from(0), |s| ct_eq(&s.digest, d))
}

/// Whether the pin in `slot` of `c` is of `kind` with `fingerprint`, in constant time.
fn pin_eq(c: &Client, slot: Slot, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Choice {
    c.pin(slot).map_or(Choice::from(0), |p| Choice::from(u8::from(p.kind == kind)) & ct_eq(&p.fingerprint, fingerprint))
}

/// Up to `N` registered clients.
///
/// Looking a client up by key id costs the same at any size (a hash index over the ids);
/// so does the duplicate check when a key or secret is registered (an index over their
/// digests). Matching a presented static key still compares it with every registered digest:
/// that comparison must not reveal which, or whether a near, key exists.
///
/// ```
/// use apisig::{client::Slot, keyring::Keyring};
/// let mut ring = Keyring::<8>::new();
/// let c = ring.add("API_KEY", b"API_SECRET")?;
/// ring.set_secret(c, Slot::Secondary, Some(b"NEXT_SECRET"))?;
/// assert_eq!(ring.find(b"API_KEY"), Some(c));
/// # Ok::<(), apisig::Error>(())
/// ```
#[derive(Clone)]
pub struct Keyring<const N: usize> {
    clients: heapless::Vec<Client, N>,
    by_id: Index<N>,
    /// By the digest of the primary and of the secondary key.
    by_secret: [Index<N>; 2],
    /// By the fingerprint of the primary and of the secondary certificate pin.
    by_pin: [Index<N>; 2],
    /// Each client's nonce high-water mark (nonce-only schemes), by position.
    nonces: [Option<u64>; N],
}

impl<const N: usize> Default for Keyring<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Keyring<N> {
    /// An empty keyring.
    pub const fn new() -> Self {
        Keyring {
            clients: heapless::Vec::new(),
            by_id: Index::EMPTY,
            by_secret: [Index::EMPTY, Index::EMPTY],
            by_pin: [Index::EMPTY, Index::EMPTY],
            nonces: [None; N],
        }
    }

    /// Registers a client: `id` is its key id (or a label for a static key), `secret` its
    /// primary key or secret.
    ///
    /// # Errors
    /// [`Error::InvalidHeaderValue`] for an empty id or one that could not be sent in a
    /// header, [`Error::FieldTooLong`] past [`KEY_ID_MAX`], [`Error::EmptySecret`],
    /// [`Error::DuplicateKeyId`] when the id or the secret is already registered,
    /// [`Error::KeyringFull`]. Nothing changes on error.
    pub fn add(&mut self, id: &str, secret: &[u8]) -> Result<ClientIndex, Error> {
        let mut client = Client::new(id)?;
        client.set_secret(Slot::Primary, Some(secret))?;
        if self.find(id.as_bytes()).is_some() || client.key_digest(Slot::Primary).is_some_and(|d| self.holds(&d)) {
            return Err(Error::DuplicateKeyId);
        }
        let i = self.clients.len();
        let n = u32::try_from(i).map_err(|_| Error::KeyringFull)?;
        let id_key = id_hash(id.as_bytes());
        let secret_key = client.key_digest(Slot::Primary).map(|d| digest_hash(&d));
        self.clients.push(client).map_err(|_| Error::KeyringFull)?;
        self.by_id.insert(id_key, i);
        if let (Some(index), Some(key)) = (self.by_secret.get_mut(Slot::Primary.index()), secret_key) {
            index.insert(key, i);
        }
        Ok(ClientIndex(n))
    }

    /// Sets or (with `None`) removes the key in `slot`. Removing both revokes the client.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a bad id, [`Error::EmptySecret`], [`Error::DuplicateKeyId`]
    /// when another slot already holds this secret.
    pub fn set_secret(&mut self, client: ClientIndex, slot: Slot, secret: Option<&[u8]>) -> Result<(), Error> {
        let i = usize::try_from(client.0).map_err(|_| Error::UnknownKey)?;
        let mut new = self.clients.get(i).ok_or(Error::UnknownKey)?.clone();
        new.set_secret(slot, secret)?;
        let new_digest = new.key_digest(slot);
        if new_digest.is_some_and(|d| self.holds(&d)) {
            return Err(Error::DuplicateKeyId);
        }
        let (Some(c), Some(index)) = (self.clients.get_mut(i), self.by_secret.get_mut(slot.index())) else {
            return Err(Error::UnknownKey);
        };
        if let Some(old) = c.key_digest(slot) {
            index.remove(digest_hash(&old), i);
        }
        if let Some(d) = new_digest {
            index.insert(digest_hash(&d), i);
        }
        *c = new;
        Ok(())
    }

    /// Pins (or with `None` unpins) a client certificate in `slot`: a TLS peer presenting a
    /// certificate with this fingerprint is this client (see
    /// [`Verifier::verify_certificate`](crate::Verifier::verify_certificate)).
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a bad id, [`Error::DuplicateKeyId`] when a client is already
    /// pinned to this certificate.
    pub fn set_pin(&mut self, client: ClientIndex, slot: Slot, pin: Option<Pin>) -> Result<(), Error> {
        let i = usize::try_from(client.0).map_err(|_| Error::UnknownKey)?;
        if self.clients.get(i).is_none() {
            return Err(Error::UnknownKey);
        }
        if pin.as_ref().is_some_and(|p| self.pinned(p)) {
            return Err(Error::DuplicateKeyId);
        }
        let (Some(c), Some(index)) = (self.clients.get_mut(i), self.by_pin.get_mut(slot.index())) else {
            return Err(Error::UnknownKey);
        };
        if let Some(old) = c.pin(slot) {
            index.remove(digest_hash(&old.fingerprint), i);
        }
        if let Some(new) = pin {
            index.insert(digest_hash(&new.fingerprint), i);
        }
        c.set_pin(slot, pin);
        Ok(())
    }

    /// Gives the client a role (or none).
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a bad id.
    pub fn set_role(&mut self, client: ClientIndex, role: Option<RoleId>) -> Result<(), Error> {
        self.client_mut(client)?.set_role(role);
        Ok(())
    }

    /// Binds a user id to the client's key (APEX): a request naming another user id is
    /// refused, so digits cannot shift between `Nonce` and `UserId`.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a bad id, and as [`Client::bind_user_id`].
    pub fn bind_user_id(&mut self, client: ClientIndex, user_id: &str) -> Result<(), Error> {
        self.client_mut(client)?.bind_user_id(user_id)
    }

    /// The client with this id.
    pub fn get(&self, client: ClientIndex) -> Option<&Client> {
        self.clients.get(usize::try_from(client.0).ok()?)
    }

    pub(crate) fn client_mut(&mut self, client: ClientIndex) -> Result<&mut Client, Error> {
        let i = usize::try_from(client.0).map_err(|_| Error::UnknownKey)?;
        self.clients.get_mut(i).ok_or(Error::UnknownKey)
    }

    pub(crate) fn last_nonce_mut(&mut self, client: ClientIndex) -> Result<&mut Option<u64>, Error> {
        self.nonces.get_mut(usize::try_from(client.0).map_err(|_| Error::UnknownKey)?).ok_or(Error::UnknownKey)
    }

    /// The client whose key id is `key_id`. Key ids are public, so this may exit early; it
    /// costs the same at any number of clients.
    pub fn find(&self, key_id: &[u8]) -> Option<ClientIndex> {
        let i = self
            .by_id
            .chain(id_hash(key_id))
            .find(|&i| self.clients.get(i).is_some_and(|c| c.id().as_bytes() == key_id))?;
        u32::try_from(i).ok().map(ClientIndex)
    }

    /// The client and slot whose static key is `presented`: found through the digest index
    /// (see [`ClientStore::by_static_key`]), its slot compared in constant time.
    pub(crate) fn match_static_key(&self, presented: &[u8]) -> Option<(ClientIndex, Slot)> {
        let d = digest(presented);
        let i = self.probe(&self.by_secret, digest_hash(&d), |c, slot| digest_eq(c, slot, &d))?;
        let slot = self.clients.get(i)?.match_digest(&d)?;
        Some((ClientIndex(u32::try_from(i).ok()?), slot))
    }

    /// The client and slot pinned to a certificate whose fingerprints are `cert` (of the
    /// whole certificate) and `spki` (of its public key), through the pin index.
    pub(crate) fn match_pin(&self, cert: &[u8; PIN_LEN], spki: &[u8; PIN_LEN]) -> Option<(ClientIndex, Slot)> {
        [(PinKind::Certificate, cert), (PinKind::PublicKey, spki)].into_iter().find_map(|(kind, fp)| {
            let i = self.probe(&self.by_pin, digest_hash(fp), |c, slot| pin_eq(c, slot, kind, fp))?;
            let c = self.clients.get(i)?;
            let slot = Slot::ALL.iter().copied().find(|&s| bool::from(pin_eq(c, s, kind, fp)))?;
            Some((ClientIndex(u32::try_from(i).ok()?), slot))
        })
    }

    /// The position of the client one of whose slots satisfies `eq`, among the clients in
    /// `hash`'s bucket of each slot's index. Each candidate is compared without early exit,
    /// the answer chosen without branching on which one matched: the bucket probed depends
    /// on the digest (public knowledge of a SHA-256 output, not of the key), nothing else on
    /// the data. `tests/ct/declassify.txt` names this point.
    fn probe(&self, indexes: &[Index<N>; 2], hash: u64, eq: impl Fn(&Client, Slot) -> Choice) -> Option<usize> {
        let mut found = Choice::from(0);
        let mut at = 0u32;
        for (slot, index) in Slot::ALL.iter().copied().zip(indexes.iter()) {
            for i in index.chain(hash) {
                if let Some(c) = self.clients.get(i) {
                    let e = eq(c, slot);
                    at.conditional_assign(&u32::try_from(i).unwrap_or(u32::MAX), e);
                    found |= e;
                }
            }
        }
        bool::from(found).then(|| usize::try_from(at).ok()).flatten()
    }

    /// Whether any slot of any client holds the secret with digest `d` (through the index:
    /// registering stays flat as the keyring grows; only the answer is revealed, and it is
    /// returned to the caller anyway).
    fn holds(&self, d: &[u8; 32]) -> bool {
        self.probe(&self.by_secret, digest_hash(d), |c, slot| digest_eq(c, slot, d)).is_some()
    }

    /// Whether any slot of any client is pinned to `pin`.
    fn pinned(&self, pin: &Pin) -> bool {
        self.probe(&self.by_pin, digest_hash(&pin.fingerprint), |c, slot| pin_eq(c, slot, pin.kind, &pin.fingerprint))
            .is_some()
    }

    /// How many clients are registered.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// The capacity, `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The clients, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (ClientIndex, &Client)> {
        (0u32..).zip(self.clients.iter()).map(|(i, c)| (ClientIndex(i), c))
    }
}

/// The keyring as the verifier's store: lookups through its indexes, in fixed storage.
impl<const N: usize> ClientStore for Keyring<N> {
    type Found<'a> = &'a Client;

    fn by_id(&self, id: &[u8]) -> Result<Option<&Client>, Error> {
        Ok(self.find(id).and_then(|c| self.get(c)))
    }

    fn by_static_key(&self, key: &[u8]) -> Result<Option<&Client>, Error> {
        let d = key_digest(key);
        Ok(self
            .probe(&self.by_secret, digest_hash(&d), |c, slot| digest_eq(c, slot, &d))
            .and_then(|i| self.clients.get(i)))
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<&Client>, Error> {
        let i = self.probe(&self.by_pin, digest_hash(fingerprint), |c, slot| pin_eq(c, slot, kind, fingerprint));
        Ok(i.and_then(|i| self.clients.get(i)))
    }

    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        self.clients.iter().for_each(f);
        Ok(())
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        let client = self.find(id.as_bytes()).ok_or(Error::UnknownKey)?;
        let mark = self.last_nonce_mut(client)?;
        if mark.is_some_and(|last| nonce <= last) {
            return Err(Error::ReplayedRequest);
        }
        *mark = Some(nonce);
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Keyring<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clients.iter()).finish()
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        let mut ring = Keyring::<2>::new();
        let a = ring.add("a", b"secret-a").ok();
        assert_eq!(a, Some(ClientIndex(0)));
        assert_eq!(ring.add("a", b"other").err(), Some(Error::DuplicateKeyId));
        assert_eq!(ring.add("b", b"secret-a").err(), Some(Error::DuplicateKeyId));
        assert_eq!(ring.add("b", b"").err(), Some(Error::EmptySecret));
        assert_eq!(ring.add("", b"x").err(), Some(Error::InvalidHeaderValue));
        assert_eq!(ring.add("b\r\n", b"x").err(), Some(Error::InvalidHeaderValue));
        assert_eq!(ring.add(&"k".repeat(crate::client::KEY_ID_MAX + 1), b"x").err(), Some(Error::FieldTooLong));
        assert!(ring.add("b", b"secret-b").is_ok());
        assert_eq!(ring.add("c", b"secret-c").err(), Some(Error::KeyringFull));
        assert_eq!(ring.len(), 2);
        assert_eq!(ring.set_role(ClientIndex(7), None), Err(Error::UnknownKey));
    }

    #[test]
    fn static_match_finds_either_slot_and_debug_hides_secrets() {
        let mut ring = Keyring::<4>::new();
        let a = ring.add("a", b"key-a").unwrap_or(ClientIndex(9));
        let b = ring.add("b", b"key-b").unwrap_or(ClientIndex(9));
        assert_eq!(ring.set_secret(b, Slot::Secondary, Some(b"key-b2")), Ok(()));
        assert_eq!(ring.match_static_key(b"key-a"), Some((a, Slot::Primary)));
        assert_eq!(ring.match_static_key(b"key-b2"), Some((b, Slot::Secondary)));
        assert_eq!(ring.match_static_key(b"key-c"), None);
        assert_eq!(ring.set_secret(a, Slot::Primary, None), Ok(()));
        assert_eq!(ring.match_static_key(b"key-a"), None, "revoked");
        let shown = std::format!("{ring:?}");
        assert!(!shown.contains("key-b") && shown.contains("\"b\""), "{shown}");
    }

    proptest::proptest! {
        /// The indexes against a model (plain lists searched in full): registration,
        /// rotation and revocation, then lookups by id, duplicate refusals and static-key
        /// matches agree. Eight buckets for up to eight clients keeps chains long enough to
        /// exercise removal from their middle.
        #[test]
        fn indexes_agree_with_a_model(ops in proptest::collection::vec((0u8..3, 0u8..12, 0u8..2, 0u8..24), 1..60)) {
            let mut ring = Keyring::<8>::new();
            let mut ids: std::vec::Vec<std::string::String> = std::vec::Vec::new();
            let mut secrets: std::vec::Vec<[Option<std::vec::Vec<u8>>; 2]> = std::vec::Vec::new();
            for (op, a, slot, b) in ops {
                let secret = std::format!("secret-{b}").into_bytes();
                let held = secrets.iter().any(|s| s.iter().flatten().any(|x| *x == secret));
                match op {
                    0 => {
                        let id = std::format!("id-{a}");
                        let expected = if ids.contains(&id) || held {
                            Err(Error::DuplicateKeyId)
                        } else if ids.len() == 8 {
                            Err(Error::KeyringFull)
                        } else {
                            Ok(ClientIndex(ids.len() as u32))
                        };
                        proptest::prop_assert_eq!(ring.add(&id, &secret), expected);
                        if expected.is_ok() {
                            ids.push(id);
                            secrets.push([Some(secret), None]);
                        }
                    }
                    _ if ids.is_empty() => {}
                    1 | 2 => {
                        let c = usize::from(a) % ids.len();
                        let slot_ = if slot == 0 { Slot::Primary } else { Slot::Secondary };
                        let new = (op == 1).then_some(secret);
                        let expected = if new.is_some() && held { Err(Error::DuplicateKeyId) } else { Ok(()) };
                        proptest::prop_assert_eq!(ring.set_secret(ClientIndex(c as u32), slot_, new.as_deref()), expected);
                        if expected.is_ok() {
                            secrets[c][usize::from(slot)] = new;
                        }
                    }
                    _ => unreachable!(),
                }
                for a in 0u8..12 {
                    let id = std::format!("id-{a}");
                    let expected = ids.iter().position(|x| *x == id).map(|i| ClientIndex(i as u32));
                    proptest::prop_assert_eq!(ring.find(id.as_bytes()), expected);
                }
                for b in 0u8..24 {
                    let secret = std::format!("secret-{b}").into_bytes();
                    let expected = secrets.iter().enumerate().find_map(|(i, s)| {
                        s.iter().position(|x| x.as_deref() == Some(&secret[..])).map(|slot| {
                            (ClientIndex(i as u32), if slot == 0 { Slot::Primary } else { Slot::Secondary })
                        })
                    });
                    proptest::prop_assert_eq!(ring.match_static_key(&secret), expected);
                }
            }
        }
    }
}
