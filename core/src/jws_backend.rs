//! The signature arithmetic of [`jws`](crate::jws), and only that: what comes before it (the
//! JWK set parsed and its keys validated, the algorithm policy, the key chosen, the
//! signature's length) and after it (the claims) is the same code whichever backend runs.
//!
//! - RustCrypto (`rsa`, `p256`, `ed25519-dalek`): pure Rust, `no_std`; what firmware builds.
//! - ring (feature `ring`, hosts): RS256, PS256 and ES256 by ring's assembly, fed the bytes of
//!   the key the core validated. EdDSA stays on `ed25519-dalek` (with `precomputed-tables` as
//!   fast as ring's, and its strict checks are the policy: no small-order key or `R`).
//!
//! The core accepts only keys both backends accept (jwk.rs: the modulus size and parity, the
//! exponent's range and parity), and both refuse a signature of the wrong length, an ECDSA
//! `r` or `s` outside `1..n`, an RSA signature not below the modulus and any padding but the
//! exact one (PKCS #1 v1.5 with the SHA-256 `DigestInfo`; PSS with MGF1-SHA-256 and a 32-byte
//! salt), so both give the same answer on every input; the tests below run the shared vectors,
//! the encodings' edge cases and mutated signatures through both, and so does the fuzz target
//! `jws_backends` (core/fuzz).

use crate::Error;
use crate::jwk::{Alg, PublicKey};

/// Verifies `sig` on `msg` with `key` (which fits `alg`) by the backend this build chose.
pub(crate) fn verify(key: &PublicKey, alg: Alg, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    check_length(key, sig)?;
    #[cfg(feature = "ring")]
    return ring(key, alg, msg, sig);
    #[cfg(not(feature = "ring"))]
    rust_crypto(key, alg, msg, sig)
}

/// [`verify`] by RustCrypto whatever the build chose (the fuzz target's second opinion).
#[cfg(feature = "ring")]
pub(crate) fn verify_with_rust_crypto(key: &PublicKey, alg: Alg, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    check_length(key, sig)?;
    rust_crypto(key, alg, msg, sig)
}

/// A signature is exactly as long as the modulus (RFC 8017 §8.2.2 step 1): checked here,
/// not left to a backend (RustCrypto's `rsa` would pad a short one).
#[cfg_attr(not(feature = "rsa"), allow(unused_variables))]
fn check_length(key: &PublicKey, sig: &[u8]) -> Result<(), Error> {
    #[cfg(feature = "rsa")]
    #[allow(irrefutable_let_patterns)] // with `rsa` alone, RSA keys are all the keys
    if let PublicKey::Rsa(ref key) = *key {
        if sig.len() != rsa::traits::PublicKeyParts::size(key) {
            return Err(Error::SignatureMismatch);
        }
    }
    Ok(())
}

/// RustCrypto's verification.
#[cfg_attr(not(feature = "rsa"), allow(unused_variables))] // only RSA tells PS256 from RS256
fn rust_crypto(key: &PublicKey, alg: Alg, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    match *key {
        #[cfg(feature = "es256")]
        PublicKey::P256(ref key) => {
            use p256::ecdsa::signature::Verifier;
            let sig = p256::ecdsa::Signature::from_slice(sig).map_err(|_| Error::SignatureMismatch)?;
            key.verify(msg, &sig).map_err(|_| Error::SignatureMismatch)
        }
        #[cfg(feature = "eddsa")]
        PublicKey::Ed25519(ref key) => {
            let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| Error::SignatureMismatch)?;
            // Strict: no small-order keys, no non-canonical R or S (RFC 8032 §5.1.7).
            key.verify_strict(msg, &sig).map_err(|_| Error::SignatureMismatch)
        }
        #[cfg(feature = "rsa")]
        PublicKey::Rsa(ref key) => {
            use rsa::signature::Verifier;
            use sha2::Sha256;
            let ok = if alg == Alg::Ps256 {
                let sig = rsa::pss::Signature::try_from(sig).map_err(|_| Error::SignatureMismatch)?;
                // RFC 7518 §3.5: the salt is as long as the hash.
                rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(key.clone(), 32).verify(msg, &sig)
            } else {
                let sig = rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| Error::SignatureMismatch)?;
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone()).verify(msg, &sig)
            };
            ok.map_err(|_| Error::SignatureMismatch)
        }
    }
}

