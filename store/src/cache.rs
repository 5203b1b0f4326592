//! The read-through cache a verifier looks clients up through, in front of a persistent
//! [`Store`]: bounded, each entry fresh for a time-to-live, misses cached too, explicit
//! invalidation, failing closed when the store cannot be reached.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use apisig::Error;
use apisig::client::{Cidr, Client, Scopes, Slot};
use apisig::names::Named;
use apisig::pin::{PIN_LEN, PinKind};
use apisig::policy::RoleId;
use apisig::store::{ClientStore, PresentedKey};

use crate::{ClientRecord, KeyKind, KeyMaterial, Store, StoreError};

/// How a [`CachedStore`] keeps entries, and how it names roles and scopes.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// How long a looked-up client (or the fact that there is none) is used before the store
    /// is asked again: the longest a change made in the database (a revoked key, by another
    /// worker or the command line) goes unseen by this worker. Default 10 s.
    pub ttl: Duration,
    /// Most entries kept (clients and misses); the oldest go first. Default 100,000.
    pub capacity: usize,
    /// While the store cannot be reached, serve entries up to this long past their
    /// time-to-live instead of failing closed (`None`, the default: fail closed with
    /// [`Error::StoreUnavailable`] as soon as an entry is stale). Opting in trades revocations
    /// going unseen for that long against availability.
    pub serve_stale: Option<Duration>,
    /// The server's role names, by [`RoleId`]: a client's stored role name becomes the id of
    /// its position here. A name not listed gives no role (so role-checked paths refuse it).
    pub roles: Vec<String>,
    /// The server's scope names, by bit (as its [`ScopeNames`](apisig::policy::ScopeNames)
    /// table): a stored scope not listed is dropped (fewer permissions, never more).
    pub scopes: Vec<String>,
}

impl Default for CacheConfig {
    fn default() -> CacheConfig {
        CacheConfig {
            ttl: Duration::from_secs(10),
            capacity: 100_000,
            serve_stale: None,
            roles: Vec::new(),
            scopes: Vec::new(),
        }
    }
}

/// What a lookup was by.
#[derive(Clone, Debug, Eq, PartialEq, Hash)]
enum Lookup {
    Id(Box<str>),
    Digest([u8; 32]),
    Pin(PinKind, [u8; PIN_LEN]),
}

#[derive(Clone)]
struct Cached {
    client: Option<Arc<Client>>,
    fetched: Instant,
}

/// A lookup's key as the caller has it: by-id lookups probe without copying the id.
enum Probe<'a> {
    Id(&'a str),
    Other(Lookup),
}

impl Probe<'_> {
    fn owned(self) -> Lookup {
        match self {
            Probe::Id(id) => Lookup::Id(id.into()),
            Probe::Other(k) => k,
        }
    }
}

#[derive(Default)]
struct Entries {
    /// By id (probed by `&str`, no allocation on a hit).
    ids: HashMap<Box<str>, Cached>,
    /// By digest and by pin.
    keys: HashMap<Lookup, Cached>,
    /// Insertion order, for eviction: each key of the maps once.
    order: VecDeque<Lookup>,
}

impl Entries {
    fn get(&self, probe: &Probe<'_>) -> Option<&Cached> {
        match probe {
            Probe::Id(id) => self.ids.get(*id),
            Probe::Other(k) => self.keys.get(k),
        }
    }

    /// Whether `key` is new.
    fn insert(&mut self, key: Lookup, value: Cached) -> bool {
        match key {
            Lookup::Id(id) => self.ids.insert(id, value).is_none(),
            k => self.keys.insert(k, value).is_none(),
        }
    }

    fn remove(&mut self, key: &Lookup) {
        match key {
            Lookup::Id(id) => self.ids.remove(&**id),
            k => self.keys.remove(k),
        };
    }

    fn contains(&self, key: &Lookup) -> bool {
        match key {
            Lookup::Id(id) => self.ids.contains_key(&**id),
            k => self.keys.contains_key(k),
        }
    }

    fn len(&self) -> usize {
        self.ids.len().saturating_add(self.keys.len())
    }
}

