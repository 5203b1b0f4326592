//! HMAC-SHA256 with a precomputed key state, the tag it produces, and the core's one
//! constant-time comparison of secret bytes ([`ct_eq`]).

use core::fmt;

use sha2::digest::array::Array;
use sha2::digest::consts::U64;
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use crate::Error;

/// Length of an HMAC-SHA256 tag in bytes.
pub const TAG_LEN: usize = 32;

/// An HMAC-SHA256 tag. Equality is constant time; `Debug` does not print the bytes.
#[derive(Clone)]
pub struct Tag([u8; TAG_LEN]);

impl Tag {
    /// The raw bytes.
    pub const fn into_bytes(self) -> [u8; TAG_LEN] {
        self.0
    }

    /// The raw bytes, borrowed.
    pub const fn as_bytes(&self) -> &[u8; TAG_LEN] {
        &self.0
    }
}

impl From<[u8; TAG_LEN]> for Tag {
    fn from(bytes: [u8; TAG_LEN]) -> Self {
        Tag(bytes)
    }
}

/// Whether `a` and `b` hold the same bytes, in constant time in their contents — not in their
/// lengths, which are public: different lengths are unequal at once. The core's one
/// comparison of secret bytes (tags, key digests, pins, bound user ids): the differences are
/// OR-ed together eight bytes at a time, then the result is tested for zero once, in constant
/// time (`subtle`'s slice comparison makes a `Choice`, an optimisation barrier, per byte).
/// The answer stays a [`Choice`]: callers combine it without branching and turn it into a
/// verdict once (the points `tests/ct/declassify.txt` lists).
#[inline]
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> Choice {
    if a.len() != b.len() {
        return Choice::from(0);
    }
    let word = |c: &[u8]| c.first_chunk::<8>().map_or(0, |w| u64::from_ne_bytes(*w));
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = wa.remainder().iter().zip(wb.remainder()).fold(0u64, |d, (x, y)| d | u64::from(x ^ y));
    wa.zip(wb).fold(tail, |d, (x, y)| d | (word(x) ^ word(y))).ct_eq(&0)
}

impl ConstantTimeEq for Tag {
    fn ct_eq(&self, other: &Self) -> Choice {
        ct_eq(&self.0, &other.0)
    }
}

impl PartialEq for Tag {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Tag {}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tag(..)")
    }
}

/// An HMAC-SHA256 key with its inner and outer pads already hashed, so each message costs
/// only its own compressions. Build it once per key and reuse it. The state is zeroized on
/// drop; `Debug` prints nothing of it.
///
/// HMAC (RFC 2104) is computed here directly over the SHA-256 compression function of `sha2`:
/// the keyed state is two chaining values (64 bytes, not a whole hasher), small message parts
/// are gathered into one block buffer, and whole blocks of a large body go to the compression
/// function straight from the caller's slice, without a copy. The tests check it against
/// RustCrypto's `hmac` and the RFC 4231 cases.
///
/// What this buys over `hmac`'s own keyed state (an `Hmac<Sha256>` cloned per message),
/// measured with `scripts/bench-profile.sh hmac mac` (callgrind: instructions per call outside
/// SHA-256's compression function, which both call alike): a MAC of the 292-byte Aevo
/// benchmark message costs 183 here against 245 through the clone: 62 more, over a third of
/// the distance between a full Aevo sign (about 1,310) and the floor signer (about 1,150).
/// And room: a keyring secret keeps this key (64 bytes) and its chaining value after the
/// client's key id (40) where two `Hmac<Sha256>` states would take 2 × 144 bytes — for two
/// slots, 576 of the 640 bytes a client has in the C face's fixed keyring storage, before its
/// ids, digests and pins.
#[derive(Clone)]
pub struct MacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

/// SHA-256's initial chaining value (FIPS 180-4, 5.3.3).
const IV: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];

const BLOCK: usize = 64;

fn compress(state: &mut [u32; 8], block: &[u8; BLOCK]) {
    sha2::block_api::compress256(state, core::slice::from_ref(block));
}

