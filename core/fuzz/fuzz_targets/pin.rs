//! Certificate pins: the DER walker never panics; a SubjectPublicKeyInfo it returns lies
//! inside the certificate and is one SEQUENCE; fingerprints and the verifier's pin match
//! agree with it.
#![no_main]

use apisig::pin::{PinKind, fingerprint, subject_public_key_info};
use apisig::{Error, Verifier, Window, client::Slot, keyring::Keyring, pin::Pin, replay::ReplayCache};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|der: &[u8]| {
    let spki = subject_public_key_info(der);
    let cert_fp = fingerprint(der, PinKind::Certificate);
    let spki_fp = fingerprint(der, PinKind::PublicKey);
    match spki {
        Err(e) => {
            assert_eq!(e, Error::InvalidCertificate);
            assert_eq!(cert_fp, Err(Error::InvalidCertificate));
            assert_eq!(spki_fp, Err(Error::InvalidCertificate));
        }
        Ok(s) => {
            let (start, end) = (der.as_ptr() as usize, der.as_ptr() as usize + der.len());
            let (s0, s1) = (s.as_ptr() as usize, s.as_ptr() as usize + s.len());
            assert!(start <= s0 && s1 <= end, "SPKI outside the certificate");
            assert!(s.len() >= 2 && s[0] == 0x30);
            let mut ring = Keyring::<2>::new();
            ring.insert(apisig::client::Client::new("device").unwrap()).unwrap();
            let p = Pin { kind: PinKind::PublicKey, fingerprint: spki_fp.unwrap() };
            ring.set_pin("device", Slot::Secondary, Some(p)).unwrap();
            let v = Verifier::new(ring, ReplayCache::<1>::new(), Window::DEFAULT);
            let who = v.verify_certificate(der, None, 0).unwrap();
            assert_eq!((who.id.as_str(), who.slot), ("device", Slot::Secondary));
            assert!(cert_fp.is_ok());
        }
    }
});
