//! Where a Python `Verifier` finds its clients: in memory without a ceiling (`MemoryStore`),
//! through the read-through cache in front of a persistent `Store` (`CachedStore`), or
//! through a Python callable (`lookup=`) for servers that keep keys elsewhere. One
//! [`ClientStore`] over the three, each lookup answering an `Arc<Client>`.
//!
//! The verifier holds its lock while it verifies (its replay record and nonce marks change), and
//! the core looks the client up inside the verification. So that a slow lookup (a database
//! miss, a callable that waits on a service) does not hold every other request up, the
//! verifier first asks the external store for the client the request names ([`Source`],
//! without its lock, see [`Source::prefetch`]); under the lock the verification then uses
//! that answer ([`Clients::hand_over`]) — or asks again, when it needs another client.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use apisig::client::{Cidr, Client, Scopes, Slot, Status};
use apisig::headers::Header;
use apisig::pin::{PIN_LEN, PinKind};
use apisig::scheme::{Field, Kind};
use apisig::store::{ClientStore, PresentedKey};
use apisig::{Error, names::Named as _};
use apisig_store::{CachedStore, MemoryStore};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::scheme::PolicyData;

/// The clients of a verifier.
pub(crate) enum Clients {
    /// Registered from Python (`Verifier.add`), without a capacity ceiling.
    Memory(MemoryStore),
    /// Read through a cache from a persistent store (`Verifier(store=...)`), with the client
    /// it answered last and the answer handed over for this request; read-only here.
    Cached(Arc<CachedStore>, Last, Handed),
    /// Asked of a Python callable (`Verifier(lookup=...)`); read-only here.
    Lookup(Lookup),
}

impl ClientStore for Clients {
    type Found<'a> = Arc<Client>;

    fn by_id(&self, id: &[u8]) -> Result<Option<Arc<Client>>, Error> {
        match self {
            Clients::Memory(s) => Ok(core::str::from_utf8(id).ok().and_then(|id| s.get(id)).cloned()),
            Clients::Cached(s, last, handed) => remember(last, handed.take(ID, id).unwrap_or_else(|| s.by_id(id))),
            Clients::Lookup(l) => match core::str::from_utf8(id) {
                Ok(id) => l.ask(ID, LookupValue::Text(id)),
                Err(_) => Ok(None),
            },
        }
    }

    fn by_static_key(&self, key: &PresentedKey<'_>) -> Result<Option<Arc<Client>>, Error> {
        match self {
            Clients::Memory(s) => Ok(s.get_by_static_key(key)?.cloned()),
            Clients::Cached(s, last, handed) => {
                remember(last, handed.take(KEY_DIGEST, key.digest()).unwrap_or_else(|| s.by_static_key(key)))
            }
            Clients::Lookup(l) => l.ask(KEY_DIGEST, LookupValue::Bytes(key.digest())),
        }
    }

    fn by_pin(&self, kind: PinKind, fingerprint: &[u8; PIN_LEN]) -> Result<Option<Arc<Client>>, Error> {
        match self {
            Clients::Memory(s) => Ok(s.get_by_pin(kind, fingerprint).cloned()),
            Clients::Cached(s, last, _) => remember(last, s.by_pin(kind, fingerprint)),
            Clients::Lookup(l) => {
                let found = l.ask(kind.name(), LookupValue::Bytes(fingerprint))?;
                let pinned = |c: &Client| {
                    Slot::ALL.iter().any(|s| c.pin(*s).is_some_and(|p| p.kind == kind && p.fingerprint == *fingerprint))
                };
                Ok(found.filter(|c| pinned(c)))
            }
        }
    }

    fn for_each(&self, f: &mut dyn FnMut(&Client)) -> Result<(), Error> {
        match self {
            Clients::Memory(s) => s.for_each(f),
            Clients::Cached(s, ..) => s.for_each(f),
            // A callable is not asked for every client it knows.
            Clients::Lookup(_) => Err(Error::UnsupportedCredential),
        }
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        match self {
            Clients::Memory(s) => s.advance_nonce(id, nonce),
            Clients::Cached(s, ..) => (&**s).advance_nonce(id, nonce),
            Clients::Lookup(l) => l.advance_nonce(id, nonce),
        }
    }
}

/// The client a store answered last.
pub(crate) type Last = RefCell<Option<Arc<Client>>>;

/// The answer a store gave for this request before the verifier's lock (see
/// [`Source::prefetch`]), used once by the lookup it answers.
#[derive(Default)]
pub(crate) struct Handed(RefCell<Option<Prefetched>>);

