//! `Store`, `ClientInfo` and `KeyInfo`: the persistent client store of `apisig-store`
//! (SQLite, PostgreSQL) and its key lifecycle, for servers and the `apisig keys` command line.
//! Every call runs without the GIL (a PostgreSQL round trip must not stall other threads).
//!
//! Errors: a database that cannot be reached (or whose data does not read back) is the core's
//! `StoreUnavailable` (HTTP 503), a core error (an over-long id, a key not in the issued
//! format) its generated class; what the store refuses (an unknown client, a taken slot, a bad
//! CIDR) is `StoreError`, a missing, malformed or wrong master key `MasterKeyError` (a
//! `StoreError`).

use std::ops::ControlFlow;
use std::sync::Arc;

use apisig::client::{Slot, Status};
use apisig::names::Named as _;
use apisig_store::{KeyFormat, KeyKind, MasterKey, MasterKeys, NewClient, RekeyStatus, StoreError as CrateError};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::convert::{parse_name, to_pyerr_with};

create_exception!(
    apisig._native,
    StoreError,
    PyException,
    "A change or lookup the key store refuses: an unknown client or key, a client that already exists, a \
     slot already taken, an invalid id, CIDR or scope, a store URL it does not open, data it cannot read."
);
create_exception!(
    apisig._native,
    MasterKeyError,
    StoreError,
    "The master key is missing (neither APISIG_MASTER_KEY nor APISIG_MASTER_KEY_FILE is set), not a \
     key (64 hex digits or 32 bytes), or not the one the store's secrets are sealed under."
);

/// The Python exception for a store error.
pub(crate) fn store_err(py: Python<'_>, e: CrateError) -> PyErr {
    match (e.core_error(), &e) {
        (Some(core), _) => to_pyerr_with(py, core, &e.to_string()),
        (
            None,
            CrateError::MasterKeyMissing(_) | CrateError::InvalidMasterKey(_) | CrateError::WrongMasterKey { .. },
        ) => MasterKeyError::new_err(e.to_string()),
        (None, _) => StoreError::new_err(e.to_string()),
    }
}

/// Adapts a store result to `PyResult`.
pub(crate) trait StoreResult<T> {
    /// Converts the error with [`store_err`].
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> StoreResult<T> for Result<T, CrateError> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| store_err(py, e))
    }
}

/// A key kind's Python name.
fn kind_name(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Static => "static",
        KeyKind::Hmac => "hmac",
    }
}

fn parse_kind(name: &str) -> PyResult<KeyKind> {
    match name {
        "static" => Ok(KeyKind::Static),
        "hmac" => Ok(KeyKind::Hmac),
        _ => Err(PyValueError::new_err(format!("unknown key kind '{name}': 'static' or 'hmac'"))),
    }
}

/// A master key as given: 32 bytes, or 64 hex digits as text.
fn master_key(py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<MasterKey> {
    let key = if let Ok(s) = o.cast::<PyString>() {
        MasterKey::from_hex(s.to_str()?.trim())
    } else if let Ok(b) = o.cast::<PyBytes>() {
        MasterKey::from_bytes(b.as_bytes())
    } else {
        return Err(PyTypeError::new_err("a master key is 32 bytes, or 64 hex digits as str"));
    };
    key.py(py)
}

/// The master keys as given: the newest (`None`: the environment's, with its previous key if
/// `APISIG_MASTER_KEY_PREVIOUS` is set) and a previous one.
fn master_keys(
    py: Python<'_>,
    newest: Option<&Bound<'_, PyAny>>,
    previous: Option<&Bound<'_, PyAny>>,
) -> PyResult<MasterKeys> {
    let keys = match newest {
        None => MasterKeys::from_env().py(py)?,
        Some(o) => MasterKeys::new(master_key(py, o)?),
    };
    Ok(match previous {
        Some(p) => keys.with_previous(master_key(py, p)?),
        None => keys,
    })
}

/// A re-seal's status as a JSON-ready dict.
fn rekey_dict<'py>(py: Python<'py>, s: &RekeyStatus) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("master_key_id", &s.master_key_id)?;
    d.set_item("sealed", s.sealed)?;
    let remaining = PyDict::new(py);
    for (id, n) in &s.remaining {
        remaining.set_item(id, n)?;
    }
    d.set_item("remaining", remaining)?;
    d.set_item("resealed", s.resealed)?;
    d.set_item("complete", s.is_complete())?;
    Ok(d)
}

