//! The persistent store: clients and their keys in SQLite or PostgreSQL, and the key
//! lifecycle (issue, list, rotate, expire, revoke, delete). Every change is one transaction.

use core::ops::ControlFlow;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use apisig::client::{ALLOWED_MAX, Cidr, KEY_ID_MAX, Slot, Status, USER_ID_MAX};
use apisig::names::Named;
use apisig::pin::{PIN_LEN, Pin, PinKind};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::db::{Conn, Pool, Row, SCHEMA_V1, SCHEMA_VERSION, Tx, Val, pool_url};
use crate::{IssuedKey, KeyFormat, KeyKind, MasterKey, MasterKeys, StoreError};

/// The product a new store's keys are issued under until [`Store::set_key_format`] says
/// otherwise: `apisig_sk_…`, `apisig_hs_…`.
pub const DEFAULT_PRODUCT: &str = "apisig";
/// The constant a store seals under its master key at creation: opening it proves the key.
const CHECK: &[u8] = b"apisig-store master key check";
/// Longest scope name.
pub const SCOPE_MAX: usize = 64;

/// A key as listed: everything but the key.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct KeyInfo {
    /// Its slot.
    pub slot: Slot,
    /// Static key or HMAC secret.
    pub kind: KeyKind,
    /// When it was issued (UNIX seconds).
    pub created: u64,
    /// When it stops working (UNIX seconds), if ever.
    pub expires: Option<u64>,
    /// When it was revoked (UNIX seconds), if it was.
    pub revoked: Option<u64>,
}

/// A client as listed: never a secret, a key or a digest.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ClientInfo {
    /// Its stable id (the key id HMAC dialects send; a label for static keys).
    pub id: String,
    /// Active, disabled or revoked.
    pub status: Status,
    /// Its role's name, if it has one.
    pub role: Option<String>,
    /// The user id bound to it (APEX).
    pub user_id: Option<String>,
    /// The addresses it may connect from, as CIDRs (empty: any).
    pub allowed: Vec<String>,
    /// Its scopes (permissions).
    pub scopes: Vec<String>,
    /// Its keys, primary first.
    pub keys: Vec<KeyInfo>,
    /// Its certificate pins, by slot.
    pub pins: Vec<(Slot, Pin)>,
    /// When it was created (UNIX seconds).
    pub created: u64,
    /// When it last changed (UNIX seconds).
    pub updated: u64,
}

/// What a verifier needs of a key: the digest of a static key, or the unsealed HMAC secret.
/// Zeroized on drop; `Debug` shows neither.
#[derive(Clone)]
pub enum KeyMaterial {
    /// The SHA-256 of a static key.
    StaticDigest([u8; 32]),
    /// An HMAC secret, opened with the master key.
    HmacSecret(Zeroizing<Vec<u8>>),
}

impl core::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            KeyMaterial::StaticDigest(_) => "StaticDigest(..)",
            KeyMaterial::HmacSecret(_) => "HmacSecret(..)",
        })
    }
}

impl Drop for KeyMaterial {
    fn drop(&mut self) {
        if let KeyMaterial::StaticDigest(d) = self {
            zeroize::Zeroize::zeroize(d);
        }
    }
}

/// A client as a verifier loads it: its listing and, by slot, the material of its keys.
#[derive(Clone, Debug)]
pub struct ClientRecord {
    /// Everything listed about the client.
    pub info: ClientInfo,
    /// The primary's and the secondary's material, where the slot holds a key.
    pub material: [Option<KeyMaterial>; 2],
    /// The last APEX nonce accepted from it, if any.
    pub last_nonce: Option<u64>,
}

/// A client for [`Store::import`]: its id and the primary key it starts with, if any.
#[derive(Clone, Copy)]
pub struct NewClient<'a> {
    /// Its id (1 to 64 printable ASCII characters without spaces or commas).
    pub id: &'a str,
    /// Its primary key: a static key in the store's format (kept as its SHA-256 digest; made
    /// with [`KeyFormat::generate`] or issued by another store of the same product), or an
    /// HMAC secret (any non-empty bytes, such as one carried over from another system;
    /// sealed under the master key).
    pub key: Option<(KeyKind, &'a [u8])>,
}

impl core::fmt::Debug for NewClient<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NewClient").field("id", &self.id).field("kind", &self.key.map(|k| k.0)).finish()
    }
}

/// Where a re-seal of a store's HMAC secrets ([`Store::rekey`]) stands.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct RekeyStatus {
    /// The id of the master key the store seals secrets under (a re-seal's target).
    pub master_key_id: String,
    /// HMAC secrets sealed under it.
    pub sealed: u64,
    /// HMAC secrets still sealed under other (older) master keys: `(key id, count)`, by id.
    pub remaining: Vec<(String, u64)>,
    /// Secrets the call re-sealed.
    pub resealed: u64,
}

impl RekeyStatus {
    /// Whether every secret is sealed under [`master_key_id`](Self::master_key_id): older
    /// keys are no longer needed by any process.
    pub fn is_complete(&self) -> bool {
        self.remaining.is_empty()
    }
}

/// The persistent store: clients and their keys in SQLite (the embedded default) or
/// PostgreSQL (several machines), HMAC secrets sealed under the [`MasterKey`], static keys as
/// SHA-256 digests.
///
/// Safe to share between threads (`Arc<Store>`): calls run on a small pool of connections
/// (4 unless the URL says `pool_size=N`), so lookups from several threads overlap. A
/// PostgreSQL connection that broke is made again by its next use.
///
/// ```
/// use apisig::client::Slot;
/// use apisig_store::{KeyKind, MasterKey, Store};
/// let store = Store::open("sqlite::memory:", MasterKey::generate()?)?;
/// store.create_client("client-7")?;
/// let key = store.issue("client-7", Slot::Primary, KeyKind::Static)?; // shown once
/// let found = store.load_by_static_key(key.as_str().as_bytes())?.expect("issued");
/// assert_eq!(found.info.id, "client-7");
/// # Ok::<(), apisig_store::StoreError>(())
/// ```
pub struct Store {
    pool: Pool,
    keys: MasterKeys,
    /// The id of the master key the database names as current, as this handle last saw it.
    sealing: Mutex<String>,
    format: KeyFormat,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("master_keys", &self.keys)
            .field("format", &self.format)
            .field("pool_size", &self.pool.size())
            .finish_non_exhaustive()
    }
}

