//! OpenID access-token verification (`make bench`), each against `jsonwebtoken` (with its
//! RustCrypto backend: the same p256, ed25519-dalek and rsa crates) in the same run: the
//! shared vectors' RS256, ES256 and EdDSA tokens (tests/vectors/jws.json) with the key chosen
//! by `kid` from a parsed JWK set, `iss`, `aud` and `exp` checked. `jwks-parse`: loading the
//! vectors' three-key set (points validated).
//!
//! Built with the `ring` feature (hosts; `make bench` adds `precomputed-tables`, as host
//! builds do): `apisig/verify` is apisig as shipped, beside the baseline and two floors, the
//! token's signature alone verified by ring (`floor/ring`) and by RustCrypto with the key
//! parsed once (`floor/rustcrypto`): no verifier of the token takes less than the faster one.
//! Built without it: only `apisig-rustcrypto/verify`, apisig on the RustCrypto arithmetic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use std::collections::HashMap;
use std::hint::black_box;

use apisig::jwk::{Alg, AlgSet, JwkSet};
use apisig::jws::{self, Issuer};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::JwkSet as JwtRsSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/jws.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let file = vectors();
    let jwks = file["jwks"].as_str().unwrap().to_owned();
    let now = file["now"].as_u64().unwrap();
    let set: JwkSet<16> = JwkSet::parse(jwks.as_bytes()).unwrap();
    let theirs: JwtRsSet = serde_json::from_str(&jwks).unwrap();
    for (group, comment, alg, their_alg) in [
        ("jws-rs256", "RS256 access token", Alg::Rs256, Algorithm::RS256),
        ("jws-es256", "ES256 access token", Alg::Es256, Algorithm::ES256),
        ("jws-eddsa", "EdDSA access token", Alg::EdDsa, Algorithm::EdDSA),
    ] {
        let case = file["tests"].as_array().unwrap().iter().find(|t| t["comment"] == comment).unwrap();
        let token = case["token"].as_str().unwrap().to_owned();
        let iss = case["issuer"]["issuer"].as_str().unwrap().to_owned();
        let aud = case["issuer"]["audience"].as_str().unwrap().to_owned();
        let issuer = Issuer { algorithms: AlgSet::EMPTY.with(alg), ..Issuer::new(&iss, &aud) };
        let mut scratch = [0u8; 2048];
        // jsonwebtoken checks `exp` against the system clock: a leeway reaching back to the
        // vectors' `now` keeps the same checks (iss, aud, exp) without failing on the clock.
        let mut v = Validation::new(their_alg);
        v.set_issuer(&[&iss]);
        v.set_audience(&[&aud]);
        v.leeway = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - now + 60;
        let mut g = c.benchmark_group(group);
        let ours = if cfg!(feature = "ring") { "apisig/verify" } else { "apisig-rustcrypto/verify" };
        g.bench_function(ours, |b| {
            b.iter(|| {
                black_box(jws::verify(&set, &issuer, black_box(token.as_bytes()), now * 1_000_000_000, &mut scratch))
                    .unwrap();
            })
        });
        if !cfg!(feature = "ring") {
            g.finish();
            continue;
        }
        floors(&mut g, &jwks, alg, &token);
        // Its keys are built once, by kid, as apisig's set is parsed once.
        let keys: HashMap<String, DecodingKey> = theirs
            .keys
            .iter()
            .filter_map(|k| Some((k.common.key_id.clone()?, DecodingKey::from_jwk(k).ok()?)))
            .collect();
        g.bench_function("baseline/jsonwebtoken", |b| {
            b.iter(|| {
                let header = jsonwebtoken::decode_header(black_box(&token)).unwrap();
                let key = &keys[header.kid.as_deref().unwrap()];
                black_box(jsonwebtoken::decode::<Value>(&token, key, &v)).unwrap();
            })
        });
        g.finish();
    }
    c.bench_function("jwks-parse/apisig/three-keys", |b| {
        b.iter(|| black_box(JwkSet::<16>::parse(black_box(jwks.as_bytes()))).unwrap())
    });
}

fn b64(s: &str) -> Vec<u8> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(s).unwrap()
}

/// The signature of `token` alone, verified by ring and by RustCrypto.
fn floors(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, jwks: &str, alg: Alg, token: &str) {
    use ring::signature as rs;
    let (msg, sig) = token.rsplit_once('.').unwrap();
    let (msg, sig) = (msg.as_bytes(), b64(sig));
    let header: Value = serde_json::from_slice(&b64(token.split('.').next().unwrap())).unwrap();
    let set: Value = serde_json::from_str(jwks).unwrap();
    let jwk = set["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]).unwrap();
    let member = |m: &str| b64(jwk[m].as_str().unwrap());
    match alg {
        Alg::Rs256 => {
            let (n, e) = (member("n"), member("e"));
            g.bench_function("floor/ring", |b| {
                b.iter(|| {
                    rs::RsaPublicKeyComponents { n: &n, e: &e }
                        .verify(&rs::RSA_PKCS1_2048_8192_SHA256, black_box(msg), &sig)
                        .unwrap()
                })
            });
            use rsa::signature::Verifier;
            let key = rsa::PublicKey::new(
                rsa::BoxedUint::from_be_slice_vartime(&n),
                rsa::BoxedUint::from_be_slice_vartime(&e),
            )
            .unwrap();
            let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
            let sig = rsa::pkcs1v15::Signature::try_from(&sig[..]).unwrap();
            g.bench_function("floor/rustcrypto", |b| b.iter(|| key.verify(black_box(msg), &sig).unwrap()));
        }
        Alg::Es256 => {
            let point = [&[4u8][..], &member("x"), &member("y")].concat();
            let key = rs::UnparsedPublicKey::new(&rs::ECDSA_P256_SHA256_FIXED, &point);
            g.bench_function("floor/ring", |b| b.iter(|| key.verify(black_box(msg), &sig).unwrap()));
            use p256::ecdsa::signature::Verifier;
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
            let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
            g.bench_function("floor/rustcrypto", |b| b.iter(|| key.verify(black_box(msg), &sig).unwrap()));
        }
        _ => {
            let x = member("x");
            let key = rs::UnparsedPublicKey::new(&rs::ED25519, &x);
            g.bench_function("floor/ring", |b| b.iter(|| key.verify(black_box(msg), &sig).unwrap()));
            let key = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
            let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
            g.bench_function("floor/rustcrypto", |b| b.iter(|| key.verify_strict(black_box(msg), &sig).unwrap()));
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