/// A key as listed: everything but the key.
#[pyclass(frozen, eq, name = "KeyInfo", module = "apisig._native")]
#[derive(Clone, PartialEq)]
pub(crate) struct KeyInfo(apisig_store::KeyInfo);

#[pymethods]
impl KeyInfo {
    /// `"primary"` or `"secondary"`.
    #[getter]
    fn slot(&self) -> &'static str {
        self.0.slot.name()
    }

    /// `"static"` (a static key, kept as its SHA-256 digest) or `"hmac"` (an HMAC secret,
    /// sealed under the master key).
    #[getter]
    fn kind(&self) -> &'static str {
        kind_name(self.0.kind)
    }

    /// When it was issued (UNIX seconds).
    #[getter]
    fn created(&self) -> u64 {
        self.0.created
    }

    /// When it stops working (UNIX seconds), if ever.
    #[getter]
    fn expires(&self) -> Option<u64> {
        self.0.expires
    }

    /// When it was revoked (UNIX seconds), if it was.
    #[getter]
    fn revoked(&self) -> Option<u64> {
        self.0.revoked
    }

    /// The record as a JSON-ready dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("slot", self.slot())?;
        d.set_item("kind", self.kind())?;
        d.set_item("created", self.0.created)?;
        d.set_item("expires", self.0.expires)?;
        d.set_item("revoked", self.0.revoked)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "KeyInfo(slot={:?}, kind={:?}, created={}, expires={:?}, revoked={:?})",
            self.slot(),
            self.kind(),
            self.0.created,
            self.0.expires,
            self.0.revoked
        )
    }
}

/// A client as listed: never a secret, a key or a digest.
#[pyclass(frozen, eq, name = "ClientInfo", module = "apisig._native")]
#[derive(PartialEq)]
pub(crate) struct ClientInfo(apisig_store::ClientInfo);

#[pymethods]
impl ClientInfo {
    /// Its stable id (the key id HMAC dialects send; a label for static keys).
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// `"active"`, `"disabled"` or `"revoked"`.
    #[getter]
    fn status(&self) -> &'static str {
        self.0.status.name()
    }

    /// Its role's name, if it has one.
    #[getter]
    fn role(&self) -> Option<&str> {
        self.0.role.as_deref()
    }

    /// The user id bound to it (APEX).
    #[getter]
    fn user_id(&self) -> Option<&str> {
        self.0.user_id.as_deref()
    }

    /// The addresses it may connect from, as CIDRs (empty: any).
    #[getter]
    fn allowed(&self) -> Vec<String> {
        self.0.allowed.clone()
    }

    /// Its scopes (permissions).
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.0.scopes.clone()
    }

    /// Its keys, primary first.
    #[getter]
    fn keys(&self) -> Vec<KeyInfo> {
        self.0.keys.iter().cloned().map(KeyInfo).collect()
    }

    /// Its certificate pins: `(slot, kind, SHA-256 fingerprint in hex)`.
    #[getter]
    fn pins(&self) -> Vec<(&'static str, &'static str, String)> {
        self.0
            .pins
            .iter()
            .map(|(slot, pin)| {
                (slot.name(), pin.kind.name(), pin.fingerprint.iter().map(|b| format!("{b:02x}")).collect())
            })
            .collect()
    }

    /// When it was created (UNIX seconds).
    #[getter]
    fn created(&self) -> u64 {
        self.0.created
    }

    /// When it last changed (UNIX seconds).
    #[getter]
    fn updated(&self) -> u64 {
        self.0.updated
    }

    /// The record as a JSON-ready dict (keys as dicts, pins as `[slot, kind, hex]`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", &self.0.id)?;
        d.set_item("status", self.status())?;
        d.set_item("role", self.role())?;
        d.set_item("user_id", self.user_id())?;
        d.set_item("allowed", self.allowed())?;
        d.set_item("scopes", self.scopes())?;
        let keys = self.keys().iter().map(|k| k.to_dict(py)).collect::<PyResult<Vec<_>>>()?;
        d.set_item("keys", keys)?;
        d.set_item("pins", self.pins())?;
        d.set_item("created", self.0.created)?;
        d.set_item("updated", self.0.updated)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "ClientInfo(id={:?}, status={:?}, role={:?}, keys={})",
            self.0.id,
            self.status(),
            self.0.role,
            self.0.keys.len()
        )
    }
}