/// A value of `apisig_meta`.
fn meta(tx: &mut dyn Tx, name: &str) -> Result<Option<String>, StoreError> {
    let rows = tx.query("SELECT value FROM apisig_meta WHERE name = ?", &[text(name)])?;
    rows.first().map(|r| r.req_text(0)).transpose()
}

/// The id of the master key the database names as current (new secrets are sealed under it),
/// its row locked for the rest of the transaction: a sealing write and a re-seal beginning
/// take turns, so no secret is sealed under a key a re-seal has just retired.
fn current_key_id(tx: &mut dyn Tx) -> Result<String, StoreError> {
    tx.exec("UPDATE apisig_meta SET value = value WHERE name = 'master_key_id'", &[])?;
    meta(tx, "master_key_id")?.ok_or_else(|| StoreError::Corrupt("the master key's id is missing".into()))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::InvalidInput(format!("time {v} is out of range")))
}

fn slot_int(slot: Slot) -> i64 {
    match slot {
        Slot::Primary => 0,
        Slot::Secondary => 1,
    }
}

fn slot_of(v: i64) -> Result<Slot, StoreError> {
    match v {
        0 => Ok(Slot::Primary),
        1 => Ok(Slot::Secondary),
        _ => Err(StoreError::Corrupt(format!("slot {v}"))),
    }
}

/// The associated data a client's sealed secret is bound to: its id and slot.
fn context(client: &str, slot: Slot) -> Vec<u8> {
    let mut c = Vec::with_capacity(client.len().saturating_add(2));
    c.extend_from_slice(client.as_bytes());
    c.push(0);
    c.push(slot.code() as u8);
    c
}

fn text(v: &str) -> Val {
    Val::Text(Some(v.to_owned()))
}

fn int(v: i64) -> Val {
    Val::Int(Some(v))
}

fn check_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty() && id.len() <= KEY_ID_MAX && id.bytes().all(|b| b.is_ascii_graphic() && b != b',');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(format!(
            "a client id is 1 to {KEY_ID_MAX} printable ASCII characters without spaces or commas: {id:?}"
        )))
    }
}

/// A CIDR in the core's canonical text (`192.0.2.0/24`, `2001:db8::/32`; a bare address is a
/// /32 or /128), as [`Cidr::parse`] reads it: host bits must be zero.
fn canonical_cidr(cidr: &str) -> Result<String, StoreError> {
    Cidr::parse(cidr)
        .map(|c| c.to_string())
        .map_err(|_| StoreError::InvalidInput(format!("not an IPv4 or IPv6 CIDR with zero host bits: {cidr:?}")))
}

fn check_scope(scope: &str) -> Result<(), StoreError> {
    let ok = !scope.is_empty()
        && scope.len() <= SCOPE_MAX
        && scope.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/' | b'*'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(format!("a scope is 1 to {SCOPE_MAX} of A-Z a-z 0-9 _ - . : / *: {scope:?}")))
    }
}

