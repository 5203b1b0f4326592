//! `Verifier`, `Principal` and `ReplayClaim`: the server side. One verifier is shared by every
//! thread of a server, so its state (its clients, replay record, nonce high-water marks) sits
//! behind a mutex. With a shared replay store (`replay_store=`, e.g. Redis) the core verifies
//! with a [`Deferred`] store under the mutex and the claim is made good in the shared store
//! after the mutex is released, so no thread waits on another's network round trip.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use apisig::claim::{Claim, Deferred};
use apisig::client::{Client, Status};
use apisig::names::Named as _;
use apisig::pin::PIN_LEN;
use apisig::replay::REPLAY_ID_LEN;
use apisig::session::{self, Session};
use apisig::store::ClientStore as _;
use apisig::{
    Error, Request, UnixNanos, Window,
    client::{Scopes, Slot},
    pin::Pin,
    policy::{RoleId, ScopeNames},
    replay::{ReplayEntry, ReplayStore},
};
use apisig_store::{CachedStore, MemoryStore};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyFrozenSet, PyString};

use crate::clients::{Clients, Lookup, Source, cache_config};
use crate::convert::{Bytes, CoreHeaders, CoreResult, DETACH_THRESHOLD, HeaderObjects, Nanos, resolve_now, to_pyerr};
use crate::scheme::{Policy, PolicyData, Scheme, SchemeData};
use crate::store::Store;
use crate::tokens::{JwtPolicy, SessionKeys, parse_pin_kind};

/// The scheme name of a principal authenticated by its TLS client certificate.
const MTLS: &str = "mtls";

/// A pin as given: a 32-byte fingerprint, 64 hex digits (`:` separators allowed), or a DER
/// certificate whose fingerprint of `kind` is taken.
fn pin_fingerprint(py: Python<'_>, obj: &Bound<'_, PyAny>, kind: apisig::pin::PinKind) -> PyResult<[u8; PIN_LEN]> {
    let bytes: Vec<u8> = if let Ok(s) = obj.cast::<PyString>() {
        let digits: Vec<u8> = s.to_str()?.bytes().filter(|b| *b != b':').collect();
        let mut fp = [0u8; PIN_LEN];
        let ok = digits.len() == PIN_LEN.saturating_mul(2)
            && digits.iter().all(u8::is_ascii_hexdigit)
            && digits.chunks(2).zip(fp.iter_mut()).all(|(pair, out)| {
                let byte = std::str::from_utf8(pair).ok().and_then(|d| u8::from_str_radix(d, 16).ok());
                byte.map(|b| *out = b).is_some()
            });
        return if ok { Ok(fp) } else { Err(PyValueError::new_err("a fingerprint given as text is 64 hex digits")) };
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        b.to_vec()
    } else {
        return Err(PyTypeError::new_err("a pin is a fingerprint (32 bytes or hex) or a DER certificate"));
    };
    match <[u8; PIN_LEN]>::try_from(bytes.as_slice()) {
        Ok(fp) => Ok(fp),
        Err(_) => apisig::pin::fingerprint(&bytes, kind).py(py),
    }
}

/// The replay record: in memory over a heap slice sized at run time, or deferred to a shared
/// store given as `replay_store=`.
enum Replay {
    Heap(Box<[ReplayEntry]>),
    Deferred(Deferred),
}

impl ReplayStore for Replay {
    fn check_and_insert(
        &mut self,
        key_id: &str,
        id: &[u8; REPLAY_ID_LEN],
        expires: UnixNanos,
        now: UnixNanos,
    ) -> Result<(), Error> {
        match self {
            Replay::Heap(entries) => entries.check_and_insert(key_id, id, expires, now),
            Replay::Deferred(d) => d.check_and_insert(key_id, id, expires, now),
        }
    }

    fn advance_nonce(&mut self, key_id: &str, nonce: u64) -> Result<(), Error> {
        match self {
            Replay::Heap(entries) => entries.advance_nonce(key_id, nonce),
            Replay::Deferred(d) => d.advance_nonce(key_id, nonce),
        }
    }
}

impl Replay {
    fn take_claim(&mut self) -> Option<Claim> {
        match self {
            Replay::Heap(_) => None,
            Replay::Deferred(d) => d.take(),
        }
    }
}

type Core = Box<apisig::Verifier<Clients, Replay>>;

/// How a request presents its credentials.
#[derive(Clone, Copy)]
pub(crate) enum Presented<'c> {
    /// In the scheme's headers.
    Headers,
    /// In the scheme's headers, or else in the JSON body (APEX `AuthenticateUser`).
    JsonBody,
    /// With the TLS client certificate (DER; `None` when the peer sent none): by itself
    /// without a scheme, else beside the scheme's credentials.
    Certificate(Option<&'c [u8]>),
}

/// The freshness window without `window=` or `window_ns=`: ±300 s (DESIGN.md).
const DEFAULT_WINDOW_S: u64 = 300;

/// The error for a scope name the verifier's table does not have (the server's mistake).
fn unknown_scope(name: &str, table: &[String]) -> PyErr {
    if table.is_empty() {
        PyValueError::new_err(format!("unknown scope {name:?}: scopes need a Verifier(scopes=[...]) table"))
    } else {
        PyValueError::new_err(format!("unknown scope {name:?}: not in the verifier's scopes {table:?}"))
    }
}

