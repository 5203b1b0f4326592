//! Replay claims: the verifier's replay record handed to a store shared by several processes.
//!
//! A server with several worker processes (or machines) needs one replay record for all of
//! them, kept in a network store such as Redis. Asking that store from inside
//! [`Verifier::verify`](crate::Verifier::verify) would hold the verifier across a network
//! round trip, so the verifier is given a [`Deferred`] store instead: it accepts every record
//! and remembers it as a [`Claim`]. After verifying, the caller takes the claim and makes it
//! good in the shared store (`SET key NX PX ttl` in Redis); the request is accepted only if
//! that succeeds. The claim names everything the shared store needs — a key derived from the
//! client's key id (not its index, which differs between processes), the expiry, the nonce —
//! so every process asks the same question of the store.
//!
//! ```
//! use apisig::claim::{Claim, Deferred};
//! use apisig::{Keyring, Verifier, Window};
//!
//! let mut v = Verifier::new(Keyring::<4>::new(), Deferred::new(), Window::from_secs(30));
//! // ... v.verify(&scheme, &request, now)? ...
//! if let Some(claim) = v.replay_mut().take() {
//!     let key = claim.key(b"client-key-id"); // SET hex(key) NX PX claim.ttl_ms()
//!     # let _ = key;
//! }
//! ```

use sha2::{Digest, Sha256};

use crate::replay::{REPLAY_ID_LEN, ReplayStore};
use crate::{Error, UnixNanos};

/// Length of a claim's key in the shared store (a SHA-256 digest; hex-encode it for Redis).
pub const CLAIM_KEY_LEN: usize = 32;

/// Domain separation for [`Claim::key`]: no other hash of the same bytes collides with it.
const KEY_DOMAIN: &[u8] = b"apisig replay claim v1\0";

/// What a verified request asks of the shared replay record.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Record the request until `expires`; refuse it if a live record exists (schemes with
    /// a timestamp: the id is the first bytes of the signature).
    Once {
        /// The client's index in the verifier's keyring (local to this process).
        client: u32,
        /// The replay id: the first [`REPLAY_ID_LEN`] bytes of the request's signature.
        id: [u8; REPLAY_ID_LEN],
        /// Last moment the record must be kept (the timestamp plus the window's tolerance).
        expires: UnixNanos,
        /// The verification time.
        now: UnixNanos,
    },
    /// Raise the client's nonce high-water mark to `nonce`; refuse unless `nonce` is above
    /// it (schemes whose nonce is a growing counter, like APEX).
    Nonce {
        /// The client's index in the verifier's keyring (local to this process).
        client: u32,
        /// The request's nonce.
        nonce: u64,
    },
}

impl Claim {
    /// The client's index in the verifier's keyring (map it to the key id with
    /// [`Keyring::get`](crate::Keyring::get)).
    pub const fn client(&self) -> u32 {
        match *self {
            Claim::Once { client, .. } | Claim::Nonce { client, .. } => client,
        }
    }

    /// The key this claim is stored under, for the client whose key id is `key_id`: SHA-256
    /// over a domain tag, the kind, the length-prefixed key id and (for [`Claim::Once`]) the
    /// replay id. No signature is stored in clear, and every process derives the same key.
    pub fn key(&self, key_id: &[u8]) -> [u8; CLAIM_KEY_LEN] {
        let mut h = Sha256::new();
        h.update(KEY_DOMAIN);
        let (kind, id): (u8, &[u8]) = match self {
            Claim::Once { id, .. } => (b'o', id),
            Claim::Nonce { .. } => (b'n', &[]),
        };
        h.update([kind]);
        h.update((key_id.len() as u64).to_be_bytes());
        h.update(key_id);
        h.update(id);
        h.finalize().into()
    }

    /// How long the record must be kept, in milliseconds rounded up (at least 1);
    /// `None` for a nonce high-water mark, which is kept for good.
    pub fn ttl_ms(&self) -> Option<u64> {
        match *self {
            Claim::Once { expires, now, .. } => {
                let ns = expires.saturating_sub(now);
                Some(ns.div_ceil(1_000_000).max(1))
            }
            Claim::Nonce { .. } => None,
        }
    }

    /// The nonce of a [`Claim::Nonce`].
    pub const fn nonce(&self) -> Option<u64> {
        match *self {
            Claim::Nonce { nonce, .. } => Some(nonce),
            Claim::Once { .. } => None,
        }
    }
}

