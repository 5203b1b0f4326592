//! Client stores for apisig servers: where a server keeps its clients' keys.
//!
//! The no-alloc core (`apisig`) verifies requests against clients it finds through a store
//! interface; this crate holds the stores a server with many clients uses, written once for
//! every face (Rust, Python, C host builds):
//!
//! | Item | What it is |
//! |------|------------|
//! | [`KeyFormat`], [`IssuedKey`], [`KeyKind`] | issued keys: `<product>_sk_…` / `<product>_hs_…`, 256 random bits, a CRC32 checksum |
//! | [`MasterKey`], [`MasterKeys`] | the server's master key, which seals HMAC secrets at rest (XChaCha20-Poly1305); a new key and older ones during a re-seal |
//! | [`Store`], [`NewClient`], [`RekeyStatus`] | the persistent store (SQLite by default, PostgreSQL for several machines), the key lifecycle, bulk import, re-sealing under a new master key |
//! | [`CachedStore`], [`CacheConfig`] | the read-through cache a verifier looks clients up through, in front of a [`Store`] |
//! | [`MemoryStore`] | clients in memory, without a capacity ceiling |
//! | [`StoreError`] | what can go wrong in a store |
//!
//! `docs/stores.md` in the repository says how a server keeps its keys.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `sqlite` | yes | the embedded SQLite store (`sqlite:` URLs); SQLite is compiled in (`rusqlite`'s `bundled`) |
//! | `postgres` | yes | the PostgreSQL store (`postgres://` URLs), through the synchronous `postgres` client |
#![forbid(unsafe_code)]

mod cache;
mod db;
mod error;
mod key;
mod memory;
mod seal;
mod store;

pub use cache::{CacheConfig, CachedStore};
pub use error::StoreError;
pub use key::{CHECKSUM_LEN, IssuedKey, KeyFormat, KeyKind, PRODUCT_MAX, RANDOM_LEN};
pub use memory::MemoryStore;
pub use seal::{
    MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, MASTER_KEY_LEN, MASTER_KEY_PREVIOUS_ENV, MASTER_KEY_PREVIOUS_FILE_ENV,
    MasterKey, MasterKeys,
};
pub use store::{
    ClientInfo, ClientRecord, DEFAULT_PRODUCT, KeyInfo, KeyMaterial, NewClient, RekeyStatus, SCOPE_MAX, Store,
};

/// Fills `out` from the operating system's random number generator.
fn random(out: &mut [u8]) -> Result<(), StoreError> {
    getrandom::fill(out).map_err(|e| StoreError::Random(e.to_string()))
}
