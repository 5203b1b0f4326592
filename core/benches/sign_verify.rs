//! Signing and verifying an Aevo request, against baselines measured in the same run: raw
//! RustCrypto HMAC with a precomputed key state over the same message, and `ring`.
//! `make bench` prints the ratios.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects, missing_docs)]

use std::hint::black_box;

use apisig::{
    Credentials, Header, Keyring, MAX_HEADERS, ReplayCache, Request, Signer, Stamp, Verifier, Window, dialect,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const KEY: &str = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le";
const SECRET: &[u8] = b"7f3a9c2e51d84b06a1e5c9d27b3f480e6a2d1c9b8e7f5a3c0d4b6e2f1a9c8d7e";
const NOW: u64 = 1_673_425_955_575_713_842;

fn body() -> Vec<u8> {
    let mut b = br#"{"instrument":"ETH-PERP","maker":"0x5a3f","is_buy":true,"amount":"1000000","limit_price":"2450500000","salt":"91382","signature":"0x"#.to_vec();
    b.resize(199, b'a');
    b.push(b'}');
    b
}

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
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET);
    g.bench_function("baseline/ring-precomputed", |b| {
        b.iter(|| black_box(ring::hmac::sign(&ring_key, black_box(message.as_bytes()))))
    });

    let signer =
        Signer::new(&dialect::AEVO, Credentials { api_key: KEY, secret: SECRET, ..Credentials::EMPTY }).unwrap();
    g.bench_function("apisig/sign", |b| {
        b.iter(|| black_box(signer.sign(black_box(&req), Stamp { now: NOW, nonce: None }).unwrap()))
    });

    // Each verification needs a request not seen before: sign one per iteration outside the
    // timed part. Timestamps advance 1 ns each, the window is 1 µs, so the replay cache
    // recycles expired slots instead of filling.
    let mut ring = Keyring::<16>::new();
    ring.add(KEY, SECRET).unwrap();
    let mut verifier = Verifier::new(ring, ReplayCache::<4096>::new(), Window::from_nanos(1_000));
    let mut ts = NOW;
    g.bench_function("apisig/verify", |b| {
        b.iter_batched(
            || {
                ts += 1;
                let set = signer.sign(&req, Stamp { now: ts, nonce: None }).unwrap();
                let (mut store, mut slots) = ([0u8; 256], [Header::new("", ""); MAX_HEADERS]);
                let hs = set.as_request_headers(&mut store, &mut slots).unwrap();
                let owned: Vec<(String, Vec<u8>)> = hs.iter().map(|h| (h.name.to_owned(), h.value.to_vec())).collect();
                (owned, ts)
            },
            |(owned, ts)| {
                let hs: Vec<Header<'_>> = owned.iter().map(|(n, v)| Header { name: n, value: v }).collect();
                black_box(verifier.verify(&dialect::AEVO, &req.with_headers(&hs), ts).unwrap())
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn large(c: &mut Criterion) {
    let mut g = c.benchmark_group("aevo-1MiB");
    let body = vec![b'x'; 1 << 20];
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.sample_size(20);
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
    g.bench_function("baseline/rustcrypto-hmac-precomputed", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(&body));
            black_box(m.finalize().into_bytes())
        })
    });
    let signer =
        Signer::new(&dialect::AEVO, Credentials { api_key: KEY, secret: SECRET, ..Credentials::EMPTY }).unwrap();
    let req = Request::new("POST", "/orders").with_body(&body);
    g.bench_function("apisig/sign", |b| {
        b.iter(|| black_box(signer.sign(black_box(&req), Stamp { now: NOW, nonce: None }).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, small, large);
criterion_main!(benches);