/// A read-through cache in front of a [`Store`], as a verifier's
/// [`ClientStore`]: safe to share between threads (each worker process has its own; they
/// agree through the database within the time-to-live).
///
/// A presented static key is checked against the store's [`KeyFormat`](crate::KeyFormat)
/// first (a typo never reaches the cache or the database), then looked up by its SHA-256.
///
/// ```
/// use apisig::client::Slot;
/// use apisig::store::{ClientStore, PresentedKey};
/// use apisig_store::{CacheConfig, CachedStore, KeyKind, MasterKey, Store};
/// let store = Store::open("sqlite::memory:", MasterKey::generate()?)?;
/// store.create_client("client-7")?;
/// let key = store.issue("client-7", Slot::Primary, KeyKind::Static)?;
/// let cache = CachedStore::new(store, CacheConfig::default());
/// let found = cache.by_static_key(&PresentedKey::new(key.as_str().as_bytes()))?.expect("issued");
/// assert_eq!(found.id(), "client-7");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CachedStore {
    store: Arc<Store>,
    config: CacheConfig,
    entries: Mutex<Entries>,
    /// Why the store last failed a lookup: the verifier only sees `store_unavailable` (503).
    last_failure: Mutex<Option<StoreError>>,
}

impl core::fmt::Debug for CachedStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CachedStore").field("store", &self.store).field("config", &self.config).finish_non_exhaustive()
    }
}

impl CachedStore {
    /// A cache in front of `store`.
    pub fn new(store: impl Into<Arc<Store>>, config: CacheConfig) -> CachedStore {
        CachedStore {
            store: store.into(),
            config,
            entries: Mutex::new(Entries::default()),
            last_failure: Mutex::new(None),
        }
    }

    /// Why the store last failed a lookup or a nonce mark that the verifier answered with
    /// [`Error::StoreUnavailable`] (a database down, a record that does not read back, a secret
    /// sealed under a master key this process was not given), for the server's log; `None`
    /// until then. The next successful load does not clear it.
    pub fn last_failure(&self) -> Option<StoreError> {
        self.last_failure.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn failed(&self, e: StoreError) {
        *self.last_failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
    }

    /// The store behind the cache, for the key lifecycle (call [`invalidate`](Self::invalidate)
    /// after changing a client through it, to see the change here at once).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Forgets everything cached about the client `id` (found by id, key or pin).
    pub fn invalidate(&self, id: &str) {
        let mut e = self.entries();
        let other = |v: &Cached| v.client.as_ref().is_none_or(|c| c.id() != id);
        e.ids.retain(|k, v| &**k != id && other(v));
        e.keys.retain(|_, v| other(v));
        let e = &mut *e;
        let order = std::mem::take(&mut e.order);
        e.order = order.into_iter().filter(|k| e.contains(k)).collect();
    }

    /// Forgets everything cached, misses included.
    pub fn invalidate_all(&self) {
        *self.entries() = Entries::default();
    }

    /// How many entries (clients and misses) are cached.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached answer for `key` while fresh, else the store's (`load`), cached.
    fn fetch(
        &self,
        key: Probe<'_>,
        load: impl FnOnce(&Store) -> Result<Option<ClientRecord>, StoreError>,
    ) -> Result<Option<Arc<Client>>, Error> {
        let stale = match self.entries().get(&key) {
            Some(c) if c.fetched.elapsed() < self.config.ttl => return Ok(c.client.clone()),
            other => other.cloned(),
        };
        let loaded = load(&self.store).and_then(|r| r.map(|r| self.client(&r).map(Arc::new)).transpose());
        let client = match loaded {
            Ok(client) => client,
            Err(StoreError::Core(e)) => return Err(e),
            Err(e) => {
                // Unreachable, or a record that does not read back: fail closed unless the
                // server chose to serve stale entries for a while.
                self.failed(e);
                let limit = self.config.serve_stale.map(|s| self.config.ttl.saturating_add(s));
                return match (stale, limit) {
                    (Some(c), Some(limit)) if c.fetched.elapsed() < limit => Ok(c.client),
                    _ => Err(Error::StoreUnavailable),
                };
            }
        };
        let mut e = self.entries();
        let fresh = Cached { client: client.clone(), fetched: Instant::now() };
        let key = key.owned();
        if e.insert(key.clone(), fresh) {
            e.order.push_back(key);
            while e.len() > self.config.capacity.max(1) {
                match e.order.pop_front() {
                    Some(old) => e.remove(&old),
                    None => break,
                }
            }
        }
        Ok(client)
    }

    /// The core's client for a stored record.
    fn client(&self, r: &ClientRecord) -> Result<Client, StoreError> {
        let info = &r.info;
        let mut c = Client::new(&info.id)?;
        for (slot, m) in Slot::ALL.iter().zip(&r.material) {
            match m {
                Some(KeyMaterial::StaticDigest(d)) => c.set_key_digest(*slot, Some(*d))?,
                Some(KeyMaterial::HmacSecret(s)) => c.set_secret(*slot, Some(s))?,
                None => {}
            }
        }
        for k in &info.keys {
            c.set_expiry(k.slot, k.expires.map(|s| s.saturating_mul(1_000_000_000)));
            c.set_key_revoked(k.slot, k.revoked.is_some());
        }
        for (slot, pin) in &info.pins {
            c.set_pin(*slot, Some(*pin));
        }
        let role = info.role.as_deref().and_then(|r| self.config.roles.iter().position(|n| n == r));
        c.set_role(role.and_then(|i| u8::try_from(i).ok()).map(RoleId));
        if let Some(u) = &info.user_id {
            c.bind_user_id(u)?;
        }
        c.set_status(info.status);
        let allowed = info.allowed.iter().map(|a| Cidr::parse(a)).collect::<Result<Vec<_>, _>>()?;
        c.set_allowed(&allowed)?;
        let bits = info.scopes.iter().filter_map(|s| self.config.scopes.iter().position(|n| n == s));
        c.set_scopes(Scopes(
            bits.fold(0, |acc, b| acc | u32::try_from(b).ok().and_then(|b| 1u64.checked_shl(b)).unwrap_or(0)),
        ));
        Ok(c)
    }
}

impl CachedStore {
    fn find_id(&self, id: &[u8]) -> Result<Option<Arc<Client>>, Error> {
        let Ok(id) = core::str::from_utf8(id) else { return Ok(None) };
        self.fetch(Probe::Id(id), |s| s.load(id))
    }

