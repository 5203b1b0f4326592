//! The stores' benchmarks, each against a baseline measured in the same run (`make bench`
//! prints the ratios with scripts/bench-table.py):
//!
//! - `store-verify`: Aevo verification (HMAC) by the core's `Verifier` through a
//!   [`MemoryStore`] of a million clients against the same with 64 clients; and the DRAM
//!   floor at both sizes (`floor/…`, benches/common/floor.rs): a bare hash map from id to a
//!   boxed block of a client's size, looked up with the same access pattern and the lines a
//!   verification needs read — what any heap store pays for clients spread over all of them.
//! - `store-static`: static-key verification (SIGNIUS) at a million clients against 64, and
//!   the floor keyed by the key's digest (the key hashed, looked up, its lines read).
//! - `store-cache`: Aevo verification through a warm [`CachedStore`] (SQLite behind it)
//!   against the same client in a [`MemoryStore`].
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

#[path = "common/floor.rs"]
mod floor;
#[path = "../tests/common/pg.rs"]
mod pg;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apisig::client::{Client, Slot};
use apisig::headers::Header;
use apisig::replay::ReplayCache;
use apisig::scheme::Scheme;
use apisig::store::ClientStore;
use apisig::{Credentials, Request, Signer, Stamp, Verifier, Window, dialect};
use apisig_store::{CacheConfig, CachedStore, KeyKind, MasterKey, MemoryStore, Store};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group};

const SECOND: u64 = 1_000_000_000;
/// Requests this far apart: each one's replay entry has expired before the next (window
/// ±300 s), so a small replay cache never fills.
const STEP: u64 = 601 * SECOND;
const T0: u64 = 1_700_000_000 * SECOND;

/// A signed request's headers, owned (name, full value).
type Signed = Vec<(&'static str, Vec<u8>)>;

fn sign(scheme: &Scheme<'static>, api_key: &str, secret: &[u8], now: u64) -> Signed {
    let creds = Credentials { api_key, secret, ..Credentials::EMPTY };
    let set =
        Signer::new(scheme, creds).unwrap().sign(&Request::new("GET", "/account"), Stamp { now, nonce: None }).unwrap();
    let scheme_names: Vec<&'static str> = scheme.headers.iter().map(|h| h.name).collect();
    set.iter()
        .map(|l| {
            let name = scheme_names.iter().copied().find(|n| *n == l.name).unwrap();
            (name, format!("{}{}", l.prefix, l.value).into_bytes())
        })
        .collect()
}

fn verify_once<C: ClientStore>(
    v: &mut Verifier<C, ReplayCache<8>>,
    scheme: &Scheme<'_>,
    signed: &Signed,
    now: u64,
) -> apisig::Principal {
    let headers: Vec<Header<'_>> = signed.iter().map(|(n, val)| Header { name: n, value: val }).collect();
    v.verify(scheme, &Request::new("GET", "/account").with_headers(&headers), now).unwrap()
}

/// Requests from `who(i)` for the next `n` values of `i` (api key, secret), signed (not
/// timed), then verified through `v`: the time of the verifications.
fn verify_chunk<C: ClientStore>(
    v: &mut Verifier<C, ReplayCache<8>>,
    scheme: &Scheme<'static>,
    who: &impl Fn(u64) -> (String, Vec<u8>),
    (now, i): (&mut u64, &mut u64),
    n: u64,
) -> Duration {
    let chunk: Vec<(Signed, u64)> = (0..n)
        .map(|_| {
            *now += STEP;
            *i += 1;
            let (key, secret) = who(*i);
            (sign(scheme, &key, &secret, *now), *now)
        })
        .collect();
    let start = Instant::now();
    for (signed, at) in &chunk {
        black_box(verify_once(v, scheme, signed, *at));
    }
    start.elapsed()
}

/// The floor's lookups of `probe(i)` (an id, or a static key) for the next `n` values of `i`,
/// made ahead (not timed): the time of the lookups.
fn floor_chunk(floor: &floor::Floor, by_id: bool, probe: &impl Fn(u64) -> String, i: &mut u64, n: u64) -> Duration {
    let chunk: Vec<String> = (0..n)
        .map(|_| {
            *i += 1;
            probe(*i)
        })
        .collect();
    let start = Instant::now();
    black_box(floor::run(floor, by_id, &chunk));
    start.elapsed()
}

/// Verification of requests from `who(i)`, in chunks of 256 ([`verify_chunk`]).
fn bench_verify<C: ClientStore>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    v: &mut Verifier<C, ReplayCache<8>>,
    scheme: &Scheme<'static>,
    who: impl Fn(u64) -> (String, Vec<u8>),
) {
    let (mut now, mut i) = (T0, 0u64);
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(256);
                left -= n;
                timed += verify_chunk(v, scheme, &who, (&mut now, &mut i), n);
            }
            timed
        })
    });
}