impl Handed {
    /// The answer handed over for `(by, value)`, taken.
    fn take(&self, by: &str, value: &[u8]) -> Option<Result<Option<Arc<Client>>, Error>> {
        self.0.borrow_mut().take_if(|p| p.by == by && p.value == value).map(|p| p.answer)
    }
}

/// Keeps a found client as the last answer.
fn remember(last: &Last, found: Result<Option<Arc<Client>>, Error>) -> Result<Option<Arc<Client>>, Error> {
    if let Ok(Some(c)) = &found {
        *last.borrow_mut() = Some(Arc::clone(c));
    }
    found
}

/// What a verifier over a persistent store or a lookup says when asked to change a client.
const READ_ONLY: &str = "this verifier reads its clients from a store (store= or lookup=): change them there \
     (apisig.Store, `apisig keys`), not through the verifier";

impl Clients {
    /// The in-memory store; a `TypeError` for a verifier over a store or a lookup.
    pub(crate) fn memory(&self) -> PyResult<&MemoryStore> {
        match self {
            Clients::Memory(s) => Ok(s),
            _ => Err(PyTypeError::new_err(READ_ONLY)),
        }
    }

    /// The in-memory store, to change; a `TypeError` for a verifier over a store or a lookup.
    pub(crate) fn memory_mut(&mut self) -> PyResult<&mut MemoryStore> {
        match self {
            Clients::Memory(s) => Ok(s),
            _ => Err(PyTypeError::new_err(READ_ONLY)),
        }
    }

    /// Whether clients come from outside (a database, a Python callable): a lookup may block
    /// or call Python, so the verifier's lock is then taken without the GIL.
    pub(crate) fn is_external(&self) -> bool {
        !matches!(self, Clients::Memory(_))
    }

    /// Why the persistent store last failed a lookup (answered `StoreUnavailable`), for a
    /// verifier over a store; `None` otherwise.
    pub(crate) fn store_failure(&self) -> Option<String> {
        match self {
            Clients::Cached(s, ..) => s.last_failure().map(|e| e.to_string()),
            _ => None,
        }
    }

    /// The source to ask without the verifier's lock, for a store or a lookup.
    pub(crate) fn source(&self) -> Option<Source> {
        match self {
            Clients::Memory(_) => None,
            Clients::Cached(s, ..) => Some(Source::Cached(Arc::clone(s))),
            Clients::Lookup(l) => Some(Source::Lookup(Arc::clone(&l.source))),
        }
    }

    /// Gives the store the answer its source gave for this request without the lock (or
    /// `None`: forgets any left from another request).
    pub(crate) fn hand_over(&self, answer: Option<Prefetched>) {
        match self {
            Clients::Memory(_) => {}
            Clients::Cached(_, _, handed) => *handed.0.borrow_mut() = answer,
            Clients::Lookup(l) => *l.handed.0.borrow_mut() = answer,
        }
    }

    /// The client a verification just found, by id: the last answer of the cache or the
    /// lookup (neither is asked twice for one request), the memory store's client.
    pub(crate) fn found(&self, id: &str) -> Result<Arc<Client>, Error> {
        let last = match self {
            Clients::Memory(s) => return s.get(id).cloned().ok_or(Error::UnknownKey),
            Clients::Cached(_, last, _) => last,
            Clients::Lookup(l) => &l.last,
        };
        last.borrow().clone().filter(|c| c.id() == id).ok_or(Error::UnknownKey)
    }
}

/// The cache settings a `Verifier(store=...)` takes, with the verifier's policy's role names.
pub(crate) fn cache_config(
    ttl: f64,
    capacity: usize,
    serve_stale: Option<f64>,
    policy: Option<&PolicyData>,
    scopes: &[String],
) -> apisig_store::CacheConfig {
    apisig_store::CacheConfig {
        ttl: Duration::from_secs_f64(ttl.max(0.0)),
        capacity,
        serve_stale: serve_stale.map(|s| Duration::from_secs_f64(s.max(0.0))),
        roles: role_names(policy),
        scopes: scopes.to_vec(),
    }
}

enum LookupValue<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl LookupValue<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            LookupValue::Text(t) => t.as_bytes(),
            LookupValue::Bytes(b) => b,
        }
    }
}

/// The `by` of a lookup by key id, and by static key digest.
const ID: &str = "id";
const KEY_DIGEST: &str = "key_digest";

/// An external store, asked without the verifier's lock.
pub(crate) enum Source {
    Cached(Arc<CachedStore>),
    Lookup(Arc<LookupSource>),
}

/// A store's answer for a request, found before the verifier's lock was taken: by id or by
/// static key digest, the client or none, or the store's error (not asked twice).
pub(crate) struct Prefetched {
    by: &'static str,
    value: Vec<u8>,
    answer: Result<Option<Arc<Client>>, Error>,
}