impl MacKey {
    /// Precomputes the keyed state for `secret`.
    ///
    /// # Errors
    /// [`Error::EmptySecret`] when `secret` is empty: an empty HMAC key is almost always a
    /// configuration mistake, and it authenticates nothing.
    ///
    /// ```
    /// let key = apisig::MacKey::new(b"Jefe")?;
    /// let tag = key.sign(b"what do ya want for nothing?");
    /// assert_eq!(tag.as_bytes()[..4], [0x5b, 0xdc, 0xc1, 0x46]);
    /// # Ok::<(), apisig::Error>(())
    /// ```
    pub fn new(secret: &[u8]) -> Result<MacKey, Error> {
        if secret.is_empty() {
            return Err(Error::EmptySecret);
        }
        // RFC 2104: a key longer than the block is replaced by its hash; then zero-padded.
        let mut block = [0u8; BLOCK];
        if secret.len() > BLOCK {
            let mut d = digest(secret);
            block.iter_mut().zip(d.iter()).for_each(|(b, k)| *b = *k);
            d.zeroize();
        } else {
            block.iter_mut().zip(secret.iter()).for_each(|(b, k)| *b = *k);
        }
        let mut key = MacKey { inner: IV, outer: IV };
        block.iter_mut().for_each(|b| *b ^= 0x36);
        compress(&mut key.inner, &block);
        block.iter_mut().for_each(|b| *b ^= 0x36 ^ 0x5c);
        compress(&mut key.outer, &block);
        block.zeroize();
        Ok(key)
    }

    /// A fresh HMAC computation keyed with this key.
    #[inline]
    pub(crate) fn start(&self) -> MacState<'_> {
        MacState { key: self, state: self.inner, buf: [0; BLOCK], pos: 0, blocks: 1 }
    }

    /// The tag of `msg`.
    pub fn sign(&self, msg: &[u8]) -> Tag {
        let mut mac = self.start();
        mac.update(msg);
        finish(&mut mac)
    }

    /// Checks `tag` against the tag of `msg` in constant time (in the data, not the length).
    ///
    /// # Errors
    /// [`Error::SignatureMismatch`] when the tag differs, [`Error::InvalidSignatureEncoding`]
    /// when it is not [`TAG_LEN`] bytes long.
    pub fn verify(&self, msg: &[u8], tag: &[u8]) -> Result<(), Error> {
        if tag.len() != TAG_LEN {
            return Err(Error::InvalidSignatureEncoding);
        }
        if bool::from(ct_eq(self.sign(msg).as_bytes(), tag)) { Ok(()) } else { Err(Error::SignatureMismatch) }
    }
}

impl Drop for MacKey {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(..)")
    }
}

/// One HMAC computation in progress: the inner hash's chaining value, a partial block, and
/// how many whole blocks (the key block included) have been compressed.
pub(crate) struct MacState<'k> {
    key: &'k MacKey,
    state: [u32; 8],
    buf: [u8; BLOCK],
    pos: usize,
    blocks: u64,
}

impl MacState<'_> {
    /// Feeds `data`: gathered into the block buffer while it is partial; whole blocks of
    /// `data` itself go straight to the compression function. Inlined on hosts, where a call
    /// per message part costs a signature about 180 instructions; on a bare-metal device
    /// (`target_os = "none"`) one copy serves every caller — with the hint there, LLVM kept a
    /// second copy inside the message sink's `put` besides this one, 148 bytes of flash.
    #[cfg_attr(not(target_os = "none"), inline)]
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        // One byte (a separator) into a partial block: no copy call.
        if let ([byte], Some(slot)) = (data, self.buf.get_mut(self.pos)) {
            if self.pos < BLOCK - 1 {
                *slot = *byte;
                self.pos = self.pos.saturating_add(1);
                return;
            }
        }
        if self.pos != 0 || data.len() < BLOCK {
            let take = BLOCK.saturating_sub(self.pos).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.pos..self.pos.saturating_add(take)) {
                dst.copy_from_slice(head);
            }
            self.pos = self.pos.saturating_add(take);
            if self.pos < BLOCK {
                return;
            }
            compress(&mut self.state, &self.buf);
            self.blocks = self.blocks.wrapping_add(1);
            self.pos = 0;
            data = rest;
        }
        let (whole, tail) = Array::<u8, U64>::slice_as_chunks(data);
        if !whole.is_empty() {
            sha2::block_api::compress256(&mut self.state, Array::cast_slice_to_core(whole));
            self.blocks = self.blocks.wrapping_add(whole.len() as u64);
        }
        if let Some(dst) = self.buf.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        self.pos = tail.len();
    }
}

impl MacState<'_> {
    /// The computation so far (see [`Prefixed`]).
    fn pause(&self) -> Midstate {
        Midstate { chain: self.chain(), buf: self.buf, pos: self.pos }
    }

    /// The chaining value so far (the whole blocks compressed; not the partial one).
    fn chain(&self) -> Chain {
        Chain { state: self.state, blocks: self.blocks }
    }
}

