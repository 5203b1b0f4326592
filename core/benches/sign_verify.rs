//! The core's benchmarks, each against a baseline measured in the same run (`make bench`
//! prints the ratios with scripts/bench-table.py):
//!
//! - `aevo-200B`: full Aevo signing (headers into fixed storage, hex) and verification
//!   (decode, recompute, constant-time compare, window, replay check) against raw RustCrypto
//!   HMAC over the same message with a precomputed key state, with a new key each call, and
//!   `ring`; apisig's own HMAC (`MacKey::sign`) over that message, for reference; the same
//!   sign and verify written by hand from the Aevo document (`by_hand`: what apisig must
//!   beat); and a single-purpose Aevo signer (`floor`: how fast a sign can be here at all).
//! - `aevo-1MiB`, `aevo-64MiB`: signing and verifying a large body against plain SHA-256 of
//!   the same body (the hardware limit).
//! - `keyring-find`, `keyring-static-key`, `replay-insert`: the same operation at 64 and at
//!   65,536 entries (a client by key id, a client by presented static key, a replay record).
//! - `policy-hostile`: role-policy matching of a hostile pattern/path pair at growing path
//!   lengths (linear growth means the per-byte cost stays flat).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use apisig::replay::{REPLAY_ID_LEN, ReplayStore};
use apisig::store::{ClientStore, PresentedKey};
use apisig::{
    Credentials, PreparedScheme, Request, Signer, Stamp, Verifier, Window, dialect,
    headers::{Header, MAX_HEADERS},
    keyring::Keyring,
    policy::{Policy, Role, RoleId},
    replay::ReplayCache,
};
use criterion::{Criterion, Throughput, criterion_group};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

const KEY: &str = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le";
const SECRET: &[u8] = b"7f3a9c2e51d84b06a1e5c9d27b3f480e6a2d1c9b8e7f5a3c0d4b6e2f1a9c8d7e";
const NOW: u64 = 1_673_425_955_575_713_842;

fn body() -> Vec<u8> {
    let mut b = br#"{"instrument":"ETH-PERP","maker":"0x5a3f","is_buy":true,"amount":"1000000","limit_price":"2450500000","salt":"91382","signature":"0x"#.to_vec();
    b.resize(199, b'a');
    b.push(b'}');
    b
}

fn signer() -> Signer<'static> {
    Signer::new(&dialect::AEVO, Credentials { api_key: KEY, secret: SECRET, ..Credentials::EMPTY }).unwrap()
}

/// The verifier every verification benchmark starts from: the one client, a window of 1 µs.
/// Timestamps advance 1 ns per request, so the replay cache recycles expired slots instead of
/// filling.
fn verifier() -> Verifier<Keyring<16>, ReplayCache<4096>> {
    let mut ring = Keyring::<16>::new();
    ring.add(KEY, SECRET).unwrap();
    Verifier::new(ring, ReplayCache::<4096>::new(), Window::from_nanos(1_000))
}

/// A signed request's header block, as a server holds one it has just parsed: names and
/// values in one buffer, and where each is.
struct Signed {
    block: [u8; 256],
    lines: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
    ts: u64,
}

fn signed(signer: &Signer<'_>, req: &Request<'_>, ts: u64) -> Signed {
    let set = signer.sign(req, Stamp { now: ts, nonce: None }).unwrap();
    let mut block = [0u8; 256];
    let mut lines = Vec::new();
    let mut at = 0;
    for line in set.iter() {
        let name = at..at + line.name.len();
        block[name.clone()].copy_from_slice(line.name.as_bytes());
        let value = name.end..name.end + line.write_value(&mut block[name.end..]).unwrap().len();
        at = value.end;
        lines.push((name, value));
    }
    Signed { block, lines, ts }
}