    fn find_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<Arc<Client>>, Error> {
        let text = core::str::from_utf8(key.key()).map_err(|_| Error::InvalidKeyFormat)?;
        if self.store.key_format().check(text)? != KeyKind::Static {
            return Err(Error::InvalidKeyFormat);
        }
        let digest = key.digest();
        self.fetch(Probe::Other(Lookup::Digest(*digest)), |s| s.load_by_static_digest(digest))
    }

    fn find_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<Arc<Client>>, Error> {
        let found = self.fetch(Probe::Other(Lookup::Pin(kind, *fingerprint)), |s| s.load_by_pin(fingerprint))?;
        // The store finds a pin by its fingerprint; the kind must be the pinned one too.
        let pinned = |c: &Client| {
            Slot::ALL.iter().any(|s| c.pin(*s).is_some_and(|p| p.kind == kind && p.fingerprint == *fingerprint))
        };
        Ok(found.filter(|c| pinned(c)))
    }

    fn nonce(&self, id: &str, nonce: u64) -> Result<(), Error> {
        match self.store.advance_nonce(id, nonce) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::ReplayedRequest),
            Err(StoreError::NoSuchClient(_)) => Err(Error::UnknownKey),
            Err(e) => {
                let core = e.core_error().unwrap_or(Error::StoreUnavailable);
                if core == Error::StoreUnavailable {
                    self.failed(e);
                }
                Err(core)
            }
        }
    }
}

/// Defines the cache as the verifier's store, for `CachedStore` and for `&CachedStore` (so
/// threads share one cache). A database of millions of clients is not scanned per request:
/// `for_each` answers [`Error::UnsupportedCredential`]. APEX nonce marks are kept in the
/// database, so every worker sees the same mark.
macro_rules! client_store {
    ($($t:ty),*) => {$(
        impl ClientStore for $t {
            type Found<'a> = Arc<Client> where Self: 'a;

            fn by_id(&self, id: &[u8]) -> Result<Option<Arc<Client>>, Error> {
                self.find_id(id)
            }

            fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<Arc<Client>>, Error> {
                self.find_static_key(key)
            }

            fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<Arc<Client>>, Error> {
                self.find_pin(kind, fingerprint)
            }

            fn for_each(&self, _: &mut dyn FnMut(&Client)) -> Result<(), Error> {
                Err(Error::UnsupportedCredential)
            }

            fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
                self.nonce(id, nonce)
            }
        }
    )*};
}

client_store!(CachedStore, &CachedStore);