/// An HMAC key with a computation under it paused after a prefix that many of its messages
/// share, so the prefix is hashed once, not once per message: a signer's leading fixed parts
/// (Aevo's API key), a keyring client's key id. The paused state is resumed only here, under
/// the key that made it — nothing else can turn a [`Midstate`] or [`Chain`] back into a running
/// computation, so no tag can mix one key's prefix state with another key's outer pad.
#[derive(Clone)]
pub(crate) struct Prefixed<P> {
    key: MacKey,
    paused: P,
}

impl<P> Prefixed<P> {
    /// The key.
    pub(crate) fn key(&self) -> &MacKey {
        &self.key
    }
}

impl Prefixed<Midstate> {
    /// `key`, paused after what `prefix` feeds it.
    pub(crate) fn new(key: MacKey, prefix: impl FnOnce(&mut MacState<'_>)) -> Self {
        let mut state = key.start();
        prefix(&mut state);
        let paused = state.pause();
        drop(state);
        Prefixed { key, paused }
    }

    /// A computation resumed after the prefix.
    #[inline]
    pub(crate) fn resume(&self) -> MacState<'_> {
        let at = &self.paused;
        MacState { key: &self.key, state: at.chain.state, buf: at.buf, pos: at.pos, blocks: at.chain.blocks }
    }
}

impl Prefixed<Chain> {
    /// `key`, with the chaining value after the whole blocks at the start of `prefix` (the
    /// rest is not kept: 40 bytes, not a block buffer, as a keyring keeps one per secret).
    pub(crate) fn after_blocks(key: MacKey, prefix: &[u8]) -> Self {
        let mut state = key.start();
        state.update(prefix.get(..prefix.len() & !(BLOCK - 1)).unwrap_or_default());
        let paused = state.chain();
        drop(state);
        Prefixed { key, paused }
    }

    /// A computation resumed after `prefix`, which must be the prefix this was made with:
    /// only its bytes past the whole blocks kept are read.
    #[inline]
    pub(crate) fn resume(&self, prefix: &[u8]) -> MacState<'_> {
        let chain = &self.paused;
        let mut state = MacState { key: &self.key, state: chain.state, buf: [0; BLOCK], pos: 0, blocks: chain.blocks };
        let absorbed = usize::try_from(chain.blocks.saturating_sub(1)).unwrap_or(0).saturating_mul(BLOCK);
        state.update(prefix.get(absorbed..).unwrap_or_default());
        state
    }
}

/// The inner hash's chaining value after some whole blocks of a message prefix (see
/// [`Prefixed::after_blocks`]). Zeroized on drop, like the key.
#[derive(Clone)]
pub(crate) struct Chain {
    state: [u32; 8],
    /// Blocks compressed, the key block included.
    blocks: u64,
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.state.zeroize();
    }
}

/// A paused HMAC computation (see [`Prefixed::new`]): its chaining value and the partial
/// block after it. Zeroized on drop, like the key.
#[derive(Clone)]
pub(crate) struct Midstate {
    chain: Chain,
    buf: [u8; BLOCK],
    pos: usize,
}

impl Drop for Midstate {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

impl Drop for MacState<'_> {
    fn drop(&mut self) {
        // Before the first block the chaining value is the key's own inner state.
        self.state.zeroize();
    }
}

/// Finishes an HMAC computation into a [`Tag`]. By reference: moving the state into the
/// call would copy it right after it was written (a store-forwarding stall on every request).
pub(crate) fn finish(mac: &mut MacState<'_>) -> Tag {
    close(mac);

    // Outer hash: one block, the inner digest then padding for 64 + 32 bytes.
    let mut block = [0u8; BLOCK];
    for (dst, w) in block.chunks_exact_mut(4).zip(mac.state.iter()) {
        dst.copy_from_slice(&w.to_be_bytes());
    }
    if let Some(b) = block.get_mut(32) {
        *b = 0x80;
    }
    if let Some(len) = block.get_mut(BLOCK - 8..) {
        len.copy_from_slice(&(((BLOCK + TAG_LEN) * 8) as u64).to_be_bytes());
    }
    let mut outer = mac.key.outer;
    compress(&mut outer, &block);
    let mut tag = [0u8; TAG_LEN];
    for (dst, w) in tag.chunks_exact_mut(4).zip(outer.iter()) {
        dst.copy_from_slice(&w.to_be_bytes());
    }
    Tag(tag)
}