/// The checked `scopes=` table: at most 64 names, none empty, none twice (`ScopeNames::check`).
fn scope_table(scopes: Option<Vec<String>>) -> PyResult<Vec<String>> {
    let names = scopes.unwrap_or_default();
    if names.len() > 64 {
        return Err(PyValueError::new_err(format!("scopes= holds at most 64 names, not {}", names.len())));
    }
    if let Some((i, n)) = names.iter().enumerate().find(|(i, n)| names.iter().take(*i).any(|m| m == *n)) {
        return Err(PyValueError::new_err(format!("scopes= names {n:?} twice (at {i})")));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    ScopeNames { names: &refs }.check().map_err(|_| PyValueError::new_err("scopes= names are not empty"))?;
    Ok(names)
}

/// The name of `obj`'s type, for an error message.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "an object".to_owned(), |n| n.to_string())
}

fn new_core(clients: Clients, replay: usize, shared: bool, window: Window) -> Core {
    let store = if shared {
        Replay::Deferred(Deferred::new())
    } else {
        Replay::Heap(vec![ReplayEntry::EMPTY; replay].into_boxed_slice())
    };
    Box::new(apisig::Verifier::new(clients, store, window))
}

pub(crate) fn slot_name(s: Slot) -> &'static str {
    s.name()
}

fn parse_slot(s: &str) -> PyResult<Slot> {
    crate::convert::parse_name("slot", s)
}

/// The peer address given as text (`"203.0.113.7"`, `"2001:db8::1"`).
fn parse_peer(peer: Option<&str>) -> PyResult<Option<IpAddr>> {
    peer.map(|p| p.parse().map_err(|_| PyValueError::new_err(format!("peer is an IP address, not {p:?}")))).transpose()
}

/// Who a verified request comes from. Immutable and hashable (equal and hashed by all its
/// fields): a verifier may hand back the same object for another request with the same
/// outcome (see `Verifier::remembered`).
#[pyclass(frozen, eq, hash, name = "Principal", module = "apisig._native")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Principal {
    /// The client's key id (signed and key-and-secret schemes) or label (static keys).
    #[pyo3(get)]
    client_id: String,
    /// Which of the client's keys matched: `"primary"` or `"secondary"`.
    #[pyo3(get)]
    slot: &'static str,
    /// The client's role name, if it has one.
    #[pyo3(get)]
    role: Option<String>,
    /// The user id bound to the client, if any.
    #[pyo3(get)]
    user_id: Option<String>,
    /// The scheme the request was verified under.
    #[pyo3(get)]
    scheme: String,
    /// The client's scopes, named by the verifier's `scopes=` table, in bit order.
    scopes: Vec<String>,
    /// The same scopes as the core's bits (compared by `describes`).
    scope_bits: u64,
}

impl Principal {
    /// The principal the core's `p` names: client `c` (called `p.id`) under `scheme`.
    fn new(
        c: &Client,
        p: &apisig::Principal,
        scheme: &str,
        policy: Option<&PolicyData>,
        table: &[String],
    ) -> Principal {
        let held =
            |i: &usize| u32::try_from(*i).ok().and_then(|b| 1u64.checked_shl(b)).is_some_and(|m| p.scopes.0 & m != 0);
        let scopes = table.iter().enumerate().filter(|(i, _)| held(i)).map(|(_, n)| n.clone()).collect();
        Principal {
            client_id: c.id().to_owned(),
            slot: slot_name(p.slot),
            role: p.role.and_then(|r| policy.and_then(|pol| pol.role_name(r))),
            user_id: c.user_id().map(str::to_owned),
            scheme: scheme.to_owned(),
            scopes,
            scope_bits: p.scopes.0,
        }
    }

    /// Whether this is the principal `new(c, p, scheme, ...)` would make, given that `role`
    /// (under the verifier's fixed policy) is the role id it was made with: compares borrowed
    /// strings, allocates nothing.
    fn describes(&self, role: Option<RoleId>, c: &Client, p: &apisig::Principal, scheme: &str) -> bool {
        role == p.role
            && self.scope_bits == p.scopes.0
            && self.slot == slot_name(p.slot)
            && self.client_id == c.id()
            && self.user_id.as_deref() == c.user_id()
            && self.scheme == scheme
    }
}

#[pymethods]
impl Principal {
    /// The client's scopes (per-key permissions), by the names of the verifier's `scopes=`.
    #[getter]
    fn scopes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyFrozenSet>> {
        PyFrozenSet::new(py, &self.scopes)
    }

    fn __repr__(&self) -> String {
        let text = |s: Option<&str>| s.map_or_else(|| "None".to_owned(), |s| format!("{s:?}"));
        // Scopes only when it has some (most servers name none).
        let scopes = if self.scopes.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = self.scopes.iter().map(|n| format!("{n:?}")).collect();
            format!(", scopes={{{}}}", names.join(", "))
        };
        format!(
            "Principal(client_id={:?}, slot={:?}, role={}, user_id={}, scheme={:?}{scopes})",
            self.client_id,
            self.slot,
            text(self.role.as_deref()),
            text(self.user_id.as_deref()),
            self.scheme
        )
    }
}

/// What a verified request asks of a shared replay store (`Verifier(replay_store=...)`): the
/// store records the request and accepts it only if it was not recorded yet (`nonce` is
/// `None`; keep it `ttl_ms` milliseconds), or raises the client's nonce high-water mark to
/// `nonce` only if it is above it (`ttl_ms` is `None`). `key` is 64 hex digits, a SHA-256 over
/// the client's key id and the signature (or the key id alone for a nonce), the same in every
/// process; no nonce or signature is in it. The core's `apisig::claim::Claim`.
#[pyclass(frozen, eq, name = "ReplayClaim", module = "apisig._native")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ReplayClaim {
    claim: Claim,
}