/// ring's verification of RS256, PS256 and ES256; EdDSA by [`rust_crypto`].
#[cfg(feature = "ring")]
fn ring(key: &PublicKey, alg: Alg, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    match *key {
        #[cfg(feature = "es256")]
        PublicKey::P256(ref key) => {
            // The SEC 1 uncompressed point the JWK's x and y made (validated at parse).
            let point = key.to_sec1_point(false);
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point.as_bytes())
                .verify(msg, sig)
                .map_err(|_| Error::SignatureMismatch)
        }
        #[cfg(feature = "rsa")]
        PublicKey::Rsa(ref key) => {
            use rsa::traits::PublicKeyParts;
            let params = if alg == Alg::Ps256 {
                &ring::signature::RSA_PSS_2048_8192_SHA256
            } else {
                &ring::signature::RSA_PKCS1_2048_8192_SHA256
            };
            // The JWK's n and e, big-endian without leading zeros.
            ring::signature::RsaPublicKeyComponents { n: key.n_bytes(), e: key.e_bytes() }
                .verify(params, msg, sig)
                .map_err(|_| Error::SignatureMismatch)
        }
        #[allow(unreachable_patterns)] // without `eddsa`, the arms above are all the keys
        _ => rust_crypto(key, alg, msg, sig),
    }
}