/// Pads the hash in `mac` (FIPS 180-4, 5.1.1) and compresses the last block(s): its chaining
/// value is then the digest of everything fed.
fn close(mac: &mut MacState<'_>) {
    // Message length in bits, key block included (lengths are mod 2^64 by definition).
    let bits = mac.blocks.wrapping_mul(BLOCK as u64).wrapping_add(mac.pos as u64).wrapping_mul(8);
    let pos = mac.pos;
    if let Some(b) = mac.buf.get_mut(pos) {
        *b = 0x80;
    }
    if let Some(rest) = mac.buf.get_mut(pos.saturating_add(1)..) {
        rest.fill(0);
    }
    if pos >= BLOCK - 8 {
        compress(&mut mac.state, &mac.buf);
        mac.buf = [0; BLOCK];
    }
    if let Some(len) = mac.buf.get_mut(BLOCK - 8..) {
        len.copy_from_slice(&bits.to_be_bytes());
    }
    compress(&mut mac.state, &mac.buf);
}

/// HMAC-SHA256 of `msg` under `key`, in one call (`apisig_hmac_sha256` in C, `hmac_sign` in
/// Python). To sign many messages under one key, build a [`MacKey`] once.
///
/// # Errors
/// [`Error::EmptySecret`] when `key` is empty.
///
/// ```
/// let tag = apisig::hmac_sign(b"Jefe", b"what do ya want for nothing?")?;
/// assert_eq!(tag.as_bytes()[..4], [0x5b, 0xdc, 0xc1, 0x46]); // RFC 4231, case 2
/// assert_eq!(apisig::hmac_verify(b"Jefe", b"what do ya want for nothing?", tag.as_bytes()), Ok(()));
/// # Ok::<(), apisig::Error>(())
/// ```
pub fn hmac_sign(key: &[u8], msg: &[u8]) -> Result<Tag, Error> {
    Ok(MacKey::new(key)?.sign(msg))
}

/// Checks `tag` against HMAC-SHA256 of `msg` under `key`, in constant time (in the data, not
/// the length) — `apisig_hmac_sha256_verify` in C, `hmac_verify` in Python.
///
/// # Errors
/// As [`MacKey::new`] and [`MacKey::verify`].
pub fn hmac_verify(key: &[u8], msg: &[u8], tag: &[u8]) -> Result<(), Error> {
    MacKey::new(key)?.verify(msg, tag)
}

