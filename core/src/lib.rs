#![no_std]
#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), warn(missing_docs))]

#[cfg(test)]
extern crate std;

mod body;
pub mod claim;
pub mod dialect;
mod encoding;
mod error;
pub mod headers;
pub mod jwk;
pub mod jws;
pub mod jwt;
pub mod keyring;
mod lifetime;
mod mac;
pub mod message;
pub mod names;
pub mod ocsp;
pub mod pin;
pub mod policy;
pub mod replay;
mod request;
pub mod rotation;
pub mod scheme;
pub mod session;
mod sign;
mod time;
mod verify;

pub use encoding::{Encoding, SIGNATURE_TEXT_MAX, SignatureText};
pub use error::{Error, Family};
pub use headers::{Header, HeaderLine, HeaderSet, MAX_HEADERS};
pub use keyring::{ClientId, Keyring, Pin, Slot};
pub use lifetime::TokenLifetime;
pub use mac::{MacKey, TAG_LEN, Tag, hmac_sign, hmac_verify};
pub use message::{MessageInput, Part, Template};
pub use policy::{Policy, Role, RoleId};
pub use replay::{ReplayCache, ReplayEntry, ReplayStore};
pub use request::Request;
pub use rotation::Rotation;
pub use scheme::{Field, HeaderSpec, Kind, READ_HEADERS_MAX, Scheme};
pub use sign::{Credentials, Signer, Stamp};
pub use time::{TimeUnit, UnixNanos, Window};
pub use verify::{PreparedScheme, Principal, Verifier};
