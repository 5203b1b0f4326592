//! Replay claims: the verifier's replay record handed to a store shared by several processes.
//!
//! A server with several worker processes (or machines) needs one replay record for all of
//! them, kept in a network store such as Redis. Asking that store from inside
//! [`Verifier::verify`](crate::Verifier::verify) would hold the verifier across a network
//! round trip, so the verifier is given a [`Deferred`] store instead: it accepts every record
//! and remembers it as a [`Claim`]. After verifying, the caller takes the claim and makes it
//! good in the shared store (a Lua script in Redis); the request is accepted only if
//! that succeeds. The claim names everything the shared store needs — the client's key id
//! (not its index, which differs between processes), the expiry, the nonce — so every process
//! asks the same question of the store, and none looks the client up again.
//!
//! For Redis, [`Claim::store_key`] names the key (`<namespace>:r:<hex>` for a request,
//! `<namespace>:n:<hex>` for a nonce high-water mark), and one Lua script, [`CLAIM_SCRIPT`],
//! makes every claim good: `SET <key> 1 NX PXAT <expires>` for a request, a raised mark for a
//! nonce — unless the store lost its memory (restarted without persistence, flushed, failed
//! over, evicted keys), which it notices and answers by refusing for a recovery period. The
//! Python face (`apisig.replay`) and the Rust crate `apisig-redis` both run exactly this.
//!
//! ```
//! use apisig::claim::{Claim, Deferred};
//! use apisig::{Verifier, Window, keyring::Keyring};
//!
//! let mut v = Verifier::new(Keyring::<4>::new(), Deferred::new(), Window::from_secs(30));
//! // ... v.verify(&scheme, &request, now)? ...
//! if let Some(claim) = v.replay_mut().take() {
//!     let mut key = [0u8; 80];
//!     let key = claim.store_key("my-api", &mut key)?; // KEYS[1] of CLAIM_SCRIPT
//!     let mut marker = [0u8; 16];
//!     let marker = Claim::marker_key("my-api", &mut marker)?; // KEYS[2]
//!     let argv = claim.script_args(apisig::claim::DEFAULT_RECOVERY_MS);
//!     # let _ = (key, marker, argv.argv());
//! }
//! # Ok::<(), apisig::Error>(())
//! ```

use sha2::{Digest, Sha256};

use crate::client::KEY_ID_MAX;
use crate::replay::{REPLAY_ID_LEN, ReplayStore};
use crate::{Error, UnixNanos};

/// Length of a claim's key in the shared store (a SHA-256 digest; hex-encode it for Redis).
pub const CLAIM_KEY_LEN: usize = 32;

/// Domain separation for [`Claim::key`]: no other hash of the same bytes collides with it.
const KEY_DOMAIN: &[u8] = b"apisig replay claim v1\0";

/// How many digits [`Claim::nonce_digits`] writes: `u64::MAX` has 20.
pub const NONCE_DIGITS: usize = 20;

/// The key suffix of a store's memory marker: `<namespace>:epoch` (see [`CLAIM_SCRIPT`]).
pub const MARKER_SUFFIX: &str = ":epoch";

/// How long, by default, a store that lost its memory refuses signed requests: 600 s, twice
/// the default window's tolerance ([`Window::DEFAULT`](crate::Window::DEFAULT)), the longest
/// a lost record can matter (a request stamped a tolerance ahead stays valid two tolerances).
/// Set it to twice your window's tolerance.
pub const DEFAULT_RECOVERY_MS: u64 = 600_000;

