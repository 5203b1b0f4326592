//! What the C ABI adds to a small sign: `apisig_signer_sign` (through the exported function,
//! as C calls it) against the core's `Signer::sign` in the same process, same message (the
//! 200-byte Aevo request of the core's benchmarks). `make bench` prints the ratio.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::undocumented_unsafe_blocks, missing_docs)]

use std::hint::black_box;

use apisig::{Credentials, Request, Signer, Stamp, dialect};
use apisig_ffi::{
    apisig_credentials, apisig_headers, apisig_preset, apisig_request, apisig_result, apisig_scheme, apisig_signer,
    apisig_signer_init, apisig_signer_sign, apisig_stamp,
};
use criterion::{Criterion, criterion_group, criterion_main};

const KEY: &str = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le";
const SECRET: &[u8] = b"7f3a9c2e51d84b06a1e5c9d27b3f480e6a2d1c9b8e7f5a3c0d4b6e2f1a9c8d7e";
const NOW: u64 = 1_673_425_955_575_713_842;

fn body() -> Vec<u8> {
    let mut b = br#"{"instrument":"ETH-PERP","maker":"0x5a3f","is_buy":true,"amount":"1000000","limit_price":"2450500000","salt":"91382","signature":"0x"#.to_vec();
    b.resize(199, b'a');
    b.push(b'}');
    b
}

fn ffi(c: &mut Criterion) {
    let body = body();
    let mut g = c.benchmark_group("ffi-200B");

    let signer =
        Signer::new(&dialect::AEVO, Credentials { api_key: KEY, secret: SECRET, ..Credentials::EMPTY }).unwrap();
    let req = Request::new("POST", "/orders").with_body(&body);
    g.bench_function("baseline/core-sign", |b| {
        b.iter(|| black_box(signer.sign(black_box(&req), Stamp { now: NOW, nonce: None }).unwrap()))
    });

    let mut scheme = std::mem::MaybeUninit::<apisig_scheme>::uninit();
    assert_eq!(unsafe { apisig_preset(c"aevo".as_ptr(), 4, scheme.as_mut_ptr()) }, apisig_result::Ok);
    let scheme = unsafe { scheme.assume_init() };
    let creds = apisig_credentials {
        api_key: KEY.as_ptr().cast(),
        api_key_len: KEY.len(),
        secret: SECRET.as_ptr(),
        secret_len: SECRET.len(),
        user_id: std::ptr::null(),
        user_id_len: 0,
        token: std::ptr::null(),
        token_len: 0,
    };
    let c_req = apisig_request {
        method: c"POST".as_ptr(),
        method_len: 4,
        path: c"/orders".as_ptr(),
        path_len: 7,
        body: body.as_ptr(),
        body_len: body.len(),
        headers: std::ptr::null(),
        headers_len: 0,
    };
    // C declares the storage; here it is zeroed memory of the same size and alignment.
    let mut storage: Box<std::mem::MaybeUninit<apisig_signer>> = Box::new(std::mem::MaybeUninit::zeroed());
    let storage = storage.as_mut_ptr();
    assert_eq!(unsafe { apisig_signer_init(storage, &scheme, &creds) }, apisig_result::Ok);
    let stamp = apisig_stamp { now_ns: NOW, nonce: 0, has_nonce: 0 };
    let mut headers = std::mem::MaybeUninit::<apisig_headers>::zeroed();
    let (mut buf, mut len) = ([0u8; 512], 0usize);
    g.bench_function("apisig/ffi-signer-sign", |b| {
        b.iter(|| {
            let rc = unsafe {
                apisig_signer_sign(
                    storage,
                    black_box(&c_req),
                    stamp,
                    headers.as_mut_ptr(),
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut len,
                )
            };
            assert_eq!(rc, apisig_result::Ok);
            black_box(&buf);
        })
    });
    g.finish();
}

criterion_group!(benches, ffi);
criterion_main!(benches);
