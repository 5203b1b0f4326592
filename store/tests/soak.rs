//! A million clients in one SQLite file (half HMAC secrets, half static keys), loaded with
//! [`Store::import`], verified through the core's `Verifier` over a [`CachedStore`] — a sample
//! spread over the whole store and every 1,000th client — revoked at that size, and its HMAC
//! secrets re-sealed under a new master key ([`Store::rekey`]) and verified again. Ignored by
//! `make test` (about a minute in a release build, longer in debug): `make soak` runs it in
//! release mode. `APISIG_SOAK_CLIENTS` changes the count.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::cast_precision_loss
)]

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Instant;

use apisig::client::Slot;
use apisig::headers::{Header, MAX_HEADERS};
use apisig::replay::ReplayCache;
use apisig::store::ClientStore;
use apisig::{Credentials, Error, Principal, Request, Signer, Stamp, Verifier, Window, dialect};
use apisig_store::{CacheConfig, CachedStore, IssuedKey, KeyKind, MasterKey, MasterKeys, NewClient, Store};

const SECOND: u64 = 1_000_000_000;
/// Requests `STEP` apart: each one's replay entry has expired before the next (window ±300 s).
const STEP: u64 = 601 * SECOND;
const T0: u64 = 1_700_000_000 * SECOND;
/// Clients per import transaction.
const CHUNK: usize = 100_000;

