//! The DRAM floor of a client lookup, for `benches/stores.rs` and `examples/store_misses.rs`:
//! a bare hash map from a client's id (held in the table, as the store's id set holds it in
//! the client) or its static key's digest to a boxed block of [`Client`]'s size, and a read of
//! the cache lines a verification needs at the least: the table's control bytes, its entry and
//! the block, one after the other. What
//! any store holding its clients on the heap pays per request when requests come from
//! clients spread over all of them: it grows from 64 clients to a million by the cost of
//! missing the caches and the TLB, which no store can avoid. apisig's growth is compared with
//! this growth, measured in the same run with the same access pattern.

#![allow(clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(dead_code)]

use std::collections::HashMap;
use std::hint::black_box;

use apisig::client::Client;

/// The size of a client as the stores hold it.
pub const CLIENT: usize = size_of::<Client>();

/// Cache lines a verification reads of its client at the least: for an HMAC signature the
/// client's id (up to 64 bytes) and the slot's paused HMAC state (outer key and chaining
/// value, 72 bytes) with its status, expiry and revocation; for a static key the id and the
/// slot's digest with the same flags.
pub const HMAC_LINES: usize = 3;
/// See [`HMAC_LINES`].
pub const STATIC_LINES: usize = 2;

type Block = Box<[u8; CLIENT]>;

/// An id in the table itself, zero-padded (ids are at most 64 bytes, without NUL).
type Id = [u8; apisig::client::KEY_ID_MAX];

fn id(text: &str) -> Id {
    let mut id = [0u8; apisig::client::KEY_ID_MAX];
    id.iter_mut().zip(text.as_bytes()).for_each(|(d, s)| *d = *s);
    id
}

/// `n` blocks by id (`client-i`, even i, as the stores' HMAC clients) and by digest (of
/// `key-i`, odd i, as their static keys), with foldhash as the stores hash.
pub struct Floor {
    by_id: HashMap<Id, Block, foldhash::fast::RandomState>,
    by_digest: HashMap<[u8; 32], Block, foldhash::fast::RandomState>,
}

impl Floor {
    /// The floor of `n` clients.
    pub fn new(n: usize) -> Floor {
        let mut f = Floor { by_id: HashMap::default(), by_digest: HashMap::default() };
        for i in 0..n {
            // Zeros: every lookup answers 0, which the next one depends on (see `touch`).
            let block = Box::new([0u8; CLIENT]);
            if i % 2 == 0 {
                f.by_id.insert(id(&format!("client-{i}")), block);
            } else {
                f.by_digest.insert(apisig::store::key_digest(format!("key-{i}").as_bytes()), block);
            }
        }
        f
    }

    /// Looks `id` up and reads [`HMAC_LINES`] lines of its block.
    #[inline(never)]
    pub fn by_id(&self, id: &str) -> u64 {
        touch(self.by_id.get(&self::id(id)).expect("registered"), HMAC_LINES)
    }

    /// Hashes `key`, looks its digest up and reads [`STATIC_LINES`] lines of its block.
    #[inline(never)]
    pub fn by_key(&self, key: &[u8]) -> u64 {
        let d = apisig::store::key_digest(key);
        touch(self.by_digest.get(&d).expect("registered"), STATIC_LINES)
    }
}

/// Reads one byte of each of the first `lines` cache lines of `block`: their sum, 0, which
/// the caller adds to the position of its next probe. The lookups are thereby serialized as
/// verifications are (each one long enough that the processor cannot overlap the next one's
/// misses with it); independent lookups in a loop would overlap theirs and measure less
/// than one request's latency.
fn touch(block: &[u8; CLIENT], lines: usize) -> u64 {
    (0..lines).map(|l| u64::from(black_box(block)[l * 64])).sum()
}

/// Looks each of `probes` up in turn (by id, or as static keys), each lookup's position
/// depending on the previous one's answer (0).
#[inline(never)]
pub fn run(floor: &Floor, by_id: bool, probes: &[String]) -> u64 {
    let mut prev = 0u64;
    for k in 0..probes.len() {
        let p = &probes[k + prev as usize];
        prev = if by_id { floor.by_id(p) } else { floor.by_key(p.as_bytes()) };
    }
    prev
}