/// A [`ReplayStore`] that decides nothing: it accepts every record and keeps it as the
/// [`Claim`] for the caller to make good in a shared store. [`take`](Self::take) it after
/// each verification (and before the next: a claim left over is overwritten).
#[derive(Clone, Debug, Default)]
pub struct Deferred {
    claim: Option<Claim>,
}

impl Deferred {
    /// A store holding no claim.
    pub const fn new() -> Self {
        Deferred { claim: None }
    }

    /// The claim of the last verification, if it made one; leaves none behind.
    pub fn take(&mut self) -> Option<Claim> {
        self.claim.take()
    }
}

impl ReplayStore for Deferred {
    fn check_and_insert(
        &mut self,
        client: u32,
        id: &[u8; REPLAY_ID_LEN],
        expires: UnixNanos,
        now: UnixNanos,
    ) -> Result<(), Error> {
        self.claim = Some(Claim::Once { client, id: *id, expires, now });
        Ok(())
    }

    fn advance_nonce(&mut self, client: u32, nonce: u64) -> Result<(), Error> {
        self.claim = Some(Claim::Nonce { client, nonce });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_key_id_kind_and_id_only() {
        let once = |client, id: u8, expires| Claim::Once { client, id: [id; REPLAY_ID_LEN], expires, now: 1 };
        // The index and the expiry are local facts: two processes must agree on the key.
        assert_eq!(once(0, 7, 10).key(b"k"), once(5, 7, 99).key(b"k"));
        assert_ne!(once(0, 7, 10).key(b"k"), once(0, 8, 10).key(b"k"));
        assert_ne!(once(0, 7, 10).key(b"k"), once(0, 7, 10).key(b"k2"));
        let nonce = |client, nonce| Claim::Nonce { client, nonce };
        assert_eq!(nonce(0, 1).key(b"k"), nonce(3, 2).key(b"k"));
        assert_ne!(nonce(0, 1).key(b"k"), once(0, 0, 1).key(b"k"));
        // Length prefix: "ab" ‖ id never equals "a" ‖ "b"-prefixed id.
        let mut id = [0u8; REPLAY_ID_LEN];
        id[0] = b'b';
        let shifted = Claim::Once { client: 0, id, expires: 1, now: 1 };
        assert_ne!(once(0, 0, 1).key(b"ab"), shifted.key(b"a"));
    }

    #[test]
    fn key_is_sha256_of_the_documented_layout() {
        // Oracle: Python's hashlib over the layout written out by hand,
        // sha256(b"apisig replay claim v1\0" + b"o" + (3).to_bytes(8, "big") + b"key" + b"\x5a" * 16).
        let hex = |k: [u8; CLAIM_KEY_LEN]| {
            let mut out = [0u8; 64];
            let _ = base16ct::lower::encode(&k, &mut out);
            out
        };
        let once = Claim::Once { client: 9, id: [0x5a; REPLAY_ID_LEN], expires: 5, now: 1 };
        assert_eq!(&hex(once.key(b"key")), b"012fbe1acdb312ddc56ce3b3199c40fbc3a377461b58289ec0dab659b588f1c2");
        let nonce = Claim::Nonce { client: 9, nonce: 5 };
        assert_eq!(&hex(nonce.key(b"key")), b"ecdf48b02f86a713d6b2cac7da5fd1a5d5acd4e9cce1fc3266f29cb5cd04f8df");
    }

    #[test]
    fn ttl_rounds_up_to_whole_milliseconds() {
        let ttl = |expires, now| Claim::Once { client: 0, id: [0; REPLAY_ID_LEN], expires, now }.ttl_ms();
        assert_eq!(ttl(1_000_000_000, 0), Some(1000));
        assert_eq!(ttl(1_000_000_001, 0), Some(1001));
        assert_eq!(ttl(5, 5), Some(1));
        assert_eq!(ttl(5, 9), Some(1));
        assert_eq!(Claim::Nonce { client: 0, nonce: 3 }.ttl_ms(), None);
    }

    #[test]
    fn deferred_keeps_the_last_claim_once() {
        let mut d = Deferred::new();
        assert_eq!(d.take(), None);
        assert_eq!(d.check_and_insert(1, &[2; REPLAY_ID_LEN], 30, 10), Ok(()));
        assert_eq!(d.take(), Some(Claim::Once { client: 1, id: [2; REPLAY_ID_LEN], expires: 30, now: 10 }));
        assert_eq!(d.advance_nonce(4, 77), Ok(()));
        assert_eq!(d.take(), Some(Claim::Nonce { client: 4, nonce: 77 }));
        assert_eq!(d.take(), None);
    }
}