#[pymethods]
impl ReplayClaim {
    #[getter]
    fn key(&self) -> String {
        self.claim.key().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[getter]
    fn ttl_ms(&self) -> Option<u64> {
        self.claim.ttl_ms()
    }

    #[getter]
    fn nonce(&self) -> Option<u64> {
        self.claim.nonce()
    }

    /// The nonce as 20 zero-padded digits (how `CLAIM_SCRIPT` stores it).
    #[getter]
    fn nonce_digits(&self) -> Option<String> {
        self.claim.nonce_digits().map(|d| String::from_utf8_lossy(&d).into_owned())
    }

    /// The key id of the client whose request made the claim.
    #[getter]
    fn client_id(&self) -> &str {
        self.claim.key_id()
    }

    /// The store's key under `namespace`: `<namespace>:r:<key>` for a request,
    /// `<namespace>:n:<key>` for a nonce high-water mark.
    fn store_key(&self, py: Python<'_>, namespace: &str) -> PyResult<String> {
        let mut out = vec![0u8; Claim::store_key_len(namespace)];
        self.claim.store_key(namespace, &mut out).map(str::to_owned).py(py)
    }

    /// `ARGV` of `CLAIM_SCRIPT` for this claim, refusing for `recovery_ms` after the store
    /// lost its memory.
    fn script_args(&self, recovery_ms: u64) -> [String; 3] {
        self.claim.script_args(recovery_ms).argv().map(str::to_owned)
    }

    fn __repr__(&self) -> String {
        let client_id = self.claim.key_id();
        match self.claim.nonce() {
            Some(n) => format!("ReplayClaim(nonce={n}, client_id={client_id:?})"),
            None => format!("ReplayClaim(ttl_ms={:?}, client_id={client_id:?})", self.claim.ttl_ms()),
        }
    }
}

struct State {
    core: Core,
    /// The most clients `add` registers (`None`: no limit).
    capacity: Option<usize>,
}

/// The principal last returned for a client, with the id of its role (the verifier's policy
/// is fixed, so the id stands for the name). Behind an `Arc` so that it can be taken while the
/// GIL is released (a `Py` is cloned only with it).
struct Remembered {
    role: Option<RoleId>,
    object: Arc<Py<Principal>>,
}

/// A verification's principal, before it becomes a Python object.
enum Found {
    /// The object returned last for this client says the same.
    Same(Arc<Py<Principal>>),
    /// A new principal, to be remembered for the client.
    New(Principal),
}

/// Verifies requests against clients — added to it (in memory, no ceiling), read through a
/// cache from a persistent `store=`, or asked of a `lookup=` callable — a freshness window and
/// a replay record.
#[pyclass(frozen, name = "Verifier", module = "apisig._native")]
pub(crate) struct Verifier {
    state: Mutex<State>,
    /// The principal last returned for each client, by client id. Principals are frozen,
    /// so a request with the same outcome gets the same object back (creating and freeing a
    /// Python object is about a tenth of a verification), found equal by comparing it with the
    /// found client in place: nothing is copied for it.
    principals: Mutex<HashMap<String, Remembered>>,
    policy: Option<Arc<PolicyData>>,
    /// The server's scope names, by bit (`scopes=`; the core's `ScopeNames` table).
    scope_names: Vec<String>,
    replay_capacity: usize,
    window_ns: u64,
    clock: Option<Py<PyAny>>,
    replay_store: Option<Py<PyAny>>,
    /// Clients come from a persistent store or a `lookup=` callable (see `Clients::is_external`).
    external: bool,
    /// That store or callable, asked for a request's client before the lock is taken (see
    /// python/src/clients.rs): concurrent requests wait on their lookups together.
    source: Option<Source>,
}

impl Verifier {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The lock, taken by a thread that holds the GIL: it waits without the GIL, so a thread
    /// holding the lock may call Python (a `lookup=` callable) without a deadlock.
    fn lock_py(&self, py: Python<'_>) -> MutexGuard<'_, State> {
        loop {
            match self.state.try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => py.detach(|| drop(self.lock())),
            }
        }
    }

    fn role_id(&self, py: Python<'_>, role: Option<&str>) -> PyResult<Option<apisig::policy::RoleId>> {
        let Some(role) = role else { return Ok(None) };
        let policy = self.policy.as_ref().ok_or_else(|| PyValueError::new_err("roles need a Verifier(policy=...)"))?;
        policy.role_id(role).map(Some).ok_or_else(|| to_pyerr(py, Error::Forbidden))
    }

