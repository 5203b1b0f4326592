//! Replay protection: a record of the requests accepted inside the window.
//!
//! [`ReplayStore`] is the interface the verifier uses. The in-memory implementation works on
//! any slice of [`ReplayEntry`] — a `static` array in firmware, a heap slice sized at run time
//! on a host — and [`ReplayCache`] is that slice in fixed-size storage of its own. A shared
//! store (Redis, for servers with several workers) implements the same trait.

use crate::{Error, UnixNanos};

/// Length of a replay identifier: the first 16 bytes of the request's signature.
pub const REPLAY_ID_LEN: usize = 16;

/// How many consecutive slots, from an id's home slot, may hold its record. Each home slot
/// keeps a bitmap of which of them hold records that started there, so a lookup reads only
/// those (one or two slots, at any capacity) and an insertion reads up to the first slot that
/// is not live. The price is that a neighbourhood can fill before the whole cache does, so
/// size the cache for about three times the requests you expect inside one window.
/// (Simulated with uniform ids: with half the slots live, about one insertion in 20,000 finds
/// all its slots live and fails closed; with a third live, none in 400,000.)
pub const PROBE: usize = 32;

/// Where the verifier records accepted requests. Each record belongs to a client, named by
/// its key id (the same in every process: what a shared store keys on).
pub trait ReplayStore {
    /// Records `(key_id, id)` as seen until `expires`, or refuses it.
    ///
    /// # Errors
    /// [`Error::ReplayedRequest`] when a live record of `(key_id, id)` exists;
    /// [`Error::ReplayCacheFull`] when there is no room for a new record (fail closed: never
    /// evict a live one). Nothing is recorded on error.
    fn check_and_insert(
        &mut self,
        key_id: &str,
        id: &[u8; REPLAY_ID_LEN],
        expires: UnixNanos,
        now: UnixNanos,
    ) -> Result<(), Error>;

    /// Records `nonce` as the newest accepted for the client `key_id`, or refuses it (schemes
    /// whose nonce is a growing counter, like APEX). The verifier first advances the mark its
    /// [`ClientStore`](crate::store::ClientStore) keeps and calls this only for a nonce above
    /// it; a store shared by several processes overrides this to enforce the same across them.
    ///
    /// # Errors
    /// [`Error::ReplayedRequest`] when `nonce` is not above the shared high-water mark;
    /// [`Error::ReplayStoreUnavailable`] when the store cannot say. Nothing is recorded on
    /// error.
    fn advance_nonce(&mut self, key_id: &str, nonce: u64) -> Result<(), Error> {
        let _ = (key_id, nonce);
        Ok(())
    }
}

/// One slot of the in-memory replay record. Opaque; start from [`ReplayEntry::EMPTY`].
#[derive(Copy, Clone)]
pub struct ReplayEntry {
    id: [u8; REPLAY_ID_LEN],
    client: u32,
    /// Bit `k`: the slot `k` places after this one holds a record whose home is this slot
    /// (possibly expired since). A property of the slot, not of the record in it.
    hops: u32,
    /// Last moment the record is live; 0 marks an empty slot.
    expires: UnixNanos,
}

impl ReplayEntry {
    /// A free slot.
    pub const EMPTY: ReplayEntry = ReplayEntry { id: [0; REPLAY_ID_LEN], client: 0, hops: 0, expires: 0 };

    /// The first eight bytes of an id, as a word.
    fn head_of(id: &[u8; REPLAY_ID_LEN]) -> u64 {
        id.first_chunk::<8>().map_or(0, |h| u64::from_le_bytes(*h))
    }

    fn head(&self) -> u64 {
        Self::head_of(&self.id)
    }

    fn live(&self, now: UnixNanos) -> bool {
        self.expires != 0 && self.expires >= now
    }
}

impl core::fmt::Debug for ReplayEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ReplayEntry(..)")
    }
}

impl<S: ReplayStore + ?Sized> ReplayStore for &mut S {
    fn check_and_insert(
        &mut self,
        key_id: &str,
        id: &[u8; REPLAY_ID_LEN],
        expires: UnixNanos,
        now: UnixNanos,
    ) -> Result<(), Error> {
        (**self).check_and_insert(key_id, id, expires, now)
    }

    fn advance_nonce(&mut self, key_id: &str, nonce: u64) -> Result<(), Error> {
        (**self).advance_nonce(key_id, nonce)
    }
}