fn verify<C: ClientStore>(
    v: &mut Verifier<C, ReplayCache<8>>,
    scheme: &apisig::scheme::Scheme<'_>,
    api_key: &str,
    secret: &[u8],
    now: u64,
) -> Result<Principal, Error> {
    let creds = Credentials { api_key, secret, ..Credentials::EMPTY };
    let signed = Signer::new(scheme, creds)?.sign(&Request::new("GET", "/account"), Stamp { now, nonce: None })?;
    let (mut buf, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
    let headers = signed.as_request_headers(&mut buf, &mut slots)?;
    v.verify(scheme, &Request::new("GET", "/account").with_headers(headers), now)
}

/// Client `i`: an HMAC secret (Aevo) when even, a static key (SIGNIUS) when odd.
fn kind(i: usize) -> KeyKind {
    if i.is_multiple_of(2) { KeyKind::Hmac } else { KeyKind::Static }
}

/// Verifies client `i` with its own key.
fn verify_client<C: ClientStore>(
    v: &mut Verifier<C, ReplayCache<8>>,
    i: usize,
    key: &IssuedKey,
    now: u64,
) -> Result<Principal, Error> {
    match kind(i) {
        KeyKind::Hmac => verify(v, &dialect::AEVO, &format!("client-{i}"), key.as_str().as_bytes(), now),
        KeyKind::Static => verify(v, &dialect::SIGNIUS, key.as_str(), b"", now),
    }
}

#[test]
#[ignore = "a million clients: `make soak` runs it in release mode"]
fn a_million_clients_in_sqlite() {
    let n: usize = std::env::var("APISIG_SOAK_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    let url = format!("sqlite:{}", path.display());
    let old = MasterKey::generate().unwrap();
    let store = Store::open(&url, old.clone()).unwrap();
    let format = store.key_format().clone();

    // The sample: every 1,000th client, and 2,000 spread over the store (a 64-bit LCG).
    let mut sample: BTreeMap<usize, Option<IssuedKey>> = (0..n).step_by(1000).map(|i| (i, None)).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while sample.len() < (n / 1000 + 2000).min(n) {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        sample.insert(((x >> 33) as usize) % n, None);
    }

    let started = Instant::now();
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let ids: Vec<String> = (start..end).map(|i| format!("client-{i}")).collect();
        let keys: Vec<IssuedKey> = (start..end).map(|i| format.generate(kind(i)).unwrap()).collect();
        let clients: Vec<NewClient<'_>> = ids
            .iter()
            .zip(&keys)
            .enumerate()
            .map(|(j, (id, key))| NewClient { id, key: Some((kind(start + j), key.as_str().as_bytes())) })
            .collect();
        assert_eq!(store.import(&clients).unwrap(), (end - start) as u64);
        for (j, key) in keys.into_iter().enumerate() {
            if let Some(slot) = sample.get_mut(&(start + j)) {
                *slot = Some(key);
            }
        }
    }
    let import = started.elapsed();
    let bytes: u64 = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();

    // Every sampled client verified as itself, through the cache in front of the file.
    let cache = CachedStore::new(store, CacheConfig::default());
    let mut v = Verifier::new(&cache, ReplayCache::<8>::new(), Window::DEFAULT);
    let mut now = T0;
    let started = Instant::now();
    for (&i, key) in &sample {
        now += STEP;
        let who = verify_client(&mut v, i, key.as_ref().unwrap(), now).unwrap();
        assert_eq!((who.id.as_str(), who.slot), (format!("client-{i}").as_str(), Slot::Primary));
    }
    let verified = started.elapsed();
    // Another client's secret, and a well-formed key no client has, are refused.
    let (&a, _) = sample.iter().find(|(i, _)| kind(**i) == KeyKind::Hmac).unwrap();
    let (&b, b_key) = sample.iter().rfind(|(i, _)| kind(**i) == KeyKind::Hmac).unwrap();
    now += STEP;
    let wrong =
        verify(&mut v, &dialect::AEVO, &format!("client-{a}"), b_key.as_ref().unwrap().as_str().as_bytes(), now);
    assert_eq!(wrong.unwrap_err(), Error::SignatureMismatch, "client-{a} with client-{b}'s secret");
    now += STEP;
    let stranger = format.generate(KeyKind::Static).unwrap();
    assert_eq!(verify(&mut v, &dialect::SIGNIUS, stranger.as_str(), b"", now).unwrap_err(), Error::UnknownKey);

    // Revocation at that size: ten clients spread over the store (a whole client, or its key),
    // refused once their cache entries go; their neighbours still verified.
    let started = Instant::now();
    let revoked: Vec<(usize, &IssuedKey)> =
        sample.iter().step_by(sample.len() / 10).take(10).map(|(i, k)| (*i, k.as_ref().unwrap())).collect();
    for (j, (i, _)) in revoked.iter().enumerate() {
        let id = format!("client-{i}");
        if j % 2 == 0 {
            cache.store().revoke_client(&id).unwrap();
        } else {
            cache.store().revoke_key(&id, Slot::Primary).unwrap();
        }
        cache.invalidate(&id);
    }
    let revoking = started.elapsed();
    // A static key's entry is cached by its digest: dropped wholesale, as a TTL would.
    cache.invalidate_all();
    for (j, (i, key)) in revoked.iter().enumerate() {
        now += STEP;
        let expected = if j % 2 == 0 { Error::ClientRevoked } else { Error::KeyRevoked };
        assert_eq!(verify_client(&mut v, *i, key, now).unwrap_err(), expected, "client-{i}");
        if let Some((&next, key)) = sample.range(i + 1..).next()
            && !revoked.iter().any(|(r, _)| *r == next)
        {
            now += STEP;
            let who = verify_client(&mut v, next, key.as_ref().unwrap(), now).unwrap();
            assert_eq!(who.id.as_str(), format!("client-{next}"));
        }
    }
    // Re-sealed under a new master key at that size (the HMAC half), then verified with the
    // new key alone.
    let new = MasterKey::generate().unwrap();
    let started = Instant::now();
    let status = Store::open(&url, MasterKeys::new(new.clone()).with_previous(old))
        .unwrap()
        .rekey(10_000, |_| ControlFlow::Continue(()))
        .unwrap();
    let rekeyed = started.elapsed();
    assert!(status.is_complete(), "{status:?}");
    assert_eq!((status.resealed, status.sealed), (n.div_ceil(2) as u64, n.div_ceil(2) as u64));
    let cache = CachedStore::new(Store::open(&url, new).unwrap(), CacheConfig::default());
    let mut v = Verifier::new(&cache, ReplayCache::<8>::new(), Window::DEFAULT);
    for (&i, key) in sample.iter().filter(|(i, _)| !revoked.iter().any(|(r, _)| r == *i)) {
        now += STEP;
        assert_eq!(verify_client(&mut v, i, key.as_ref().unwrap(), now).unwrap().id.as_str(), format!("client-{i}"));
    }
    eprintln!(
        "soak: {n} clients imported into SQLite in {:.1} s ({:.1} µs a client), file {:.0} MB ({:.0} bytes a client); \
         {} sampled clients verified cold through the cache in {:.2} s ({:.0} µs each); 10 revoked in {:.1} ms; \
         {} HMAC secrets re-sealed under a new master key in {:.1} s",
        import.as_secs_f64(),
        import.as_secs_f64() * 1e6 / n as f64,
        bytes as f64 / 1e6,
        bytes as f64 / n as f64,
        sample.len(),
        verified.as_secs_f64(),
        verified.as_secs_f64() * 1e6 / sample.len() as f64,
        revoking.as_secs_f64() * 1e3,
        status.resealed,
        rekeyed.as_secs_f64(),
    );
}