    /// Runs `f` with the core's table of the verifier's scope names.
    fn with_scope_names<T>(&self, f: impl FnOnce(ScopeNames<'_>) -> T) -> T {
        let names: Vec<&str> = self.scope_names.iter().map(String::as_str).collect();
        f(ScopeNames { names: &names })
    }

    /// The bits of the scopes called `names`; a `ValueError` names one not in `scopes=`.
    fn scope_bits(&self, names: &[String]) -> PyResult<Scopes> {
        if let Some(unknown) = names.iter().find(|n| !self.scope_names.contains(n)) {
            return Err(unknown_scope(unknown, &self.scope_names));
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.with_scope_names(|t| t.scopes(&names)).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn set_status(&self, py: Python<'_>, id: &str, status: Status) -> PyResult<()> {
        self.update(py, id, |c| {
            c.set_status(status);
            Ok(())
        })
    }

    /// Changes the client called `id`: a copy is changed and replaces it, all or nothing.
    fn update(&self, py: Python<'_>, id: &str, change: impl FnOnce(&mut Client) -> Result<(), Error>) -> PyResult<()> {
        let mut state = self.lock_py(py);
        let clients = state.core.store_mut().memory_mut()?;
        let mut client = Client::clone(clients.get(id).ok_or(Error::UnknownKey).py(py)?);
        change(&mut client).py(py)?;
        clients.upsert(client).py(py)
    }

    /// Verifies a request whose credentials are presented as `how`: the body of `verify`,
    /// `verify_deferred` and `verify_with_certificate`.
    fn verify_presented(
        &self,
        py: Python<'_>,
        scheme: Option<&Scheme>,
        method: &str,
        path: &str,
        headers: &Bound<'_, PyAny>,
        body: Bytes<'_>,
        now: Option<Nanos>,
        authorize: bool,
        how: Presented<'_>,
        peer: Option<&str>,
    ) -> PyResult<(Py<Principal>, Option<ReplayClaim>)> {
        let peer = parse_peer(peer)?;
        let mut objects = HeaderObjects::default();
        objects.gather(headers)?;
        let mut hs = CoreHeaders::new();
        objects.core_into(&mut hs)?;
        self.verify_core_headers(py, scheme, method, path, &hs, &body, now, authorize, how, peer)
    }

    /// `verify_presented` over headers already in the core's form (also the ASGI gate's,
    /// python/src/asgi.rs).
    pub(crate) fn verify_core_headers(
        &self,
        py: Python<'_>,
        scheme: Option<&Scheme>,
        method: &str,
        path: &str,
        hs: &[apisig::headers::Header<'_>],
        body: &[u8],
        now: Option<Nanos>,
        authorize: bool,
        how: Presented<'_>,
        peer: Option<IpAddr>,
    ) -> PyResult<(Py<Principal>, Option<ReplayClaim>)> {
        let now = resolve_now(py, now, self.clock.as_ref())?;
        let data = scheme.map(|s| &*s.data);
        let policy = self.policy.as_deref();
        let work = || -> Result<(apisig::Principal, Found, Option<ReplayClaim>), Error> {
            let req = Request { method, path, body, headers: hs, peer };
            // The request's client asked for without the lock (a hint: see `Source::prefetch`).
            let prefetched = match (&self.source, how, data) {
                (Some(source), Presented::Headers, Some(d)) => {
                    d.with_prepared(|s| Ok(source.prefetch(s, hs))).ok().flatten()
                }
                _ => None,
            };
            let mut state = self.lock();
            state.core.store().hand_over(prefetched);
            let verified = (|| {
                let v = &mut state.core;
                // A claim left by a request refused after it was made must not be taken for
                // this one's.
                let _ = v.replay_mut().take_claim();
                let p = match (how, data) {
                    (Presented::Headers, Some(d)) => d.with_prepared(|s| v.verify_prepared(s, &req, now))?,
                    (Presented::JsonBody, Some(d)) => d.with_prepared(|s| v.verify_json_body(s, &req, now))?,
                    (Presented::Certificate(der), Some(d)) => {
                        d.with_prepared(|s| v.verify_with_certificate(Some(s), &req, der, now))?
                    }
                    (Presented::Certificate(der), None) => v.verify_with_certificate(None, &req, der, now)?,
                    (_, None) => return Err(Error::InvalidTemplate),
                };
                let claim = v.replay_mut().take_claim().map(|claim| ReplayClaim { claim });
                let c = v.store().found(&p.id)?;
                let found = self.remembered(&c, &p, data.map_or(MTLS, SchemeData::name));
                Ok((p, found, claim))
            })();
            state.core.store().hand_over(None);
            drop(state);
            let (p, found, claim) = verified?;
            if authorize {
                let pol = policy.ok_or(Error::Forbidden)?;
                let r = p.role.ok_or(Error::Forbidden)?;
                pol.with(|x| x.authorize(r, path.as_bytes()))?;
            }
            Ok((p, found, claim))
        };
        // A store's lookup may wait on a database or call Python: never with the GIL held.
        let result = if self.external || body.len() >= DETACH_THRESHOLD { py.detach(work) } else { work() };
        let (p, found, claim) = result.py(py)?;
        Ok((self.principal_object(py, &p.id, p.role, found)?, claim))
    }

    /// The principal for the core's `p` (client `c`) under `scheme`: the object returned last
    /// for that client if it says the same, else a new principal. Called with the state lock
    /// held, so the client's strings are compared in place and copied only for a new one.
    fn remembered(&self, c: &Client, p: &apisig::Principal, scheme: &str) -> Found {
        let memo = self.principals.lock().unwrap_or_else(PoisonError::into_inner);
        match memo.get(p.id.as_str()) {
            Some(last) if last.object.get().describes(last.role, c, p, scheme) => Found::Same(Arc::clone(&last.object)),
            _ => Found::New(Principal::new(c, p, scheme, self.policy.as_deref(), &self.scope_names)),
        }
    }

    /// `found` as a Python object; a new principal is remembered for client `client` (with
    /// role id `role`) in place of the last one.
    fn principal_object(
        &self,
        py: Python<'_>,
        client: &str,
        role: Option<RoleId>,
        found: Found,
    ) -> PyResult<Py<Principal>> {
        let p = match found {
            Found::Same(object) => return Ok(object.clone_ref(py)),
            Found::New(p) => p,
        };
        let object = Py::new(py, p)?;
        let mut memo = self.principals.lock().unwrap_or_else(PoisonError::into_inner);
        let remembered = Remembered { role, object: Arc::new(object.clone_ref(py)) };
        match memo.get_mut(client) {
            Some(last) => *last = remembered,
            None => {
                memo.insert(client.to_owned(), remembered);
            }
        }
        Ok(object)
    }
}

#[pymethods]
impl Verifier {
    #[new]
    #[pyo3(signature = (
        *, capacity = None, replay_capacity = 4096, window = None, window_ns = None, clock = None, policy = None,
        sessions = None, jwt = None, replay_store = None, store = None, cache_ttl = 10.0, cache_capacity = 100_000,
        serve_stale = None, lookup = None, scopes = None,
    ))]
    fn new(
        capacity: Option<usize>,
        replay_capacity: usize,
        window: Option<u64>,
        window_ns: Option<u64>,
        clock: Option<Bound<'_, PyAny>>,
        policy: Option<&Policy>,
        sessions: Option<&SessionKeys>,
        jwt: Option<&JwtPolicy>,
        replay_store: Option<Bound<'_, PyAny>>,
        store: Option<&Store>,
        cache_ttl: f64,
        cache_capacity: usize,
        serve_stale: Option<f64>,
        lookup: Option<Bound<'_, PyAny>>,
        scopes: Option<Vec<String>>,
    ) -> PyResult<Verifier> {
        let scope_names = scope_table(scopes)?;
        let window = match (window, window_ns) {
            (Some(_), Some(_)) => {
                return Err(PyTypeError::new_err("give window (seconds) or window_ns (nanoseconds), not both"));
            }
            (_, Some(ns)) => Window::from_nanos(ns),
            (s, None) => Window::from_secs(s.unwrap_or(DEFAULT_WINDOW_S)),
        };
        if let Some(c) = clock.as_ref().filter(|c| !c.is_callable()) {
            return Err(PyTypeError::new_err(format!(
                "clock must be a callable returning nanoseconds (like time.time_ns), not {}",
                type_name(c)
            )));
        }
        if let Some(store) = &replay_store {
            if !store.getattr("claim").is_ok_and(|m| m.is_callable()) {
                return Err(PyTypeError::new_err(format!(
                    "replay_store must have a claim(claim) method (see apisig.replay), not {}",
                    type_name(store)
                )));
            }
        }
        if let Some(l) = lookup.as_ref().filter(|l| !l.is_callable()) {
            return Err(PyTypeError::new_err(format!(
                "lookup must be a callable lookup(by, value) returning a client record or None, not {}",
                type_name(l)
            )));
        }
        if !(cache_ttl.is_finite() && cache_ttl >= 0.0) || serve_stale.is_some_and(|s| !(s.is_finite() && s >= 0.0)) {
            return Err(PyValueError::new_err("cache_ttl and serve_stale are seconds, finite and not negative"));
        }
        let policy = policy.map(|p| Arc::clone(&p.data));
        let clients = match (store, lookup) {
            (Some(_), Some(_)) => return Err(PyTypeError::new_err("give store= or lookup=, not both")),
            (Some(store), None) => Clients::Cached(
                Arc::new(CachedStore::new(
                    Arc::clone(&store.0),
                    cache_config(cache_ttl, cache_capacity, serve_stale, policy.as_deref(), &scope_names),
                )),
                RefCell::new(None),
                Default::default(),
            ),
            (None, Some(lookup)) => Clients::Lookup(Lookup::new(lookup.unbind(), policy.as_deref(), &scope_names)),
            (None, None) => Clients::Memory(MemoryStore::new()),
        };
        if capacity.is_some() && clients.is_external() {
            return Err(PyTypeError::new_err("capacity limits clients added to the verifier, not a store's"));
        }
        let external = clients.is_external();
        let source = clients.source();
        let mut core = new_core(clients, replay_capacity, replay_store.is_some(), window);
        core.set_session_keys(sessions.map(|s| s.keys.clone()));
        core.set_jwt(jwt.map(|j| j.policy.clone()));
        Ok(Verifier {
            state: Mutex::new(State { core, capacity }),
            principals: Mutex::new(HashMap::new()),
            policy,
            scope_names,
            replay_capacity,
            window_ns: window.tolerance_nanos(),
            clock: clock.map(Bound::unbind),
            replay_store: replay_store.map(Bound::unbind),
            external,
            source,
        })
    }

    /// Registers a client: `id` is its key id (signed and key-and-secret schemes) or a label
    /// (static keys), `key` its primary key or secret, or `None` for a client that
    /// authenticates only by a pinned certificate.
    #[pyo3(signature = (id, key, *, secondary = None, role = None, user_id = None))]
    fn add(
        &self,
        py: Python<'_>,
        id: &str,
        key: Option<Bytes<'_>>,
        secondary: Option<Bytes<'_>>,
        role: Option<&str>,
        user_id: Option<&str>,
    ) -> PyResult<()> {
        let role = self.role_id(py, role)?;
        // The whole client first, registered in one step: nothing half-configured.
        let mut client = Client::new(id).py(py)?;
        if let Some(k) = &key {
            client.set_secret(Slot::Primary, Some(k)).py(py)?;
        }
        if let Some(s) = &secondary {
            client.set_secret(Slot::Secondary, Some(s)).py(py)?;
        }
        client.set_role(role);
        if let Some(u) = user_id {
            client.bind_user_id(u).py(py)?;
        }
        let mut state = self.lock_py(py);
        let capacity = state.capacity;
        let clients = state.core.store_mut().memory_mut()?;
        if capacity.is_some_and(|c| clients.len() >= c) {
            return Err(to_pyerr(py, Error::KeyringFull));
        }
        clients.insert(client).py(py)
    }

    /// Sets (or with `None` removes) the key in `slot` (`"primary"` or `"secondary"`).
    #[pyo3(signature = (id, slot, key))]
    fn set_key(&self, py: Python<'_>, id: &str, slot: &str, key: Option<Bytes<'_>>) -> PyResult<()> {
        let slot = parse_slot(slot)?;
        self.update(py, id, |c| c.set_secret(slot, key.as_deref()))
    }

    /// Gives the client a role of the verifier's policy, or none.
    fn set_role(&self, py: Python<'_>, id: &str, role: Option<&str>) -> PyResult<()> {
        let role = self.role_id(py, role)?;
        self.update(py, id, |c| {
            c.set_role(role);
            Ok(())
        })
    }

    /// Gives the client these scopes (names of the verifier's `scopes=`), replacing its own.
    fn set_scopes(&self, py: Python<'_>, id: &str, scopes: Vec<String>) -> PyResult<()> {
        let bits = self.scope_bits(&scopes)?;
        self.update(py, id, |c| {
            c.set_scopes(bits);
            Ok(())
        })
    }

    /// Binds a user id to the client's key (APEX).
    fn bind_user_id(&self, py: Python<'_>, id: &str, user_id: &str) -> PyResult<()> {
        self.update(py, id, |c| c.bind_user_id(user_id))
    }

    /// Revokes the client for good: whatever it presents — a key, a signature, a bearer JWT
    /// naming it, a session token issued before, a pinned certificate — is refused with
    /// `ClientRevoked`.
    fn revoke(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.set_status(py, id, Status::Revoked)
    }

    /// Suspends the client (`ClientDisabled`, whatever it presents) until `enable`.
    fn disable(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.set_status(py, id, Status::Disabled)
    }

    /// Lets a disabled client authenticate again (a revoked one too: revocation is the
    /// server's decision, recorded here as a status).
    fn enable(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.set_status(py, id, Status::Active)
    }

    /// Sets when the key (and pin) in `slot` stop working, in nanoseconds since the UNIX
    /// epoch (`KeyExpired` from then on), or with `None` that they do not expire.
    #[pyo3(signature = (id, expires_ns, *, slot = "primary"))]
    fn set_expiry(&self, py: Python<'_>, id: &str, expires_ns: Option<u64>, slot: &str) -> PyResult<()> {
        let slot = parse_slot(slot)?;
        self.update(py, id, |c| {
            c.set_expiry(slot, expires_ns);
            Ok(())
        })
    }

    /// Revokes the key (and pin) in `slot` only (`KeyRevoked`); the other slot keeps working.
    #[pyo3(signature = (id, *, slot = "primary"))]
    fn revoke_key(&self, py: Python<'_>, id: &str, slot: &str) -> PyResult<()> {
        let slot = parse_slot(slot)?;
        self.update(py, id, |c| {
            c.set_key_revoked(slot, true);
            Ok(())
        })
    }

    /// Restricts the client to peers in `ranges` (`"10.0.0.0/8"`, `"2001:db8::/32"`, or an
    /// address; empty: any peer). A request verified without `peer=` is then refused
    /// (`AddressNotAllowed`).
    fn set_allowed(&self, py: Python<'_>, id: &str, ranges: Vec<String>) -> PyResult<()> {
        let ranges = ranges.iter().map(|r| apisig::client::Cidr::parse(r)).collect::<Result<Vec<_>, _>>().py(py)?;
        self.update(py, id, |c| c.set_allowed(&ranges))
    }

    /// The client's status: `"active"`, `"disabled"` or `"revoked"`.
    fn status(&self, py: Python<'_>, id: &str) -> PyResult<&'static str> {
        let state = self.lock_py(py);
        let found = state.core.store().by_id(id.as_bytes()).and_then(|c| c.ok_or(Error::UnknownKey));
        found.map(|c| c.status().name()).py(py)
    }

    /// Pins a TLS client certificate to the client in `slot` (or with `None` unpins it):
    /// `pin` is a SHA-256 fingerprint (32 bytes or 64 hex digits) or a DER certificate, of
    /// the whole certificate (`kind="certificate"`) or of its public key (`kind="spki"`,
    /// which survives re-issuing the certificate for the same key).
    #[pyo3(signature = (id, pin, *, kind = "certificate", slot = "primary"))]
    fn pin(&self, py: Python<'_>, id: &str, pin: &Bound<'_, PyAny>, kind: &str, slot: &str) -> PyResult<()> {
        let kind = parse_pin_kind(kind)?;
        let slot = parse_slot(slot)?;
        let pin = if pin.is_none() { None } else { Some(Pin { kind, fingerprint: pin_fingerprint(py, pin, kind)? }) };
        self.update(py, id, |c| {
            c.set_pin(slot, pin);
            Ok(())
        })
    }

    /// The client pinned to a TLS peer certificate (DER), after the TLS library has checked
    /// its chain; raises `UnpinnedCertificate` or `InvalidCertificate`. The principal's scheme
    /// is `"mtls"`.
    #[pyo3(signature = (der, *, now = None, peer = None))]
    fn verify_certificate(
        &self,
        py: Python<'_>,
        der: Bytes<'_>,
        now: Option<Nanos>,
        peer: Option<&str>,
    ) -> PyResult<Py<Principal>> {
        let now = resolve_now(py, now, self.clock.as_ref())?;
        let peer = parse_peer(peer)?;
        let work = || {
            let state = self.lock();
            state.core.verify_certificate(&der, peer, now).and_then(|p| {
                let c = state.core.store().found(&p.id)?;
                let found = self.remembered(&c, &p, MTLS);
                Ok((p, found))
            })
        };
        let found = if self.external { py.detach(work) } else { work() };
        let (p, found) = found.py(py)?;
        self.principal_object(py, &p.id, p.role, found)
    }

    /// Verifies a request and returns its principal; raises an `apisig.ApisigError` subclass
    /// otherwise. With `authorize=True` the principal's role must also allow `path`. With
    /// `json_body=True` the credentials may come in the JSON body instead of the headers
    /// (APEX `AuthenticateUser`: the headers when they carry all of the scheme's, else the
    /// body's members of those names; see the core's `Verifier::verify_json_body`). With a
    /// shared replay store, its `claim` is called (outside the verifier's lock) before the
    /// principal is returned.
    #[pyo3(signature = (scheme, method, path, headers, body = Bytes::EMPTY, *, now = None, authorize = false, json_body = false, peer = None))]
    fn verify(
        &self,
        py: Python<'_>,
        scheme: &Scheme,
        method: &str,
        path: &str,
        headers: &Bound<'_, PyAny>,
        body: Bytes<'_>,
        now: Option<Nanos>,
        authorize: bool,
        json_body: bool,
        peer: Option<&str>,
    ) -> PyResult<Py<Principal>> {
        let (principal, claim) =
            self.verify_deferred(py, scheme, method, path, headers, body, now, authorize, json_body, peer)?;
        if let (Some(claim), Some(store)) = (claim, &self.replay_store) {
            let pending = store.bind(py).call_method1("claim", (claim,))?;
            if !pending.is_none() {
                // An asyncio store handed back a coroutine: it cannot be awaited here.
                if pending.hasattr("close")? {
                    pending.call_method0("close")?;
                }
                return Err(PyTypeError::new_err(
                    "the replay store is asynchronous: use `await apisig.verify_async(verifier, ...)` or the ASGI middleware",
                ));
            }
        }
        Ok(principal)
    }

    /// Like `verify`, but returns `(principal, claim)` and leaves the claim to the caller:
    /// with a shared replay store, the request is accepted only once `claim` has been made good
    /// in it (`store.claim(claim)`, or `await` it for an asyncio store). `claim` is `None`
    /// without a shared store and for schemes that record nothing.
    #[pyo3(signature = (scheme, method, path, headers, body = Bytes::EMPTY, *, now = None, authorize = false, json_body = false, peer = None))]
    fn verify_deferred(
        &self,
        py: Python<'_>,
        scheme: &Scheme,
        method: &str,
        path: &str,
        headers: &Bound<'_, PyAny>,
        body: Bytes<'_>,
        now: Option<Nanos>,
        authorize: bool,
        json_body: bool,
        peer: Option<&str>,
    ) -> PyResult<(Py<Principal>, Option<ReplayClaim>)> {
        let how = if json_body { Presented::JsonBody } else { Presented::Headers };
        self.verify_presented(py, Some(scheme), method, path, headers, body, now, authorize, how, peer)
    }

    /// Verifies a request from a TLS peer whose client certificate (DER, or `None` when the
    /// peer sent none) the TLS library has checked, and returns `(principal, claim)` as
    /// `verify_deferred` does. Without a scheme the pinned certificate authenticates by itself
    /// (the principal's scheme is `"mtls"`); with one, the request must also carry the scheme's
    /// credentials naming the client the certificate is pinned to, and the principal is the
    /// credentials'. The certificate is checked first: a request refused for it records
    /// nothing. Raises `MissingCredential` without a certificate, `InvalidCertificate`,
    /// `UnpinnedCertificate` (not pinned, or pinned to another client than the credentials').
    #[pyo3(signature = (certificate, scheme = None, method = "GET", path = "/", headers = None, body = Bytes::EMPTY, *, now = None, authorize = false, peer = None))]
    fn verify_with_certificate(
        &self,
        py: Python<'_>,
        certificate: Option<Bytes<'_>>,
        scheme: Option<&Scheme>,
        method: &str,
        path: &str,
        headers: Option<&Bound<'_, PyAny>>,
        body: Bytes<'_>,
        now: Option<Nanos>,
        authorize: bool,
        peer: Option<&str>,
    ) -> PyResult<(Py<Principal>, Option<ReplayClaim>)> {
        let none = py.None().into_bound(py);
        let headers = headers.unwrap_or(&none);
        let how = Presented::Certificate(certificate.as_deref());
        self.verify_presented(py, scheme, method, path, headers, body, now, authorize, how, peer)
    }

    /// Issues an APEX session token (`aptoken`) for a client after a verified
    /// `AuthenticateUser`, valid for `lifetime` seconds from `now`.
    #[pyo3(signature = (key_id, user_id, *, lifetime = 3600, now = None))]
    fn issue_session(
        &self,
        py: Python<'_>,
        key_id: &str,
        user_id: &str,
        lifetime: u64,
        now: Option<Nanos>,
    ) -> PyResult<String> {
        let now = resolve_now(py, now, self.clock.as_ref())?;
        let expires = (now / 1_000_000_000).saturating_add(lifetime);
        let state = self.lock_py(py);
        let keys = state.core.session_keys().ok_or(Error::UnsupportedCredential);
        let token = keys.and_then(|k| {
            let mut buf = [0u8; session::TOKEN_MAX];
            k.issue(&Session { user_id, key_id, expires }, &mut buf).map(|t| String::from_utf8_lossy(t).into_owned())
        });
        token.py(py)
    }

    /// Raises unless the principal's role allows `target` under the verifier's policy.
    fn authorize(&self, py: Python<'_>, principal: &Principal, target: &str) -> PyResult<()> {
        let policy = self.policy.as_ref().ok_or_else(|| to_pyerr(py, Error::Forbidden))?;
        let role = principal.role.as_deref().and_then(|r| policy.role_id(r)).ok_or(Error::Forbidden).py(py)?;
        policy.with(|p| p.authorize(role, target.as_bytes())).py(py)
    }

    /// Raises `Forbidden` unless the principal holds every scope in `scopes` (the core's
    /// `ScopeNames::authorize`); a `ValueError` for a name not in the verifier's `scopes=`.
    fn require_scopes(&self, py: Python<'_>, principal: &Principal, scopes: Vec<String>) -> PyResult<()> {
        if let Some(unknown) = scopes.iter().find(|n| !self.scope_names.contains(n)) {
            return Err(unknown_scope(unknown, &self.scope_names));
        }
        // What the principal holds, by this verifier's table (a name it lacks is not held).
        let held = self.scope_bits(
            &principal.scopes.iter().filter(|n| self.scope_names.contains(n)).cloned().collect::<Vec<_>>(),
        )?;
        let needed: Vec<&str> = scopes.iter().map(String::as_str).collect();
        self.with_scope_names(|t| t.authorize(held, &needed)).py(py)
    }

    /// The server's scope names (`scopes=`), by bit.
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.scope_names.clone()
    }

    /// Whether a lookup may block (clients come from a persistent store or a `lookup=`
    /// callable): an event loop then verifies in a worker thread.
    #[getter]
    fn may_block(&self) -> bool {
        self.external
    }

    /// Why the persistent store (``store=``) last failed a lookup that was refused with
    /// `StoreUnavailable` (503) — a database down, a secret sealed under a master key this
    /// process was not given — for the server's log; `None` until then, and for other
    /// verifiers.
    #[getter]
    fn store_failure(&self, py: Python<'_>) -> Option<String> {
        self.lock_py(py).core.store().store_failure()
    }

    /// The registered ids, sorted (a verifier over a store or a lookup raises `TypeError`).
    #[getter]
    fn client_ids(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let state = self.lock_py(py);
        let mut ids = Vec::with_capacity(state.core.store().memory()?.len());
        state.core.store().for_each(&mut |c| ids.push(c.id().to_owned())).py(py)?;
        ids.sort_unstable();
        Ok(ids)
    }

    /// `(role, user_id, has_primary_key, has_secondary_key)` for a client.
    fn client_info(&self, py: Python<'_>, id: &str) -> PyResult<(Option<String>, Option<String>, bool, bool)> {
        let state = self.lock_py(py);
        let found = state.core.store().by_id(id.as_bytes()).and_then(|c| c.ok_or(Error::UnknownKey));
        drop(state);
        let c = found.py(py)?;
        let (role, user, primary, secondary) =
            (c.role(), c.user_id().map(str::to_owned), c.has(Slot::Primary), c.has(Slot::Secondary));
        let role = role.and_then(|r| self.policy.as_ref().and_then(|p| p.role_name(r)));
        Ok((role, user, primary, secondary))
    }

    /// How many clients were added (a verifier over a store or a lookup raises `TypeError`).
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.lock_py(py).core.store().memory()?.len())
    }

