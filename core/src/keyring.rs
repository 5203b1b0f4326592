//! Registered clients, in fixed capacity. Static keys and secrets are kept only as SHA-256
//! digests plus a precomputed HMAC state — never in clear — and are zeroized on drop.

use core::fmt;

use subtle::{Choice, ConditionallySelectable};
use zeroize::Zeroize;

use crate::mac::{Chain, MacKey, Prefixed, ct_eq, digest};
use crate::names::{Named, named};
use crate::pin::{PIN_LEN, Pin, PinKind};
use crate::policy::RoleId;
use crate::{Error, headers};

/// Longest key id (or label) a client may have.
pub const KEY_ID_MAX: usize = 64;
/// Longest user id that can be bound to a key.
pub const USER_ID_MAX: usize = 64;

named! {
    /// Which of a client's two keys or secrets matched.
    #[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
    pub enum Slot {
        /// The current key.
        Primary = 0, "primary";
        /// The other live key, for zero-downtime rotation (ZignSec keeps two).
        Secondary = 1, "secondary";
    }
}

impl Slot {
    const fn index(self) -> usize {
        match self {
            Slot::Primary => 0,
            Slot::Secondary => 1,
        }
    }
}

/// A client's position in its keyring (0, 1, …, in the order they were added), as returned by
/// [`Keyring::add`]. Stable: clients are revoked, never moved. It is not the client's id: that
/// is its key id string, [`Client::id`].
#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
pub struct ClientIndex(pub u32);

/// A key or secret: its digest (to match static keys and clear secrets) and its keyed HMAC
/// state (to check signatures) with that state after the whole blocks of the client's key id
/// (Aevo's messages start with it: a 64-byte id is a block hashed here once, not per request).
#[derive(Clone)]
pub(crate) struct Secret {
    digest: [u8; 32],
    pub(crate) mac: Prefixed<Chain>,
}

impl Secret {
    fn new(secret: &[u8], id: &str) -> Result<Secret, Error> {
        Ok(Secret { mac: Prefixed::after_blocks(MacKey::new(secret)?, id.as_bytes()), digest: digest(secret) })
    }

    fn matches(&self, presented_digest: &[u8; 32]) -> Choice {
        ct_eq(&self.digest, presented_digest)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.digest.zeroize();
    }
}

/// One registered client.
#[derive(Clone)]
pub struct Client {
    id: heapless::String<KEY_ID_MAX>,
    role: Option<RoleId>,
    user_id: Option<heapless::String<USER_ID_MAX>>,
    slots: [Option<Secret>; 2],
    pins: [Option<Pin>; 2],
    pub(crate) last_nonce: Option<u64>,
}

impl Client {
    /// The key id (for signed and key-and-secret schemes) or label (for static keys).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The client's role, if it has one.
    pub fn role(&self) -> Option<RoleId> {
        self.role
    }

    /// The user id bound to the key (APEX).
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Whether the client has a key in `slot`.
    pub fn has(&self, slot: Slot) -> bool {
        self.slots.get(slot.index()).is_some_and(Option::is_some)
    }

    /// The client's certificate pin in `slot`.
    pub fn pin(&self, slot: Slot) -> Option<Pin> {
        self.pins.get(slot.index()).copied().flatten()
    }

    pub(crate) fn pins(&self) -> impl Iterator<Item = (Slot, &Pin)> {
        Slot::ALL.iter().copied().zip(self.pins.iter()).filter_map(|(s, p)| p.as_ref().map(|p| (s, p)))
    }

    pub(crate) fn secrets(&self) -> impl Iterator<Item = (Slot, &Secret)> {
        Slot::ALL.iter().copied().zip(self.slots.iter()).filter_map(|(s, x)| x.as_ref().map(|x| (s, x)))
    }

    /// Compares a presented secret with both slots, in constant time.
    pub(crate) fn match_secret(&self, presented: &[u8]) -> Option<Slot> {
        let d = digest(presented);
        let mut found = Choice::from(0);
        let mut slot = 0u8;
        for (s, secret) in self.secrets() {
            let eq = secret.matches(&d);
            slot.conditional_assign(&(s.index() as u8), eq);
            found |= eq;
        }
        bool::from(found).then_some(if slot == 0 { Slot::Primary } else { Slot::Secondary })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id.as_str())
            .field("role", &self.role)
            .field("user_id", &self.user_id.as_deref())
            .field("primary", &self.has(Slot::Primary))
            .field("secondary", &self.has(Slot::Secondary))
            .finish_non_exhaustive()
    }
}

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

