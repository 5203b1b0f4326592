//! mTLS certificate pinning: "certificates exchanged beforehand" (SIGNIUS, ZignSec two-way
//! SSL, Securosys mTLS) enforced on top of the TLS library's chain check. A peer certificate
//! (DER) maps to a registered client by the SHA-256 fingerprint of the whole certificate or
//! of its SubjectPublicKeyInfo (which survives re-issuing a certificate for the same key).
//!
//! The DER reader here is minimal and strict: definite, minimal lengths, nothing past the
//! end; it walks only as far as the SubjectPublicKeyInfo.

use crate::Error;
use crate::mac::digest;
use crate::names::named;

named! {
    /// What a pin is the SHA-256 of.
    #[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
    pub enum PinKind {
        /// The whole DER certificate.
        Certificate = 0, "certificate";
        /// The certificate's DER SubjectPublicKeyInfo (survives re-issuing for the same key).
        PublicKey = 1, "spki";
    }
}

/// Length of a pin: a SHA-256 digest.
pub const PIN_LEN: usize = 32;

/// A certificate pin, as a keyring holds it per client and slot: the SHA-256 of a
/// certificate or of its public key.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Pin {
    /// What the fingerprint is of.
    pub kind: PinKind,
    /// The SHA-256 fingerprint.
    pub fingerprint: [u8; PIN_LEN],
}

/// The fingerprint of a DER certificate.
///
/// # Errors
/// [`Error::InvalidCertificate`] when `der` is not one well-formed DER certificate.
///
/// ```
/// # let der: &[u8] = &[];
/// let _ = apisig::pin::fingerprint(der, apisig::pin::PinKind::PublicKey);
/// ```
pub fn fingerprint(der: &[u8], kind: PinKind) -> Result<[u8; PIN_LEN], Error> {
    let spki = subject_public_key_info(der)?;
    Ok(match kind {
        PinKind::Certificate => digest(der),
        PinKind::PublicKey => digest(spki),
    })
}

/// The DER SubjectPublicKeyInfo (tag and length included) of a certificate.
///
/// # Errors
/// [`Error::InvalidCertificate`].
pub fn subject_public_key_info(der: &[u8]) -> Result<&[u8], Error> {
    const SEQUENCE: u8 = 0x30;
    let (cert, rest) = tlv(der, SEQUENCE)?;
    if !rest.is_empty() {
        return Err(Error::InvalidCertificate);
    }
    let (tbs, _) = tlv(cert.content, SEQUENCE)?;
    let mut fields = tbs.content;
    if fields.first() == Some(&0xa0) {
        fields = tlv(fields, 0xa0)?.1; // [0] EXPLICIT version
    }
    fields = tlv(fields, 0x02)?.1; // serialNumber
    for _ in 0..4 {
        fields = tlv(fields, SEQUENCE)?.1; // signature, issuer, validity, subject
    }
    Ok(tlv(fields, SEQUENCE)?.0.whole)
}

struct Tlv<'a> {
    whole: &'a [u8],
    content: &'a [u8],
}

/// Reads one TLV with tag `tag`; returns it and what follows.
fn tlv(input: &[u8], tag: u8) -> Result<(Tlv<'_>, &[u8]), Error> {
    let bad = Error::InvalidCertificate;
    let (&t, rest) = input.split_first().ok_or(bad)?;
    let (&first, mut rest) = rest.split_first().ok_or(bad)?;
    if t != tag {
        return Err(bad);
    }
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(bad); // indefinite length, or longer than any certificate
        }
        let (bytes, after) = rest.split_at_checked(n).ok_or(bad)?;
        rest = after;
        let len = bytes.iter().fold(0usize, |acc, &b| acc.wrapping_shl(8) | usize::from(b));
        let minimal = bytes.first() != Some(&0) && len >= 0x80;
        if !minimal {
            return Err(bad);
        }
        len
    };
    let (content, after) = rest.split_at_checked(len).ok_or(bad)?;
    let header = input.len().saturating_sub(rest.len());
    let whole = input.get(..header.saturating_add(len)).ok_or(bad)?;
    Ok((Tlv { whole, content }, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_are_strict() {
        // SEQUENCE { SEQUENCE {} } is too short for a certificate, but the TLV reader takes it.
        assert!(tlv(&[0x30, 0x02, 0x30, 0x00], 0x30).is_ok());
        for bad in [&[][..], &[0x30], &[0x30, 0x80, 0, 0], &[0x30, 0x81, 0x05, 0, 0, 0, 0, 0], &[0x30, 0x03, 0]] {
            assert!(tlv(bad, 0x30).is_err(), "{bad:?}");
        }
        assert_eq!(fingerprint(&[0x30, 0x00], PinKind::Certificate), Err(Error::InvalidCertificate));
    }
}