/// The persistent client store (SQLite, PostgreSQL): clients, their keys (static keys as
/// SHA-256 digests, HMAC secrets sealed under the master key) and the key lifecycle. Safe to
/// share between threads.
#[pyclass(frozen, name = "Store", module = "apisig._native")]
pub(crate) struct Store(pub(crate) Arc<apisig_store::Store>);

impl Store {
    /// Runs `f` on the store without the GIL.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&apisig_store::Store) -> Result<T, CrateError> + Send,
    ) -> PyResult<T> {
        let store = &self.0;
        py.detach(|| f(store)).py(py)
    }
}

fn parse_slot(slot: &str) -> PyResult<Slot> {
    parse_name("slot", slot)
}

#[pymethods]
impl Store {
    /// Opens (creating and migrating where needed) the store `url` names: `sqlite:PATH`
    /// (`sqlite::memory:` for tests) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
    /// `master_key` is 32 bytes or 64 hex digits; without it the key is read from
    /// `APISIG_MASTER_KEY` (hex) or the file `APISIG_MASTER_KEY_FILE` names, and a previous
    /// key from `APISIG_MASTER_KEY_PREVIOUS` (or `APISIG_MASTER_KEY_PREVIOUS_FILE`).
    /// `previous_master_key` is an older key still accepted while the store's secrets are
    /// re-sealed under `master_key` (`rekey`). `product` sets the product keys are issued
    /// under (`acme` → `acme_sk_…`), recorded in the store. `pool_size=N` among the URL's
    /// parameters sets how many connections it keeps (default 4).
    #[staticmethod]
    #[pyo3(signature = (url, *, master_key = None, previous_master_key = None, product = None))]
    fn open(
        py: Python<'_>,
        url: &str,
        master_key: Option<&Bound<'_, PyAny>>,
        previous_master_key: Option<&Bound<'_, PyAny>>,
        product: Option<&str>,
    ) -> PyResult<Store> {
        let key = self::master_keys(py, master_key, previous_master_key)?;
        let url = url.to_owned();
        let product = product.map(str::to_owned);
        let store = py
            .detach(move || {
                let mut store = apisig_store::Store::open(&url, key)?;
                if let Some(p) = product {
                    if store.key_format().product() != p {
                        store.set_key_format(KeyFormat::new(&p)?)?;
                    }
                }
                Ok(store)
            })
            .py(py)?;
        Ok(Store(Arc::new(store)))
    }

    /// A new random master key, as the 64 hex digits `APISIG_MASTER_KEY` takes.
    #[staticmethod]
    fn generate_master_key(py: Python<'_>) -> PyResult<String> {
        Ok(MasterKey::generate().py(py)?.to_hex().as_str().to_owned())
    }

    /// The id of the master key the store seals secrets under (16 hex digits; not secret),
    /// as this handle last saw it.
    #[getter]
    fn master_key_id(&self) -> String {
        self.0.master_key_id()
    }

    /// The ids of the master keys this handle holds, the newest first.
    #[getter]
    fn master_key_ids(&self) -> Vec<String> {
        self.0.master_keys().ids().map(str::to_owned).collect()
    }

