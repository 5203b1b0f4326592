//! The in-memory store: registration rules, lookups by id, key and pin, and a million
//! clients.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use apisig::Error;
use apisig::client::{Client, Slot, Status};
use apisig::pin::{Pin, PinKind};
use apisig::store::{ClientStore, PresentedKey};
use apisig_store::{KeyFormat, KeyKind, MemoryStore};

fn client(id: &str, key: Option<&[u8]>, pin: Option<u8>) -> Client {
    let mut c = Client::new(id).unwrap();
    c.set_secret(Slot::Primary, key).unwrap();
    c.set_pin(Slot::Primary, pin.map(|b| Pin { kind: PinKind::PublicKey, fingerprint: [b; 32] }));
    c
}

fn id_of(found: Option<&Client>) -> Option<String> {
    found.map(|c| c.id().to_owned())
}

#[test]
fn lookups_by_id_key_and_pin_and_the_registration_rules() {
    let mut store = MemoryStore::new();
    store.insert(client("a", Some(b"key-a"), Some(1))).unwrap();
    store.insert(client("b", Some(b"key-b"), None)).unwrap();
    store.insert(client("pin-only", None, Some(2))).unwrap();
    assert_eq!(store.len(), 3);
    // The same id, key or pin twice is refused, and nothing changes.
    assert_eq!(store.insert(client("a", Some(b"other"), None)), Err(Error::DuplicateKeyId));
    assert_eq!(store.insert(client("c", Some(b"key-b"), None)), Err(Error::DuplicateKeyId));
    assert_eq!(store.insert(client("c", None, Some(1))), Err(Error::DuplicateKeyId));
    assert_eq!(store.len(), 3);
    assert_eq!(id_of(store.by_static_key(&PresentedKey::new(b"other")).unwrap()), None);

    assert_eq!(id_of(store.by_id(b"a").unwrap()).as_deref(), Some("a"));
    assert_eq!(id_of(store.by_id(b"zz").unwrap()), None);
    assert_eq!(id_of(store.by_id(&[0xff]).unwrap()), None);
    assert_eq!(id_of(store.by_static_key(&PresentedKey::new(b"key-b")).unwrap()).as_deref(), Some("b"));
    assert_eq!(id_of(store.by_static_key(&PresentedKey::new(b"key-c")).unwrap()), None);
    assert_eq!(id_of(store.by_pin(PinKind::PublicKey, &[2; 32]).unwrap()).as_deref(), Some("pin-only"));
    assert_eq!(id_of(store.by_pin(PinKind::Certificate, &[2; 32]).unwrap()), None);
    let mut seen = Vec::new();
    store.for_each(&mut |c| seen.push(c.id().to_owned())).unwrap();
    seen.sort();
    assert_eq!(seen, ["a", "b", "pin-only"]);

    // Replacing a client (a rotation, a revocation) re-indexes its keys and keeps its nonce
    // mark; a key of another client is refused.
    assert_eq!(store.advance_nonce("a", 10), Ok(()));
    let mut rotated = client("a", Some(b"key-a2"), Some(1));
    rotated.set_secret(Slot::Secondary, Some(b"key-a")).unwrap();
    rotated.set_status(Status::Disabled);
    store.upsert(rotated).unwrap();
    assert_eq!(id_of(store.by_static_key(&PresentedKey::new(b"key-a2")).unwrap()).as_deref(), Some("a"));
    assert_eq!(store.by_static_key(&PresentedKey::new(b"key-a")).unwrap().unwrap().status(), Status::Disabled);
    assert_eq!(store.upsert(client("a", Some(b"key-b"), None)), Err(Error::DuplicateKeyId));
    assert_eq!(id_of(store.by_static_key(&PresentedKey::new(b"key-a2")).unwrap()).as_deref(), Some("a"));
    assert_eq!(store.advance_nonce("a", 10), Err(Error::ReplayedRequest));
    assert_eq!(store.advance_nonce("a", 11), Ok(()));
    assert_eq!(store.advance_nonce("zz", 1), Err(Error::UnknownKey));

    // Removed: every index forgets it.
    assert_eq!(store.remove("a").unwrap().id(), "a");
    assert_eq!(id_of(store.by_static_key(&PresentedKey::new(b"key-a2")).unwrap()), None);
    assert_eq!(id_of(store.by_pin(PinKind::PublicKey, &[1; 32]).unwrap()), None);
    assert!(store.remove("a").is_none());
    store.insert(client("c", Some(b"key-a"), Some(1))).unwrap();
}

/// With a key format, a key claiming it is checked before the lookup; other keys are looked
/// up as they are.
#[test]
fn issued_keys_are_checked_before_the_lookup() {
    let format = KeyFormat::new("acme").unwrap();
    let key = format.generate(KeyKind::Static).unwrap();
    let mut store = MemoryStore::with_key_format(format);
    store.insert(client("issued", Some(key.as_str().as_bytes()), None)).unwrap();
    store.insert(client("legacy", Some(b"SIGNIUS-KEY"), None)).unwrap();
    assert_eq!(
        id_of(store.by_static_key(&PresentedKey::new(key.as_str().as_bytes())).unwrap()).as_deref(),
        Some("issued")
    );
    assert_eq!(id_of(store.by_static_key(&PresentedKey::new(b"SIGNIUS-KEY")).unwrap()).as_deref(), Some("legacy"));
    let mut typo = key.as_str().as_bytes().to_vec();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    assert_eq!(store.by_static_key(&PresentedKey::new(&typo)).unwrap_err(), Error::InvalidKeyFormat);
}

/// Clients in the scale test: `APISIG_STORE_CLIENTS`, else 10^5 (a million take about 35 s to
/// register in a debug build; `make bench` checks a million in a release build).
fn scale() -> usize {
    std::env::var("APISIG_STORE_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// Many clients, half with static keys and half with HMAC secrets: every one is found by its
/// key or id, none by another's.
#[test]
fn many_clients_are_each_found() {
    let n = scale();
    let mut store = MemoryStore::new();
    for i in 0..n {
        let key = format!("key-{i}");
        store.insert(client(&format!("client-{i}"), Some(key.as_bytes()), None)).unwrap();
    }
    assert_eq!(store.len(), n);
    for i in 0..n {
        let id = format!("client-{i}");
        assert_eq!(
            id_of(store.by_static_key(&PresentedKey::new(format!("key-{i}").as_bytes())).unwrap()).as_deref(),
            Some(id.as_str())
        );
        assert_eq!(id_of(store.by_id(id.as_bytes()).unwrap()).as_deref(), Some(id.as_str()));
    }
    assert_eq!(id_of(store.by_static_key(&PresentedKey::new(format!("key-{n}").as_bytes())).unwrap()), None);
}
