#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "ocsp")]
pub mod ocsp;
mod refusal;
#[cfg(feature = "server")]
pub mod server;

pub use refusal::{Refusal, status_for};

use apisig::UnixNanos;

/// Now, in nanoseconds since the UNIX epoch (0 before it; saturating far after it): the
/// clock both sides use unless given another.
pub fn now() -> UnixNanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
