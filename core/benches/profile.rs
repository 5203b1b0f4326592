//! Instruction counts for callgrind, not a benchmark: `profile <what> <iterations>` runs one
//! operation in a loop so that `valgrind --tool=callgrind` runs at two iteration counts give the
//! per-call instruction count by difference (scripts/bench-profile.sh).

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
    Credentials, Header, Keyring, PreparedScheme, ReplayCache, ReplayStore, Request, Signer, Stamp, Verifier, Window,
    dialect,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

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
        "sign-read" => {
            // Signing, then reading every header line (as a client putting them on a request).
            for i in 0..n {
                let set = signer.sign(black_box(&req), Stamp { now: NOW + i, nonce: None }).unwrap();
                for line in set.iter() {
                    black_box(line.value);
                }
            }
        }
        "verify" => {
            // 512 signed requests, their headers in one block each (as a server that has just
            // parsed them holds them), verified in rounds. Each round starts from a copy of a
            // verifier whose replay cache is full of expired records, as in a server's steady
            // state (and criterion's verify): every insertion scans its whole probe sequence.
            let mut ring = Keyring::<16>::new();
            ring.add(KEY, SECRET).unwrap();
            let mut warm = Verifier::new(ring, ReplayCache::<4096>::new(), Window::from_nanos(1_000));
            for i in 0u64..4 * 4096 {
                let id = (u128::from(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) * 0x2545_f491_4f6c_dd1d).to_le_bytes();
                let _ = warm.replay_mut().check_and_insert(0, "k", &id, 1, 0);
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
                black_box(verifier.verify_prepared(&aevo, &req.with_headers(&all[i]), NOW + i as u64).unwrap());
            }
        }
        other => panic!("unknown {other}"),
    }
}
