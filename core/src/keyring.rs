//! Registered clients in fixed capacity: the [`ClientStore`] of firmware (no heap), indexed by
//! key id, by key digest and by certificate pin. Keys live in the [`Client`]s, as digests and
//! precomputed HMAC states, never in clear.

use core::fmt;

use subtle::{Choice, ConditionallySelectable};

use crate::Error;
use crate::client::{Client, Slot};
use crate::mac::ct_eq;
use crate::names::Named;
use crate::pin::{PIN_LEN, Pin, PinKind};
use crate::policy::RoleId;
use crate::store::{ClientStore, PresentedKey};

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
pub(crate) fn id_hash(id: &[u8]) -> u64 {
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

/// Up to `N` registered clients, the [`ClientStore`] of firmware: no heap, fixed storage.
///
/// Every lookup costs the same at any size: by key id, by a static key's digest and by a
/// certificate pin, through hash indexes (no scan of all clients). A static key's digest
/// picks a bucket; the clients in it are compared in constant time without early exit. The
/// nonce high-water mark of nonce-only schemes is kept per client.
///
/// ```
/// use apisig::{client::Slot, keyring::Keyring};
/// let mut ring = Keyring::<8>::new();
/// ring.add("API_KEY", b"API_SECRET")?;
/// ring.update("API_KEY", |c| c.set_secret(Slot::Secondary, Some(b"NEXT_SECRET")))?;
/// assert!(ring.get("API_KEY").is_some_and(|c| c.has(Slot::Secondary)));
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

    /// Registers a client called `id` (its key id, or a label for a static key) with
    /// `secret` as its primary key or secret.
    ///
    /// # Errors
    /// As [`Client::new`], [`Client::set_secret`] and [`insert`](Self::insert).
    pub fn add(&mut self, id: &str, secret: &[u8]) -> Result<(), Error> {
        let mut client = Client::new(id)?;
        client.set_secret(Slot::Primary, Some(secret))?;
        self.insert(client)
    }

    /// Registers `client`.
    ///
    /// # Errors
    /// [`Error::DuplicateKeyId`] when its id, one of its keys or one of its pins is already
    /// registered, [`Error::KeyringFull`]. Nothing changes on error.
    pub fn insert(&mut self, client: Client) -> Result<(), Error> {
        if self.position(client.id().as_bytes()).is_some() {
            return Err(Error::DuplicateKeyId);
        }
        self.check_unique(&client, None)?;
        let i = self.clients.len();
        self.clients.push(client).map_err(|_| Error::KeyringFull)?;
        if let Some(n) = self.nonces.get_mut(i) {
            *n = None;
        }
        self.link(i);
        Ok(())
    }

    /// Changes the client called `id`: `change` edits a copy, kept only when it succeeds
    /// and no other client holds one of its keys or pins. The way to rotate, expire, revoke,
    /// disable, restrict or re-role a client.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for an unknown id, `change`'s error, [`Error::DuplicateKeyId`].
    /// Nothing changes on error.
    pub fn update(&mut self, id: &str, change: impl FnOnce(&mut Client) -> Result<(), Error>) -> Result<(), Error> {
        let i = self.position(id.as_bytes()).ok_or(Error::UnknownKey)?;
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

    /// Sets or (with `None`) removes the key in `slot` of the client called `id` (see
    /// [`update`](Self::update)).
    ///
    /// # Errors
    /// As [`update`](Self::update) and [`Client::set_secret`].
    pub fn set_secret(&mut self, id: &str, slot: Slot, secret: Option<&[u8]>) -> Result<(), Error> {
        self.update(id, |c| c.set_secret(slot, secret))
    }

    /// Pins (or with `None` unpins) a client certificate in `slot`: a TLS peer presenting a
    /// certificate with this fingerprint is this client (see
    /// [`Verifier::verify_certificate`](crate::Verifier::verify_certificate)).
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn set_pin(&mut self, id: &str, slot: Slot, pin: Option<Pin>) -> Result<(), Error> {
        self.update(id, |c| {
            c.set_pin(slot, pin);
            Ok(())
        })
    }

    /// Gives the client a role (or none).
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn set_role(&mut self, id: &str, role: Option<RoleId>) -> Result<(), Error> {
        self.update(id, |c| {
            c.set_role(role);
            Ok(())
        })
    }

    /// Binds a user id to the client's key (APEX).
    ///
    /// # Errors
    /// As [`update`](Self::update) and [`Client::bind_user_id`].
    pub fn bind_user_id(&mut self, id: &str, user_id: &str) -> Result<(), Error> {
        self.update(id, |c| c.bind_user_id(user_id))
    }

    /// The client called `id`.
    pub fn get(&self, id: &str) -> Option<&Client> {
        self.clients.get(self.position(id.as_bytes())?)
    }

    /// The position of the client whose key id is `key_id`. Key ids are public, so this may
    /// exit early; it costs the same at any number of clients.
    fn position(&self, key_id: &[u8]) -> Option<usize> {
        self.by_id.chain(id_hash(key_id)).find(|&i| self.clients.get(i).is_some_and(|c| c.id().as_bytes() == key_id))
    }

    /// Refuses `client` when another client than the one at `except` holds one of its keys
    /// or pins.
    fn check_unique(&self, client: &Client, except: Option<usize>) -> Result<(), Error> {
        let other = |i: usize| Choice::from(u8::from(Some(i) != except));
        for slot in Slot::ALL.iter().copied() {
            if let Some(d) = client.secret(slot).map(|s| &s.digest) {
                let held = self.probe(&self.by_secret, digest_hash(d), |i, c, s| other(i) & digest_eq(c, s, d));
                if held.is_some() {
                    return Err(Error::DuplicateKeyId);
                }
            }
            if let Some(p) = client.pin(slot) {
                let fp = &p.fingerprint;
                let held = self.probe(&self.by_pin, digest_hash(fp), |i, c, s| other(i) & pin_eq(c, s, p.kind, fp));
                if held.is_some() {
                    return Err(Error::DuplicateKeyId);
                }
            }
        }
        Ok(())
    }

    /// Adds the client at `i` to every index.
    fn link(&mut self, i: usize) {
        let Some(c) = self.clients.get(i) else { return };
        self.by_id.insert(id_hash(c.id().as_bytes()), i);
        for slot in Slot::ALL.iter().copied() {
            if let (Some(s), Some(index)) = (c.secret(slot), self.by_secret.get_mut(slot.index())) {
                index.insert(digest_hash(&s.digest), i);
            }
            if let (Some(p), Some(index)) = (c.pin(slot), self.by_pin.get_mut(slot.index())) {
                index.insert(digest_hash(&p.fingerprint), i);
            }
        }
    }

    /// Removes the client at `i` from every index.
    fn unlink(&mut self, i: usize) {
        let Some(c) = self.clients.get(i) else { return };
        self.by_id.remove(id_hash(c.id().as_bytes()), i);
        for slot in Slot::ALL.iter().copied() {
            if let (Some(s), Some(index)) = (c.secret(slot), self.by_secret.get_mut(slot.index())) {
                index.remove(digest_hash(&s.digest), i);
            }
            if let (Some(p), Some(index)) = (c.pin(slot), self.by_pin.get_mut(slot.index())) {
                index.remove(digest_hash(&p.fingerprint), i);
            }
        }
    }

    /// The position of the client one of whose slots satisfies `eq` (given its position,
    /// itself and the slot), among the clients in `hash`'s bucket of each slot's index. Each
    /// candidate is compared without early exit and the answer chosen without branching on
    /// which one matched: only the bucket probed depends on the data, and it is picked by a
    /// SHA-256 digest or fingerprint — which says nothing of the key (`tests/ct/declassify.txt`
    /// names this point).
    fn probe(&self, indexes: &[Index<N>; 2], hash: u64, eq: impl Fn(usize, &Client, Slot) -> Choice) -> Option<usize> {
        let mut found = Choice::from(0);
        let mut at = 0u32;
        for (slot, index) in Slot::ALL.iter().copied().zip(indexes.iter()) {
            for i in index.chain(hash) {
                if let Some(c) = self.clients.get(i) {
                    let e = eq(i, c, slot);
                    at.conditional_assign(&u32::try_from(i).unwrap_or(u32::MAX), e);
                    found |= e;
                }
            }
        }
        bool::from(found).then(|| usize::try_from(at).ok()).flatten()
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
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.clients.iter()
    }
}

/// The keyring as the verifier's store: lookups through its indexes, in fixed storage.
impl<const N: usize> ClientStore for Keyring<N> {
    type Found<'a> = &'a Client;

    fn by_id(&self, id: &[u8]) -> Result<Option<&Client>, Error> {
        Ok(self.position(id).and_then(|i| self.clients.get(i)))
    }

    fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<&Client>, Error> {
        let d = key.digest();
        let i = self.probe(&self.by_secret, digest_hash(d), |_, c, slot| digest_eq(c, slot, d));
        Ok(i.and_then(|i| self.clients.get(i)))
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<&Client>, Error> {
        let i = self.probe(&self.by_pin, digest_hash(fingerprint), |_, c, slot| pin_eq(c, slot, kind, fingerprint));
        Ok(i.and_then(|i| self.clients.get(i)))
    }

    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        self.clients.iter().for_each(f);
        Ok(())
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        let i = self.position(id.as_bytes()).ok_or(Error::UnknownKey)?;
        let mark = self.nonces.get_mut(i).ok_or(Error::UnknownKey)?;
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

    fn found(r: Result<Option<&Client>, Error>) -> Option<&str> {
        r.ok().flatten().map(Client::id)
    }

    #[test]
    fn registration_rules() {
        let mut ring = Keyring::<2>::new();
        assert_eq!(ring.add("a", b"secret-a"), Ok(()));
        assert_eq!(ring.add("a", b"other"), Err(Error::DuplicateKeyId));
        assert_eq!(ring.add("b", b"secret-a"), Err(Error::DuplicateKeyId));
        assert_eq!(ring.add("b", b""), Err(Error::EmptySecret));
        assert_eq!(ring.add("", b"x"), Err(Error::InvalidHeaderValue));
        assert_eq!(ring.add("b\r\n", b"x"), Err(Error::InvalidHeaderValue));
        assert_eq!(ring.add(&"k".repeat(crate::client::KEY_ID_MAX + 1), b"x"), Err(Error::FieldTooLong));
        // A client with no key at all: certificate-only or role-only.
        assert_eq!(ring.insert(Client::new("b").unwrap_or_else(|_| unreachable!())), Ok(()));
        assert_eq!(ring.add("c", b"secret-c"), Err(Error::KeyringFull));
        assert_eq!(ring.len(), 2);
        assert_eq!(ring.set_role("z", None), Err(Error::UnknownKey));
        assert_eq!(ring.set_secret("b", Slot::Primary, Some(b"secret-a")), Err(Error::DuplicateKeyId));
        assert_eq!(ring.set_secret("a", Slot::Secondary, Some(b"secret-a")), Err(Error::DuplicateKeyId));
        let pin = Pin { kind: PinKind::Certificate, fingerprint: [7; PIN_LEN] };
        assert_eq!(ring.set_pin("a", Slot::Primary, Some(pin)), Ok(()));
        assert_eq!(ring.set_pin("b", Slot::Secondary, Some(pin)), Err(Error::DuplicateKeyId));
        assert_eq!(ring.set_pin("a", Slot::Primary, Some(pin)), Ok(()), "the same client may set it again");
        // A failed change leaves everything as it was.
        assert_eq!(
            ring.update("a", |c| {
                c.set_role(Some(RoleId(3)));
                Err(Error::InvalidPattern)
            }),
            Err(Error::InvalidPattern)
        );
        assert_eq!(ring.get("a").and_then(Client::role), None);
    }

    #[test]
    fn lookups_find_either_slot_and_debug_hides_secrets() {
        let mut ring = Keyring::<4>::new();
        assert_eq!(ring.add("a", b"key-a"), Ok(()));
        assert_eq!(ring.add("b", b"key-b"), Ok(()));
        assert_eq!(ring.set_secret("b", Slot::Secondary, Some(b"key-b2")), Ok(()));
        assert_eq!(found(ring.by_static_key(&PresentedKey::new(b"key-a"))), Some("a"));
        assert_eq!(found(ring.by_static_key(&PresentedKey::new(b"key-b2"))), Some("b"));
        assert_eq!(found(ring.by_static_key(&PresentedKey::new(b"key-c"))), None);
        assert_eq!(ring.set_secret("a", Slot::Primary, None), Ok(()));
        assert_eq!(found(ring.by_static_key(&PresentedKey::new(b"key-a"))), None, "removed");
        // A key known only by its digest matches the same static key.
        let d = crate::store::key_digest(b"db-key");
        assert_eq!(ring.update("a", |c| c.set_key_digest(Slot::Secondary, Some(d))), Ok(()));
        assert_eq!(found(ring.by_static_key(&PresentedKey::new(b"db-key"))), Some("a"));
        let cert = [1u8; PIN_LEN];
        assert_eq!(
            ring.set_pin("b", Slot::Secondary, Some(Pin { kind: PinKind::PublicKey, fingerprint: cert })),
            Ok(())
        );
        assert_eq!(found(ring.by_pin(PinKind::PublicKey, &cert)), Some("b"));
        assert_eq!(found(ring.by_pin(PinKind::Certificate, &cert)), None, "a pin of another kind");
        assert_eq!(found(ring.by_id(b"b")), Some("b"));
        assert_eq!(found(ring.by_id(b"B")), None);
        let shown = std::format!("{ring:?}");
        assert!(!shown.contains("key-b") && shown.contains("\"b\""), "{shown}");
    }

    #[test]
    fn nonce_marks_are_per_client_and_only_rise() {
        let mut ring = Keyring::<4>::new();
        assert_eq!(ring.add("a", b"key-a"), Ok(()));
        assert_eq!(ring.add("b", b"key-b"), Ok(()));
        assert_eq!(ring.advance_nonce("a", 5), Ok(()));
        assert_eq!(ring.advance_nonce("a", 5), Err(Error::ReplayedRequest));
        assert_eq!(ring.advance_nonce("a", 4), Err(Error::ReplayedRequest));
        assert_eq!(ring.advance_nonce("b", 1), Ok(()));
        assert_eq!(ring.advance_nonce("a", 6), Ok(()));
        assert_eq!(ring.advance_nonce("c", 9), Err(Error::UnknownKey));
        // A change to the client keeps its mark.
        assert_eq!(ring.set_role("a", Some(RoleId(1))), Ok(()));
        assert_eq!(ring.advance_nonce("a", 6), Err(Error::ReplayedRequest));
    }

    proptest::proptest! {
        /// The indexes against a model (plain lists searched in full): registration,
        /// rotation, revocation and pinning, then lookups by id, by static key and by pin, and
        /// duplicate refusals, agree. Eight buckets for up to eight clients keeps chains long
        /// enough to exercise removal from their middle.
        #[test]
        fn indexes_agree_with_a_model(ops in proptest::collection::vec((0u8..5, 0u8..12, 0u8..2, 0u8..24), 1..60)) {
            let mut ring = Keyring::<8>::new();
            let mut ids: std::vec::Vec<std::string::String> = std::vec::Vec::new();
            let mut secrets: std::vec::Vec<[Option<std::vec::Vec<u8>>; 2]> = std::vec::Vec::new();
            let mut pins: std::vec::Vec<[Option<Pin>; 2]> = std::vec::Vec::new();
            let pin_of = |b: u8| Pin {
                kind: if b.is_multiple_of(2) { PinKind::Certificate } else { PinKind::PublicKey },
                fingerprint: [b / 2; PIN_LEN],
            };
            for (op, a, slot, b) in ops {
                let secret = std::format!("secret-{b}").into_bytes();
                let slot_ = if slot == 0 { Slot::Primary } else { Slot::Secondary };
                match op {
                    0 => {
                        let id = std::format!("id-{a}");
                        let held = secrets.iter().any(|s| s.iter().flatten().any(|x| *x == secret));
                        let expected = if ids.contains(&id) || held {
                            Err(Error::DuplicateKeyId)
                        } else if ids.len() == 8 {
                            Err(Error::KeyringFull)
                        } else {
                            Ok(())
                        };
                        proptest::prop_assert_eq!(ring.add(&id, &secret), expected);
                        if expected.is_ok() {
                            ids.push(id);
                            secrets.push([Some(secret), None]);
                            pins.push([None, None]);
                        }
                    }
                    _ if ids.is_empty() => {}
                    1 | 2 => {
                        let c = usize::from(a) % ids.len();
                        let new = (op == 1).then_some(secret);
                        let held = new.as_ref().is_some_and(|n| {
                            secrets.iter().enumerate().any(|(i, s)| {
                                s.iter().enumerate().any(|(k, x)| x.as_ref() == Some(n) && (i != c || k != usize::from(slot)))
                            })
                        });
                        let expected = if held { Err(Error::DuplicateKeyId) } else { Ok(()) };
                        proptest::prop_assert_eq!(ring.set_secret(&ids[c], slot_, new.as_deref()), expected);
                        if expected.is_ok() {
                            secrets[c][usize::from(slot)] = new;
                        }
                    }
                    _ => {
                        let c = usize::from(a) % ids.len();
                        let new = (op == 3).then(|| pin_of(b));
                        let held = new.is_some_and(|n| pins.iter().enumerate().any(|(i, p)| i != c && p.contains(&Some(n))));
                        let expected = if held { Err(Error::DuplicateKeyId) } else { Ok(()) };
                        proptest::prop_assert_eq!(ring.set_pin(&ids[c], slot_, new), expected);
                        if expected.is_ok() {
                            pins[c][usize::from(slot)] = new;
                        }
                    }
                }
                for a in 0u8..12 {
                    let id = std::format!("id-{a}");
                    let expected = ids.iter().find(|x| **x == id).map(std::string::String::as_str);
                    proptest::prop_assert_eq!(found(ring.by_id(id.as_bytes())), expected);
                }
                for b in 0u8..24 {
                    let secret = std::format!("secret-{b}").into_bytes();
                    let expected = secrets
                        .iter()
                        .position(|s| s.iter().any(|x| x.as_deref() == Some(&secret[..])))
                        .map(|i| ids[i].as_str());
                    proptest::prop_assert_eq!(found(ring.by_static_key(&PresentedKey::new(&secret))), expected);
                    let pin = pin_of(b);
                    let expected = pins.iter().position(|p| p.contains(&Some(pin))).map(|i| ids[i].as_str());
                    proptest::prop_assert_eq!(found(ring.by_pin(pin.kind, &pin.fingerprint)), expected);
                }
            }
        }
    }
}