/// The Redis Lua script that makes a claim good, and decides whether the store can be trusted
/// to remember: `KEYS[1]` is the claim's [`store_key`](Claim::store_key), `KEYS[2]` the
/// namespace's [`marker_key`](Claim::marker_key), `ARGV` the claim's
/// [`script_args`](Claim::script_args). Every face (Rust, Python; blocking, asynchronous)
/// runs this one script, so workers of any kind share one Redis and one rule.
///
/// The marker (a hash that never expires) holds when the store's memory began (`since`, Redis
/// time in ms), the server's `run_id` and its `evicted_keys` count. Missing (Redis flushed, or
/// restarted without persistence, or the marker evicted), another run id (a restart, even with
/// persistence, which may lose the last writes; a failover to a replica, which may lag), or
/// more evictions (any key evicted, maybe a replay record): the memory is lost, and the marker
/// starts again at the present. Then, for `recovery` ms from `since`:
/// - a request ([`Claim::Once`]) is refused: a record lost may be for a request still in its
///   window — until `recovery` ms, at least two window tolerances, have passed;
/// - a nonce ([`Claim::Nonce`]) is refused unless it is above its client's high-water mark
///   *and* above the floor `since + recovery`, read as milliseconds (APEX clients send their
///   clock in ms); a nonce at or below the floor stays refused after the recovery (then as a
///   replay), because a lost mark has no window to run out.
///
/// A request's record is kept until its [`expires`](Claim::Once) by Redis's clock
/// (`SET NX PXAT`), and a claim reaching Redis after that is refused: however late a claim
/// arrives (a busy worker, a slow network), a replay verified within the window finds the
/// record, or is refused as late.
///
/// Returns 1 when the claim was made good, 0 for a replay, -1 while refusing after a loss
/// (answer [`Error::ReplayStoreUnavailable`]), 2 for a request whose window closed before its
/// claim arrived; [`script_outcome`] maps them. The nonce is
/// compared as zero-padded digits (Lua's numbers lose precision above 2^53); the floor as a
/// number, exact below 2^53, where it is.
pub const CLAIM_SCRIPT: &str = "local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local evicted = string.match(redis.call('INFO', 'stats'), 'evicted_keys:(%d+)')
local marker = redis.call('HMGET', KEYS[2], 'since', 'run', 'evicted')
local since = tonumber(marker[1])
if not since or marker[2] ~= run or marker[3] ~= evicted then
  since = now
  redis.call('HSET', KEYS[2], 'since', string.format('%.0f', now), 'run', run, 'evicted', evicted)
end
local until_ms = since + tonumber(ARGV[3])
if ARGV[1] == 'o' then
  if now < until_ms then
    return -1
  end
  local expires = tonumber(ARGV[2])
  if now >= expires then
    return 2
  end
  if redis.call('SET', KEYS[1], '1', 'NX', 'PXAT', string.format('%.0f', expires)) then
    return 1
  end
  return 0
end
local current = redis.call('GET', KEYS[1])
if current and current >= ARGV[2] then
  return 0
end
if tonumber(ARGV[2]) <= until_ms then
  if now < until_ms then
    return -1
  end
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
";

/// What a reply of [`CLAIM_SCRIPT`] means: 1 made good, 0 [`Error::ReplayedRequest`], 2
/// [`Error::TimestampOutsideWindow`] (the claim arrived after the request's window closed), -1
/// (the store lost its memory and is recovering) or anything else
/// [`Error::ReplayStoreUnavailable`].
///
/// # Errors
/// As above.
pub const fn script_outcome(reply: i64) -> Result<(), Error> {
    match reply {
        1 => Ok(()),
        0 => Err(Error::ReplayedRequest),
        2 => Err(Error::TimestampOutsideWindow),
        _ => Err(Error::ReplayStoreUnavailable),
    }
}

/// The arguments of [`CLAIM_SCRIPT`] for one claim: its kind (`o` or `n`), its value (when the
/// record expires, Unix ms rounded up, or the nonce) and the recovery period in ms, numbers as
/// [`NONCE_DIGITS`] zero-padded digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptArgs {
    kind: u8,
    value: [u8; NONCE_DIGITS],
    recovery: [u8; NONCE_DIGITS],
}

impl ScriptArgs {
    /// `ARGV` as text, in order.
    pub fn argv(&self) -> [&str; 3] {
        [
            if self.kind == b'n' { "n" } else { "o" },
            core::str::from_utf8(&self.value).unwrap_or_default(),
            core::str::from_utf8(&self.recovery).unwrap_or_default(),
        ]
    }
}

