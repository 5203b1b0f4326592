//! Instruction counts for callgrind, not a benchmark: `profile <what> <iterations>` runs one
//! operation in a loop so that `valgrind --tool=callgrind` runs at two iteration counts give the
//! per-call instruction count by difference (scripts/bench-profile.sh; `verify-static` is a
//! static-key verification among 64 clients).
//!
//! And one timing: `profile ratios <rounds>` times the floor signer, `Signer::sign` and
//! `Verifier::verify` (as criterion's `aevo-200B` rows call them) in short batches taken in
//! turn, and prints each one's fastest batch against the floor's. On a machine shared with
//! other work, interleaved short batches and their minimum give steadier ratios than
//! criterion's benchmarks run one after the other.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::hint::black_box;

use apisig::{
    Credentials, PreparedScheme, Principal, Request, Signer, Stamp, Verifier, Window, dialect,
    headers::Header,
    keyring::Keyring,
    replay::{ReplayCache, ReplayStore},
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

// The accessors of its headers serve the criterion benchmark's checks, not this loop.
#[allow(dead_code)]
mod floor;

const KEY: &str = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le";
const SECRET: &[u8] = b"7f3a9c2e51d84b06a1e5c9d27b3f480e6a2d1c9b8e7f5a3c0d4b6e2f1a9c8d7e";
const NOW: u64 = 1_673_425_955_575_713_842;

/// A signed request's headers in one block: (start, name length, value length) per line.
type Signed = ([u8; 256], Vec<(usize, usize, usize)>);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("sign");
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let mut body = br#"{"instrument":"ETH-PERP","maker":"0x5a3f","is_buy":true,"amount":"1000000","limit_price":"2450500000","salt":"91382","signature":"0x"#.to_vec();
    body.resize(199, b'a');
    body.push(b'}');
    let req = Request::new("POST", "/orders").with_body(&body);
    let message = format!("{KEY},{NOW},POST,/orders,{}", String::from_utf8_lossy(&body));
    let signer =
        Signer::new(&dialect::AEVO, Credentials { api_key: KEY, secret: SECRET, ..Credentials::EMPTY }).unwrap();
    match what {
        "ratios" => ratios(&signer, &req, n),
        "hmac" => {
            let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
            for _ in 0..n {
                let mut m = keyed.clone();
                m.update(black_box(message.as_bytes()));
                black_box(m.finalize().into_bytes());
            }
        }
        "mac" => {
            let key = apisig::MacKey::new(SECRET).unwrap();
            for _ in 0..n {
                black_box(key.sign(black_box(message.as_bytes())));
            }
        }
        "sign" => {
            for i in 0..n {
                black_box(signer.sign(black_box(&req), Stamp { now: NOW + i, nonce: None }).unwrap());
            }
        }
        "floor" => {
            let floor = floor::Signer::new(KEY, SECRET);
            for i in 0..n {
                black_box(floor.sign(black_box(NOW + i), b"POST", b"/orders", black_box(&body)));
            }
        }
        "sign-read" => {
            // Signing, then reading every header line (as a client putting them on a request).
            for i in 0..n {
                let set = signer.sign(black_box(&req), Stamp { now: NOW + i, nonce: None }).unwrap();
                for line in set.iter() {
                    black_box(line.value);
                }
            }
        }
        "verify" | "verify-const" | "verify-dyn" | "verify-reset" => {
            // 512 signed requests, their headers in one block each (as a server that has just
            // parsed them holds them), verified in rounds. Each round starts from a copy of a
            // verifier whose replay cache is full of expired records, as in a server's steady
            // state (and criterion's verify): every insertion scans its whole probe sequence.
            let mut ring = Keyring::<16>::new();
            ring.add(KEY, SECRET).unwrap();
            let mut warm = Verifier::new(ring, ReplayCache::<4096>::new(), Window::from_nanos(1_000));
            for i in 0u64..4 * 4096 {
                let id = (u128::from(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) * 0x2545_f491_4f6c_dd1d).to_le_bytes();
                let _ = warm.replay_mut().check_and_insert("k", &id, 1, 0);
            }
            let blocks: Vec<Signed> = (0..512)
                .map(|i| {
                    let set = signer.sign(&req, Stamp { now: NOW + i, nonce: None }).unwrap();
                    let (mut block, mut lines, mut at) = ([0u8; 256], Vec::new(), 0);
                    for line in set.iter() {
                        block[at..at + line.name.len()].copy_from_slice(line.name.as_bytes());
                        let value = line.write_value(&mut block[at + line.name.len()..]).unwrap().len();
                        lines.push((at, line.name.len(), value));
                        at += line.name.len() + value;
                    }
                    (block, lines)
                })
                .collect();
            let all: Vec<Vec<Header<'_>>> = blocks
                .iter()
                .map(|(block, lines)| {
                    lines
                        .iter()
                        .map(|&(at, name, value)| Header {
                            name: std::str::from_utf8(&block[at..at + name]).unwrap(),
                            value: &block[at + name..at + name + value],
                        })
                        .collect()
                })
                .collect();
            // Prepared once, as a server holds it, and opaque to the optimizer (a server's
            // schemes are not compile-time constants).
            let aevo = black_box(PreparedScheme::new(&dialect::AEVO).unwrap());
            let mut verifier = warm.clone();
            for k in 0..n as usize {
                let i = k % all.len();
                if i == 0 && k > 0 {
                    verifier = warm.clone();
                }
                let req = req.with_headers(&all[i]);
                let now = NOW + i as u64;
                match what {
                    "verify" => black_box(verifier.verify_prepared(&aevo, &req, now).unwrap()),
                    // Under the constant preset, as the criterion row `apisig/verify` calls it.
                    "verify-const" => black_box(verifier.verify(&dialect::AEVO, black_box(&req), now).unwrap()),
                    // Under a scheme the optimizer cannot see, prepared on every call.
                    "verify-dyn" => {
                        black_box(verifier.verify(black_box(&dialect::AEVO), black_box(&req), now).unwrap())
                    }
                    // The loop alone (the verifier's copies every round): subtract it.
                    _ => black_box(Principal {
                        id: heapless::String::new(),
                        slot: apisig::client::Slot::Primary,
                        role: None,
                        scopes: apisig::client::Scopes::NONE,
                    }),
                };
            }
        }
        "verify-static" => {
            // A static key (SIGNIUS `X-Api-Key`) among 64 clients, each request another's:
            // the digest computed, the client found through the keyring's digest index, its
            // slots compared. Nothing is recorded (a static key carries no nonce).
            let mut ring = Keyring::<64>::new();
            let keys: Vec<String> = (0..64).map(|i| format!("{KEY}-{i:02}")).collect();
            for (i, k) in keys.iter().enumerate() {
                ring.add(&format!("client-{i}"), k.as_bytes()).unwrap();
            }
            let mut verifier = Verifier::new(ring, ReplayCache::<16>::new(), Window::DEFAULT);
            let scheme = black_box(PreparedScheme::new(&dialect::SIGNIUS).unwrap());
            let all: Vec<[Header<'_>; 1]> = keys.iter().map(|k| [Header::new("X-Api-Key", k)]).collect();
            for k in 0..n as usize {
                let req = Request::new("GET", "/account").with_headers(&all[k % all.len()]);
                black_box(verifier.verify_prepared(&scheme, &req, NOW).unwrap());
            }
        }
        other => panic!("unknown {other}"),
    }
}

/// See the module's documentation. Requests are signed ahead of each batch, outside the timed
/// part, as criterion's `verify_bench` does; the verifier is the one it uses (one client, a
/// window of 1 µs, timestamps 1 ns apart so that the replay cache recycles expired slots).
fn ratios(signer: &Signer<'_>, req: &Request<'_>, rounds: u64) {
    use std::time::Instant;
    const BATCH: u64 = 256;
    let floor = floor::Signer::new(KEY, SECRET);
    let mut ring = Keyring::<16>::new();
    ring.add(KEY, SECRET).unwrap();
    let mut verifier = Verifier::new(ring, ReplayCache::<4096>::new(), Window::from_nanos(1_000));
    let mut best = [f64::MAX; 3];
    let mut ts = NOW;
    for _ in 0..rounds {
        let blocks: Vec<Signed> = (0..BATCH)
            .map(|_| {
                ts += 1;
                let set = signer.sign(req, Stamp { now: ts, nonce: None }).unwrap();
                let (mut block, mut lines, mut at) = ([0u8; 256], Vec::new(), 0);
                for line in set.iter() {
                    block[at..at + line.name.len()].copy_from_slice(line.name.as_bytes());
                    let value = line.write_value(&mut block[at + line.name.len()..]).unwrap().len();
                    lines.push((at, line.name.len(), value));
                    at += line.name.len() + value;
                }
                (block, lines)
            })
            .collect();
        let presented: Vec<Vec<Header<'_>>> = blocks
            .iter()
            .map(|(block, lines)| {
                lines
                    .iter()
                    .map(|&(at, name, value)| Header {
                        name: std::str::from_utf8(&block[at..at + name]).unwrap(),
                        value: &block[at + name..at + name + value],
                    })
                    .collect()
            })
            .collect();
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(floor.sign(black_box(NOW), b"POST", b"/orders", black_box(req.body)));
        }
        let floor_ns = start.elapsed().as_nanos() as f64;
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(signer.sign(black_box(req), Stamp { now: NOW, nonce: None }).unwrap());
        }
        let sign_ns = start.elapsed().as_nanos() as f64;
        let first = ts + 1 - BATCH;
        let start = Instant::now();
        for (i, hs) in presented.iter().enumerate() {
            let req = req.with_headers(hs);
            black_box(verifier.verify(&dialect::AEVO, black_box(&req), first + i as u64).unwrap());
        }
        let verify_ns = start.elapsed().as_nanos() as f64;
        for (b, t) in best.iter_mut().zip([floor_ns, sign_ns, verify_ns]) {
            *b = b.min(t / BATCH as f64);
        }
    }
    let [f, s, v] = best;
    println!("floor {f:.1} ns, sign {s:.1} ns ({:.3}x), verify {v:.1} ns ({:.3}x)", s / f, v / f);
}