fn words(v: &str) -> Vec<String> {
    v.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

impl Store {
    /// Opens (creating and migrating where needed) the store a URL names, with the server's
    /// master key:
    ///
    /// - `sqlite:PATH`, `sqlite://PATH`, `sqlite:///ABSOLUTE/PATH`: an SQLite file (created if
    ///   missing; WAL mode, so workers of one machine share it); `sqlite::memory:` for tests;
    /// - `postgres://USER:PASSWORD@HOST:PORT/DATABASE?…` (libpq's URL form, also
    ///   `postgresql://`): a PostgreSQL database, for workers on several machines.
    ///
    /// `pool_size=N` among the URL's query parameters sets how many connections the store
    /// keeps (default 4; an in-memory SQLite database has one).
    ///
    /// The tables are created if missing (all named `apisig_…`, so they may share a database
    /// with the application's). The first open records the master key's id and a sealed
    /// check value; every later open checks the key against them. `master_keys` is one
    /// [`MasterKey`], or [`MasterKeys`] (a new key and older ones, during a re-seal): one of
    /// them must be the key the database names as current.
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`], [`StoreError::Unavailable`] when the database cannot be
    /// opened, [`StoreError::WrongMasterKey`] when the store's secrets are sealed under
    /// another master key than those given, [`StoreError::Corrupt`] when its schema is newer
    /// than this version's.
    pub fn open(url: &str, master_keys: impl Into<MasterKeys>) -> Result<Store, StoreError> {
        let keys = master_keys.into();
        let (url, pool_size) = pool_url(url)?;
        let mut conn = Conn::open(&url)?;
        let bytes = conn.bytes_type();
        let postgres = conn.is_postgres();
        let (product, sealing) = conn.transaction(true, |tx| {
            if postgres {
                // Workers starting together migrate one at a time.
                tx.exec("SELECT pg_advisory_xact_lock(7316426917)", &[])?;
            }
            for stmt in SCHEMA_V1 {
                tx.exec(&stmt.replace("BYTES", bytes), &[])?;
            }
            match meta(tx, "schema_version")? {
                Some(v) if v.parse::<i64>().is_ok_and(|v| v > SCHEMA_VERSION) => {
                    return Err(StoreError::Corrupt(format!(
                        "the store's schema is version {v}, newer than this version's ({SCHEMA_VERSION})"
                    )));
                }
                Some(_) => {}
                None => {
                    tx.exec(
                        "INSERT INTO apisig_meta (name, value) VALUES ('schema_version', ?)",
                        &[text(&SCHEMA_VERSION.to_string())],
                    )?;
                }
            }
            let sealing = match (meta(tx, "master_key_id")?, meta(tx, "master_key_check")?) {
                (Some(id), Some(check)) => {
                    let wrong = || StoreError::WrongMasterKey { store: id.clone(), given: keys.ids_text() };
                    let key = keys.get(&id).ok_or_else(wrong)?;
                    let sealed = hex_decode(&check).ok_or_else(|| StoreError::Corrupt("master key check".into()))?;
                    match key.open(b"check", &sealed) {
                        Ok(v) if v.as_slice() == CHECK => id,
                        _ => return Err(wrong()),
                    }
                }
                (None, None) => {
                    let key = keys.newest();
                    let check = key.seal(b"check", CHECK)?;
                    tx.exec("INSERT INTO apisig_meta (name, value) VALUES ('master_key_id', ?)", &[text(key.id())])?;
                    tx.exec(
                        "INSERT INTO apisig_meta (name, value) VALUES ('master_key_check', ?)",
                        &[text(&hex_encode(&check))],
                    )?;
                    key.id().to_owned()
                }
                _ => return Err(StoreError::Corrupt("the master key's id or check value is missing".into())),
            };
            let product = match meta(tx, "key_product")? {
                Some(p) => p,
                None => {
                    tx.exec(
                        "INSERT INTO apisig_meta (name, value) VALUES ('key_product', ?)",
                        &[text(DEFAULT_PRODUCT)],
                    )?;
                    DEFAULT_PRODUCT.to_owned()
                }
            };
            Ok((product, sealing))
        })?;
        let format = KeyFormat::new(&product).map_err(|_| StoreError::Corrupt(format!("key product {product:?}")))?;
        Ok(Store { pool: Pool::new(url, pool_size, conn), keys, sealing: Mutex::new(sealing), format })
    }

    /// The format keys are issued in (and presented static keys are checked against).
    pub fn key_format(&self) -> &KeyFormat {
        &self.format
    }

    /// The id of the master key the store seals new secrets under, as this handle last saw
    /// it (at open, or its own [`rekey`](Self::rekey); [`rekey_status`](Self::rekey_status)
    /// asks the database).
    pub fn master_key_id(&self) -> String {
        self.sealing.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The master keys this handle holds.
    pub fn master_keys(&self) -> &MasterKeys {
        &self.keys
    }

    /// How many connections the store keeps to its database at most.
    pub fn pool_size(&self) -> usize {
        self.pool.size()
    }

    /// Sets the product keys are issued under from now on (`acme` → `acme_sk_…`), recorded in
    /// the store for every process that opens it. Keys issued before keep working only when
    /// the product is unchanged: set it once, before issuing.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub fn set_key_format(&mut self, format: KeyFormat) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.exec("UPDATE apisig_meta SET value = ? WHERE name = 'key_product'", &[text(format.product())])?;
            Ok(())
        })?;
        self.format = format;
        Ok(())
    }

    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.pool.get()?.transaction(true, f)
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.pool.get()?.transaction(false, f)
    }

    /// The master key new secrets are sealed under in this transaction: the one the database
    /// names as current (see [`current_key_id`]), which this process must hold.
    fn sealing_key(&self, tx: &mut dyn Tx) -> Result<&MasterKey, StoreError> {
        let id = current_key_id(tx)?;
        self.keys.get(&id).ok_or_else(|| StoreError::WrongMasterKey { store: id, given: self.keys.ids_text() })
    }

    /// Opens a sealed secret of the client's `slot` with the master key its row names.
    fn unseal(
        &self,
        id: &str,
        slot: Slot,
        key_id: Option<String>,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let key_id = key_id.ok_or_else(|| StoreError::Corrupt("a sealed secret without its master key's id".into()))?;
        let key = self
            .keys
            .get(&key_id)
            .ok_or_else(|| StoreError::MasterKeyNotGiven { needed: key_id.clone(), given: self.keys.ids_text() })?;
        key.open(&context(id, slot), sealed)
    }

    /// Takes the client's row lock for the rest of the transaction (so concurrent changes to
    /// one client queue) and checks that it exists.
    fn lock_client(tx: &mut dyn Tx, id: &str) -> Result<(), StoreError> {
        let n = tx.exec("UPDATE apisig_clients SET updated = ? WHERE id = ?", &[int(now()), text(id)])?;
        if n == 0 { Err(StoreError::NoSuchClient(id.to_owned())) } else { Ok(()) }
    }

    /// Creates a client with no keys, active, no role, any address, no scopes.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for an id that is not 1 to 64 printable ASCII characters
    /// without spaces or commas, [`StoreError::ClientExists`], [`StoreError::Unavailable`].
    pub fn create_client(&self, id: &str) -> Result<(), StoreError> {
        check_id(id)?;
        self.write(|tx| {
            let n = tx.exec(
                "INSERT INTO apisig_clients (id, status, allowed, scopes, created, updated) VALUES (?, 'active', '', '', ?, ?)
                 ON CONFLICT (id) DO NOTHING",
                &[text(id), int(now()), int(now())],
            )?;
            if n == 0 { Err(StoreError::ClientExists(id.to_owned())) } else { Ok(()) }
        })
    }

    /// Deletes a client with its keys and pins.
    ///
    /// # Errors
    /// [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn delete_client(&self, id: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            Self::lock_client(tx, id)?;
            tx.exec("DELETE FROM apisig_pins WHERE client_id = ?", &[text(id)])?;
            tx.exec("DELETE FROM apisig_keys WHERE client_id = ?", &[text(id)])?;
            tx.exec("DELETE FROM apisig_clients WHERE id = ?", &[text(id)])?;
            Ok(())
        })
    }

    /// Issues a new key of `kind` into an empty `slot` of the client and returns it: the only
    /// time the clear key exists. A static key is stored as its SHA-256 digest, an HMAC secret
    /// sealed under the master key.
    ///
    /// # Errors
    /// [`StoreError::NoSuchClient`], [`StoreError::SlotOccupied`], [`StoreError::Unavailable`].
    pub fn issue(&self, id: &str, slot: Slot, kind: KeyKind) -> Result<IssuedKey, StoreError> {
        let key = self.format.generate(kind)?;
        self.write(|tx| {
            Self::lock_client(tx, id)?;
            let sealer = if kind == KeyKind::Hmac { Some(self.sealing_key(tx)?) } else { None };
            Self::insert_key(tx, sealer, id, slot, kind, key.as_str().as_bytes(), None)?;
            Ok(())
        })?;
        Ok(key)
    }

    /// Stores a key: a static key's digest, or an HMAC secret sealed under `sealer` (the
    /// transaction's [`sealing_key`](Self::sealing_key)).
    fn insert_key(
        tx: &mut dyn Tx,
        sealer: Option<&MasterKey>,
        id: &str,
        slot: Slot,
        kind: KeyKind,
        key: &[u8],
        expires: Option<i64>,
    ) -> Result<(), StoreError> {
        let (digest, sealed, mk) = match (kind, sealer) {
            (KeyKind::Static, _) => (Val::Blob(Some(Sha256::digest(key).to_vec())), Val::Blob(None), Val::Text(None)),
            (KeyKind::Hmac, Some(sealer)) => {
                (Val::Blob(None), Val::Blob(Some(sealer.seal(&context(id, slot), key)?)), text(sealer.id()))
            }
            (KeyKind::Hmac, None) => {
                return Err(StoreError::Corrupt("an HMAC secret to store without a master key".into()));
            }
        };
        let n = tx.exec(
            "INSERT INTO apisig_keys (client_id, slot, kind, digest, sealed, master_key_id, created, expires, revoked)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (client_id, slot) DO NOTHING",
            &[text(id), int(slot_int(slot)), text(kind.tag()), digest, sealed, mk, int(now()), Val::Int(expires)],
        )?;
        if n == 0 { Err(StoreError::SlotOccupied { client: id.to_owned(), slot: slot.name() }) } else { Ok(()) }
    }

    /// Rotates the client's key with no downtime, in one transaction: a new key of the
    /// primary's kind becomes the primary, and the old primary moves to the secondary slot,
    /// where it keeps working for `grace_secs` seconds (its expiry) — or, with `None`, is
    /// deleted at once. Returns the new key.
    ///
    /// The same in steps: [`issue`](Self::issue) into [`Slot::Secondary`],
    /// [`promote`](Self::promote), later [`retire`](Self::retire).
    ///
    /// # Errors
    /// [`StoreError::NoSuchKey`] when the client has no primary, [`StoreError::SlotOccupied`]
    /// when its secondary slot is taken (retire it first), [`StoreError::NoSuchClient`],
    /// [`StoreError::Unavailable`].
    pub fn rotate(&self, id: &str, grace_secs: Option<u64>) -> Result<IssuedKey, StoreError> {
        let kind = self
            .client(id)?
            .ok_or_else(|| StoreError::NoSuchClient(id.to_owned()))?
            .keys
            .iter()
            .find(|k| k.slot == Slot::Primary)
            .map(|k| k.kind)
            .ok_or(StoreError::NoSuchKey { client: id.to_owned(), slot: Slot::Primary.name() })?;
        let key = self.format.generate(kind)?;
        let expires = grace_secs.map(|g| to_i64(g).map(|g| now().saturating_add(g))).transpose()?;
        self.write(|tx| {
            Self::lock_client(tx, id)?;
            let slots = Self::slots(tx, id)?;
            if slots.1.is_some() {
                return Err(StoreError::SlotOccupied { client: id.to_owned(), slot: Slot::Secondary.name() });
            }
            if slots.0 != Some(kind) {
                return Err(StoreError::NoSuchKey { client: id.to_owned(), slot: Slot::Primary.name() });
            }
            let sealer = if kind == KeyKind::Hmac { Some(self.sealing_key(tx)?) } else { None };
            Self::insert_key(tx, sealer, id, Slot::Secondary, kind, key.as_str().as_bytes(), None)?;
            self.swap(tx, id)?;
            match expires {
                Some(at) => {
                    tx.exec(
                        "UPDATE apisig_keys SET expires = ? WHERE client_id = ? AND slot = 1 AND (expires IS NULL OR expires > ?)",
                        &[int(at), text(id), int(at)],
                    )?;
                }
                None => {
                    tx.exec("DELETE FROM apisig_keys WHERE client_id = ? AND slot = 1", &[text(id)])?;
                }
            }
            Ok(())
        })?;
        Ok(key)
    }

    /// The kinds of the keys in the client's primary and secondary slots.
    fn slots(tx: &mut dyn Tx, id: &str) -> Result<(Option<KeyKind>, Option<KeyKind>), StoreError> {
        let mut out = (None, None);
        for r in tx.query("SELECT slot, kind FROM apisig_keys WHERE client_id = ?", &[text(id)])? {
            let kind = KeyKind::from_tag(&r.req_text(1)?).ok_or_else(|| StoreError::Corrupt("key kind".into()))?;
            match slot_of(r.req_int(0)?)? {
                Slot::Primary => out.0 = Some(kind),
                Slot::Secondary => out.1 = Some(kind),
            }
        }
        Ok(out)
    }

    /// Swaps the primary and secondary keys (an HMAC secret is resealed: its slot is part of
    /// its associated data).
    fn swap(&self, tx: &mut dyn Tx, id: &str) -> Result<(), StoreError> {
        let rows = tx.query("SELECT slot, sealed, master_key_id FROM apisig_keys WHERE client_id = ?", &[text(id)])?;
        let mut resealed = Vec::new();
        let mut sealer = None;
        for r in &rows {
            let slot = slot_of(r.req_int(0)?)?;
            let other = if slot == Slot::Primary { Slot::Secondary } else { Slot::Primary };
            let sealed = match r.blob(1)? {
                Some(s) => {
                    let secret = self.unseal(id, slot, r.text(2)?, &s)?;
                    let key = match sealer {
                        Some(k) => k,
                        None => *sealer.insert(self.sealing_key(tx)?),
                    };
                    Some((key.seal(&context(id, other), &secret)?, key.id()))
                }
                None => None,
            };
            resealed.push((slot, other, sealed));
        }
        // Through a third slot number, so the primary key never holds two rows.
        tx.exec("UPDATE apisig_keys SET slot = 2 WHERE client_id = ? AND slot = 0", &[text(id)])?;
        tx.exec("UPDATE apisig_keys SET slot = 0 WHERE client_id = ? AND slot = 1", &[text(id)])?;
        tx.exec("UPDATE apisig_keys SET slot = 1 WHERE client_id = ? AND slot = 2", &[text(id)])?;
        for (_, other, sealed) in resealed {
            if let Some((s, key_id)) = sealed {
                tx.exec(
                    "UPDATE apisig_keys SET sealed = ?, master_key_id = ? WHERE client_id = ? AND slot = ?",
                    &[Val::Blob(Some(s)), text(key_id), text(id), int(slot_int(other))],
                )?;
            }
        }
        Ok(())
    }

    /// Makes the secondary key the primary and the primary the secondary (both keep working).
    ///
    /// # Errors
    /// [`StoreError::NoSuchKey`] when the client has no secondary key,
    /// [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn promote(&self, id: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            Self::lock_client(tx, id)?;
            if Self::slots(tx, id)?.1.is_none() {
                return Err(StoreError::NoSuchKey { client: id.to_owned(), slot: Slot::Secondary.name() });
            }
            self.swap(tx, id)
        })
    }

    /// Deletes the secondary key (the old primary, after a rotation).
    ///
    /// # Errors
    /// [`StoreError::NoSuchKey`], [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn retire(&self, id: &str) -> Result<(), StoreError> {
        self.delete_key(id, Slot::Secondary)
    }

    /// Deletes the key in `slot`.
    ///
    /// # Errors
    /// [`StoreError::NoSuchKey`], [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn delete_key(&self, id: &str, slot: Slot) -> Result<(), StoreError> {
        self.update_key(id, slot, "DELETE FROM apisig_keys WHERE client_id = ? AND slot = ?", None)
    }

    /// Sets when the key in `slot` stops working (UNIX seconds), or `None` for never.
    ///
    /// # Errors
    /// [`StoreError::NoSuchKey`], [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn set_expiry(&self, id: &str, slot: Slot, expires: Option<u64>) -> Result<(), StoreError> {
        let at = Val::Int(expires.map(to_i64).transpose()?);
        self.update_key(id, slot, "UPDATE apisig_keys SET expires = ? WHERE client_id = ? AND slot = ?", Some(at))
    }

    /// Revokes the key in `slot`: refused from now on (with its own error), kept in the list
    /// until deleted.
    ///
    /// # Errors
    /// [`StoreError::NoSuchKey`], [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn revoke_key(&self, id: &str, slot: Slot) -> Result<(), StoreError> {
        self.update_key(
            id,
            slot,
            "UPDATE apisig_keys SET revoked = ? WHERE client_id = ? AND slot = ? AND revoked IS NULL",
            Some(int(now())),
        )
        .or_else(|e| match e {
            // Revoking twice keeps the first time.
            StoreError::NoSuchKey { .. } if self.key_exists(id, slot)? => Ok(()),
            e => Err(e),
        })
    }

    fn key_exists(&self, id: &str, slot: Slot) -> Result<bool, StoreError> {
        self.read(|tx| {
            Ok(!tx
                .query("SELECT 1 FROM apisig_keys WHERE client_id = ? AND slot = ?", &[text(id), int(slot_int(slot))])?
                .is_empty())
        })
    }

    fn update_key(&self, id: &str, slot: Slot, sql: &str, first: Option<Val>) -> Result<(), StoreError> {
        self.write(|tx| {
            Self::lock_client(tx, id)?;
            let mut params: Vec<Val> = first.into_iter().collect();
            params.extend([text(id), int(slot_int(slot))]);
            if tx.exec(sql, &params)? == 0 {
                return Err(StoreError::NoSuchKey { client: id.to_owned(), slot: slot.name() });
            }
            Ok(())
        })
    }

    fn update_client(&self, id: &str, column: &str, value: Val) -> Result<(), StoreError> {
        self.write(|tx| {
            Self::lock_client(tx, id)?;
            tx.exec(&format!("UPDATE apisig_clients SET {column} = ? WHERE id = ?"), &[value, text(id)])?;
            Ok(())
        })
    }

    /// Sets the client's status. A revoked client stays revoked.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] when making a revoked client active or disabled,
    /// [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn set_status(&self, id: &str, status: Status) -> Result<(), StoreError> {
        self.write(|tx| {
            Self::lock_client(tx, id)?;
            let rows = tx.query("SELECT status FROM apisig_clients WHERE id = ?", &[text(id)])?;
            let current = rows.first().map(|r| r.req_text(0)).transpose()?;
            if current.as_deref() == Some(Status::Revoked.name()) && status != Status::Revoked {
                return Err(StoreError::InvalidInput(format!("client {id:?} is revoked for good; delete it instead")));
            }
            tx.exec("UPDATE apisig_clients SET status = ? WHERE id = ?", &[text(status.name()), text(id)])?;
            Ok(())
        })
    }

    /// Revokes the client: every credential of it is refused from now on (within a cache's
    /// time-to-live), whatever its kind.
    ///
    /// # Errors
    /// [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn revoke_client(&self, id: &str) -> Result<(), StoreError> {
        self.set_status(id, Status::Revoked)
    }

    /// Sets the client's role (by name, as the server's policy names it), or none.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for an empty name, [`StoreError::NoSuchClient`],
    /// [`StoreError::Unavailable`].
    pub fn set_role(&self, id: &str, role: Option<&str>) -> Result<(), StoreError> {
        if role.is_some_and(str::is_empty) {
            return Err(StoreError::InvalidInput("a role name is not empty".into()));
        }
        self.update_client(id, "role", Val::Text(role.map(str::to_owned)))
    }

    /// Binds a user id to the client (APEX signs it), or none.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for an empty or over-long (64 bytes) user id,
    /// [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn bind_user_id(&self, id: &str, user_id: Option<&str>) -> Result<(), StoreError> {
        if user_id.is_some_and(|u| u.is_empty() || u.len() > USER_ID_MAX) {
            return Err(StoreError::InvalidInput(format!("a user id is 1 to {USER_ID_MAX} bytes")));
        }
        self.update_client(id, "user_id", Val::Text(user_id.map(str::to_owned)))
    }

    /// Sets the addresses the client may connect from, as IPv4 and IPv6 CIDRs
    /// (`192.0.2.0/24`, `2001:db8::/32`, a bare address for one host); empty for any address.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a CIDR that does not parse or has host bits set, or
    /// more than [`ALLOWED_MAX`] (8) of them, [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn set_allowed(&self, id: &str, cidrs: &[&str]) -> Result<(), StoreError> {
        if cidrs.len() > ALLOWED_MAX {
            return Err(StoreError::InvalidInput(format!("a client allows at most {ALLOWED_MAX} address ranges")));
        }
        let cidrs = cidrs.iter().map(|c| canonical_cidr(c)).collect::<Result<Vec<_>, _>>()?;
        self.update_client(id, "allowed", text(&cidrs.join(" ")))
    }

    /// Sets the client's scopes (permissions the server checks, as it checks roles).
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a scope that is not 1 to 64 of `A-Z a-z 0-9 _ - . : /
    /// *`, [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn set_scopes(&self, id: &str, scopes: &[&str]) -> Result<(), StoreError> {
        scopes.iter().try_for_each(|s| check_scope(s))?;
        self.update_client(id, "scopes", text(&scopes.join(" ")))
    }

    /// Pins a certificate (or its public key) to the client in `slot`, or removes the pin.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] when another client has this pin,
    /// [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn set_pin(&self, id: &str, slot: Slot, pin: Option<Pin>) -> Result<(), StoreError> {
        self.write(|tx| {
            Self::lock_client(tx, id)?;
            tx.exec("DELETE FROM apisig_pins WHERE client_id = ? AND slot = ?", &[text(id), int(slot_int(slot))])?;
            if let Some(pin) = pin {
                let n = tx.exec(
                    "INSERT INTO apisig_pins (client_id, slot, kind, fingerprint) VALUES (?, ?, ?, ?)
                     ON CONFLICT (fingerprint) DO NOTHING",
                    &[text(id), int(slot_int(slot)), text(pin.kind.name()), Val::Blob(Some(pin.fingerprint.to_vec()))],
                )?;
                if n == 0 {
                    return Err(StoreError::InvalidInput("this certificate is pinned to another client".into()));
                }
            }
            Ok(())
        })
    }

    /// Creates many clients, each with its primary key, in one transaction: all of them or,
    /// on any error, none. For migrations from another system and for loading a large store
    /// (a transaction per client costs a disk sync each). Returns how many were created.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for an invalid id, a static key not in the store's format
    /// or an empty HMAC secret, [`StoreError::ClientExists`] (the first taken id),
    /// [`StoreError::InvalidInput`] for a static key another client has,
    /// [`StoreError::Unavailable`].
    pub fn import(&self, clients: &[NewClient<'_>]) -> Result<u64, StoreError> {
        for c in clients {
            check_id(c.id)?;
            match c.key {
                Some((KeyKind::Static, key)) => {
                    let ok = core::str::from_utf8(key).ok().and_then(|k| self.format.check(k).ok());
                    if ok != Some(KeyKind::Static) {
                        return Err(StoreError::InvalidInput(format!(
                            "the static key of {:?} is not a {} static key (its format and checksum)",
                            c.id,
                            self.format.product()
                        )));
                    }
                }
                Some((KeyKind::Hmac, [])) => {
                    return Err(StoreError::InvalidInput(format!("the HMAC secret of {:?} is empty", c.id)));
                }
                Some((KeyKind::Hmac, _)) | None => {}
            }
        }
        let t = now();
        self.write(|tx| {
            let hmac = clients.iter().any(|c| matches!(c.key, Some((KeyKind::Hmac, _))));
            let sealer = if hmac { Some(self.sealing_key(tx)?) } else { None };
            for c in clients {
                let n = tx.exec(
                    "INSERT INTO apisig_clients (id, status, allowed, scopes, created, updated) VALUES (?, 'active', '', '', ?, ?)
                     ON CONFLICT (id) DO NOTHING",
                    &[text(c.id), int(t), int(t)],
                )?;
                if n == 0 {
                    return Err(StoreError::ClientExists(c.id.to_owned()));
                }
                if let Some((kind, key)) = c.key {
                    if kind == KeyKind::Static {
                        let digest = Val::Blob(Some(Sha256::digest(key).to_vec()));
                        if !tx.query("SELECT 1 FROM apisig_keys WHERE digest = ?", &[digest])?.is_empty() {
                            return Err(StoreError::InvalidInput(format!(
                                "the static key of {:?} belongs to another client",
                                c.id
                            )));
                        }
                    }
                    Self::insert_key(tx, sealer, c.id, Slot::Primary, kind, key, None)?;
                }
            }
            Ok(u64::try_from(clients.len()).unwrap_or(u64::MAX))
        })
    }

    /// Where a re-seal stands: the master key the database names as current, and how many
    /// HMAC secrets are sealed under it and under older keys.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`], [`StoreError::Corrupt`].
    pub fn rekey_status(&self) -> Result<RekeyStatus, StoreError> {
        self.read(|tx| Self::status_in(tx, 0))
    }

    fn status_in(tx: &mut dyn Tx, resealed: u64) -> Result<RekeyStatus, StoreError> {
        let master_key_id =
            meta(tx, "master_key_id")?.ok_or_else(|| StoreError::Corrupt("the master key's id is missing".into()))?;
        let mut status = RekeyStatus { master_key_id, resealed, ..RekeyStatus::default() };
        for r in tx.query(
            "SELECT COALESCE(master_key_id, ''), COUNT(*) FROM apisig_keys WHERE sealed IS NOT NULL
             GROUP BY COALESCE(master_key_id, '') ORDER BY 1",
            &[],
        )? {
            let (id, n) = (r.req_text(0)?, u64::try_from(r.req_int(1)?).unwrap_or(0));
            if id == status.master_key_id {
                status.sealed = n;
            } else {
                status.remaining.push((id, n));
            }
        }
        Ok(status)
    }

    /// Re-seals every HMAC secret under the newest of this handle's [`MasterKeys`], in
    /// transactions of at most `batch` secrets; the master key can then be replaced without
    /// downtime:
    ///
    /// 1. give every worker both keys ([`MasterKeys::new`]`(new).with_previous(old)`, or
    ///    `APISIG_MASTER_KEY` and `APISIG_MASTER_KEY_PREVIOUS`): they open secrets sealed
    ///    under either, and seal new ones under the key the database names as current;
    /// 2. `rekey`: the new key becomes the database's current key (new secrets are sealed
    ///    under it from then on, by every worker), then every secret still sealed under an
    ///    older key is opened and sealed again under the new one;
    /// 3. once it returns [complete](RekeyStatus::is_complete), take the old key away.
    ///
    /// Each batch is one transaction: interrupted (the process killed, the database gone, or
    /// `progress` breaking off), nothing is half-written and every secret opens under the key
    /// its row names; calling `rekey` again resumes. Lookups are not blocked meanwhile.
    /// `progress` is called after each batch with the number of secrets re-sealed so far.
    ///
    /// A re-seal to another key while one is under way is refused: finish the first.
    ///
    /// # Errors
    /// [`StoreError::MasterKeyNotGiven`] when secrets are sealed under a key this handle does
    /// not hold (checked before anything is written), [`StoreError::WrongMasterKey`] when the
    /// database's current key is not held, [`StoreError::InvalidInput`] for a batch of 0 or
    /// when a re-seal to another key is under way, [`StoreError::Unavailable`],
    /// [`StoreError::Corrupt`] (a secret that does not open: that batch is rolled back).
    pub fn rekey(
        &self,
        batch: usize,
        mut progress: impl FnMut(u64) -> ControlFlow<()>,
    ) -> Result<RekeyStatus, StoreError> {
        if batch == 0 {
            return Err(StoreError::InvalidInput("a re-seal batch holds at least one secret".into()));
        }
        let target = self.keys.newest();
        self.write(|tx| {
            let current = current_key_id(tx)?;
            let status = Self::status_in(tx, 0)?;
            if current != target.id() {
                if let Some((_, n)) = status.remaining.first() {
                    return Err(StoreError::InvalidInput(format!(
                        "a re-seal to master key {current} is under way ({n} secrets sealed under older keys): \
                         finish it first, with {current} as the newest master key"
                    )));
                }
                if self.keys.get(&current).is_none() {
                    return Err(StoreError::WrongMasterKey { store: current, given: self.keys.ids_text() });
                }
            }
            if let Some((id, _)) = status.remaining.iter().find(|(id, _)| self.keys.get(id).is_none()) {
                return Err(StoreError::MasterKeyNotGiven { needed: id.clone(), given: self.keys.ids_text() });
            }
            if current != target.id() {
                let check = target.seal(b"check", CHECK)?;
                tx.exec("UPDATE apisig_meta SET value = ? WHERE name = 'master_key_id'", &[text(target.id())])?;
                tx.exec(
                    "UPDATE apisig_meta SET value = ? WHERE name = 'master_key_check'",
                    &[text(&hex_encode(&check))],
                )?;
            }
            Ok(())
        })?;
        target.id().clone_into(&mut self.sealing.lock().unwrap_or_else(PoisonError::into_inner));
        let limit = i64::try_from(batch).unwrap_or(i64::MAX);
        let mut cursor = (String::new(), -1i64);
        let mut resealed = 0u64;
        loop {
            let (n, seen, last) = self.write(|tx| {
                // Still the current key: no other re-seal began meanwhile (and its row lock
                // keeps one from beginning during this batch).
                tx.exec("UPDATE apisig_meta SET value = value WHERE name = 'master_key_id'", &[])?;
                if meta(tx, "master_key_id")?.as_deref() != Some(target.id()) {
                    return Err(StoreError::InvalidInput("another re-seal began meanwhile".into()));
                }
                let rows = tx.query(
                    "SELECT client_id, slot, sealed, master_key_id FROM apisig_keys
                     WHERE (client_id, slot) > (?, ?) AND sealed IS NOT NULL AND master_key_id <> ?
                     ORDER BY client_id, slot LIMIT ?",
                    &[text(&cursor.0), int(cursor.1), text(target.id()), int(limit)],
                )?;
                let mut n = 0u64;
                let mut last = None;
                for r in &rows {
                    let (id, slot_n) = (r.req_text(0)?, r.req_int(1)?);
                    let slot = slot_of(slot_n)?;
                    let old = r.blob(2)?.ok_or_else(|| StoreError::Corrupt("a sealed secret".into()))?;
                    let secret = self.unseal(&id, slot, r.text(3)?, &old)?;
                    let new = target.seal(&context(&id, slot), &secret)?;
                    n = n.saturating_add(tx.exec(
                        "UPDATE apisig_keys SET sealed = ?, master_key_id = ? WHERE client_id = ? AND slot = ? AND sealed = ?",
                        &[Val::Blob(Some(new)), text(target.id()), text(&id), int(slot_n), Val::Blob(Some(old))],
                    )?);
                    last = Some((id, slot_n));
                }
                Ok((n, rows.len(), last))
            })?;
            resealed = resealed.saturating_add(n);
            let Some(last) = last else { break };
            cursor = last;
            if seen < batch || progress(resealed).is_break() {
                break;
            }
        }
        self.read(|tx| Self::status_in(tx, resealed))
    }

    /// Records an APEX nonce for the client when it is larger than the last one accepted
    /// (atomically, across every worker); `false` when it is not (a replay).
    ///
    /// # Errors
    /// [`StoreError::NoSuchClient`], [`StoreError::Unavailable`].
    pub fn advance_nonce(&self, id: &str, nonce: u64) -> Result<bool, StoreError> {
        let n = i64::try_from(nonce).map_err(|_| StoreError::InvalidInput("nonce above 2^63".into()))?;
        self.write(|tx| {
            if tx.exec(
                "UPDATE apisig_clients SET last_nonce = ? WHERE id = ? AND (last_nonce IS NULL OR last_nonce < ?)",
                &[int(n), text(id), int(n)],
            )? == 1
            {
                return Ok(true);
            }
            if tx.query("SELECT 1 FROM apisig_clients WHERE id = ?", &[text(id)])?.is_empty() {
                return Err(StoreError::NoSuchClient(id.to_owned()));
            }
            Ok(false)
        })
    }

    /// Every client, ordered by id, without secrets.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`], [`StoreError::Corrupt`].
    pub fn list(&self) -> Result<Vec<ClientInfo>, StoreError> {
        self.read(|tx| {
            let clients = tx.query(&format!("SELECT {CLIENT_COLUMNS} FROM apisig_clients ORDER BY id"), &[])?;
            let mut keys = std::collections::HashMap::<String, Vec<KeyInfo>>::new();
            for r in
                tx.query(&format!("SELECT client_id, {KEY_COLUMNS} FROM apisig_keys ORDER BY client_id, slot"), &[])?
            {
                keys.entry(r.req_text(0)?).or_default().push(key_info(&r, 1)?.0);
            }
            let mut pins = std::collections::HashMap::<String, Vec<(Slot, Pin)>>::new();
            for r in
                tx.query("SELECT client_id, slot, kind, fingerprint FROM apisig_pins ORDER BY client_id, slot", &[])?
            {
                pins.entry(r.req_text(0)?).or_default().push(pin_of(&r, 1)?);
            }
            clients
                .iter()
                .map(|r| {
                    let (mut info, _) = client_info(r)?;
                    info.keys = keys.remove(&info.id).unwrap_or_default();
                    info.pins = pins.remove(&info.id).unwrap_or_default();
                    Ok(info)
                })
                .collect()
        })
    }

    /// One client, without secrets.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`], [`StoreError::Corrupt`].
    pub fn client(&self, id: &str) -> Result<Option<ClientInfo>, StoreError> {
        Ok(self.load(id)?.map(|r| r.info.clone()))
    }

    /// A client with its key material (HMAC secrets unsealed), for a verifier: by its id.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`], [`StoreError::Corrupt`] (a sealed secret that does not
    /// open).
    pub fn load(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.read(|tx| self.load_in(tx, id))
    }

    /// The client a presented static key belongs to. The key's format and checksum are checked
    /// first: a key that is not one of this store's is refused without a database query.
    ///
    /// # Errors
    /// [`StoreError::Core`] with [`apisig::Error::InvalidKeyFormat`], and those of
    /// [`load`](Self::load).
    pub fn load_by_static_key(&self, key: &[u8]) -> Result<Option<ClientRecord>, StoreError> {
        let text = core::str::from_utf8(key).map_err(|_| apisig::Error::InvalidKeyFormat)?;
        if self.format.check(text)? != KeyKind::Static {
            return Err(apisig::Error::InvalidKeyFormat.into());
        }
        self.load_by_static_digest(&Sha256::digest(key).into())
    }

    /// The client whose static key has this SHA-256 digest (no format check: the caller
    /// checked the key, see [`load_by_static_key`](Self::load_by_static_key)).
    ///
    /// # Errors
    /// Those of [`load`](Self::load).
    pub fn load_by_static_digest(&self, digest: &[u8; 32]) -> Result<Option<ClientRecord>, StoreError> {
        self.read(|tx| {
            let rows =
                tx.query("SELECT client_id FROM apisig_keys WHERE digest = ?", &[Val::Blob(Some(digest.to_vec()))])?;
            match rows.first() {
                Some(r) => self.load_in(tx, &r.req_text(0)?),
                None => Ok(None),
            }
        })
    }

    /// The client a certificate pin (fingerprint) belongs to.
    ///
    /// # Errors
    /// Those of [`load`](Self::load).
    pub fn load_by_pin(&self, fingerprint: &[u8; PIN_LEN]) -> Result<Option<ClientRecord>, StoreError> {
        self.read(|tx| {
            let rows = tx.query(
                "SELECT client_id FROM apisig_pins WHERE fingerprint = ?",
                &[Val::Blob(Some(fingerprint.to_vec()))],
            )?;
            match rows.first() {
                Some(r) => self.load_in(tx, &r.req_text(0)?),
                None => Ok(None),
            }
        })
    }

    fn load_in(&self, tx: &mut dyn Tx, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let rows = tx.query(&format!("SELECT {CLIENT_COLUMNS} FROM apisig_clients WHERE id = ?"), &[text(id)])?;
        let Some(row) = rows.first() else { return Ok(None) };
        let (mut info, last_nonce) = client_info(row)?;
        let mut material: [Option<KeyMaterial>; 2] = [None, None];
        let keys = tx.query(
            &format!(
                "SELECT {KEY_COLUMNS}, digest, sealed, master_key_id FROM apisig_keys WHERE client_id = ? ORDER BY slot"
            ),
            &[text(id)],
        )?;
        for r in &keys {
            let (key, kind) = key_info(r, 0)?;
            let m = match kind {
                KeyKind::Static => {
                    let d =
                        r.blob(KEY_FIELDS)?.ok_or_else(|| StoreError::Corrupt("a static key without digest".into()))?;
                    KeyMaterial::StaticDigest(d.try_into().map_err(|_| StoreError::Corrupt("digest length".into()))?)
                }
                KeyKind::Hmac => {
                    let s = r
                        .blob(KEY_FIELDS.saturating_add(1))?
                        .ok_or_else(|| StoreError::Corrupt("an HMAC key without sealed secret".into()))?;
                    KeyMaterial::HmacSecret(self.unseal(id, key.slot, r.text(KEY_FIELDS.saturating_add(2))?, &s)?)
                }
            };
            if let Some(at) = material.get_mut(usize::try_from(slot_int(key.slot)).unwrap_or(0)) {
                *at = Some(m);
            }
            info.keys.push(key);
        }
        for r in
            tx.query("SELECT slot, kind, fingerprint FROM apisig_pins WHERE client_id = ? ORDER BY slot", &[text(id)])?
        {
            info.pins.push(pin_of(&r, 0)?);
        }
        Ok(Some(ClientRecord { info, material, last_nonce }))
    }
}