/// Verification of requests never seen before. They are signed ahead, outside the timed part,
/// in chunks of `CHUNK`, so that — as on a server that has just parsed a request — each one
/// is in cache, its headers in one block, when it is verified (criterion's batched setup would
/// make a batch of millions of scattered allocations and time cache misses, not verification).
///
/// `name` is `apisig/verify`: `Verifier::verify` under the constant `dialect::AEVO` (which the
/// compiler partly evaluates ahead); or `apisig/verify-prepared`: `verify_prepared` under a
/// `PreparedScheme` the compiler cannot see through, as a server choosing schemes at run time
/// (or the C and Python faces) has it; or `by-hand/verify`: [`by_hand::Verifier`].
fn verify_bench<V, T, E: std::fmt::Debug>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    body: &[u8],
    name: &str,
    mut verifier: V,
    mut verify: impl FnMut(&mut V, &Request<'_>, u64) -> Result<T, E>,
) {
    const CHUNK: u64 = 256;
    let signer = signer();
    let req = Request::new("POST", "/orders").with_body(body);
    let mut ts = NOW;
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                left -= n;
                let chunk: Vec<Signed> = (0..n)
                    .map(|_| {
                        ts += 1;
                        signed(&signer, &req, ts)
                    })
                    .collect();
                let presented: Vec<_> = chunk
                    .iter()
                    .map(|s| {
                        let mut hs = [Header::new("", ""); MAX_HEADERS];
                        for (h, (name, value)) in hs.iter_mut().zip(&s.lines) {
                            let name = std::str::from_utf8(&s.block[name.clone()]).unwrap();
                            *h = Header { name, value: &s.block[value.clone()] };
                        }
                        (hs, s.lines.len(), s.ts)
                    })
                    .collect();
                let start = Instant::now();
                for (hs, len, ts) in &presented {
                    let req = req.with_headers(&hs[..*len]);
                    black_box(verify(&mut verifier, black_box(&req), *ts).unwrap());
                }
                timed += start.elapsed();
            }
            timed
        })
    });
}

/// What a Rust user would write by hand from the Aevo document: its Python example ported
/// as it reads (the message formatted, RustCrypto HMAC with the key state kept and cloned per
/// request, `hex`, the three headers as strings), and the verifying side a server author
/// would pair with it (headers looked up by name, `hex::decode`, the timestamp parsed and
/// windowed, the MAC recomputed and compared in constant time by `verify_slice`, seen
/// signatures in a `HashMap` pruned of expired ones when it grows). Baselines only: the
/// "faster than by hand" comparison.
mod by_hand {
    use std::collections::HashMap;

    use apisig::Request;
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;

    pub fn sign(key: &str, mac: &Hmac<Sha256>, now_ns: u64, req: &Request<'_>) -> [(&'static str, String); 3] {
        let timestamp = now_ns.to_string();
        let mut m = mac.clone();
        m.update(format!("{key},{timestamp},{},{},", req.method.to_uppercase(), req.path).as_bytes());
        m.update(req.body);
        let signature = hex::encode(m.finalize().into_bytes());
        [("AEVO-TIMESTAMP", timestamp), ("AEVO-SIGNATURE", signature), ("AEVO-KEY", key.to_owned())]
    }

    pub struct Verifier {
        keys: HashMap<String, Hmac<Sha256>>,
        seen: HashMap<[u8; 32], u64>,
        window: u64,
    }

    impl Verifier {
        pub fn new(key: &str, secret: &[u8], window: u64) -> Verifier {
            let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
            Verifier { keys: HashMap::from([(key.to_owned(), mac)]), seen: HashMap::new(), window }
        }

        pub fn verify(&mut self, req: &Request<'_>, now: u64) -> Result<(), &'static str> {
            let get = |name: &str| {
                req.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value).ok_or("missing header")
            };
            let key = std::str::from_utf8(get("AEVO-KEY")?).map_err(|_| "bad key")?;
            let ts = std::str::from_utf8(get("AEVO-TIMESTAMP")?).map_err(|_| "bad timestamp")?;
            let sig = hex::decode(get("AEVO-SIGNATURE")?).map_err(|_| "bad signature")?;
            let sent: u64 = ts.parse().map_err(|_| "bad timestamp")?;
            if now.abs_diff(sent) > self.window {
                return Err("expired");
            }
            let mut m = self.keys.get(key).ok_or("unknown key")?.clone();
            m.update(format!("{key},{ts},{},{},", req.method.to_uppercase(), req.path).as_bytes());
            m.update(req.body);
            m.verify_slice(&sig).map_err(|_| "bad signature")?;
            let id: [u8; 32] = sig.try_into().map_err(|_| "bad signature")?;
            if self.seen.len() >= 4096 {
                self.seen.retain(|_, expires| *expires >= now);
            }
            if self.seen.insert(id, sent + self.window).is_some() {
                return Err("replayed");
            }
            Ok(())
        }
    }
}

mod floor;