/// The floor's lookups of `probe(i)`, in chunks of 256 ([`floor_chunk`]).
fn bench_floor(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    floor: &floor::Floor,
    by_id: bool,
    probe: impl Fn(u64) -> String,
) {
    let mut i = 0u64;
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(256);
                left -= n;
                timed += floor_chunk(floor, by_id, &probe, &mut i, n);
            }
            timed
        })
    });
}

/// Chunks of 256 requests given to each of `runs` in turn, `ROUNDS` times; each run's fastest
/// and median chunk, in nanoseconds per request. On a machine shared with other work the four
/// figures of a comparison, taken interleaved, see the same interference, and the fastest
/// chunks the least of it (criterion's runs, one after the other, see whatever load each
/// happened to meet).
fn interleaved(runs: &mut [&mut dyn FnMut() -> Duration]) -> Vec<(f64, f64)> {
    const ROUNDS: usize = 400;
    let mut times = vec![Vec::with_capacity(ROUNDS); runs.len()];
    for _ in 0..ROUNDS {
        for (run, t) in runs.iter_mut().zip(&mut times) {
            t.push(run().as_nanos() as f64 / 256.0);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            (t[0], t[t.len() / 2])
        })
        .collect()
}

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

fn stores(c: &mut Criterion) {
    let before = rss();
    let mut big = memory_store(MILLION);
    let per_client = (rss().saturating_sub(before)) / MILLION;
    eprintln!("store memory: {per_client} bytes per client (resident set growth over {MILLION} clients)");
    // For scripts/bench-table.py (the bench runs in the package's directory).
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("store-memory.txt"), per_client.to_string()).unwrap();
    let mut small = memory_store(64);

    // Every one of the million is verified as itself first: Aevo for the HMAC half, SIGNIUS
    // for the static-key half.
    {
        let mut v = Verifier::new(&mut big, ReplayCache::<8>::new(), Window::DEFAULT);
        let t = Instant::now();
        for i in 0..MILLION {
            let now = T0 + (i as u64 + 1) * STEP;
            let id = format!("client-{i}");
            let who = if i % 2 == 0 {
                verify_once(
                    &mut v,
                    &dialect::AEVO,
                    &sign(&dialect::AEVO, &id, format!("secret-{i}").as_bytes(), now),
                    now,
                )
            } else {
                verify_once(&mut v, &dialect::SIGNIUS, &sign(&dialect::SIGNIUS, &format!("key-{i}"), b"", now), now)
            };
            assert_eq!(who.id.as_str(), id);
        }
        eprintln!("store: {MILLION} clients each verified as itself in {:?}", t.elapsed());
    }

    // HMAC clients are the even ones, static keys the odd ones; the requests cycle through
    // clients spread over the whole store.
    let aevo = |n: u64| {
        move |i: u64| {
            let c = (i * 7919 % (n / 2)) * 2;
            (format!("client-{c}"), format!("secret-{c}").into_bytes())
        }
    };
    let signius = |n: u64| move |i: u64| (format!("key-{}", (i * 7919 % (n / 2)) * 2 + 1), Vec::new());
    let (floor_small, floor_big) = (floor::Floor::new(64), floor::Floor::new(MILLION));
    let mut g = c.benchmark_group("store-verify");
    bench_verify(
        &mut g,
        "baseline/64-clients",
        &mut Verifier::new(&mut small, ReplayCache::new(), Window::DEFAULT),
        &dialect::AEVO,
        aevo(64),
    );
    bench_verify(
        &mut g,
        "apisig/1M-clients",
        &mut Verifier::new(&mut big, ReplayCache::new(), Window::DEFAULT),
        &dialect::AEVO,
        aevo(MILLION as u64),
    );
    bench_floor(&mut g, "floor/64-clients", &floor_small, true, |i| aevo(64)(i).0);
    bench_floor(&mut g, "floor/1M-clients", &floor_big, true, |i| aevo(MILLION as u64)(i).0);
    g.finish();
    let mut g = c.benchmark_group("store-static");
    bench_verify(
        &mut g,
        "baseline/64-clients",
        &mut Verifier::new(&mut small, ReplayCache::new(), Window::DEFAULT),
        &dialect::SIGNIUS,
        signius(64),
    );
    bench_verify(
        &mut g,
        "apisig/1M-clients",
        &mut Verifier::new(&mut big, ReplayCache::new(), Window::DEFAULT),
        &dialect::SIGNIUS,
        signius(MILLION as u64),
    );
    bench_floor(&mut g, "floor/64-clients", &floor_small, false, |i| signius(64)(i).0);
    bench_floor(&mut g, "floor/1M-clients", &floor_big, false, |i| signius(MILLION as u64)(i).0);
    g.finish();

    // The same four comparisons again, interleaved (see `interleaved`): for scripts/bench-table.py.
    let mut json = Vec::new();
    for (group, scheme, by_id) in [("store-verify", dialect::AEVO, true), ("store-static", dialect::SIGNIUS, false)] {
        let who = move |n: u64| move |i: u64| if by_id { aevo(n)(i) } else { signius(n)(i) };
        let (mut v64, mut v1m) = (
            Verifier::new(&mut small, ReplayCache::new(), Window::DEFAULT),
            Verifier::new(&mut big, ReplayCache::new(), Window::DEFAULT),
        );
        let (mut s64, mut s1m, mut i64, mut i1m) = ((T0, 0), (T0, 0), 0, 0);
        let (w64, w1m) = (who(64), who(MILLION as u64));
        let (p64, p1m) = (|i| who(64)(i).0, |i| who(MILLION as u64)(i).0);
        let figures = interleaved(&mut [
            &mut || verify_chunk(&mut v64, &scheme, &w64, (&mut s64.0, &mut s64.1), 256),
            &mut || verify_chunk(&mut v1m, &scheme, &w1m, (&mut s1m.0, &mut s1m.1), 256),
            &mut || floor_chunk(&floor_small, by_id, &p64, &mut i64, 256),
            &mut || floor_chunk(&floor_big, by_id, &p1m, &mut i1m, 256),
        ]);
        let names = ["apisig/64-clients", "apisig/1M-clients", "floor/64-clients", "floor/1M-clients"];
        for (name, (min, median)) in names.iter().zip(&figures) {
            eprintln!("{group}/{name} interleaved: fastest chunk {min:.1} ns, median {median:.1} ns per request");
            json.push(format!(r#""{group}/{name}": {{"min": {min:.1}, "median": {median:.1}}}"#));
        }
    }
    std::fs::write(out.join("store-scale.json"), format!("{{{}}}\n", json.join(", "))).unwrap();
    drop((big, floor_big));

    // The cache, warm and cold, in front of SQLite.
    let dir = tempfile::tempdir().unwrap();
    let master = MasterKey::generate().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("keys.db").display()), master.clone()).unwrap();
    store.create_client("client-1").unwrap();
    let secret = store.issue("client-1", Slot::Primary, KeyKind::Hmac).unwrap();
    let secret = secret.as_str().as_bytes().to_vec();
    let cache =
        CachedStore::new(Arc::new(store), CacheConfig { ttl: Duration::from_secs(3600), ..CacheConfig::default() });
    let mut one = MemoryStore::new();
    let mut c1 = Client::new("client-1").unwrap();
    c1.set_secret(Slot::Primary, Some(&secret)).unwrap();
    one.insert(c1).unwrap();
    let who = |_| ("client-1".to_owned(), secret.clone());
    let mut g = c.benchmark_group("store-cache");
    bench_verify(
        &mut g,
        "baseline/memory",
        &mut Verifier::new(&mut one, ReplayCache::new(), Window::DEFAULT),
        &dialect::AEVO,
        who,
    );
    bench_verify(
        &mut g,
        "apisig/warm-cache",
        &mut Verifier::new(&cache, ReplayCache::new(), Window::DEFAULT),
        &dialect::AEVO,
        who,
    );
    g.finish();

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

criterion_group!(benches, stores);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
