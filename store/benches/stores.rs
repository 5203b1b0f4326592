//! The stores' benchmarks, each against a baseline measured in the same run (`make bench`
//! prints the ratios with scripts/bench-table.py):
//!
//! - `store-verify`: Aevo verification (HMAC) through a [`MemoryStore`] of a million clients
//!   against the same with 64 clients.
//! - `store-static`: static-key verification (SIGNIUS) at a million clients against 64.
//! - `store-cache`: Aevo verification through a warm [`CachedStore`] (SQLite behind it)
//!   against the in-memory store.
//! - `store-cold`: a cold miss — a client loaded from SQLite, and from PostgreSQL when it is
//!   installed (its HMAC secret unsealed, the core's client built) — reported beside a warm
//!   cache hit.
//!
//! Before measuring, every one of the million clients is verified once (HMAC and static-key
//! halves), and the memory each client takes in the store is printed (resident set growth
//! over the million, from /proc/self/status).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "../tests/common/pg.rs"]
mod pg;

use std::hint::black_box;
use std::sync::Arc;

use apisig::client::{Client, Slot};
use apisig::store::ClientStore;
use apisig_store::{CacheConfig, CachedStore, KeyKind, MasterKey, MemoryStore, Store};
use criterion::{Criterion, criterion_group};

const MILLION: usize = 1_000_000;

/// Resident memory of this process, in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
    kb.unwrap_or(0usize) * 1024
}

/// `n` clients `client-i`, with HMAC secret `secret-i` (even i) or static key `key-i` (odd i).
fn memory_store(n: usize) -> MemoryStore {
    let mut store = MemoryStore::new();
    for i in 0..n {
        let mut c = Client::new(&format!("client-{i}")).unwrap();
        let secret = if i % 2 == 0 { format!("secret-{i}") } else { format!("key-{i}") };
        c.set_secret(Slot::Primary, Some(secret.as_bytes())).unwrap();
        store.insert(c).unwrap();
    }
    store
}

fn lookups(c: &mut Criterion) {
    let before = rss();
    let big = memory_store(MILLION);
    let per_client = (rss().saturating_sub(before)) / MILLION;
    eprintln!("store memory: {per_client} bytes per client (resident set growth over {MILLION} clients)");
    // For scripts/bench-table.py (the bench runs in the package's directory).
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("store-memory.txt"), per_client.to_string()).unwrap();
    let small = memory_store(64);
    for i in (1..MILLION).step_by(2) {
        assert_eq!(big.by_static_key(format!("key-{i}").as_bytes()).unwrap().unwrap().id(), format!("client-{i}"));
    }

    let mut g = c.benchmark_group("store-static");
    g.bench_function("baseline/64-clients", |b| b.iter(|| small.by_static_key(black_box(b"key-33")).unwrap().unwrap()));
    g.bench_function("apisig/1M-clients", |b| b.iter(|| big.by_static_key(black_box(b"key-777777")).unwrap().unwrap()));
    g.finish();

    // The cache, warm and cold, in front of SQLite.
    let dir = tempfile::tempdir().unwrap();
    let master = MasterKey::generate().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("keys.db").display()), master.clone()).unwrap();
    store.create_client("client-1").unwrap();
    store.issue("client-1", Slot::Primary, KeyKind::Hmac).unwrap();
    let cache = CachedStore::new(Arc::new(store), CacheConfig::default());
    let mut g = c.benchmark_group("store-cold");
    g.bench_function("baseline/warm-cache", |b| b.iter(|| cache.by_id(black_box(b"client-1")).unwrap().unwrap()));
    g.bench_function("apisig/sqlite-miss", |b| {
        b.iter(|| {
            cache.invalidate_all();
            cache.by_id(black_box(b"client-1")).unwrap().unwrap()
        })
    });
    if let Some(server) = pg::PgServer::start() {
        let store = Store::open(&server.database("bench"), master).unwrap();
        store.create_client("client-1").unwrap();
        store.issue("client-1", Slot::Primary, KeyKind::Hmac).unwrap();
        let cache = CachedStore::new(Arc::new(store), CacheConfig::default());
        g.bench_function("apisig/postgres-miss", |b| {
            b.iter(|| {
                cache.invalidate_all();
                cache.by_id(black_box(b"client-1")).unwrap().unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, lookups);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
