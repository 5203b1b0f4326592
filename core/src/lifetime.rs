//! When to refresh a short-lived access token (ZignSec's OAuth2 tokens live 20 minutes): the
//! bookkeeping every client needs, here so firmware and the Python client behave the same.
//!
//! ```
//! use apisig::TokenLifetime;
//! let t = TokenLifetime { issued_at: 0, lifetime_s: 1200, skew_s: 60 };
//! assert!(!t.needs_refresh(1139 * 1_000_000_000));
//! assert!(t.needs_refresh(1140 * 1_000_000_000));
//! assert!(t.is_expired(1200 * 1_000_000_000));
//! ```

use crate::{TimeUnit, UnixNanos};

/// A token's lifetime as the client saw it.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct TokenLifetime {
    /// When the token was received (nanoseconds since the UNIX epoch).
    pub issued_at: UnixNanos,
    /// Its lifetime in seconds (`expires_in`).
    pub lifetime_s: u64,
    /// How long before expiry to refresh, for clock skew and latency. Capped at half the
    /// lifetime, so a short-lived token is still used for a while.
    pub skew_s: u64,
}

impl TokenLifetime {
    /// When the token expires.
    pub const fn expires_at(&self) -> UnixNanos {
        self.issued_at.saturating_add(TimeUnit::Seconds.to_nanos(self.lifetime_s))
    }

    /// When the client should fetch a new token.
    pub const fn refresh_at(&self) -> UnixNanos {
        let half = self.lifetime_s / 2;
        let skew = if self.skew_s < half { self.skew_s } else { half };
        self.expires_at().saturating_sub(TimeUnit::Seconds.to_nanos(skew))
    }

    /// Whether to fetch a new token before the next request.
    pub const fn needs_refresh(&self, now: UnixNanos) -> bool {
        now >= self.refresh_at()
    }

    /// Whether the token has expired.
    pub const fn is_expired(&self, now: UnixNanos) -> bool {
        now >= self.expires_at()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_is_capped_and_arithmetic_saturates() {
        let s = 1_000_000_000;
        let short = TokenLifetime { issued_at: 100 * s, lifetime_s: 10, skew_s: 60 };
        assert_eq!(short.refresh_at(), 105 * s);
        let huge = TokenLifetime { issued_at: u64::MAX - 1, lifetime_s: u64::MAX, skew_s: 0 };
        assert_eq!(huge.expires_at(), u64::MAX);
        assert!(!huge.is_expired(u64::MAX - 1));
    }
}
