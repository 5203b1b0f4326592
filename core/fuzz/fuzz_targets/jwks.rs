//! Provider documents: `JwkSet::parse` (JWK sets: RSA, EC P-256, Ed25519) and
//! `introspect::check` (RFC 7662 answers) on arbitrary bytes never panic; a set that parses
//! holds at most its capacity, finds each key by its kid, and parses the same way twice; an
//! accepted introspection answer is active, for the audience, and kept no longer than asked.
//!
//! Input: the document itself (seeds: the JWK sets of `tests/vectors/jws.json` and the
//! answers of `introspection.json`).
#![no_main]

use apisig::introspect::{self, Expected};
use apisig::jwk::{Alg, JwkSet};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_700_000_000_000_000_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = JwkSet::<16>::parse(data) {
        assert!(set.len() <= 16 && set.len() == set.keys().len());
        for k in set.keys() {
            if let Some(kid) = k.kid() {
                assert!(set.has_kid(kid));
            }
            for alg in [Alg::Rs256, Alg::Ps256, Alg::Es256, Alg::EdDsa] {
                if k.key().fits(alg) && k.kid().is_some() && k.alg().is_none_or(|a| a == alg) {
                    // A kid may repeat, for another algorithm or key type: some key fits.
                    assert!(set.find(k.kid(), alg).is_ok_and(|found| found.fits(alg)));
                }
            }
        }
        let again = JwkSet::<16>::parse(data).expect("parses twice");
        assert_eq!(again.len(), set.len());
    }
    let expected = Expected { issuer: "http://127.0.0.1:3000", audience: Some("https://api.example.test/opaque"), leeway_s: 60 };
    if let Ok(c) = introspect::check(data, &expected, NOW) {
        assert_eq!(c.json, data);
        assert!(c.aud.contains(&"https://api.example.test/opaque"));
        assert!(c.iss.is_none_or(|iss| iss == expected.issuer));
        assert!(c.exp.is_none_or(|exp| exp > NOW / 1_000_000_000 - 60));
        assert!(introspect::cache_seconds(&c, NOW, 300) <= 300);
        assert!(data.trim_ascii().starts_with(b"{") && data.trim_ascii().ends_with(b"}"));
    }
});