impl crate::message::Sink for MacState<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// SHA-256 of `data`: how static keys and secrets are kept in the keyring.
/// With the block machinery HMAC uses (not `sha2`'s hasher, which a device would link beside
/// it only for keys longer than a block): a computation from SHA-256's initial value, under
/// no key (the outer state is never read), closed as the inner hash is.
pub(crate) fn digest(data: &[u8]) -> [u8; 32] {
    let none = MacKey { inner: IV, outer: IV };
    let mut state = MacState { key: &none, state: IV, buf: [0; BLOCK], pos: 0, blocks: 0 };
    state.update(data);
    close(&mut state);
    let mut out = [0u8; 32];
    for (dst, w) in out.chunks_exact_mut(4).zip(state.state.iter()) {
        dst.copy_from_slice(&w.to_be_bytes());
    }
    out
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use std::vec::Vec;

    use sha2::Sha256;

    use super::*;

    /// SHA-256 over the block machinery against `sha2`'s hasher, the oracle, at every length
    /// around the first blocks' boundaries (the padding's edge cases).
    #[test]
    fn digest_is_sha256() {
        use sha2::Digest;
        let data: Vec<u8> = (0..300u32).map(|i| (i * 13 + 1) as u8).collect();
        for len in 0..=data.len() {
            let want: [u8; 32] = Sha256::digest(&data[..len]).into();
            assert_eq!(digest(&data[..len]), want, "{len}");
        }
    }

    /// RustCrypto's `hmac` is the oracle.
    fn oracle(key: &[u8], msg: &[u8]) -> [u8; TAG_LEN] {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        m.update(msg);
        m.finalize().into_bytes().into()
    }

    /// Feeds `msg` in pieces cut at `cuts`.
    fn pieces(key: &MacKey, msg: &[u8], cuts: &[usize]) -> [u8; TAG_LEN] {
        let mut st = key.start();
        let mut rest = msg;
        for &c in cuts {
            let (a, b) = rest.split_at(c % (rest.len() + 1));
            st.update(a);
            rest = b;
        }
        st.update(rest);
        finish(&mut st).into_bytes()
    }

    #[test]
    fn every_length_around_the_block_boundaries() {
        let msg: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for key_len in [1usize, 31, 63, 64, 65, 131] {
            let key: Vec<u8> = (0..key_len).map(|i| i as u8 ^ 0xa5).collect();
            let k = MacKey::new(&key).unwrap_or_else(|_| unreachable!());
            for len in 0..=msg.len() {
                let m = &msg[..len];
                assert_eq!(k.sign(m).into_bytes(), oracle(&key, m), "key {key_len} msg {len}");
                assert_eq!(pieces(&k, m, &[1, 0, 7, 64, 55]), oracle(&key, m), "pieces, msg {len}");
            }
        }
    }

    /// A computation resumed after a prefix, either kind, gives the tag of the whole message
    /// (RustCrypto's `hmac` over prefix and rest, the oracle), for prefixes around the block
    /// boundaries; and it is the key it was made with that finishes it.
    #[test]
    fn prefixed_states_resume_under_their_own_key() {
        let msg: Vec<u8> = (0..200u32).map(|i| (i * 11 + 5) as u8).collect();
        for cut in [0usize, 1, 63, 64, 65, 127, 128, 129, 200] {
            let (prefix, rest) = msg.split_at(cut);
            for key in [&b"k"[..], &[7; 64], &[9; 100]] {
                let paused = Prefixed::new(MacKey::new(key).unwrap_or_else(|_| unreachable!()), |s| s.update(prefix));
                let mut state = paused.resume();
                state.update(rest);
                assert_eq!(finish(&mut state).into_bytes(), oracle(key, &msg), "midstate, cut {cut}");
                let chain = Prefixed::after_blocks(MacKey::new(key).unwrap_or_else(|_| unreachable!()), prefix);
                let mut state = chain.resume(prefix);
                state.update(rest);
                assert_eq!(finish(&mut state).into_bytes(), oracle(key, &msg), "chain, cut {cut}");
                let mut fresh = chain.key().start();
                fresh.update(&msg);
                assert_eq!(finish(&mut fresh).into_bytes(), oracle(key, &msg), "fresh, cut {cut}");
            }
        }
    }

    /// [`ct_eq`] against `==`, the oracle: every length up to three words (whole words and a
    /// tail), equal and with one bit flipped in every position, and unequal lengths.
    #[test]
    fn ct_eq_agrees_with_eq() {
        let a: Vec<u8> = (0..24u32).map(|i| (i * 37 + 1) as u8).collect();
        for len in 0..=a.len() {
            let x = &a[..len];
            assert_eq!(ct_eq(x, x).unwrap_u8(), 1, "len {len}");
            for i in 0..len {
                for bit in 0..8 {
                    let mut y = x.to_vec();
                    y[i] ^= 1 << bit;
                    assert_eq!(ct_eq(x, &y).unwrap_u8(), 0, "len {len} byte {i} bit {bit}");
                }
            }
            assert_eq!(ct_eq(x, &a[..len.saturating_sub(1)]).unwrap_u8(), u8::from(len == 0), "len {len}");
        }
    }

    /// Equal tags compare equal; a difference in any bit of any byte is seen.
    #[test]
    fn tag_equality_sees_every_bit() {
        let a = Tag::from(core::array::from_fn(|i| i as u8 * 7));
        assert_eq!(a.ct_eq(&a.clone()).unwrap_u8(), 1);
        for i in 0..TAG_LEN {
            for bit in 0..8 {
                let mut b = a.clone().into_bytes();
                b[i] ^= 1 << bit;
                assert_eq!(a.ct_eq(&Tag::from(b)).unwrap_u8(), 0, "byte {i} bit {bit}");
                assert_ne!(a, Tag::from(b));
            }
        }
    }

    #[test]
    fn rfc4231_case_2_and_6() {
        let k = MacKey::new(b"Jefe").unwrap_or_else(|_| unreachable!());
        let tag = k.sign(b"what do ya want for nothing?");
        let hex: std::string::String = tag.as_bytes().iter().map(|b| std::format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let k = MacKey::new(&[0xaa; 131]).unwrap_or_else(|_| unreachable!());
        let tag = k.sign(b"Test Using Larger Than Block-Size Key - Hash Key First");
        let hex: std::string::String = tag.as_bytes().iter().map(|b| std::format!("{b:02x}")).collect();
        assert_eq!(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        assert_eq!(k.verify(b"Test Using Larger Than Block-Size Key - Hash Key First", tag.as_bytes()), Ok(()));
        assert_eq!(k.verify(b"Test", tag.as_bytes()), Err(Error::SignatureMismatch));
        assert_eq!(k.verify(b"Test", &[0; 31]), Err(Error::InvalidSignatureEncoding));
    }

    proptest! {
        #[test]
        fn matches_rustcrypto_hmac(key in vec(any::<u8>(), 1..200), msg in vec(any::<u8>(), 0..1000),
                                   cuts in vec(any::<usize>(), 0..8)) {
            let k = MacKey::new(&key).unwrap_or_else(|_| unreachable!());
            prop_assert_eq!(pieces(&k, &msg, &cuts), oracle(&key, &msg));
        }
    }
}