/// The home slot of an id whose first eight bytes are `head`, in `n` slots. Ids are MAC tags,
/// uniformly distributed, so those bytes are a fine hash, mapped onto `0..n` by a multiply and
/// a shift (a division costs ten times more where `n` is only known at run time).
fn home(head: u64, n: usize) -> usize {
    usize::try_from(u128::from(head).wrapping_mul(n as u128).wrapping_shr(64)).unwrap_or(0)
}

/// The slot `k` places after `home`, wrapping round the end of `n` slots (`home < n`, `k <= n`).
fn after(home: usize, k: usize, n: usize) -> usize {
    let i = home.wrapping_add(k);
    if i >= n { i.wrapping_sub(n) } else { i }
}

/// The in-memory record: open addressing over the slice, an id's record within [`PROBE`]
/// slots of its home (hopscotch style: the home's bitmap says where). Expired records are
/// reused; when every slot an id may use is live, insertion fails closed.
impl ReplayStore for [ReplayEntry] {
    /// Keyed by a 32-bit hash of the client's key id beside the 128-bit request id: two
    /// clients' records collide only if their ids' hashes and the accepted signatures' first
    /// 16 bytes both do.
    fn check_and_insert(
        &mut self,
        key_id: &str,
        id: &[u8; REPLAY_ID_LEN],
        expires: UnixNanos,
        now: UnixNanos,
    ) -> Result<(), Error> {
        let client = client_hash(key_id);
        let n = self.len();
        let head = ReplayEntry::head_of(id);
        let home_at = home(head, n);
        // Records that started at this home, live or expired since. The id's first eight
        // bytes settle nearly every one (another id shares them once in 2^64), and the
        // comparisons are folded without branching: the client is the verifier's match. The
        // ids are accepted signatures, public (tests/ct/README.md).
        let mut hops = self.get(home_at).map_or(0, |e| e.hops);
        let mut seen = false;
        while hops != 0 {
            let k = hops.trailing_zeros() as usize;
            hops &= hops.wrapping_sub(1);
            if let Some(e) = self.get(after(home_at, k, n)) {
                seen |= e.live(now) & (e.head() == head) & (e.client == client) & (e.id == *id);
            }
        }
        if seen {
            return Err(Error::ReplayedRequest);
        }
        // The first slot from home whose record (if any) is no longer live.
        let k = (0..PROBE.min(n))
            .find(|&k| self.get(after(home_at, k, n)).is_some_and(|e| !e.live(now)))
            .ok_or(Error::ReplayCacheFull)?;
        let at = after(home_at, k, n);
        // The expired record there leaves its own home's bitmap.
        if let Some(old) = self.get(at).filter(|e| e.expires != 0).copied() {
            let old_home = home(old.head(), n);
            let distance =
                if at >= old_home { at.wrapping_sub(old_home) } else { at.wrapping_add(n).wrapping_sub(old_home) };
            if let Some(e) = self.get_mut(old_home) {
                e.hops &= !1u32.checked_shl(u32::try_from(distance).unwrap_or(u32::MAX)).unwrap_or(0);
            }
        }
        if let Some(slot) = self.get_mut(at) {
            *slot = ReplayEntry { id: *id, client, hops: slot.hops, expires: expires.max(1) };
        }
        if let Some(e) = self.get_mut(home_at) {
            e.hops |= 1u32.checked_shl(u32::try_from(k).unwrap_or(u32::MAX)).unwrap_or(0);
        }
        Ok(())
    }
}

/// The 32 bits of a key id a record keeps.
fn client_hash(key_id: &str) -> u32 {
    let h = crate::keyring::id_hash(key_id.as_bytes());
    (h ^ (h >> 32)) as u32
}

/// How many entries of `entries` are live at `now`.
pub fn live(entries: &[ReplayEntry], now: UnixNanos) -> usize {
    entries.iter().filter(|e| e.live(now)).count()
}

/// A replay record of `N` entries in storage of its own.
#[derive(Clone)]
pub struct ReplayCache<const N: usize> {
    entries: [ReplayEntry; N],
}

impl<const N: usize> ReplayCache<N> {
    /// An empty cache.
    pub const fn new() -> Self {
        ReplayCache { entries: [ReplayEntry::EMPTY; N] }
    }

    /// The capacity, `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// How many records are live at `now`.
    pub fn live(&self, now: UnixNanos) -> usize {
        live(&self.entries, now)
    }
}

impl<const N: usize> Default for ReplayCache<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for ReplayCache<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplayCache").field("capacity", &N).finish_non_exhaustive()
    }
}