    /// How many connections the store keeps to its database at most.
    #[getter]
    fn pool_size(&self) -> usize {
        self.0.pool_size()
    }

    /// Re-seals every HMAC secret under the newest master key (`master_key`), `batch` per
    /// transaction, resumable (see docs/stores.md): every worker must hold both keys until it
    /// completes. `progress(n)` is called after each batch with the number re-sealed so far;
    /// returning `False` stops (a later call resumes). Returns the status, as
    /// `rekey_status()`, with `resealed` counting this call's.
    #[pyo3(signature = (*, batch = 1000, progress = None))]
    fn rekey<'py>(&self, py: Python<'py>, batch: usize, progress: Option<Py<PyAny>>) -> PyResult<Bound<'py, PyDict>> {
        let mut raised: Option<PyErr> = None;
        let store = &self.0;
        let status = py.detach(|| {
            store.rekey(batch, |n| {
                let Some(f) = &progress else { return ControlFlow::Continue(()) };
                Python::attach(|py| match f.call1(py, (n,)) {
                    Ok(r) if r.bind(py).is(pyo3::types::PyBool::new(py, false)) => ControlFlow::Break(()),
                    Ok(_) => ControlFlow::Continue(()),
                    Err(e) => {
                        raised = Some(e);
                        ControlFlow::Break(())
                    }
                })
            })
        });
        if let Some(e) = raised {
            return Err(e);
        }
        rekey_dict(py, &status.py(py)?)
    }

    /// Where a re-seal stands: `{"master_key_id", "sealed", "remaining": {key id: count},
    /// "resealed", "complete"}`.
    fn rekey_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let status = self.run(py, apisig_store::Store::rekey_status)?;
        rekey_dict(py, &status)
    }

    /// Creates many clients in one transaction (all or none): `(id, kind, key)` with `kind`
    /// `"static"` (a key in this store's format), `"hmac"` (any secret, such as one carried
    /// over from another system) or `None` (no key). Returns how many were created.
    fn import_clients(&self, py: Python<'_>, clients: Vec<(String, Option<String>, Option<Vec<u8>>)>) -> PyResult<u64> {
        let kinds = clients
            .iter()
            .map(|(_, kind, key)| match (kind, key) {
                (Some(k), Some(_)) => parse_kind(k).map(Some),
                (None, None) => Ok(None),
                _ => Err(PyValueError::new_err("a kind and a key, or neither")),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let batch: Vec<NewClient<'_>> = clients
            .iter()
            .zip(kinds)
            .map(|((id, _, key), kind)| NewClient { id, key: kind.zip(key.as_deref()) })
            .collect();
        self.run(py, |s| s.import(&batch))
    }

    /// The product keys are issued under (`apisig` unless `open(product=…)` set another).
    #[getter]
    fn product(&self) -> &str {
        self.0.key_format().product()
    }

    /// A regular expression matching this store's issued keys (for secret scanners).
    #[getter]
    fn key_regex(&self) -> String {
        self.0.key_format().regex()
    }

    /// Creates a client with no keys: active, no role, any address, no scopes.
    fn create_client(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.run(py, |s| s.create_client(id))
    }

    /// Deletes the client, with its keys and pins.
    fn delete_client(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.run(py, |s| s.delete_client(id))
    }

    /// Issues a new key into an empty slot and returns it: the only time it is shown (the
    /// store keeps its digest, or the secret sealed).
    #[pyo3(signature = (id, slot = "primary", kind = "static"))]
    fn issue(&self, py: Python<'_>, id: &str, slot: &str, kind: &str) -> PyResult<String> {
        let (slot, kind) = (parse_slot(slot)?, parse_kind(kind)?);
        self.run(py, |s| s.issue(id, slot, kind).map(|k| k.as_str().to_owned()))
    }

    /// Zero-downtime rotation: issues a new key of the primary's kind, makes it the primary and
    /// keeps the old one as the secondary for `grace` seconds (then it expires), or deletes it
    /// at once when `grace` is `None`. Returns the new key, shown once.
    #[pyo3(signature = (id, *, grace = None))]
    fn rotate(&self, py: Python<'_>, id: &str, grace: Option<u64>) -> PyResult<String> {
        self.run(py, |s| s.rotate(id, grace).map(|k| k.as_str().to_owned()))
    }

    /// Makes the secondary key the primary and the primary the secondary.
    fn promote(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.run(py, |s| s.promote(id))
    }

    /// Deletes the secondary key (the old primary, after a rotation).
    fn retire(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.run(py, |s| s.retire(id))
    }

    /// Deletes the key in `slot`.
    fn delete_key(&self, py: Python<'_>, id: &str, slot: &str) -> PyResult<()> {
        let slot = parse_slot(slot)?;
        self.run(py, |s| s.delete_key(id, slot))
    }

    /// Sets when the key in `slot` stops working (UNIX seconds), or `None` for never.
    fn set_expiry(&self, py: Python<'_>, id: &str, slot: &str, expires: Option<u64>) -> PyResult<()> {
        let slot = parse_slot(slot)?;
        self.run(py, |s| s.set_expiry(id, slot, expires))
    }

    /// Revokes the key in `slot`: refused from now on (`KeyRevoked`), listed until deleted.
    fn revoke_key(&self, py: Python<'_>, id: &str, slot: &str) -> PyResult<()> {
        let slot = parse_slot(slot)?;
        self.run(py, |s| s.revoke_key(id, slot))
    }

    /// Sets the client's status: `"active"`, `"disabled"` (refused with `ClientDisabled`
    /// until made active again) or `"revoked"` (for good). A revoked client stays revoked.
    fn set_status(&self, py: Python<'_>, id: &str, status: &str) -> PyResult<()> {
        let status: Status = parse_name("status", status)?;
        self.run(py, |s| s.set_status(id, status))
    }

    /// Revokes the client: every credential of it is refused from now on (`ClientRevoked`).
    fn revoke_client(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.run(py, |s| s.revoke_client(id))
    }

    /// Sets the client's role (as the server's policy names it), or none.
    fn set_role(&self, py: Python<'_>, id: &str, role: Option<&str>) -> PyResult<()> {
        self.run(py, |s| s.set_role(id, role))
    }

    /// Binds a user id to the client (APEX signs it), or none.
    fn bind_user_id(&self, py: Python<'_>, id: &str, user_id: Option<&str>) -> PyResult<()> {
        self.run(py, |s| s.bind_user_id(id, user_id))
    }

    /// Sets the addresses the client may connect from, as IPv4 and IPv6 CIDRs (at most 8);
    /// empty for any address.
    fn set_allowed(&self, py: Python<'_>, id: &str, cidrs: Vec<String>) -> PyResult<()> {
        let cidrs: Vec<&str> = cidrs.iter().map(String::as_str).collect();
        self.run(py, |s| s.set_allowed(id, &cidrs))
    }

    /// Sets the client's scopes (permissions the server checks).
    fn set_scopes(&self, py: Python<'_>, id: &str, scopes: Vec<String>) -> PyResult<()> {
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        self.run(py, |s| s.set_scopes(id, &scopes))
    }

    /// Every client, ordered by id, without secrets.
    fn list(&self, py: Python<'_>) -> PyResult<Vec<ClientInfo>> {
        Ok(self.run(py, apisig_store::Store::list)?.into_iter().map(ClientInfo).collect())
    }

    /// One client, without secrets, or `None`.
    fn client(&self, py: Python<'_>, id: &str) -> PyResult<Option<ClientInfo>> {
        Ok(self.run(py, |s| s.client(id))?.map(ClientInfo))
    }

    fn __repr__(&self) -> String {
        format!("Store(product={:?}, master_key_id={:?})", self.product(), self.master_key_id())
    }
}