/// Both backends on the same inputs: every signature of the shared vectors (tests/vectors/jws.json:
/// the RFC examples, the tokens, the attack rows) against every key of its set that fits its
/// algorithm, each edge case of the encodings (`r`, `s` zero, `n`, `n - 1`, high `s`; RSA
/// signatures 0, 1, `n - 1`, `n`) and random mutations (proptest).
#[cfg(all(test, feature = "ring", feature = "es256", feature = "eddsa", feature = "rsa"))]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    use super::*;
    use crate::jwk::JwkSet;

    /// P-256's group order n, big-endian.
    const P256_N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
        0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ];

    struct Case {
        what: String,
        key: PublicKey,
        alg: Alg,
        msg: Vec<u8>,
        sig: Vec<u8>,
    }

    fn b64(s: &str) -> Option<Vec<u8>> {
        let mut out = std::vec![0u8; s.len()];
        crate::encoding::base64url_decode(s.as_bytes(), &mut out).ok().map(<[u8]>::to_vec)
    }

    /// Every (key, algorithm, message, signature) the vectors hold (a signature or more).
    fn cases() -> &'static [Case] {
        static CASES: std::sync::OnceLock<Vec<Case>> = std::sync::OnceLock::new();
        CASES.get_or_init(load)
    }

    fn load() -> Vec<Case> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/jws.json");
        let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let top: JwkSet<16> = JwkSet::parse(file["jwks"].as_str().unwrap().as_bytes()).unwrap();
        let mut out = Vec::new();
        for case in file["tests"].as_array().unwrap() {
            let what = std::format!("tcId {}: {}", case["tcId"], case["comment"].as_str().unwrap());
            let (set, alg, msg, sig) = match case["kind"].as_str().unwrap() {
                "rfc" => (
                    JwkSet::<16>::parse(case["jwks"].as_str().unwrap().as_bytes()).unwrap(),
                    case["alg"].as_str().unwrap().into(),
                    case["signing_input"].as_str().unwrap().as_bytes().to_vec(),
                    case["signature"].as_str().unwrap(),
                ),
                "token" => {
                    let token = case["token"].as_str().unwrap();
                    let parts: Vec<&str> = token.split('.').collect();
                    let Some(header) = parts.first().and_then(|h| b64(h)) else { continue };
                    let Ok(header) = serde_json::from_slice::<serde_json::Value>(&header) else { continue };
                    let (Some(alg), 3) = (header["alg"].as_str(), parts.len()) else { continue };
                    let msg = token.as_bytes()[..parts[0].len() + 1 + parts[1].len()].to_vec();
                    (top.clone(), String::from(alg), msg, parts[2])
                }
                _ => continue,
            };
            let (Some(alg), Some(sig)) = (Alg::from_name(&alg), b64(sig).filter(|s| !s.is_empty())) else { continue };
            for k in set.keys().iter().filter(|k| k.key().fits(alg)) {
                let what = what.clone();
                out.push(Case { what, key: k.key().clone(), alg, msg: msg.clone(), sig: sig.clone() });
            }
        }
        out
    }

    fn both(key: &PublicKey, alg: Alg, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let theirs = check_length(key, sig).and_then(|()| rust_crypto(key, alg, msg, sig));
        let ours = check_length(key, sig).and_then(|()| ring(key, alg, msg, sig));
        assert_eq!(ours, theirs, "{alg:?} on {} bytes of signature", sig.len());
        ours
    }

    /// `a - b` of two big-endian numbers of one length (a >= b).
    fn sub(a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut out = a.to_vec();
        let mut borrow = 0i16;
        for i in (0..a.len()).rev() {
            let d = i16::from(a[i]) - i16::from(b[i]) - borrow;
            borrow = i16::from(d < 0);
            out[i] = (d + 256 * borrow) as u8;
        }
        out
    }

    /// The encodings' edge cases, each with what both must answer.
    fn edges(c: &Case) -> Vec<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        match c.alg {
            Alg::Es256 if c.sig.len() == 64 => {
                let (r, s) = c.sig.split_at(32);
                let one = {
                    let mut one = [0u8; 32];
                    one[31] = 1;
                    one
                };
                let n_1 = sub(&P256_N, &one);
                for bad in [&[0u8; 32][..], &P256_N, &n_1] {
                    out.push(([bad, s].concat(), false));
                    out.push(([r, bad].concat(), false));
                }
                // ECDSA's malleability: (r, n - s) verifies when (r, s) does, in both.
                out.push(([r, &sub(&P256_N, s)].concat(), true));
            }
            Alg::Rs256 | Alg::Ps256 => {
                let PublicKey::Rsa(ref key) = c.key else { unreachable!() };
                let n = rsa::traits::PublicKeyParts::n_bytes(key).to_vec();
                let mut one = std::vec![0u8; n.len()];
                *one.last_mut().unwrap() = 1;
                for bad in [std::vec![0u8; n.len()], one.clone(), sub(&n, &one), n.clone(), std::vec![0xff; n.len()]] {
                    out.push((bad, false));
                }
                out.push((c.sig[1..].to_vec(), false)); // one octet short
                out.push(([&[0u8][..], &c.sig].concat(), false)); // one octet long
            }
            _ => {}
        }
        out
    }

    #[test]
    fn the_backends_agree_on_the_vectors_and_their_edges() {
        let cases = cases();
        let mut valid = 0;
        for c in cases {
            let got = both(&c.key, c.alg, &c.msg, &c.sig);
            valid += usize::from(got.is_ok());
            for (sig, ok) in edges(c) {
                let edge = both(&c.key, c.alg, &c.msg, &sig);
                // An edge of a valid signature is valid only where ECDSA allows it; of an
                // invalid one, never.
                assert_eq!(edge.is_ok(), ok && got.is_ok(), "{}: edge {sig:02x?}", c.what);
            }
        }
        // The RFC examples and the valid tokens: RS256, PS256, ES256 and EdDSA at least.
        assert!(valid >= 10, "only {valid} of {} signatures verified", cases.len());
        for alg in [Alg::Rs256, Alg::Ps256, Alg::Es256, Alg::EdDsa] {
            assert!(cases.iter().any(|c| c.alg == alg && both(&c.key, alg, &c.msg, &c.sig).is_ok()), "{alg:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        /// Random damage to a vector's signature or message: both backends, one answer.
        #[test]
        fn the_backends_agree_on_mutations(pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(),
                                           bit in 0u8..8, cut in any::<prop::sample::Index>(), kind in 0u8..4) {
            let c = &cases()[pick.index(cases().len())];
            let (mut msg, mut sig) = (c.msg.clone(), c.sig.clone());
            match kind {
                0 => { let i = at.index(sig.len()); sig[i] ^= 1 << bit; }
                1 => sig.truncate(cut.index(sig.len())),
                2 => { let i = at.index(msg.len()); msg[i] ^= 1 << bit; }
                _ => { let i = at.index(sig.len()); sig[i] = bit; let j = cut.index(sig.len()); sig[j] ^= 0x80; }
            }
            both(&c.key, c.alg, &msg, &sig).ok();
        }
    }
}