    /// Whether a client has this id (asked of the store or lookup, if it has one).
    fn __contains__(&self, py: Python<'_>, id: &str) -> PyResult<bool> {
        let state = self.lock_py(py);
        let found = state.core.store().by_id(id.as_bytes());
        drop(state);
        Ok(found.py(py)?.is_some())
    }

    /// How many replay entries are live at `now` (default: the clock).
    #[pyo3(signature = (now = None))]
    fn live_replay_entries(&self, py: Python<'_>, now: Option<Nanos>) -> PyResult<usize> {
        let now = resolve_now(py, now, self.clock.as_ref())?;
        Ok(match self.lock_py(py).core.replay() {
            Replay::Heap(entries) => apisig::replay::live(entries, now),
            Replay::Deferred(_) => 0,
        })
    }

    /// The most clients `add` registers, or `None` for no limit.
    #[getter]
    fn capacity(&self, py: Python<'_>) -> Option<usize> {
        self.lock_py(py).capacity
    }

    #[getter]
    fn replay_capacity(&self) -> usize {
        self.replay_capacity
    }

    #[getter]
    fn window_ns(&self) -> u64 {
        self.window_ns
    }

    /// The shared replay store given as `replay_store=`, if any.
    #[getter]
    fn replay_store(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.replay_store.as_ref().map(|s| s.clone_ref(py))
    }

    #[getter]
    fn policy(&self) -> Option<Policy> {
        self.policy.as_ref().map(|p| Policy { data: Arc::clone(p) })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = self.lock_py(py);
        let clients = match state.core.store() {
            Clients::Memory(m) => m.len().to_string(),
            Clients::Cached(..) => "store".to_owned(),
            Clients::Lookup(_) => "lookup".to_owned(),
        };
        let capacity = state.capacity.map_or_else(|| "None".to_owned(), |c| c.to_string());
        format!(
            "Verifier(clients={clients}, capacity={capacity}, replay_capacity={}, window_ns={})",
            self.replay_capacity, self.window_ns
        )
    }
}