const CLIENT_COLUMNS: &str = "id, status, role, user_id, allowed, scopes, created, updated, last_nonce";
const KEY_COLUMNS: &str = "slot, kind, created, expires, revoked";
const KEY_FIELDS: usize = 5;

fn client_info(r: &Row) -> Result<(ClientInfo, Option<u64>), StoreError> {
    let status = r.req_text(1)?;
    Ok((
        ClientInfo {
            id: r.req_text(0)?,
            status: Status::from_name(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
            role: r.text(2)?,
            user_id: r.text(3)?,
            allowed: words(&r.req_text(4)?),
            scopes: words(&r.req_text(5)?),
            keys: Vec::new(),
            pins: Vec::new(),
            created: secs(r.req_int(6)?),
            updated: secs(r.req_int(7)?),
        },
        r.int(8)?.map(secs),
    ))
}

fn key_info(r: &Row, at: usize) -> Result<(KeyInfo, KeyKind), StoreError> {
    let col = |i: usize| at.saturating_add(i);
    let kind = KeyKind::from_tag(&r.req_text(col(1))?).ok_or_else(|| StoreError::Corrupt("key kind".into()))?;
    Ok((
        KeyInfo {
            slot: slot_of(r.req_int(col(0))?)?,
            kind,
            created: secs(r.req_int(col(2))?),
            expires: r.int(col(3))?.map(secs),
            revoked: r.int(col(4))?.map(secs),
        },
        kind,
    ))
}

fn pin_of(r: &Row, at: usize) -> Result<(Slot, Pin), StoreError> {
    let col = |i: usize| at.saturating_add(i);
    let kind = r.req_text(col(1))?;
    let kind = PinKind::from_name(&kind).ok_or_else(|| StoreError::Corrupt(format!("pin kind {kind:?}")))?;
    let fp = r.blob(col(2))?.ok_or_else(|| StoreError::Corrupt("pin".into()))?;
    let fingerprint = fp.try_into().map_err(|_| StoreError::Corrupt("pin length".into()))?;
    Ok((slot_of(r.req_int(col(0))?)?, Pin { kind, fingerprint }))
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(t: &str) -> Option<Vec<u8>> {
    if !t.len().is_multiple_of(2) {
        return None;
    }
    t.as_bytes()
        .chunks_exact(2)
        .map(|p| core::str::from_utf8(p).ok().and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cidrs_are_canonical_with_zero_host_bits() {
        assert_eq!(canonical_cidr("192.0.2.0/24").unwrap(), "192.0.2.0/24");
        assert_eq!(canonical_cidr("192.0.2.7").unwrap(), "192.0.2.7/32");
        assert_eq!(canonical_cidr("2001:DB8::/32").unwrap(), "2001:db8::/32");
        assert_eq!(canonical_cidr("0.0.0.0/0").unwrap(), "0.0.0.0/0");
        assert_eq!(canonical_cidr("::1").unwrap(), "::1/128");
        for bad in ["192.0.2.1/24", "192.0.2.0/33", "::/129", "192.0.2.0/", "192.0.2.0/+8", "x/8", "10.0.0.0/08x", ""] {
            assert!(canonical_cidr(bad).is_err(), "{bad}");
        }
    }
}
