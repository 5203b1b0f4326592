#![no_std]
#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
//!
//! # The public API
//!
//! Every item has one path. The crate root holds what signing and verifying a request takes,
//! defined in private modules and re-exported here once:
//!
//! | Item | What it is |
//! |------|------------|
//! | [`Signer`], [`Credentials`], [`Stamp`] | sign a request as a client |
//! | [`Verifier`], [`PreparedScheme`], [`Principal`] | verify one as a server, and who sent it |
//! | [`Request`] | the method, path, body and headers being signed or verified |
//! | [`Error`], [`Family`] | every failure, and its class (HTTP status, exception base) |
//! | [`Window`], [`TimeUnit`], [`UnixNanos`] | time: the accepted skew, a scheme's unit, the clock |
//! | [`MacKey`], [`Tag`], [`TAG_LEN`], [`hmac_sign`], [`hmac_verify`] | HMAC-SHA256 |
//! | [`Encoding`], [`SignatureText`], [`SIGNATURE_TEXT_MAX`] | how a tag is written (hex, base64) |
//! | [`TokenLifetime`] | when a short-lived access token is refreshed |
//!
//! Each module holds its own types, which are not re-exported at the root:
//!
//! | Module | Holds |
//! |--------|-------|
//! | [`dialect`] | the built-in schemes (`dialect::AEVO`, …) and Securosys's roles |
//! | [`scheme`] | [`Scheme`](scheme::Scheme): which headers carry which [`Field`](scheme::Field), and its [`Kind`](scheme::Kind) |
//! | [`message`] | [`Template`](message::Template): the signed message's [`Part`](message::Part)s |
//! | [`headers`] | [`Header`](headers::Header) (a received header), [`HeaderSet`](headers::HeaderSet) (headers to send) |
//! | [`client`] | a registered [`Client`](client::Client): its key [`Slot`](client::Slot)s, [`Status`](client::Status), allowed [`Cidr`](client::Cidr)s, [`Scopes`](client::Scopes) |
//! | [`store`] | the [`ClientStore`](store::ClientStore) the verifier finds clients through |
//! | [`keyring`] | [`Keyring`](keyring::Keyring): the fixed-capacity client store, no heap |
//! | [`pin`] | mTLS certificate [`Pin`](pin::Pin)s |
//! | [`policy`] | role-scoped keys: [`Policy`](policy::Policy), [`RoleId`](policy::RoleId); [`ScopeNames`](policy::ScopeNames) |
//! | [`preset`] | signers typed by preset, sized for devices: [`PresetSigner`](preset::PresetSigner)`<`[`Aevo`](preset::Aevo)`>` |
//! | [`replay`] | the [`ReplayStore`](replay::ReplayStore) and the in-memory [`ReplayCache`](replay::ReplayCache) |
//! | [`claim`] | a replay claim for a shared store (Redis) |
//! | [`rotation`] | a client's key [`Rotation`](rotation::Rotation) on 401/403 |
//! | [`jwt`] | HS256 JSON Web Tokens |
//! | [`jwk`] | JSON Web Keys: an issuer's public keys, by `kid` |
//! | [`jws`] | asymmetric access tokens (RS256, PS256, ES256, EdDSA) checked against a JWK set |
//! | [`introspect`] | the rules for an RFC 7662 introspection answer about an opaque token |
//! | [`session`] | APEX session tokens |
//! | [`ocsp`] | deciding on an OCSP response for a pinned mTLS certificate |
//! | [`names`] | the text names of the enums ([`Named`](names::Named)) |
//!
//! `core/tests/public_api.rs` names every root item and module by this one path.
//!
//! # Cargo features
//!
//! The crate is `no_std` and allocation-free on every target; the features only choose which
//! asymmetric JWS algorithms ([`jws`]) are built in, and by which crates:
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `es256` | yes | ES256 (ECDSA on P-256, SHA-256) verification, no heap (`p256`) |
//! | `eddsa` | yes | EdDSA (Ed25519) verification, no heap (`ed25519-dalek`) |
//! | `precomputed-tables` | no | faster ES256/EdDSA for tens of KiB and, for P-256, `std`: hosts |
//! | `rsa` | no | RS256 and PS256 verification; needs `alloc` (`rsa`), so firmware leaves it out |
//! | `ring` | no | hosts: RS256, PS256, ES256 by `ring`'s assembly, same keys and answers as RustCrypto; C compiler, `alloc` |
//!
//! A device that only signs HMAC requests links none of them (`--gc-sections`), with or
//! without the features. Minimum Rust: the `rust-version` of its manifest (1.87), checked by
//! `http/tests/msrv.rs`.
#![cfg_attr(not(test), warn(missing_docs))]

#[cfg(test)]
extern crate std;

mod body;
pub mod claim;
pub mod client;
pub mod dialect;
mod encoding;
mod error;
pub mod headers;
pub mod introspect;
pub mod jwk;
pub mod jws;
mod jws_backend;
pub mod jwt;
pub mod keyring;
mod lifetime;
mod mac;
pub mod message;
pub mod names;
pub mod ocsp;
pub mod pin;
pub mod policy;
pub mod preset;
pub mod replay;
mod request;
pub mod rotation;
pub mod scheme;
pub mod session;
mod sign;
pub mod store;
mod time;
mod verify;

pub use encoding::{Encoding, SIGNATURE_TEXT_MAX, SignatureText};
pub use error::{Error, Family};
pub use lifetime::TokenLifetime;
pub use mac::{MacKey, TAG_LEN, Tag, hmac_sign, hmac_verify};
pub use request::Request;
pub use sign::{Credentials, Signer, Stamp};
pub use time::{TimeUnit, UnixNanos, Window};
pub use verify::{PreparedScheme, Principal, Verifier};
