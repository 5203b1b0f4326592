//! What can go wrong in a store, and the core error a verifier reports for it.

use core::fmt;

/// A store's error. Messages name clients and slots, never secrets.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum StoreError {
    /// The database cannot be reached, or failed mid-way (the change was rolled back). A
    /// verifier reports it as the core's "store unavailable" error (HTTP 503, failing closed).
    Unavailable(String),
    /// No master key was given: neither `APISIG_MASTER_KEY` nor `APISIG_MASTER_KEY_FILE` is
    /// set, or the file cannot be read.
    MasterKeyMissing(String),
    /// The master key given is not a key (length, encoding).
    InvalidMasterKey(String),
    /// The store's secrets are sealed under another master key than the one given.
    WrongMasterKey {
        /// The id of the master key the store was created with.
        store: String,
        /// The id of the master key given.
        given: String,
    },
    /// A secret is sealed under a master key this process was not given: a re-seal to a new
    /// master key is under way (or done) and the process holds only the other key. A
    /// verifier reports it as "store unavailable" (503, failing closed).
    MasterKeyNotGiven {
        /// The id of the master key the secret is sealed under.
        needed: String,
        /// The ids of the master keys given.
        given: String,
    },
    /// Stored data does not read back: a sealed secret that does not open, a value of the
    /// wrong shape, a schema newer than this version knows.
    Corrupt(String),
    /// A store URL this version does not open (or whose feature is not built in).
    InvalidUrl(String),
    /// A value given is not usable (an id, a CIDR, a scope, a product name).
    InvalidInput(String),
    /// No client has this id.
    NoSuchClient(String),
    /// A client with this id already exists.
    ClientExists(String),
    /// The client already has a key in this slot (retire or delete it first).
    SlotOccupied {
        /// The client.
        client: String,
        /// The slot's name (`primary`, `secondary`).
        slot: &'static str,
    },
    /// The client has no key in this slot.
    NoSuchKey {
        /// The client.
        client: String,
        /// The slot's name (`primary`, `secondary`).
        slot: &'static str,
    },
    /// A core error: a key not in the issued format, an id too long for the core, …
    Core(apisig::Error),
    /// The operating system gave no randomness.
    Random(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(m) => write!(f, "key store unavailable: {m}"),
            StoreError::MasterKeyMissing(m) => write!(f, "no master key: {m}"),
            StoreError::InvalidMasterKey(m) => write!(f, "invalid master key: {m}"),
            StoreError::WrongMasterKey { store, given } => write!(
                f,
                "wrong master key: the store's secrets are sealed under master key {store}, the key given is {given}"
            ),
            StoreError::MasterKeyNotGiven { needed, given } => write!(
                f,
                "a secret is sealed under master key {needed}, which this process was not given (it holds {given}): \
                 give it that key too (APISIG_MASTER_KEY_PREVIOUS) until the re-seal is complete"
            ),
            StoreError::Corrupt(m) => write!(f, "key store data unreadable: {m}"),
            StoreError::InvalidUrl(m) => write!(f, "invalid store URL: {m}"),
            StoreError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            StoreError::NoSuchClient(c) => write!(f, "no client {c:?}"),
            StoreError::ClientExists(c) => write!(f, "client {c:?} already exists"),
            StoreError::SlotOccupied { client, slot } => write!(f, "client {client:?} already has a {slot} key"),
            StoreError::NoSuchKey { client, slot } => write!(f, "client {client:?} has no {slot} key"),
            StoreError::Core(e) => write!(f, "{e}"),
            StoreError::Random(m) => write!(f, "no randomness from the operating system: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// The core error a verifier (and every face's HTTP answer) reports when a lookup fails
    /// with this: [`Error::StoreUnavailable`](apisig::Error::StoreUnavailable) (503, failing
    /// closed) for a database that cannot be reached or data that does not read back, the
    /// core error itself for [`StoreError::Core`]; `None` for errors of the lifecycle API
    /// (a missing client, a taken slot, a bad value, the master key), which no request causes.
    pub fn core_error(&self) -> Option<apisig::Error> {
        match self {
            StoreError::Unavailable(_) | StoreError::Corrupt(_) | StoreError::MasterKeyNotGiven { .. } => {
                Some(apisig::Error::StoreUnavailable)
            }
            StoreError::Core(e) => Some(*e),
            _ => None,
        }
    }
}

impl From<apisig::Error> for StoreError {
    fn from(e: apisig::Error) -> StoreError {
        StoreError::Core(e)
    }
}