/// Up to `N` registered clients.
///
/// Looking a client up by key id costs the same at any size (a hash index over the ids);
/// so does the duplicate check when a key or secret is registered (an index over their
/// digests). Matching a presented static key still compares it with every registered digest:
/// that comparison must not reveal which, or whether a near, key exists.
///
/// ```
/// use apisig::{keyring::{Keyring, Slot}};
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
}

impl<const N: usize> Default for Keyring<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Keyring<N> {
    /// An empty keyring.
    pub const fn new() -> Self {
        Keyring { clients: heapless::Vec::new(), by_id: Index::EMPTY, by_secret: [Index::EMPTY, Index::EMPTY] }
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
        if id.is_empty() {
            return Err(Error::InvalidHeaderValue);
        }
        headers::check_value(id.as_bytes())?;
        let id = heapless::String::try_from(id).map_err(|_| Error::FieldTooLong)?;
        let secret = Secret::new(secret, &id)?;
        if self.find(id.as_bytes()).is_some() || self.holds(&secret.digest) {
            return Err(Error::DuplicateKeyId);
        }
        let i = self.clients.len();
        let n = u32::try_from(i).map_err(|_| Error::KeyringFull)?;
        let (id_key, secret_key) = (id_hash(id.as_bytes()), digest_hash(&secret.digest));
        let client =
            Client { id, role: None, user_id: None, slots: [Some(secret), None], pins: [None, None], last_nonce: None };
        self.clients.push(client).map_err(|_| Error::KeyringFull)?;
        self.by_id.insert(id_key, i);
        if let Some(index) = self.by_secret.get_mut(Slot::Primary.index()) {
            index.insert(secret_key, i);
        }
        Ok(ClientIndex(n))
    }

    /// Sets or (with `None`) removes the key in `slot`. Removing both revokes the client.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a bad id, [`Error::EmptySecret`], [`Error::DuplicateKeyId`]
    /// when another slot already holds this secret.
    pub fn set_secret(&mut self, client: ClientIndex, slot: Slot, secret: Option<&[u8]>) -> Result<(), Error> {
        // The client's id, if it exists (an unknown client is refused below, after the checks
        // of the secret itself).
        let id = usize::try_from(client.0).ok().and_then(|i| self.clients.get(i)).map(|c| c.id.clone());
        let secret = secret.map(|s| Secret::new(s, id.as_deref().unwrap_or_default())).transpose()?;
        if secret.as_ref().is_some_and(|s| self.holds(&s.digest)) {
            return Err(Error::DuplicateKeyId);
        }
        let i = usize::try_from(client.0).map_err(|_| Error::UnknownKey)?;
        let c = self.clients.get_mut(i).ok_or(Error::UnknownKey)?;
        let (Some(s), Some(index)) = (c.slots.get_mut(slot.index()), self.by_secret.get_mut(slot.index())) else {
            return Ok(());
        };
        if let Some(old) = s.as_ref() {
            index.remove(digest_hash(&old.digest), i);
        }
        if let Some(new) = secret.as_ref() {
            index.insert(digest_hash(&new.digest), i);
        }
        *s = secret;
        Ok(())
    }

    /// Pins (or with `None` unpins) a client certificate in `slot`: a TLS peer presenting a
    /// certificate with this fingerprint is this client (see
    /// [`Verifier::verify_certificate`](crate::Verifier::verify_certificate)).
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a bad id.
    pub fn set_pin(&mut self, client: ClientIndex, slot: Slot, pin: Option<Pin>) -> Result<(), Error> {
        if let Some(p) = self.client_mut(client)?.pins.get_mut(slot.index()) {
            *p = pin;
        }
        Ok(())
    }

    /// Gives the client a role (or none).
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a bad id.
    pub fn set_role(&mut self, client: ClientIndex, role: Option<RoleId>) -> Result<(), Error> {
        self.client_mut(client)?.role = role;
        Ok(())
    }

