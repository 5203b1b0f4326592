//! Where a verification at server scale spends its cache misses, for callgrind's cache
//! simulation (scripts/store-misses.sh): `store_misses <what> <clients> <requests>` builds a
//! [`MemoryStore`] (or the floor of benches/common/floor.rs) of `clients` clients as benches/stores.rs
//! does, signs `requests` requests from clients spread over all of them (the bench's access
//! pattern), then verifies them in `measured`, the only function callgrind collects
//! (`--toggle-collect`). `what`: `aevo` (HMAC, by id), `static` (SIGNIUS, by key digest),
//! `floor-id`, `floor-digest`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::arithmetic_side_effects,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../benches/common/floor.rs"]
mod floor;

use std::hint::black_box;

use apisig::client::{Client, Slot};
use apisig::headers::Header;
use apisig::replay::ReplayCache;
use apisig::{Credentials, Request, Signer, Stamp, Verifier, Window, dialect};
use apisig_store::MemoryStore;

const SECOND: u64 = 1_000_000_000;
const STEP: u64 = 601 * SECOND;
const T0: u64 = 1_700_000_000 * SECOND;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map_or("aevo", String::as_str);
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let k: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    // The bench's pattern: HMAC clients are the even ones, static keys the odd ones.
    let pick = |i: u64| (i * 7919 % (n / 2)) * 2;
    match what {
        "aevo" | "static" => {
            let mut store = MemoryStore::new();
            for i in 0..n {
                let mut c = Client::new(&format!("client-{i}")).unwrap();
                let secret = if i % 2 == 0 { format!("secret-{i}") } else { format!("key-{i}") };
                c.set_secret(Slot::Primary, Some(secret.as_bytes())).unwrap();
                store.insert(c).unwrap();
            }
            let scheme = if what == "aevo" { dialect::AEVO } else { dialect::SIGNIUS };
            let mut v = Verifier::new(&mut store, ReplayCache::<8>::new(), Window::DEFAULT);
            // Signed in chunks just before they are verified, as the bench does: the requests
            // are in the caches, the store is not.
            for chunk in (1..=k).collect::<Vec<_>>().chunks(256) {
                verify_chunk(&mut v, &scheme, chunk, |i| {
                    let now = T0 + i * STEP;
                    let c = pick(i);
                    let (key, secret) = if what == "aevo" {
                        (format!("client-{c}"), format!("secret-{c}"))
                    } else {
                        (format!("key-{}", c + 1), String::new())
                    };
                    let creds = Credentials { api_key: &key, secret: secret.as_bytes(), ..Credentials::EMPTY };
                    let set = Signer::new(&scheme, creds)
                        .unwrap()
                        .sign(&Request::new("GET", "/account"), Stamp { now, nonce: None })
                        .unwrap();
                    (
                        set.iter()
                            .map(|l| (l.name.to_owned(), format!("{}{}", l.prefix, l.value).into_bytes()))
                            .collect(),
                        now,
                    )
                });
            }
        }
        "floor-id" | "floor-digest" => {
            let f = floor::Floor::new(n as usize);
            let probes: Vec<String> = (1..=k)
                .map(
                    |i| if what == "floor-id" { format!("client-{}", pick(i)) } else { format!("key-{}", pick(i) + 1) },
                )
                .collect();
            black_box(measured_floor(&f, what == "floor-id", &probes));
        }
        other => panic!("unknown {other}"),
    }
}

/// Signs the requests `chunk` (by `sign`), then verifies them in [`measured`].
fn verify_chunk(
    v: &mut Verifier<&mut MemoryStore, ReplayCache<8>>,
    scheme: &apisig::scheme::Scheme<'_>,
    chunk: &[u64],
    sign: impl Fn(u64) -> (Vec<(String, Vec<u8>)>, u64),
) {
    let signed: Vec<_> = chunk.iter().map(|&i| sign(i)).collect();
    for (s, now) in &signed {
        let headers: Vec<Header<'_>> = s.iter().map(|(name, value)| Header { name, value }).collect();
        black_box(measured(v, scheme, &headers, *now));
    }
}

#[inline(never)]
fn measured(
    v: &mut Verifier<&mut MemoryStore, ReplayCache<8>>,
    scheme: &apisig::scheme::Scheme<'_>,
    headers: &[Header<'_>],
    now: u64,
) -> apisig::Principal {
    v.verify(scheme, &Request::new("GET", "/account").with_headers(headers), now).unwrap()
}

#[inline(never)]
fn measured_floor(f: &floor::Floor, by_id: bool, probes: &[String]) -> u64 {
    floor::run(f, by_id, probes)
}
