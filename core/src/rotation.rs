//! Client-side key rotation: a small state machine any HTTP client can drive.
//!
//! ZignSec keeps two live keys and asks clients to retry with the other one on 401 or 403;
//! Securosys clients roll over to the next key of a role on 401. Both are the same machine:
//! start each request with the current key; on a retry status, move to the next key not yet
//! tried for this request; when a retried key succeeds, it becomes the current one (sticky).
//!
//! ```
//! use apisig::rotation::{Next, Rotation};
//! let mut keys = Rotation::zignsec();
//! let mut attempt = keys.begin();
//! assert_eq!(attempt.key(), 0);
//! assert_eq!(keys.on_response(&mut attempt, 401), Next::Retry(1));
//! assert_eq!(keys.on_response(&mut attempt, 200), Next::Done);
//! assert_eq!(keys.begin().key(), 1, "the key that worked is kept");
//! ```

use crate::scheme::Scheme;

/// Which responses mean "try another key".
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum RetryOn {
    /// 401 only (Securosys).
    Unauthorized,
    /// 401 or 403 (ZignSec).
    UnauthorizedOrForbidden,
}

impl RetryOn {
    fn matches(self, status: u16) -> bool {
        match self {
            RetryOn::Unauthorized => status == 401,
            RetryOn::UnauthorizedOrForbidden => status == 401 || status == 403,
        }
    }
}

/// A client's keys for one service: how many, which is current, when to move on.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Rotation {
    keys: u8,
    current: u8,
    retry_on: RetryOn,
}

/// One request's progress through the keys.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Attempt {
    key: u8,
    tried: u8,
}

impl Attempt {
    /// The index of the key to send now.
    pub const fn key(&self) -> usize {
        self.key as usize
    }
}

/// What to do after a response.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Next {
    /// Hand the response to the caller.
    Done,
    /// Send the request again with key `n`.
    Retry(usize),
    /// Every key was refused; hand the last response to the caller.
    Exhausted,
}

impl Rotation {
    /// `keys` keys (at least one), starting with key 0.
    pub const fn new(keys: u8, retry_on: RetryOn) -> Rotation {
        Rotation { keys: if keys == 0 { 1 } else { keys }, current: 0, retry_on }
    }

    /// `keys` keys for a service that speaks `scheme`: retried on the responses the scheme's
    /// [`retry_on`](Scheme::retry_on) names (ZignSec's 401 or 403, everyone else's 401).
    ///
    /// ```
    /// use apisig::{dialect, rotation::{Next, Rotation}};
    /// let mut zs = Rotation::for_scheme(&dialect::ZIGNSEC_OAUTH, 2);
    /// let mut attempt = zs.begin();
    /// assert_eq!(zs.on_response(&mut attempt, 403), Next::Retry(1));
    /// let mut tsb = Rotation::for_scheme(&dialect::SECUROSYS, 3);
    /// let mut attempt = tsb.begin();
    /// assert_eq!(tsb.on_response(&mut attempt, 403), Next::Done);
    /// ```
    pub const fn for_scheme(scheme: &Scheme<'_>, keys: u8) -> Rotation {
        Rotation::new(keys, scheme.retry_on)
    }

    /// ZignSec: primary and secondary, retry on 401 or 403.
    pub const fn zignsec() -> Rotation {
        Rotation::new(2, RetryOn::UnauthorizedOrForbidden)
    }

    /// Securosys: `keys` keys of one role, roll over on 401.
    pub const fn securosys(keys: u8) -> Rotation {
        Rotation::new(keys, RetryOn::Unauthorized)
    }

    /// The key new requests start with.
    pub const fn current(&self) -> usize {
        self.current as usize
    }

    /// How many keys there are.
    pub const fn keys(&self) -> usize {
        self.keys as usize
    }

    /// Starts a request.
    pub const fn begin(&self) -> Attempt {
        Attempt { key: self.current, tried: 1 }
    }

    /// Takes the response `status` to `attempt` and says what to do next.
    pub fn on_response(&mut self, attempt: &mut Attempt, status: u16) -> Next {
        if !self.retry_on.matches(status) {
            if attempt.tried > 1 {
                self.current = attempt.key;
            }
            return Next::Done;
        }
        if attempt.tried >= self.keys {
            return Next::Exhausted;
        }
        attempt.tried = attempt.tried.saturating_add(1);
        attempt.key = attempt.key.saturating_add(1).checked_rem(self.keys).unwrap_or(0);
        Next::Retry(attempt.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zignsec_retries_other_key_once_and_sticks() {
        let mut r = Rotation::zignsec();
        let mut a = r.begin();
        assert_eq!(r.on_response(&mut a, 403), Next::Retry(1));
        assert_eq!(r.on_response(&mut a, 403), Next::Exhausted);
        assert_eq!(r.current(), 0, "nothing worked: no change");
        let mut a = r.begin();
        assert_eq!(r.on_response(&mut a, 401), Next::Retry(1));
        assert_eq!(r.on_response(&mut a, 204), Next::Done);
        assert_eq!(r.current(), 1);
        let mut a = r.begin();
        assert_eq!(r.on_response(&mut a, 500), Next::Done, "other errors are not retried");
        assert_eq!(r.current(), 1);
    }

    #[test]
    fn securosys_rolls_over_on_401_only() {
        let mut r = Rotation::securosys(3);
        let mut a = r.begin();
        assert_eq!(r.on_response(&mut a, 403), Next::Done);
        let mut a = r.begin();
        assert_eq!(r.on_response(&mut a, 401), Next::Retry(1));
        assert_eq!(r.on_response(&mut a, 401), Next::Retry(2));
        assert_eq!(r.on_response(&mut a, 200), Next::Done);
        assert_eq!(r.current(), 2);
        let mut a = r.begin();
        assert_eq!(r.on_response(&mut a, 401), Next::Retry(0), "wraps around");
        assert_eq!(Rotation::new(0, RetryOn::Unauthorized).keys(), 1);
    }
}
