//! The SQLite store: the lifecycle (tests/common), the file never holding a key or secret in
//! clear, the master key check, migrations, two handles on one file.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod common;

use apisig::client::Slot;
use apisig_store::{KeyFormat, KeyKind, MasterKey, Store, StoreError};

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("keys.db").display())
}

#[test]
fn lifecycle_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir), MasterKey::generate().unwrap()).unwrap();
    common::lifecycle(&store);
    common::import(&store);
}

#[test]
fn wrong_master_key_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    common::wrong_master_key(&url(&dir));
    // A missing key file is its own error, before any store is opened.
    let missing = MasterKey::from_file(dir.path().join("no-such-key")).unwrap_err();
    assert!(matches!(missing, StoreError::MasterKeyMissing(_)), "{missing:?}");
}

/// Whatever a store has issued, rotated or revoked, its files (the database, its WAL and
/// shared-memory files) never hold a static key or an HMAC secret: searched for as text,
/// and for the random part alone. The static keys' digests are there (the search works).
#[test]
fn the_database_file_never_holds_a_key_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let mut issued = Vec::new();
    let (old, new) = (MasterKey::generate().unwrap(), MasterKey::generate().unwrap());
    {
        let mut store = Store::open(&url(&dir), old.clone()).unwrap();
        store.set_key_format(KeyFormat::new("acme").unwrap()).unwrap();
        for i in 0..20 {
            let id = format!("client-{i}");
            store.create_client(&id).unwrap();
            let kind = if i % 2 == 0 { KeyKind::Static } else { KeyKind::Hmac };
            issued.push((kind, store.issue(&id, Slot::Primary, kind).unwrap()));
            if i % 5 == 0 {
                issued.push((kind, store.rotate(&id, Some(60)).unwrap()));
                store.promote(&id).unwrap();
                store.revoke_key(&id, Slot::Primary).unwrap();
            }
        }
        // Imported in bulk, then re-sealed under a new master key: still never in clear.
        let format = store.key_format().clone();
        let imports: Vec<_> = (0..6)
            .map(|i| {
                let kind = if i % 2 == 0 { KeyKind::Static } else { KeyKind::Hmac };
                (format!("bulk-{i}"), kind, format.generate(kind).unwrap())
            })
            .collect();
        let clients: Vec<_> = imports
            .iter()
            .map(|(id, kind, key)| apisig_store::NewClient { id, key: Some((*kind, key.as_str().as_bytes())) })
            .collect();
        assert_eq!(store.import(&clients).unwrap(), 6);
        issued.extend(imports.into_iter().map(|(_, kind, key)| (kind, key)));
        let store =
            Store::open(&url(&dir), apisig_store::MasterKeys::new(new.clone()).with_previous(old.clone())).unwrap();
        let status = store.rekey(4, |_| std::ops::ControlFlow::Continue(())).unwrap();
        assert!(status.is_complete() && status.resealed > 10, "{status:?}");
    }
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"apisig_keys"), "the search reads the database");
    for master in [&old, &new] {
        assert!(!contains(master.to_hex().as_bytes()), "a master key in the file");
        assert!(!contains(&hex::decode(master.to_hex().as_str()).unwrap()), "a master key's bytes in the file");
    }
    for (kind, key) in &issued {
        let text = key.as_str();
        assert!(!contains(text.as_bytes()), "{kind:?} key in clear");
        assert!(!contains(&text.as_bytes()[8..40]), "{kind:?} key's random part in clear");
        if *kind == KeyKind::Static {
            assert!(contains(&common::sha256(&[text.as_bytes()])[0]), "the static key's digest is kept");
        }
    }
}