impl Source {
    /// Asks for the client a request under `scheme` names by its key id or static key — the
    /// lookup the verification will make first — and gives the answer (or the store's error)
    /// to hand over. Nothing when the request names none this way (tokens, certificates,
    /// schemes without a key id) or names it twice: the verification then asks itself. Only
    /// a hint: the verification checks the credential as always, and asks for any client it
    /// needs that this is not.
    pub(crate) fn prefetch(&self, scheme: &apisig::PreparedScheme<'_>, headers: &[Header<'_>]) -> Option<Prefetched> {
        let s = scheme.scheme();
        let spec = s.headers.iter().find(|h| h.field == Field::ApiKey)?;
        let mut named = headers.iter().filter(|h| h.name.eq_ignore_ascii_case(spec.name));
        let value = named.next()?.value;
        if named.next().is_some() {
            return None;
        }
        let prefix = spec.prefix.as_bytes();
        let value = match value.get(..prefix.len()) {
            Some(head) if head.eq_ignore_ascii_case(prefix) => value.get(prefix.len()..)?,
            _ => return None,
        };
        let (by, key) = match s.kind() {
            Kind::Signed | Kind::KeyAndSecret => (ID, LookupValue::Text(core::str::from_utf8(value).ok()?)),
            Kind::StaticKey => (KEY_DIGEST, LookupValue::Bytes(value)),
            Kind::Token => return None,
        };
        Some(match (self, key) {
            (Source::Cached(c), LookupValue::Text(id)) => {
                Prefetched { by, value: id.as_bytes().to_vec(), answer: c.by_id(id.as_bytes()) }
            }
            (Source::Cached(c), LookupValue::Bytes(k)) => {
                let key = PresentedKey::new(k);
                Prefetched { by, value: key.digest().to_vec(), answer: c.by_static_key(&key) }
            }
            (Source::Lookup(l), LookupValue::Text(id)) => {
                Prefetched { by, value: id.as_bytes().to_vec(), answer: l.ask(by, LookupValue::Text(id)) }
            }
            (Source::Lookup(l), LookupValue::Bytes(k)) => {
                let key = PresentedKey::new(k);
                let answer = l.ask(by, LookupValue::Bytes(key.digest()));
                Prefetched { by, value: key.digest().to_vec(), answer }
            }
        })
    }
}

/// A Python callable `lookup(by, value)` answering a client record (a mapping) or `None`:
/// `by` is `"id"` (value: the key id, `str`), `"key_digest"` (the SHA-256 of a presented
/// static key, `bytes`), `"certificate"` or `"spki"` (a pin's fingerprint, `bytes`). An
/// exception it raises refuses the request with `StoreUnavailable` (failing closed).
pub(crate) struct Lookup {
    source: Arc<LookupSource>,
    /// APEX nonce marks, by client id (kept here: the callable is only asked for clients).
    nonces: std::collections::HashMap<String, u64>,
    /// The client the callable answered last (see [`Clients::found`]).
    last: Last,
    /// The answer asked for this request before the verifier's lock (see [`Source::prefetch`]).
    handed: Handed,
}

/// The callable and what turns its records into clients: shared, asked with or without the
/// verifier's lock.
pub(crate) struct LookupSource {
    callable: Py<PyAny>,
    roles: Vec<String>,
    /// The server's scope names, by bit: a record's scope not listed is dropped (as the cache
    /// does: fewer permissions, never more).
    scopes: Vec<String>,
}

impl Lookup {
    pub(crate) fn new(callable: Py<PyAny>, policy: Option<&PolicyData>, scopes: &[String]) -> Lookup {
        Lookup {
            source: Arc::new(LookupSource { callable, roles: role_names(policy), scopes: scopes.to_vec() }),
            nonces: Default::default(),
            last: RefCell::new(None),
            handed: Handed::default(),
        }
    }

    /// The answer handed over for `(by, value)` if there is one, else the callable's.
    fn ask(&self, by: &str, value: LookupValue<'_>) -> Result<Option<Arc<Client>>, Error> {
        let answer = match self.handed.take(by, value.bytes()) {
            Some(answer) => answer?,
            None => self.source.ask(by, value)?,
        };
        if let Some(c) = &answer {
            *self.last.borrow_mut() = Some(Arc::clone(c));
        }
        Ok(answer)
    }

    fn advance_nonce(&mut self, id: &str, nonce: u64) -> Result<(), Error> {
        match self.nonces.get_mut(id) {
            Some(last) if nonce <= *last => Err(Error::ReplayedRequest),
            Some(last) => {
                *last = nonce;
                Ok(())
            }
            None => {
                self.nonces.insert(id.to_owned(), nonce);
                Ok(())
            }
        }
    }
}