fn small(c: &mut Criterion) {
    let body = body();
    let req = Request::new("POST", "/orders").with_body(&body);
    let message = format!("{KEY},{NOW},POST,/orders,{}", String::from_utf8_lossy(&body));
    let mut g = c.benchmark_group("aevo-200B");

    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
    g.bench_function("baseline/rustcrypto-hmac-precomputed", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(message.as_bytes()));
            black_box(m.finalize().into_bytes())
        })
    });
    g.bench_function("baseline/rustcrypto-hmac-new-key", |b| {
        b.iter(|| {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(black_box(SECRET)).unwrap();
            m.update(black_box(message.as_bytes()));
            black_box(m.finalize().into_bytes())
        })
    });
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET);
    g.bench_function("baseline/ring-precomputed", |b| {
        b.iter(|| black_box(ring::hmac::sign(&ring_key, black_box(message.as_bytes()))))
    });

    let mac = apisig::MacKey::new(SECRET).unwrap();
    g.bench_function("apisig/mac", |b| b.iter(|| black_box(mac.sign(black_box(message.as_bytes())))));
    let signer = signer();
    g.bench_function("apisig/sign", |b| {
        b.iter(|| black_box(signer.sign(black_box(&req), Stamp { now: NOW, nonce: None }).unwrap()))
    });
    verify_bench(&mut g, &body, "apisig/verify", verifier(), |v, req, now| v.verify(&dialect::AEVO, req, now));
    let prepared = black_box(PreparedScheme::new(&dialect::AEVO).unwrap());
    verify_bench(&mut g, &body, "apisig/verify-prepared", verifier(), |v, req, now| {
        v.verify_prepared(&prepared, req, now)
    });

    // The floor makes the same headers too.
    let floor = floor::Signer::new(KEY, SECRET);
    for (now, body) in [(NOW, &body[..]), (7, b"{}"), (NOW, &[b'x'; 1000][..])] {
        let ours = signer.sign(&req.with_body(body), Stamp { now, nonce: None }).unwrap();
        let theirs = floor.sign(now, b"POST", b"/orders", body);
        assert_eq!(ours.get("AEVO-TIMESTAMP").unwrap().value, theirs.timestamp());
        assert_eq!(ours.get("AEVO-SIGNATURE").unwrap().value, theirs.signature());
    }
    g.bench_function("floor/sign", |b| {
        b.iter(|| black_box(floor.sign(black_box(NOW), b"POST", b"/orders", black_box(&body))))
    });

    // The by-hand signer makes the same headers, or it would not be a baseline.
    let ours = signer.sign(&req, Stamp { now: NOW, nonce: None }).unwrap();
    for (name, value) in by_hand::sign(KEY, &keyed, NOW, &req) {
        assert_eq!(ours.get(name).map(|line| line.value), Some(value.as_str()), "{name}");
    }
    // And its verifier takes what apisig signs, once, and refuses a changed body.
    let (mut store, mut lines) = ([0u8; 256], [Header::new("", ""); MAX_HEADERS]);
    let presented = req.with_headers(ours.as_request_headers(&mut store, &mut lines).unwrap());
    let mut hand = by_hand::Verifier::new(KEY, SECRET, 1_000);
    assert_eq!(hand.verify(&presented.with_body(b"{}"), NOW), Err("bad signature"));
    assert_eq!(hand.verify(&presented, NOW), Ok(()));
    assert_eq!(hand.verify(&presented, NOW), Err("replayed"));
    g.bench_function("by-hand/sign", |b| b.iter(|| black_box(by_hand::sign(KEY, &keyed, NOW, black_box(&req)))));
    let by_hand = by_hand::Verifier::new(KEY, SECRET, 1_000);
    verify_bench(&mut g, &body, "by-hand/verify", by_hand, |v, req, now| v.verify(req, now));
    g.finish();
}

fn large_group(c: &mut Criterion, name: &str, len: usize, samples: usize) {
    let mut g = c.benchmark_group(name);
    let body = vec![b'x'; len];
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.sample_size(samples);
    g.bench_function("baseline/sha256", |b| b.iter(|| black_box(Sha256::digest(black_box(&body)))));
    let signer = signer();
    let req = Request::new("POST", "/orders").with_body(&body);
    g.bench_function("apisig/sign", |b| {
        b.iter(|| black_box(signer.sign(black_box(&req), Stamp { now: NOW, nonce: None }).unwrap()))
    });
    verify_bench(&mut g, &body, "apisig/verify", verifier(), |v, req, now| v.verify(&dialect::AEVO, req, now));
    g.finish();
}

fn large(c: &mut Criterion) {
    large_group(c, "aevo-1MiB", 1 << 20, 20);
    large_group(c, "aevo-64MiB", 64 << 20, 10);
}

