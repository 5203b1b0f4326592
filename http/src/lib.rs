#![doc = include_str!("../README.md")]
//!
//! ## Cargo features
//!
//! - `server` (default): the tower layer verifying requests ([`server`]), for axum, hyper and any
//!   tower service.
//! - `client` (default): the reqwest middleware signing requests ([`client`]).
//! - `redis`: the replay record shared by workers in Redis, asynchronously (`apisig-redis` over
//!   tokio); implies `server`.
//! - `rustls`: `PeerCertificate::from_rustls`, the client certificate of a rustls server
//!   connection, for pinned mutual TLS; implies `server`.
//! - `axum`: the layer reads the peer address (for allow-lists) from axum's
//!   `ConnectInfo<SocketAddr>` when no `PeerAddr` extension is set; implies `server`.
//! - `ocsp`: an OCSP check of pinned client certificates (`ocsp::OcspChecker`, RustCrypto
//!   `x509-ocsp` and `ring`, the verdict decided by the core); implies `server`.
//! - `oidc`: OpenID Connect ([`oidc`]): client credentials found by discovery as a reqwest
//!   middleware, and a tower layer accepting JWT access tokens (RS256, PS256, ES256, EdDSA)
//!   against the issuer's JWK set, or opaque ones by RFC 7662 introspection ([`introspection`]:
//!   client-authenticated, judged by the core, cached until the token's `exp` at most, failing
//!   closed); implies `server` and `client` (and the core's `rsa`, and its `ring`: RS256, PS256
//!   and ES256 verified by ring's assembly, as every host build does).
//!
//! Minimum Rust: 1.88 (with `redis`, redis-rs needs it; `tests/msrv.rs` checks every
//! published crate's tree against its stated `rust-version`).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "oidc")]
pub mod introspection;
#[cfg(feature = "ocsp")]
pub mod ocsp;
#[cfg(feature = "oidc")]
pub mod oidc;
mod refusal;
#[cfg(feature = "server")]
pub mod server;

pub use refusal::{Refusal, grpc_answer, grpc_code_for, is_grpc, status_for};

use apisig::UnixNanos;

/// Now, in nanoseconds since the UNIX epoch (0 before it; saturating far after it): the
/// clock both sides use unless given another.
pub fn now() -> UnixNanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