    /// Binds a user id to the client's key (APEX): a request naming another user id is
    /// refused, so digits cannot shift between `Nonce` and `UserId`.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a bad id, [`Error::InvalidHeaderValue`] for an empty or
    /// unsendable user id, [`Error::FieldTooLong`] past [`USER_ID_MAX`].
    pub fn bind_user_id(&mut self, client: ClientIndex, user_id: &str) -> Result<(), Error> {
        if user_id.is_empty() {
            return Err(Error::InvalidHeaderValue);
        }
        headers::check_value(user_id.as_bytes())?;
        let user_id = heapless::String::try_from(user_id).map_err(|_| Error::FieldTooLong)?;
        self.client_mut(client)?.user_id = Some(user_id);
        Ok(())
    }

    /// The client with this id.
    pub fn get(&self, client: ClientIndex) -> Option<&Client> {
        self.clients.get(usize::try_from(client.0).ok()?)
    }

    pub(crate) fn client_mut(&mut self, client: ClientIndex) -> Result<&mut Client, Error> {
        let i = usize::try_from(client.0).map_err(|_| Error::UnknownKey)?;
        self.clients.get_mut(i).ok_or(Error::UnknownKey)
    }

    /// The client whose key id is `key_id`. Key ids are public, so this may exit early; it
    /// costs the same at any number of clients.
    pub fn find(&self, key_id: &[u8]) -> Option<ClientIndex> {
        let i = self
            .by_id
            .chain(id_hash(key_id))
            .find(|&i| self.clients.get(i).is_some_and(|c| c.id.as_bytes() == key_id))?;
        u32::try_from(i).ok().map(ClientIndex)
    }

    /// The client and slot whose static key is `presented`. The presented key's digest is
    /// compared with every registered digest, in constant time, with no early exit.
    pub(crate) fn match_static_key(&self, presented: &[u8]) -> Option<(ClientIndex, Slot)> {
        let d = digest(presented);
        let mut found = Choice::from(0);
        let mut index = 0u32;
        let mut slot = 0u8;
        for (i, c) in self.clients.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            for (s, secret) in c.secrets() {
                let eq = secret.matches(&d);
                index.conditional_assign(&i, eq);
                slot.conditional_assign(&(s.index() as u8), eq);
                found |= eq;
            }
        }
        let slot = if slot == 0 { Slot::Primary } else { Slot::Secondary };
        bool::from(found).then_some((ClientIndex(index), slot))
    }

    /// The client and slot pinned to a certificate whose fingerprints are `cert` (of the
    /// whole certificate) and `spki` (of its public key). Every pin is compared, in constant
    /// time, with no early exit.
    pub(crate) fn match_pin(&self, cert: &[u8; PIN_LEN], spki: &[u8; PIN_LEN]) -> Option<(ClientIndex, Slot)> {
        let mut found = Choice::from(0);
        let mut index = 0u32;
        let mut slot = 0u8;
        for (id, c) in self.iter() {
            for (s, pin) in c.pins() {
                let presented = match pin.kind {
                    PinKind::Certificate => cert,
                    PinKind::PublicKey => spki,
                };
                let eq = ct_eq(&pin.fingerprint, presented);
                index.conditional_assign(&id.0, eq);
                slot.conditional_assign(&(s.index() as u8), eq);
                found |= eq;
            }
        }
        let slot = if slot == 0 { Slot::Primary } else { Slot::Secondary };
        bool::from(found).then_some((ClientIndex(index), slot))
    }

    /// Whether any slot of any client holds the secret with digest `d`. Only the clients in
    /// the digest's buckets are looked at (so registering stays flat as the keyring grows),
    /// and each of those is compared without early exit: only the answer is revealed, not
    /// which client holds it. The bucket is derived from a SHA-256 digest of the secret; how
    /// many registered secrets share it says nothing useful about them, and the answer itself
    /// (a duplicate or not) is returned to the caller anyway.
    fn holds(&self, d: &[u8; 32]) -> bool {
        let mut found = Choice::from(0);
        for (slot, index) in Slot::ALL.iter().copied().zip(self.by_secret.iter()) {
            for i in index.chain(digest_hash(d)) {
                let secret = self.clients.get(i).and_then(|c| c.slots.get(slot.index())).and_then(Option::as_ref);
                if let Some(s) = secret {
                    found |= s.matches(d);
                }
            }
        }
        bool::from(found)
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
        assert_eq!(ring.add(&"k".repeat(KEY_ID_MAX + 1), b"x").err(), Some(Error::FieldTooLong));
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
