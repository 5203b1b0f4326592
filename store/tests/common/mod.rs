//! The store's behaviour, written once and run against SQLite (tests/sqlite.rs) and a real
//! PostgreSQL server (tests/postgres.rs).
#![allow(dead_code)]

pub mod pg;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use apisig::client::Slot;
use apisig::client::Status;
use apisig::pin::{Pin, PinKind};
use apisig_store::{KeyKind, KeyMaterial, MasterKey, Store, StoreError};

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// SHA-256 digests by Python's hashlib: the oracle for what a store keeps of a static key.
pub fn sha256(data: &[&[u8]]) -> Vec<[u8; 32]> {
    let mut child = Command::new("python3")
        .args(["-c", "import hashlib,sys\nfor l in sys.stdin.read().split():\n print(hashlib.sha256(bytes.fromhex(l)).hexdigest())"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let input: Vec<String> = data.iter().map(hex::encode).collect();
    child.stdin.take().unwrap().write_all(input.join("\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(|l| hex::decode(l).unwrap().try_into().unwrap()).collect()
}

fn digest_of(m: &KeyMaterial) -> [u8; 32] {
    match m {
        KeyMaterial::StaticDigest(d) => *d,
        other => panic!("not a static key: {other:?}"),
    }
}

fn secret_of(m: &KeyMaterial) -> Vec<u8> {
    match m {
        KeyMaterial::HmacSecret(s) => s.to_vec(),
        other => panic!("not an HMAC secret: {other:?}"),
    }
}

/// Issue, load by key and by id, list without secrets, rotate, promote, retire, expire,
/// revoke, delete; every refusal leaves the store as it was.
pub fn lifecycle(store: &Store) {
    store.create_client("client-7").unwrap();
    assert_eq!(store.create_client("client-7"), Err(StoreError::ClientExists("client-7".into())));
    for bad in ["", "has space", "a,b", &"x".repeat(65)] {
        assert!(matches!(store.create_client(bad), Err(StoreError::InvalidInput(_))), "{bad:?}");
    }
    assert!(matches!(store.issue("nobody", Slot::Primary, KeyKind::Static), Err(StoreError::NoSuchClient(_))));

    // A static key: stored as its SHA-256 (Python's), found by the key.
    let key = store.issue("client-7", Slot::Primary, KeyKind::Static).unwrap();
    assert!(key.as_str().starts_with(&store.key_format().prefix(KeyKind::Static)));
    assert_eq!(
        store.issue("client-7", Slot::Primary, KeyKind::Static),
        Err(StoreError::SlotOccupied { client: "client-7".into(), slot: "primary" })
    );
    let found = store.load_by_static_key(key.as_str().as_bytes()).unwrap().unwrap();
    assert_eq!(found.info.id, "client-7");
    assert_eq!(digest_of(found.material[0].as_ref().unwrap()), sha256(&[key.as_str().as_bytes()])[0]);
    assert!(found.material[1].is_none());

    // A typo is refused by the checksum, a key of another product too; an unknown well-formed
    // key is simply not there.
    let mut typo = key.as_str().to_owned().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    assert_eq!(store.load_by_static_key(&typo).unwrap_err(), StoreError::Core(apisig::Error::InvalidKeyFormat));
    assert_eq!(
        store.load_by_static_key(b"SIGNIUS_KEY").unwrap_err(),
        StoreError::Core(apisig::Error::InvalidKeyFormat)
    );
    let stranger = store.key_format().generate(KeyKind::Static).unwrap();
    assert!(store.load_by_static_key(stranger.as_str().as_bytes()).unwrap().is_none());
    let hmac_text = store.key_format().generate(KeyKind::Hmac).unwrap();
    assert_eq!(
        store.load_by_static_key(hmac_text.as_str().as_bytes()).unwrap_err(),
        StoreError::Core(apisig::Error::InvalidKeyFormat),
        "an HMAC secret presented as a static key"
    );

    // Rotation with a grace period: the new key is the primary, the old one the secondary
    // until its expiry; both are found.
    let t0 = now();
    let new = store.rotate("client-7", Some(3600)).unwrap();
    assert_ne!(new, key);
    let info = store.client("client-7").unwrap().unwrap();
    assert_eq!(info.keys.len(), 2);
    assert_eq!((info.keys[0].slot, info.keys[0].expires), (Slot::Primary, None));
    let grace_end = info.keys[1].expires.unwrap();
    assert!((t0 + 3600..=now() + 3600).contains(&grace_end), "{grace_end}");
    let by_old = store.load_by_static_key(key.as_str().as_bytes()).unwrap().unwrap();
    let by_new = store.load_by_static_key(new.as_str().as_bytes()).unwrap().unwrap();
    assert_eq!((by_old.info.id.as_str(), by_new.info.id.as_str()), ("client-7", "client-7"));
    assert_eq!(digest_of(by_new.material[0].as_ref().unwrap()), sha256(&[new.as_str().as_bytes()])[0]);
    assert_eq!(digest_of(by_new.material[1].as_ref().unwrap()), sha256(&[key.as_str().as_bytes()])[0]);
    // A second rotation waits until the old key is retired; nothing changed meanwhile.
    assert!(matches!(store.rotate("client-7", None), Err(StoreError::SlotOccupied { .. })));
    assert_eq!(store.client("client-7").unwrap().unwrap().keys, info.keys);
    store.retire("client-7").unwrap();
    assert!(store.load_by_static_key(key.as_str().as_bytes()).unwrap().is_none());
    assert!(matches!(store.retire("client-7"), Err(StoreError::NoSuchKey { .. })));
    // Without a grace period the old key goes at once.
    let newer = store.rotate("client-7", None).unwrap();
    assert!(store.load_by_static_key(new.as_str().as_bytes()).unwrap().is_none());
    assert!(store.load_by_static_key(newer.as_str().as_bytes()).unwrap().is_some());

    // HMAC secrets: sealed, opened for the verifier; promoting swaps them (resealed under
    // their new slots).
    store.create_client("aevo-1").unwrap();
    let first = store.issue("aevo-1", Slot::Primary, KeyKind::Hmac).unwrap();
    let second = store.issue("aevo-1", Slot::Secondary, KeyKind::Hmac).unwrap();
    let r = store.load("aevo-1").unwrap().unwrap();
    assert_eq!(secret_of(r.material[0].as_ref().unwrap()), first.as_str().as_bytes());
    assert_eq!(secret_of(r.material[1].as_ref().unwrap()), second.as_str().as_bytes());
    store.promote("aevo-1").unwrap();
    let r = store.load("aevo-1").unwrap().unwrap();
    assert_eq!(secret_of(r.material[0].as_ref().unwrap()), second.as_str().as_bytes());
    assert_eq!(secret_of(r.material[1].as_ref().unwrap()), first.as_str().as_bytes());
    let rotated = store.rotate("aevo-1", Some(60)).unwrap_err();
    assert!(matches!(rotated, StoreError::SlotOccupied { .. }));
    store.delete_key("aevo-1", Slot::Secondary).unwrap();
    let third = store.rotate("aevo-1", Some(60)).unwrap();
    assert!(third.as_str().starts_with(&store.key_format().prefix(KeyKind::Hmac)));
    let r = store.load("aevo-1").unwrap().unwrap();
    assert_eq!(secret_of(r.material[0].as_ref().unwrap()), third.as_str().as_bytes());
    assert_eq!(secret_of(r.material[1].as_ref().unwrap()), second.as_str().as_bytes());

    // Expiry and revocation of a key, kept in the listing.
    store.set_expiry("aevo-1", Slot::Primary, Some(2_000_000_000)).unwrap();
    store.revoke_key("aevo-1", Slot::Secondary).unwrap();
    let t = store.client("aevo-1").unwrap().unwrap().keys[1].revoked.unwrap();
    store.revoke_key("aevo-1", Slot::Secondary).unwrap(); // again: the first time stays
    let keys = store.client("aevo-1").unwrap().unwrap().keys;
    assert_eq!((keys[0].expires, keys[0].revoked), (Some(2_000_000_000), None));
    assert_eq!(keys[1].revoked, Some(t));
    store.set_expiry("aevo-1", Slot::Primary, None).unwrap();
    assert_eq!(store.client("aevo-1").unwrap().unwrap().keys[0].expires, None);
    store.delete_key("aevo-1", Slot::Secondary).unwrap();
    assert!(matches!(store.revoke_key("aevo-1", Slot::Secondary), Err(StoreError::NoSuchKey { .. })));
    assert!(matches!(store.set_expiry("aevo-1", Slot::Secondary, Some(1)), Err(StoreError::NoSuchKey { .. })));

    // Role, user id, allowed addresses, scopes, status.
    store.set_role("aevo-1", Some("KeyOperator")).unwrap();
    store.bind_user_id("aevo-1", Some("42")).unwrap();
    store.set_allowed("aevo-1", &["192.0.2.0/24", "2001:DB8::/32", "198.51.100.7"]).unwrap();
    store.set_scopes("aevo-1", &["orders:read", "orders:write"]).unwrap();
    assert!(matches!(store.set_allowed("aevo-1", &["10.0.0.0/8", "192.0.2.1/24"]), Err(StoreError::InvalidInput(_))));
    assert!(matches!(store.set_scopes("aevo-1", &["ok", "not ok"]), Err(StoreError::InvalidInput(_))));
    let info = store.client("aevo-1").unwrap().unwrap();
    assert_eq!(info.role.as_deref(), Some("KeyOperator"));
    assert_eq!(info.user_id.as_deref(), Some("42"));
    assert_eq!(info.allowed, ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7/32"]);
    assert_eq!(info.scopes, ["orders:read", "orders:write"]);
    assert_eq!(info.status, Status::Active);
    store.set_status("aevo-1", Status::Disabled).unwrap();
    assert_eq!(store.client("aevo-1").unwrap().unwrap().status, Status::Disabled);
    store.set_status("aevo-1", Status::Active).unwrap();
    store.revoke_client("aevo-1").unwrap();
    assert!(matches!(store.set_status("aevo-1", Status::Active), Err(StoreError::InvalidInput(_))));
    assert_eq!(store.client("aevo-1").unwrap().unwrap().status, Status::Revoked);

    // Pins; a pin taken by another client is refused and the client's own pin stays (the
    // change is one transaction: its delete of the old pin is rolled back).
    let pin = |b: u8| Pin { kind: PinKind::PublicKey, fingerprint: [b; 32] };
    store.set_pin("client-7", Slot::Primary, Some(pin(1))).unwrap();
    store.create_client("pinned-only").unwrap();
    store.set_pin("pinned-only", Slot::Primary, Some(pin(2))).unwrap();
    assert!(matches!(store.set_pin("pinned-only", Slot::Primary, Some(pin(1))), Err(StoreError::InvalidInput(_))));
    assert_eq!(store.client("pinned-only").unwrap().unwrap().pins, [(Slot::Primary, pin(2))]);
    assert_eq!(store.load_by_pin(&[2; 32]).unwrap().unwrap().info.id, "pinned-only");
    assert_eq!(store.load_by_pin(&[1; 32]).unwrap().unwrap().info.id, "client-7");
    assert!(store.load_by_pin(&[3; 32]).unwrap().is_none());

    // APEX nonces only grow, across every handle.
    assert!(store.advance_nonce("client-7", 10).unwrap());
    assert!(!store.advance_nonce("client-7", 10).unwrap());
    assert!(!store.advance_nonce("client-7", 9).unwrap());
    assert!(store.advance_nonce("client-7", 11).unwrap());
    assert_eq!(store.load("client-7").unwrap().unwrap().last_nonce, Some(11));
    assert!(matches!(store.advance_nonce("nobody", 1), Err(StoreError::NoSuchClient(_))));

    // The listing: every client, no secret anywhere in it.
    let list = store.list().unwrap();
    let ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["aevo-1", "client-7", "pinned-only"]);
    let shown = format!("{list:?}");
    for k in [&key, &new, &newer, &first, &second, &third] {
        assert!(!shown.contains(k.as_str()));
    }
    assert_eq!(list[1].keys.len(), 1);
    assert_eq!(list[1].pins, [(Slot::Primary, pin(1))]);

    // Deleting a client takes its keys and pins with it.
    store.delete_client("client-7").unwrap();
    assert!(store.client("client-7").unwrap().is_none());
    assert!(store.load_by_static_key(newer.as_str().as_bytes()).unwrap().is_none());
    assert!(store.load_by_pin(&[1; 32]).unwrap().is_none());
    assert!(matches!(store.delete_client("client-7"), Err(StoreError::NoSuchClient(_))));
}

/// A store opened with another master key than the one it was created with is refused at
/// once, naming both key ids.
pub fn wrong_master_key(url: &str) {
    let right = MasterKey::generate().unwrap();
    let wrong = MasterKey::generate().unwrap();
    {
        let store = Store::open(url, right.clone()).unwrap();
        store.create_client("c").unwrap();
        store.issue("c", Slot::Primary, KeyKind::Hmac).unwrap();
    }
    let err = Store::open(url, wrong.clone()).unwrap_err();
    assert_eq!(err, StoreError::WrongMasterKey { store: right.id().to_owned(), given: wrong.id().to_owned() });
    assert!(err.to_string().contains("wrong master key"), "{err}");
    // The right key still opens it (and its secret).
    let store = Store::open(url, right).unwrap();
    assert!(matches!(store.load("c").unwrap().unwrap().material[0], Some(KeyMaterial::HmacSecret(_))));
}

/// What a store was given to keep: each client's HMAC secrets by slot, and static keys.
pub struct Issued {
    pub secrets: Vec<(String, Slot, String)>,
    pub statics: Vec<(String, String)>,
}

/// `n` clients under the store's master key: HMAC primaries, every third with an HMAC
/// secondary, every fifth with a static key instead.
pub fn issue_many(store: &Store, n: usize) -> Issued {
    let mut issued = Issued { secrets: Vec::new(), statics: Vec::new() };
    for i in 0..n {
        let id = format!("c-{i:03}");
        store.create_client(&id).unwrap();
        if i % 5 == 0 {
            let key = store.issue(&id, Slot::Primary, KeyKind::Static).unwrap();
            issued.statics.push((id, key.as_str().to_owned()));
            continue;
        }
        let key = store.issue(&id, Slot::Primary, KeyKind::Hmac).unwrap();
        issued.secrets.push((id.clone(), Slot::Primary, key.as_str().to_owned()));
        if i % 3 == 0 {
            let key = store.issue(&id, Slot::Secondary, KeyKind::Hmac).unwrap();
            issued.secrets.push((id, Slot::Secondary, key.as_str().to_owned()));
        }
    }
    issued
}

/// For each secret: whether `store` opened it (and then to the right value), or the error.
pub fn open_each(store: &Store, issued: &Issued) -> Vec<Result<(), StoreError>> {
    issued
        .secrets
        .iter()
        .map(|(id, slot, secret)| {
            let r = store.load(id)?.unwrap();
            let i = if *slot == Slot::Primary { 0 } else { 1 };
            assert_eq!(secret_of(r.material[i].as_ref().unwrap()), secret.as_bytes(), "{id} {slot:?}");
            Ok(())
        })
        .collect()
}

/// Every secret opens to its value; every static key is found.
pub fn all_open(store: &Store, issued: &Issued) {
    for r in open_each(store, issued) {
        r.unwrap();
    }
    for (id, key) in &issued.statics {
        assert_eq!(&store.load_by_static_key(key.as_bytes()).unwrap().unwrap().info.id, id);
    }
}

/// Re-sealing under a new master key, stage by stage, with workers holding the old key only,
/// the new key only, or both; an interrupted re-seal resumed; wrong keys refused clearly.
pub fn rekey(url: &str) {
    use std::ops::ControlFlow;

    use apisig_store::MasterKeys;

    let (old, new, other) =
        (MasterKey::generate().unwrap(), MasterKey::generate().unwrap(), MasterKey::generate().unwrap());
    let both = || MasterKeys::new(new.clone()).with_previous(old.clone());
    let first = Store::open(url, old.clone()).unwrap();
    let issued = issue_many(&first, 30);
    let total = issued.secrets.len() as u64;
    assert_eq!(total, 32);

    // Before: the new key alone is a wrong key; with the old one it opens, and seals under
    // the old key (the database's current one) until the re-seal begins.
    let err = Store::open(url, new.clone()).unwrap_err();
    assert_eq!(err, StoreError::WrongMasterKey { store: old.id().into(), given: new.id().into() });
    let worker_both = Store::open(url, both()).unwrap();
    assert_eq!(worker_both.master_key_id(), old.id());
    all_open(&worker_both, &issued);
    let status = worker_both.rekey_status().unwrap();
    assert_eq!((status.master_key_id.as_str(), status.sealed, status.remaining.len()), (old.id(), total, 0));
    let worker_old = Store::open(url, old.clone()).unwrap(); // keeps running throughout

    // The re-seal, interrupted after two batches of 4.
    let rekeyer = Store::open(url, both()).unwrap();
    let mut calls = Vec::new();
    let status = rekeyer
        .rekey(4, |n| {
            calls.push(n);
            if n >= 8 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .unwrap();
    assert_eq!(calls, [4, 8]);
    assert_eq!(status.master_key_id, new.id());
    assert_eq!((status.resealed, status.sealed), (8, 8));
    assert_eq!(status.remaining, [(old.id().to_owned(), total - 8)]);
    assert!(!status.is_complete());
    assert_eq!(rekeyer.master_key_id(), new.id());

    // Mid-way: a worker with both keys opens every secret; one with the old key only opens
    // those not yet re-sealed and fails closed (503) on the others, naming the key it lacks,
    // and may no longer seal; one with the new key only, the reverse.
    all_open(&worker_both, &issued);
    let results = open_each(&worker_old, &issued);
    assert_eq!(results.iter().filter(|r| r.is_ok()).count() as u64, total - 8);
    for e in results.into_iter().filter_map(Result::err) {
        assert_eq!(e, StoreError::MasterKeyNotGiven { needed: new.id().into(), given: old.id().into() });
        assert_eq!(e.core_error(), Some(apisig::Error::StoreUnavailable));
        assert!(e.to_string().contains("APISIG_MASTER_KEY_PREVIOUS"), "{e}");
    }
    worker_old.create_client("late").unwrap();
    assert_eq!(
        worker_old.issue("late", Slot::Primary, KeyKind::Hmac).unwrap_err(),
        StoreError::WrongMasterKey { store: new.id().into(), given: old.id().into() }
    );
    worker_old.issue("late", Slot::Primary, KeyKind::Static).unwrap(); // nothing to seal
    assert_eq!(
        Store::open(url, old.clone()).unwrap_err(),
        StoreError::WrongMasterKey { store: new.id().into(), given: old.id().into() }
    );
    let worker_new = Store::open(url, new.clone()).unwrap();
    let results = open_each(&worker_new, &issued);
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 8);
    assert!(
        results.iter().all(|r| r.is_ok()
            || *r == Err(StoreError::MasterKeyNotGiven { needed: old.id().into(), given: new.id().into() }))
    );
    // A re-seal without the old key, or to a third key, is refused before writing anything.
    assert_eq!(
        worker_new.rekey(4, |_| ControlFlow::Continue(())).unwrap_err(),
        StoreError::MasterKeyNotGiven { needed: old.id().into(), given: new.id().into() }
    );
    let third =
        Store::open(url, MasterKeys::new(other.clone()).with_previous(new.clone()).with_previous(old.clone())).unwrap();
    assert!(
        matches!(third.rekey(4, |_| ControlFlow::Continue(())), Err(StoreError::InvalidInput(m)) if m.contains(new.id()))
    );
    assert_eq!(rekeyer.rekey_status().unwrap().remaining, [(old.id().to_owned(), total - 8)]);
    // A secret issued now is sealed under the new key, by any worker holding it.
    worker_both.create_client("mid").unwrap();
    let mid = worker_both.issue("mid", Slot::Primary, KeyKind::Hmac).unwrap();
    assert_eq!(rekeyer.rekey_status().unwrap().sealed, 9);

    // Resumed by another process: complete.
    let status = Store::open(url, both()).unwrap().rekey(5, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!((status.resealed, status.sealed), (total - 8, total + 1));
    assert!(status.is_complete(), "{status:?}");
    let again = rekeyer.rekey(5, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!((again.resealed, again.sealed, again.is_complete()), (0, total + 1, true));

    // After: the new key alone opens everything; the old key alone is a wrong key at open,
    // and the worker still running with it fails closed on every secret.
    let worker_new = Store::open(url, new.clone()).unwrap();
    all_open(&worker_new, &issued);
    assert_eq!(
        secret_of(worker_new.load("mid").unwrap().unwrap().material[0].as_ref().unwrap()),
        mid.as_str().as_bytes()
    );
    assert_eq!(
        Store::open(url, old.clone()).unwrap_err(),
        StoreError::WrongMasterKey { store: new.id().into(), given: old.id().into() }
    );
    assert!(open_each(&worker_old, &issued).iter().all(|r| matches!(r, Err(StoreError::MasterKeyNotGiven { .. }))));
    // A stranger key with the right one beside it changes nothing; alone it is refused.
    assert!(Store::open(url, MasterKeys::new(other.clone()).with_previous(new.clone())).is_ok());
    assert_eq!(
        Store::open(url, other.clone()).unwrap_err(),
        StoreError::WrongMasterKey { store: new.id().into(), given: other.id().into() }
    );
}

/// Lookups by workers holding both keys never fail while a re-seal runs in small batches, and
/// a worker issuing and promoting HMAC secrets meanwhile loses none: once the re-seal is done
/// and the writer stopped, every secret (the writer's too) is sealed under the new key.
pub fn rekey_while_verifying(url: &str) {
    use std::ops::ControlFlow;
    use std::sync::atomic::{AtomicBool, Ordering};

    use apisig_store::MasterKeys;

    let (old, new) = (MasterKey::generate().unwrap(), MasterKey::generate().unwrap());
    let mut issued = issue_many(&Store::open(url, old.clone()).unwrap(), 60);
    let before = issued.secrets.len() as u64;
    let both = MasterKeys::new(new.clone()).with_previous(old.clone());
    let done = AtomicBool::new(false);
    let (rounds, written) = std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let store = Store::open(url, both.clone()).unwrap();
                let (issued, done) = (&issued, &done);
                s.spawn(move || {
                    let mut rounds = 0;
                    while !done.load(Ordering::Relaxed) || rounds == 0 {
                        all_open(&store, issued);
                        rounds += 1;
                    }
                    rounds
                })
            })
            .collect();
        let writer = {
            let store = Store::open(url, both.clone()).unwrap();
            let done = &done;
            s.spawn(move || {
                let mut written = Vec::new();
                let mut k = 0;
                while !done.load(Ordering::Relaxed) || k < 3 {
                    let id = format!("w-{k}");
                    store.create_client(&id).unwrap();
                    let first = store.issue(&id, Slot::Primary, KeyKind::Hmac).unwrap();
                    let second = store.issue(&id, Slot::Secondary, KeyKind::Hmac).unwrap();
                    store.promote(&id).unwrap();
                    written.push((id.clone(), Slot::Primary, second.as_str().to_owned()));
                    written.push((id, Slot::Secondary, first.as_str().to_owned()));
                    k += 1;
                }
                written
            })
        };
        let status = Store::open(url, both.clone())
            .unwrap()
            .rekey(3, |_| {
                std::thread::sleep(std::time::Duration::from_millis(5));
                ControlFlow::Continue(())
            })
            .unwrap();
        done.store(true, Ordering::Relaxed);
        assert!(status.resealed >= before, "{status:?}");
        let written = writer.join().unwrap();
        (readers.into_iter().map(|h| h.join().unwrap()).sum::<usize>(), written)
    });
    assert!(rounds >= 2, "{rounds}");
    issued.secrets.extend(written);
    let store = Store::open(url, new).unwrap();
    let status = store.rekey_status().unwrap();
    assert!(status.is_complete(), "{status:?}");
    assert_eq!(status.sealed, issued.secrets.len() as u64);
    all_open(&store, &issued);
}

/// Bulk import: all the clients or none; static keys checked against the store's format and
/// kept as digests, HMAC secrets (any bytes, such as one carried over) sealed.
pub fn import(store: &Store) {
    use apisig_store::NewClient;
    let format = store.key_format().clone();
    let key = format.generate(KeyKind::Static).unwrap();
    let k = key.as_str().as_bytes();
    store.create_client("taken").unwrap();
    let batch = [NewClient { id: "i-1", key: Some((KeyKind::Static, k)) }, NewClient { id: "taken", key: None }];
    assert_eq!(store.import(&batch), Err(StoreError::ClientExists("taken".into())));
    assert!(store.client("i-1").unwrap().is_none(), "nothing of a refused import stays");
    for bad in [
        NewClient { id: "i-1", key: Some((KeyKind::Static, b"SIGNIUS_KEY")) },
        NewClient { id: "i-1", key: Some((KeyKind::Hmac, b"")) },
        NewClient { id: "has space", key: None },
    ] {
        assert!(matches!(store.import(&[bad]), Err(StoreError::InvalidInput(_))), "{bad:?}");
    }
    let batch = [
        NewClient { id: "i-1", key: Some((KeyKind::Static, k)) },
        NewClient { id: "i-2", key: Some((KeyKind::Hmac, b"migrated secret")) },
        NewClient { id: "i-3", key: None },
    ];
    assert_eq!(store.import(&batch), Ok(3));
    let found = store.load_by_static_key(k).unwrap().unwrap();
    assert_eq!((found.info.id.as_str(), digest_of(found.material[0].as_ref().unwrap())), ("i-1", sha256(&[k])[0]));
    assert_eq!(secret_of(store.load("i-2").unwrap().unwrap().material[0].as_ref().unwrap()), b"migrated secret");
    assert!(store.client("i-3").unwrap().unwrap().keys.is_empty());
    let again = [NewClient { id: "i-4", key: Some((KeyKind::Static, k)) }];
    assert!(matches!(store.import(&again), Err(StoreError::InvalidInput(m)) if m.contains("another client")));
}