/// A stream of uniformly distributed 16-byte ids (splitmix64), like the MAC tags the
/// verifier records.
fn id_stream(seed: u64) -> impl FnMut() -> [u8; REPLAY_ID_LEN] {
    let mut s = seed;
    move || {
        let mut next = || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut id = [0u8; REPLAY_ID_LEN];
        id[..8].copy_from_slice(&next().to_le_bytes());
        id[8..].copy_from_slice(&next().to_le_bytes());
        id
    }
}

fn keyring_find<const N: usize>(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, name: &str) {
    // 29 MB at 65,536 clients: on the heap (the bench runs on a thread with a big stack,
    // where `Box::new` may build it first).
    let mut ring: Box<Keyring<N>> = Box::new(Keyring::new());
    let id = |i: usize| format!("client-{i:08}-{:016x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    for i in 0..N {
        ring.add(&id(i), format!("secret-{i}").as_bytes()).unwrap();
    }
    // The same working set at both sizes: 64 ids spread over the keyring, looked up in turn.
    let probes: Vec<String> = (0..64).map(|k| id(k * N / 64)).collect();
    let mut k = 0;
    g.bench_function(name, |b| {
        b.iter(|| {
            k = (k + 1) % probes.len();
            black_box(ring.get(black_box(probes[k].as_str())).unwrap())
        })
    });
}

fn keyring_static<const N: usize>(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, name: &str) {
    // As keyring_find, looking clients up by a presented static key (its digest's bucket).
    let mut ring: Box<Keyring<N>> = Box::new(Keyring::new());
    let key = |i: usize| format!("static-key-{i:08}-{:016x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    for i in 0..N {
        ring.add(&format!("client-{i}"), key(i).as_bytes()).unwrap();
    }
    let probes: Vec<String> = (0..64).map(|k| key(k * N / 64)).collect();
    let mut k = 0;
    g.bench_function(name, |b| {
        b.iter(|| {
            k = (k + 1) % probes.len();
            black_box(ring.by_static_key(&PresentedKey::new(black_box(probes[k].as_bytes()))).unwrap().unwrap())
        })
    });
}

fn replay_insert<const N: usize>(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, name: &str) {
    let mut cache: Box<ReplayCache<N>> = Box::new(ReplayCache::new());
    // One insertion per nanosecond, each live for N/4: a quarter of the cache is live at both
    // sizes (steady state after a warm-up). At half, clusters of PROBE live slots are common
    // enough that about one insertion in 20,000 fails closed (see `replay::PROBE`).
    let ttl = (N / 4) as u64;
    let mut next_id = id_stream(N as u64);
    let mut now = 1u64;
    for _ in 0..4 * N {
        now += 1;
        cache.check_and_insert("k", &next_id(), now + ttl, now).unwrap();
    }
    g.bench_function(name, |b| {
        b.iter(|| {
            now += 1;
            cache.check_and_insert("k", black_box(&next_id()), now + ttl, now).unwrap();
        })
    });
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyring-find");
    keyring_find::<64>(&mut g, "baseline/64-clients");
    keyring_find::<65_536>(&mut g, "apisig/65536-clients");
    g.finish();

    let mut g = c.benchmark_group("keyring-static-key");
    keyring_static::<64>(&mut g, "baseline/64-clients");
    keyring_static::<65_536>(&mut g, "apisig/65536-clients");
    g.finish();

    let mut g = c.benchmark_group("replay-insert");
    replay_insert::<64>(&mut g, "baseline/64-entries");
    replay_insert::<65_536>(&mut g, "apisig/65536-entries");
    g.finish();

    // Every `**` can match any run, so the automaton keeps every state alive for the whole
    // path, and the path never completes the pattern (no final `b`): the worst case for a
    // backtracking matcher, linear here.
    const HOSTILE: &str = "/**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**b";
    let roles = [Role { name: "hostile", patterns: &[HOSTILE] }];
    let policy = Policy { roles: &roles };
    policy.check().unwrap();
    let mut g = c.benchmark_group("policy-hostile");
    for (label, len) in
        [("baseline/path-1KiB", 1 << 10), ("apisig/path-4KiB", 4 << 10), ("apisig/path-16KiB", 16 << 10)]
    {
        let mut path = vec![b'a'; len];
        path[0] = b'/';
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(label, |b| b.iter(|| black_box(policy.authorize(RoleId(0), black_box(&path))).unwrap_err()));
    }
    g.finish();
}

criterion_group!(benches, small, large, scaling);

fn main() {
    // A keyring of 65,536 clients is built in place on this thread's stack before it moves
    // to the heap; give it room.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            benches();
            Criterion::default().configure_from_args().final_summary();
        })
        .unwrap()
        .join()
        .unwrap();
}
