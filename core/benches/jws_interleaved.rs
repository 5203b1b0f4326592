//! The JWS benchmark's ratios measured in alternation (`cargo bench -p apisig --features
//! rsa,ring,precomputed-tables --bench jws_interleaved`): apisig's verification of the shared
//! vectors' RS256, ES256 and EdDSA tokens, `jsonwebtoken`'s (as in benches/jws.rs) and the
//! signature alone by ring and by RustCrypto, each in ~1 ms batches taken in turn for a few
//! seconds. On a machine shared with other loads criterion's figures, taken one function after
//! another, move with the load; here every function sees the same moments, so the ratios hold.
//! Prints min and median per call and each ratio to apisig.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use apisig::jwk::{Alg, AlgSet, JwkSet};
use apisig::jws::{self, Issuer};
use jsonwebtoken::jwk::JwkSet as JwtRsSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::signature as rs;
use serde_json::Value;

fn b64(s: &str) -> Vec<u8> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(s).unwrap()
}

type Run<'a> = Box<dyn FnMut() + 'a>;

fn measure(label: &str, mut funcs: Vec<(&str, Run<'_>)>) {
    let mut batch = Vec::new();
    for (_, f) in &mut funcs {
        let t = Instant::now();
        f();
        batch.push((1e-3 / t.elapsed().as_secs_f64().max(1e-7)).max(1.0) as u32);
    }
    let mut per_call: Vec<Vec<f64>> = vec![Vec::new(); funcs.len()];
    let end = Instant::now() + Duration::from_secs(8);
    while Instant::now() < end {
        for (i, (_, f)) in funcs.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..batch[i] {
                f();
            }
            per_call[i].push(t.elapsed().as_secs_f64() * 1e6 / f64::from(batch[i]));
        }
    }
    let stats: Vec<(f64, f64)> = per_call
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            (v[0], v[v.len() / 2])
        })
        .collect();
    for ((name, _), (lo, mid)) in funcs.iter().zip(&stats) {
        println!(
            "{label}/{name:24} min {lo:8.2} us  median {mid:8.2} us  this / apisig: {:5.2}x {:5.2}x",
            lo / stats[0].0,
            mid / stats[0].1
        );
    }
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/jws.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let jwks = file["jwks"].as_str().unwrap().to_owned();
    let now = file["now"].as_u64().unwrap();
    let set: JwkSet<16> = JwkSet::parse(jwks.as_bytes()).unwrap();
    let theirs: JwtRsSet = serde_json::from_str(&jwks).unwrap();
    let keys: HashMap<String, DecodingKey> =
        theirs.keys.iter().filter_map(|k| Some((k.common.key_id.clone()?, DecodingKey::from_jwk(k).ok()?))).collect();
    let doc: Value = serde_json::from_str(&jwks).unwrap();
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
        let mut v = Validation::new(their_alg);
        v.set_issuer(&[&iss]);
        v.set_audience(&[&aud]);
        v.leeway = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - now + 60;
        let (msg, sig) = token.rsplit_once('.').unwrap();
        let (msg, sig) = (msg.as_bytes(), b64(sig));
        let header: Value = serde_json::from_slice(&b64(token.split('.').next().unwrap())).unwrap();
        let jwk = doc["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]).unwrap();
        let member = |m: &str| b64(jwk[m].as_str().unwrap());
        let mut scratch = [0u8; 2048];
        let ours: Run<'_> = Box::new(|| {
            black_box(jws::verify(&set, &issuer, black_box(token.as_bytes()), now * 1_000_000_000, &mut scratch))
                .unwrap();
        });
        let baseline: Run<'_> = Box::new(|| {
            let header = jsonwebtoken::decode_header(black_box(&token)).unwrap();
            black_box(jsonwebtoken::decode::<Value>(&token, &keys[header.kid.as_deref().unwrap()], &v)).unwrap();
        });
        let (ring_raw, rustcrypto_raw): (Run<'_>, Run<'_>) = match alg {
            Alg::Rs256 => {
                use rsa::signature::Verifier;
                let (n, e) = (member("n"), member("e"));
                let key = rsa::PublicKey::new(
                    rsa::BoxedUint::from_be_slice_vartime(&n),
                    rsa::BoxedUint::from_be_slice_vartime(&e),
                )
                .unwrap();
                let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
                let s = rsa::pkcs1v15::Signature::try_from(&sig[..]).unwrap();
                let sig = sig.clone();
                (
                    Box::new(move || {
                        rs::RsaPublicKeyComponents { n: &n, e: &e }
                            .verify(&rs::RSA_PKCS1_2048_8192_SHA256, black_box(msg), &sig)
                            .unwrap()
                    }),
                    Box::new(move || key.verify(black_box(msg), &s).unwrap()),
                )
            }
            Alg::Es256 => {
                use p256::ecdsa::signature::Verifier;
                let point = [&[4u8][..], &member("x"), &member("y")].concat();
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
                let s = p256::ecdsa::Signature::from_slice(&sig).unwrap();
                let sig = sig.clone();
                (
                    Box::new(move || {
                        rs::UnparsedPublicKey::new(&rs::ECDSA_P256_SHA256_FIXED, &point)
                            .verify(black_box(msg), &sig)
                            .unwrap()
                    }),
                    Box::new(move || key.verify(black_box(msg), &s).unwrap()),
                )
            }
            _ => {
                let x = member("x");
                let key = ed25519_dalek::VerifyingKey::from_bytes(&x.clone().try_into().unwrap()).unwrap();
                let s = ed25519_dalek::Signature::from_slice(&sig).unwrap();
                let sig = sig.clone();
                (
                    Box::new(move || {
                        rs::UnparsedPublicKey::new(&rs::ED25519, &x).verify(black_box(msg), &sig).unwrap()
                    }),
                    Box::new(move || key.verify_strict(black_box(msg), &s).unwrap()),
                )
            }
        };
        measure(
            group,
            vec![
                ("apisig/verify", ours),
                ("baseline/jsonwebtoken", baseline),
                ("floor/ring", ring_raw),
                ("floor/rustcrypto", rustcrypto_raw),
            ],
        );
    }
}