/// Two handles on one file (two workers): each sees what the other changed; reopening
/// migrates nothing twice; the key product is the store's, not the opener's.
#[test]
fn two_handles_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let master = MasterKey::generate().unwrap();
    let mut a = Store::open(&url(&dir), master.clone()).unwrap();
    a.set_key_format(KeyFormat::new("acme").unwrap()).unwrap();
    let b = Store::open(&url(&dir), master.clone()).unwrap();
    assert_eq!(b.key_format().product(), "acme");
    a.create_client("c").unwrap();
    let key = a.issue("c", Slot::Primary, KeyKind::Static).unwrap();
    assert_eq!(b.load_by_static_key(key.as_str().as_bytes()).unwrap().unwrap().info.id, "c");
    b.revoke_client("c").unwrap();
    assert_eq!(a.client("c").unwrap().unwrap().status, apisig::client::Status::Revoked);
    drop((a, b));
    let c = Store::open(&url(&dir), master).unwrap();
    assert_eq!(c.list().unwrap().len(), 1);
}

/// A store written by a newer version (a higher schema version) is not opened.
#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(&url(&dir), MasterKey::generate().unwrap()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join("keys.db")).unwrap();
    conn.execute("UPDATE apisig_meta SET value = '99' WHERE name = 'schema_version'", []).unwrap();
    drop(conn);
    let err = Store::open(&url(&dir), MasterKey::generate().unwrap()).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt(m) if m.contains("99")), "{err:?}");
}

#[test]
fn urls_name_a_database() {
    let master = MasterKey::generate().unwrap();
    for bad in ["", "mysql://x", "sqlite", "postgres://user@/db?sslmode=bogus"] {
        let err = Store::open(bad, master.clone()).unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{bad}: {err:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(&format!("sqlite:{}/no/such/dir/keys.db", dir.path().display()), master).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[test]
fn rekey_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    common::rekey(&url(&dir));
}

#[test]
fn rekey_while_workers_verify_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    common::rekey_while_verifying(&url(&dir));
}

/// A batch that meets a secret it cannot open is rolled back whole: nothing half-written,
/// every other secret still opens; without that row the re-seal resumes and completes.
#[test]
fn a_failing_rekey_batch_writes_nothing() {
    use std::ops::ControlFlow;

    use apisig_store::MasterKeys;
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (MasterKey::generate().unwrap(), MasterKey::generate().unwrap());
    let mut issued = common::issue_many(&Store::open(&url(&dir), old.clone()).unwrap(), 12);
    let conn = rusqlite::Connection::open(dir.path().join("keys.db")).unwrap();
    let n = conn
        .execute("UPDATE apisig_keys SET sealed = zeroblob(80) WHERE client_id = 'c-007' AND slot = 0", [])
        .unwrap();
    assert_eq!(n, 1);
    let store = Store::open(&url(&dir), MasterKeys::new(new.clone()).with_previous(old.clone())).unwrap();
    let err = store.rekey(100, |_| ControlFlow::Continue(())).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    let status = store.rekey_status().unwrap();
    assert_eq!((status.master_key_id.as_str(), status.sealed), (new.id(), 0));
    assert_eq!(status.remaining, [(old.id().to_owned(), issued.secrets.len() as u64)]);
    issued.secrets.retain(|(id, _, _)| id != "c-007");
    store.delete_client("c-007").unwrap();
    common::all_open(&store, &issued);
    let status = store.rekey(100, |_| ControlFlow::Continue(())).unwrap();
    assert!(status.is_complete());
    assert_eq!(status.resealed, issued.secrets.len() as u64);
    common::all_open(&Store::open(&url(&dir), new).unwrap(), &issued);
}

/// `pool_size=N` among the URL's parameters; the file is the path without it.
#[test]
fn the_pool_size_is_a_url_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let master = MasterKey::generate().unwrap();
    let store = Store::open(&format!("{}?pool_size=2", url(&dir)), master.clone()).unwrap();
    assert_eq!(store.pool_size(), 2);
    store.create_client("c").unwrap();
    assert!(dir.path().join("keys.db").exists());
    assert_eq!(Store::open(&url(&dir), master.clone()).unwrap().pool_size(), 4);
    assert_eq!(Store::open("sqlite::memory:?pool_size=8", master.clone()).unwrap().pool_size(), 1);
    for bad in ["0", "65", "x", ""] {
        let err = Store::open(&format!("{}?pool_size={bad}", url(&dir)), master.clone()).unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{bad}: {err:?}");
    }
}