impl LookupSource {
    fn ask(&self, by: &str, value: LookupValue<'_>) -> Result<Option<Arc<Client>>, Error> {
        Python::attach(|py| {
            let value = match value {
                LookupValue::Text(t) => PyString::new(py, t).into_any(),
                LookupValue::Bytes(b) => PyBytes::new(py, b).into_any(),
            };
            let answer = self.callable.bind(py).call1((by, value)).map_err(|e| {
                // The server's lookup failed: logged, and the request refused (fail closed).
                e.write_unraisable(py, Some(self.callable.bind(py)));
                Error::StoreUnavailable
            })?;
            if answer.is_none() {
                return Ok(None);
            }
            let record = answer.cast::<PyDict>().map_err(|_| {
                PyTypeError::new_err("lookup returns a dict (a client record) or None")
                    .write_unraisable(py, Some(self.callable.bind(py)));
                Error::StoreUnavailable
            })?;
            let client = self.client(record).map(Arc::new).map_err(|e| {
                PyValueError::new_err(format!("lookup returned a bad client record: {e}"))
                    .write_unraisable(py, Some(self.callable.bind(py)));
                Error::StoreUnavailable
            })?;
            Ok(Some(client))
        })
    }

    /// The core's client for a record returned by the callable.
    fn client(&self, r: &Bound<'_, PyDict>) -> Result<Client, String> {
        let get = |name: &str| r.get_item(name).map_err(|e| e.to_string()).map(|v| v.filter(|v| !v.is_none()));
        let text = |name: &str| -> Result<Option<String>, String> {
            get(name)?.map(|v| v.extract::<String>().map_err(|_| format!("{name} is str"))).transpose()
        };
        let bytes = |name: &str| -> Result<Option<Vec<u8>>, String> {
            get(name)?.map(|v| v.extract::<Vec<u8>>().map_err(|_| format!("{name} is bytes"))).transpose()
        };
        let id = text("id")?.ok_or("a record has an id")?;
        let core = |e: Error| format!("{e} ({})", e.name());
        let mut c = Client::new(&id).map_err(core)?;
        for (slot, key, digest, expires, revoked) in [
            (Slot::Primary, "key", "key_digest", "expires", "revoked"),
            (Slot::Secondary, "secondary", "secondary_digest", "secondary_expires", "secondary_revoked"),
        ] {
            if let Some(k) = bytes(key)? {
                c.set_secret(slot, Some(&k)).map_err(core)?;
            }
            if let Some(d) = bytes(digest)? {
                let d: [u8; 32] = d.try_into().map_err(|_| format!("{digest} is 32 bytes"))?;
                c.set_key_digest(slot, Some(d)).map_err(core)?;
            }
            if let Some(at) = get(expires)? {
                let secs: u64 = at.extract().map_err(|_| format!("{expires} is UNIX seconds"))?;
                c.set_expiry(slot, Some(secs.saturating_mul(1_000_000_000)));
            }
            if let Some(flag) = get(revoked)? {
                c.set_key_revoked(slot, flag.is_truthy().map_err(|e| e.to_string())?);
            }
        }
        if let Some(role) = text("role")? {
            let id = self.roles.iter().position(|n| *n == role);
            c.set_role(id.and_then(|i| u8::try_from(i).ok()).map(apisig::policy::RoleId));
        }
        if let Some(u) = text("user_id")? {
            c.bind_user_id(&u).map_err(core)?;
        }
        if let Some(s) = text("status")? {
            c.set_status(Status::from_name(&s).ok_or_else(|| format!("status {s:?}"))?);
        }
        if let Some(list) = get("allowed")? {
            let list: Vec<String> = list.extract().map_err(|_| "allowed is a list of CIDRs (str)")?;
            let ranges = list.iter().map(|a| Cidr::parse(a).map_err(core)).collect::<Result<Vec<_>, _>>()?;
            c.set_allowed(&ranges).map_err(core)?;
        }
        let mut scopes = Scopes::NONE;
        if let Some(list) = get("scopes")? {
            let list: Vec<String> = list.extract().map_err(|_| "scopes is a list of names (str)")?;
            for name in &list {
                let bit = self.scopes.iter().position(|n| n == name).and_then(|i| u32::try_from(i).ok());
                scopes.0 |= bit.and_then(|b| 1u64.checked_shl(b)).unwrap_or(0);
            }
        }
        c.set_scopes(scopes);
        Ok(c)
    }
}

/// The policy's role names, by role id.
fn role_names(policy: Option<&PolicyData>) -> Vec<String> {
    policy.map(|p| p.with(|x| x.roles.iter().map(|r| r.name.to_owned()).collect())).unwrap_or_default()
}