/// `value` as [`NONCE_DIGITS`] decimal digits, zero-padded.
fn digits(mut value: u64) -> [u8; NONCE_DIGITS] {
    let mut out = [b'0'; NONCE_DIGITS];
    for d in out.iter_mut().rev() {
        *d = b'0'.wrapping_add(u8::try_from(value.checked_rem(10).unwrap_or(0)).unwrap_or(0));
        value = value.checked_div(10).unwrap_or(0);
    }
    out
}

/// A client's key id, as a claim carries it.
pub type KeyId = heapless::String<KEY_ID_MAX>;

/// What a verified request asks of the shared replay record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Record the request until `expires`; refuse it if a live record exists (schemes with
    /// a timestamp: the id is the first bytes of the signature).
    Once {
        /// The client's key id.
        key_id: KeyId,
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
        /// The client's key id.
        key_id: KeyId,
        /// The request's nonce.
        nonce: u64,
    },
}

impl Claim {
    /// The key id of the client whose request made the claim.
    pub fn key_id(&self) -> &str {
        match self {
            Claim::Once { key_id, .. } | Claim::Nonce { key_id, .. } => key_id,
        }
    }

    /// The key this claim is stored under: SHA-256 over a domain tag, the kind, the
    /// length-prefixed key id and (for [`Claim::Once`]) the replay id. No signature is stored
    /// in clear, and every process derives the same key.
    pub fn key(&self) -> [u8; CLAIM_KEY_LEN] {
        let mut h = Sha256::new();
        h.update(KEY_DOMAIN);
        let (kind, id): (u8, &[u8]) = match self {
            Claim::Once { id, .. } => (b'o', id),
            Claim::Nonce { .. } => (b'n', &[]),
        };
        let key_id = self.key_id().as_bytes();
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

    /// The length of [`store_key`](Self::store_key) under `namespace`.
    pub const fn store_key_len(namespace: &str) -> usize {
        namespace.len().saturating_add(3 + 2 * CLAIM_KEY_LEN)
    }

    /// The shared store's key for this claim, written into `out`: `<namespace>:r:<key>` for
    /// a request, `<namespace>:n:<key>` for a nonce high-water mark, `<key>` being
    /// [`key`](Self::key) in lowercase hex.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `out` is shorter than
    /// [`store_key_len`](Self::store_key_len); nothing is written then.
    pub fn store_key<'o>(&self, namespace: &str, out: &'o mut [u8]) -> Result<&'o str, Error> {
        let len = Self::store_key_len(namespace);
        let out = out.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let (prefix, hex) = out.split_at_mut(namespace.len().saturating_add(3));
        let kind = match self {
            Claim::Once { .. } => b'r',
            Claim::Nonce { .. } => b'n',
        };
        for (o, b) in prefix.iter_mut().zip(namespace.bytes().chain([b':', kind, b':'])) {
            *o = b;
        }
        base16ct::lower::encode(&self.key(), hex).map_err(|_| Error::BufferTooSmall)?;
        core::str::from_utf8(out).map_err(|_| Error::InvalidHeaderValue)
    }

    /// The nonce of a [`Claim::Nonce`] as [`NONCE_DIGITS`] decimal digits, zero-padded (how
    /// [`CLAIM_SCRIPT`] stores and compares it).
    pub fn nonce_digits(&self) -> Option<[u8; NONCE_DIGITS]> {
        self.nonce().map(digits)
    }

    /// The arguments of [`CLAIM_SCRIPT`] for this claim, refusing for `recovery_ms` after the
    /// store lost its memory ([`DEFAULT_RECOVERY_MS`] unless configured).
    pub fn script_args(&self, recovery_ms: u64) -> ScriptArgs {
        let (kind, value) = match *self {
            Claim::Nonce { nonce, .. } => (b'n', nonce),
            Claim::Once { expires, .. } => (b'o', expires.div_ceil(1_000_000)),
        };
        ScriptArgs { kind, value: digits(value), recovery: digits(recovery_ms) }
    }

    /// The length of [`marker_key`](Self::marker_key) under `namespace`.
    pub const fn marker_key_len(namespace: &str) -> usize {
        namespace.len().saturating_add(MARKER_SUFFIX.len())
    }

    /// The key of `namespace`'s memory marker, `<namespace>:epoch`, written into `out`
    /// (`KEYS[2]` of [`CLAIM_SCRIPT`]).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `out` is shorter than
    /// [`marker_key_len`](Self::marker_key_len); nothing is written then.
    pub fn marker_key<'o>(namespace: &str, out: &'o mut [u8]) -> Result<&'o str, Error> {
        let out = out.get_mut(..Self::marker_key_len(namespace)).ok_or(Error::BufferTooSmall)?;
        for (o, b) in out.iter_mut().zip(namespace.bytes().chain(MARKER_SUFFIX.bytes())) {
            *o = b;
        }
        core::str::from_utf8(out).map_err(|_| Error::InvalidHeaderValue)
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
///
/// It refuses only a key id longer than [`KEY_ID_MAX`] ([`Error::FieldTooLong`]), which a
/// verifier's keyring never holds.
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
        key_id: &str,
        id: &[u8; REPLAY_ID_LEN],
        expires: UnixNanos,
        now: UnixNanos,
    ) -> Result<(), Error> {
        let key_id = KeyId::try_from(key_id).map_err(|_| Error::FieldTooLong)?;
        self.claim = Some(Claim::Once { key_id, id: *id, expires, now });
        Ok(())
    }

    fn advance_nonce(&mut self, key_id: &str, nonce: u64) -> Result<(), Error> {
        let key_id = KeyId::try_from(key_id).map_err(|_| Error::FieldTooLong)?;
        self.claim = Some(Claim::Nonce { key_id, nonce });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_id(id: &str) -> KeyId {
        KeyId::try_from(id).unwrap_or_default()
    }

    fn once(k: &str, id: u8, expires: UnixNanos) -> Claim {
        Claim::Once { key_id: key_id(k), id: [id; REPLAY_ID_LEN], expires, now: 1 }
    }

    #[test]
    fn keys_depend_on_key_id_kind_and_id_only() {
        // The expiry is a local fact: two processes must agree on the key.
        assert_eq!(once("k", 7, 10).key(), once("k", 7, 99).key());
        assert_ne!(once("k", 7, 10).key(), once("k", 8, 10).key());
        assert_ne!(once("k", 7, 10).key(), once("k2", 7, 10).key());
        let nonce = |nonce| Claim::Nonce { key_id: key_id("k"), nonce };
        assert_eq!(nonce(1).key(), nonce(2).key());
        assert_ne!(nonce(1).key(), once("k", 0, 1).key());
        // Length prefix: "ab" ‖ id never equals "a" ‖ "b"-prefixed id.
        let mut id = [0u8; REPLAY_ID_LEN];
        id[0] = b'b';
        let shifted = Claim::Once { key_id: key_id("a"), id, expires: 1, now: 1 };
        assert_ne!(once("ab", 0, 1).key(), shifted.key());
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
        let once = Claim::Once { key_id: key_id("key"), id: [0x5a; REPLAY_ID_LEN], expires: 5, now: 1 };
        assert_eq!(&hex(once.key()), b"012fbe1acdb312ddc56ce3b3199c40fbc3a377461b58289ec0dab659b588f1c2");
        let nonce = Claim::Nonce { key_id: key_id("key"), nonce: 5 };
        assert_eq!(&hex(nonce.key()), b"ecdf48b02f86a713d6b2cac7da5fd1a5d5acd4e9cce1fc3266f29cb5cd04f8df");
    }

    #[test]
    fn store_keys_and_nonce_digits() {
        let once = Claim::Once { key_id: key_id("key"), id: [0x5a; REPLAY_ID_LEN], expires: 5, now: 1 };
        let mut out = [0u8; 80];
        assert_eq!(
            once.store_key("svc", &mut out),
            Ok("svc:r:012fbe1acdb312ddc56ce3b3199c40fbc3a377461b58289ec0dab659b588f1c2")
        );
        assert_eq!(Claim::store_key_len("svc"), 70);
        let mut short = [7u8; 69];
        assert_eq!(once.store_key("svc", &mut short), Err(Error::BufferTooSmall));
        assert!(short.iter().all(|b| *b == 7), "nothing written on error");
        let nonce = |n| Claim::Nonce { key_id: key_id("key"), nonce: n };
        assert_eq!(
            nonce(5).store_key("a", &mut out),
            Ok("a:n:ecdf48b02f86a713d6b2cac7da5fd1a5d5acd4e9cce1fc3266f29cb5cd04f8df")
        );
        assert_eq!(&nonce(0).nonce_digits().unwrap_or_default(), b"00000000000000000000");
        assert_eq!(&nonce(1234).nonce_digits().unwrap_or_default(), b"00000000000000001234");
        assert_eq!(&nonce(u64::MAX).nonce_digits().unwrap_or_default(), b"18446744073709551615");
        assert_eq!(once.nonce_digits(), None);
    }

    #[test]
    fn script_args_marker_key_and_outcomes() {
        let expires = 1_796_524_275_123_000_001; // ns; the record is kept to the next whole ms
        let once = Claim::Once { key_id: key_id("k"), id: [0; REPLAY_ID_LEN], expires, now: 1 };
        assert_eq!(once.script_args(600_000).argv(), ["o", "00000001796524275124", "00000000000000600000"]);
        let nonce = Claim::Nonce { key_id: key_id("k"), nonce: u64::MAX };
        assert_eq!(nonce.script_args(0).argv(), ["n", "18446744073709551615", "00000000000000000000"]);
        let mut out = [0u8; 16];
        assert_eq!(Claim::marker_key("shop-api", &mut out), Ok("shop-api:epoch"));
        assert_eq!(Claim::marker_key_len("shop-api"), 14);
        let mut short = [7u8; 13];
        assert_eq!(Claim::marker_key("shop-api", &mut short), Err(Error::BufferTooSmall));
        assert_eq!(script_outcome(1), Ok(()));
        assert_eq!(script_outcome(0), Err(Error::ReplayedRequest));
        assert_eq!(script_outcome(-1), Err(Error::ReplayStoreUnavailable));
        assert_eq!(script_outcome(2), Err(Error::TimestampOutsideWindow));
        assert_eq!(script_outcome(3), Err(Error::ReplayStoreUnavailable));
    }

    #[test]
    fn ttl_rounds_up_to_whole_milliseconds() {
        let ttl = |expires, now| Claim::Once { key_id: key_id("k"), id: [0; REPLAY_ID_LEN], expires, now }.ttl_ms();
        assert_eq!(ttl(1_000_000_000, 0), Some(1000));
        assert_eq!(ttl(1_000_000_001, 0), Some(1001));
        assert_eq!(ttl(5, 5), Some(1));
        assert_eq!(ttl(5, 9), Some(1));
        assert_eq!(Claim::Nonce { key_id: key_id("k"), nonce: 3 }.ttl_ms(), None);
    }

    #[test]
    fn deferred_keeps_the_last_claim_once_by_key_id() {
        let mut d = Deferred::new();
        assert_eq!(d.take(), None);
        assert_eq!(d.check_and_insert("a", &[2; REPLAY_ID_LEN], 30, 10), Ok(()));
        let once = Claim::Once { key_id: key_id("a"), id: [2; REPLAY_ID_LEN], expires: 30, now: 10 };
        assert_eq!(d.take(), Some(once));
        assert_eq!(d.advance_nonce("b", 77), Ok(()));
        assert_eq!(d.take(), Some(Claim::Nonce { key_id: key_id("b"), nonce: 77 }));
        assert_eq!(d.take(), None);
        let long = "k".repeat(KEY_ID_MAX + 1);
        assert_eq!(d.advance_nonce(&long, 1), Err(Error::FieldTooLong));
        assert_eq!(d.take(), None, "nothing kept on error");
    }
}