impl<const N: usize> ReplayStore for ReplayCache<N> {
    fn check_and_insert(
        &mut self,
        key_id: &str,
        id: &[u8; REPLAY_ID_LEN],
        expires: UnixNanos,
        now: UnixNanos,
    ) -> Result<(), Error> {
        self.entries.as_mut_slice().check_and_insert(key_id, id, expires, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> [u8; REPLAY_ID_LEN] {
        [n; REPLAY_ID_LEN]
    }

    #[test]
    fn refuses_duplicates_fails_closed_and_reuses_expired() {
        let mut c = ReplayCache::<2>::new();
        assert_eq!(c.check_and_insert("a", &id(1), 100, 10), Ok(()));
        assert_eq!(c.check_and_insert("a", &id(1), 100, 50), Err(Error::ReplayedRequest));
        assert_eq!(c.check_and_insert("b", &id(1), 100, 50), Ok(()), "another client's id is distinct");
        assert_eq!(c.check_and_insert("a", &id(2), 100, 50), Err(Error::ReplayCacheFull));
        assert_eq!(c.live(50), 2);
        assert_eq!(c.check_and_insert("a", &id(1), 100, 100), Err(Error::ReplayedRequest), "live through expiry");
        assert_eq!(c.check_and_insert("a", &id(2), 300, 101), Ok(()), "expired slot reused");
        assert_eq!(ReplayCache::<0>::new().check_and_insert("a", &id(1), 1, 0), Err(Error::ReplayCacheFull));
        // Any slice works the same way, e.g. storage sized at run time.
        let mut slots = [ReplayEntry::EMPTY; 3];
        let store: &mut [ReplayEntry] = &mut slots;
        assert_eq!(store.check_and_insert("a", &id(1), 100, 10), Ok(()));
        assert_eq!(store.check_and_insert("a", &id(1), 100, 10), Err(Error::ReplayedRequest));
        assert_eq!(live(&slots, 10), 1);
    }

    /// Key ids of the model's clients.
    const CLIENTS: [&str; 3] = ["a", "b", "client-c"];

    proptest::proptest! {
        /// Against a model that remembers every accepted record: a replay is refused exactly
        /// when the model holds a live record; a fresh id is accepted unless the cache is
        /// full (and then nothing is recorded). Small caches exercise wrap-around, expiry and
        /// reuse; ids sharing their first eight bytes, the comparison of the rest.
        #[test]
        fn agrees_with_a_model(cap in 1usize..80, ops in proptest::collection::vec((0u32..3, 0u8..40, 0u64..4, 1u64..50), 1..400)) {
            let mut slots = std::vec![ReplayEntry::EMPTY; cap];
            let mut model: std::collections::HashMap<(u32, u8), u64> = std::collections::HashMap::new();
            let mut now = 1u64;
            for (client, n, step, ttl) in ops {
                now = now.saturating_add(step);
                let mut id = [0u8; REPLAY_ID_LEN];
                // Ids four by four share their first eight bytes (where they start probing, and
                // what the scan compares first) and differ only in the rest.
                id.iter_mut().enumerate().for_each(|(i, b)| {
                    *b = if i < 8 { (n / 4).wrapping_mul(31).wrapping_add(i as u8) } else { n.wrapping_add(i as u8) }
                });
                let live = model.get(&(client, n)).is_some_and(|&e| e >= now);
                let got = slots.as_mut_slice().check_and_insert(CLIENTS.get(client as usize).copied().unwrap_or(""), &id, now.saturating_add(ttl), now);
                match got {
                    Err(Error::ReplayedRequest) => proptest::prop_assert!(live),
                    Ok(()) => {
                        proptest::prop_assert!(!live);
                        model.insert((client, n), now.saturating_add(ttl));
                    }
                    Err(Error::ReplayCacheFull) => proptest::prop_assert!(!live),
                    Err(other) => proptest::prop_assert!(false, "{other:?}"),
                }
                proptest::prop_assert!(homes_name_their_records(&slots), "after {got:?}");
            }
        }
    }

    /// Every record lies within PROBE slots of its home, whose bitmap has its bit.
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    fn homes_name_their_records(slots: &[ReplayEntry]) -> bool {
        let n = slots.len();
        slots.iter().enumerate().filter(|(_, e)| e.expires != 0).all(|(at, e)| {
            let h = home(e.head(), n);
            let distance = (at + n - h) % n;
            distance < PROBE && slots[h].hops & (1 << distance) != 0
        })
    }
}
