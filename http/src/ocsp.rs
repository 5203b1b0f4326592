//! OCSP for mutual TLS: is the client certificate revoked? Asked of its CA's responder, the
//! answer reused until `nextUpdate` (the `ocsp` feature).
//!
//! [`OcspChecker`] builds the request (a SHA-256 CertID and a nonce), POSTs it to the responder
//! named in the certificate's Authority Information Access (or a configured URL), reads the
//! response with RustCrypto's `x509-ocsp` (signatures checked with `ring`) into the facts
//! [`apisig::ocsp::Response`], and the core decides ([`apisig::ocsp::verdict`]): the same
//! decision the Python and C faces make. `good` passes; `revoked` and `unknown` are refused
//! with 403; an unreachable responder, a bad signature, a stale or malformed response with 503,
//! unless the checker is fail-soft ([`Policy::fail_soft`]): then the request proceeds with an
//! [`OcspWarning`] in its extensions, for the server to log (this crate does no logging).
//! A revocation is never softened.
//!
//! Accepted signatures: ECDSA P-256/P-384 with SHA-256/384, RSA PKCS#1 v1.5 (2048-8192 bits)
//! with SHA-256/384/512, Ed25519; not SHA-1.
//!
//! ```no_run
//! use apisig::ocsp::Policy;
//! use apisig::{Verifier, Window, keyring::Keyring, replay::ReplayCache};
//! use apisig_http::ocsp::OcspChecker;
//! use apisig_http::server::{Authenticator, Mtls};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let checker = OcspChecker::new([std::fs::read("clients-ca.der")?])? // the CAs, DER
//!     .timeout(std::time::Duration::from_secs(2))
//!     .policy(Policy::from_secs(300, 3600, false)); // skew, max_age (s), fail_soft
//! let verifier = Verifier::new(Keyring::<16>::new(), ReplayCache::<1024>::new(), Window::DEFAULT);
//! let layer = Authenticator::new(verifier).mtls(Mtls::Alone).ocsp(checker).layer();
//! # let _ = layer;
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use apisig::ocsp::{CertStatus, Nonce, Policy, RESPONSE_MAX_LEN, Response, Signer, Verdict};
use apisig::{Error, UnixNanos};
use ring::{digest, signature};
use x509_cert::Certificate;
use x509_cert::der::asn1::{Any, GeneralizedTime, ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, ExtendedKeyUsage};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_ocsp::{
    BasicOcspResponse, CertId, OcspRequest, OcspResponse, OcspResponseStatus, Request as OneRequest, ResponderId,
    TbsRequest, Version,
};

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

const OCSP_BASIC: ObjectIdentifier = oid("1.3.6.1.5.5.7.48.1.1");
const OCSP_NONCE: ObjectIdentifier = oid("1.3.6.1.5.5.7.48.1.2");
const AD_OCSP: ObjectIdentifier = oid("1.3.6.1.5.5.7.48.1");
const PE_AIA: ObjectIdentifier = oid("1.3.6.1.5.5.7.1.1");
const CE_EKU: ObjectIdentifier = oid("2.5.29.37");
const KP_OCSP_SIGNING: ObjectIdentifier = oid("1.3.6.1.5.5.7.3.9");
const SHA1: ObjectIdentifier = oid("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");
const ECDSA_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = oid("1.2.840.10045.4.3.3");
const RSA_SHA256: ObjectIdentifier = oid("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = oid("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = oid("1.2.840.113549.1.1.13");
const ED25519: ObjectIdentifier = oid("1.3.101.112");
const EC_PUBLIC_KEY: ObjectIdentifier = oid("1.2.840.10045.2.1");
const RSA_KEY: ObjectIdentifier = oid("1.2.840.113549.1.1.1");
const P256: ObjectIdentifier = oid("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = oid("1.3.132.0.34");

/// Parses a DER certificate.
///
/// # Errors
/// [`Error::InvalidCertificate`] when it is not one.
pub fn parse_certificate(der: &[u8]) -> Result<Certificate, Error> {
    Certificate::from_der(der).map_err(|_| Error::InvalidCertificate)
}

/// Nanoseconds since the UNIX epoch of a time read from a certificate or a response.
fn nanos(since_epoch: Duration) -> UnixNanos {
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}

fn generalized(t: &GeneralizedTime) -> UnixNanos {
    nanos(t.to_unix_duration())
}

/// The ring verification algorithm for a signature `algorithm` by a key `spki`; `None` for
/// one apisig does not accept (SHA-1, unknown curves).
fn ring_algorithm(
    algorithm: &AlgorithmIdentifierOwned,
    spki: &SubjectPublicKeyInfoOwned,
) -> Option<&'static dyn signature::VerificationAlgorithm> {
    let key = spki.algorithm.oid;
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let sig = algorithm.oid;
    Some(match (key, curve) {
        (EC_PUBLIC_KEY, Some(P256)) if sig == ECDSA_SHA256 => &signature::ECDSA_P256_SHA256_ASN1,
        (EC_PUBLIC_KEY, Some(P256)) if sig == ECDSA_SHA384 => &signature::ECDSA_P256_SHA384_ASN1,
        (EC_PUBLIC_KEY, Some(P384)) if sig == ECDSA_SHA256 => &signature::ECDSA_P384_SHA256_ASN1,
        (EC_PUBLIC_KEY, Some(P384)) if sig == ECDSA_SHA384 => &signature::ECDSA_P384_SHA384_ASN1,
        (RSA_KEY, _) if sig == RSA_SHA256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        (RSA_KEY, _) if sig == RSA_SHA384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        (RSA_KEY, _) if sig == RSA_SHA512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        (ED25519, _) if sig == ED25519 => &signature::ED25519,
        _ => return None,
    })
}

/// Whether `signature` over `message` verifies with `spki`'s key under `algorithm` (one apisig
/// accepts).
fn verifies(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    sig: &[u8],
) -> bool {
    ring_algorithm(algorithm, spki).is_some_and(|alg| {
        signature::UnparsedPublicKey::new(alg, spki.subject_public_key.raw_bytes()).verify(message, sig).is_ok()
    })
}

/// Whether `issuer`'s key signed `cert` (and `cert` names it as its issuer).
fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    cert.tbs_certificate.issuer == issuer.tbs_certificate.subject
        && cert.tbs_certificate.to_der().is_ok_and(|tbs| {
            cert.signature.as_bytes().is_some_and(|sig| {
                verifies(&issuer.tbs_certificate.subject_public_key_info, &cert.signature_algorithm, &tbs, sig)
            })
        })
}

fn hash(algorithm: &ObjectIdentifier, data: &[u8]) -> Option<digest::Digest> {
    let alg = match *algorithm {
        SHA1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        SHA256 => &digest::SHA256,
        SHA384 => &digest::SHA384,
        SHA512 => &digest::SHA512,
        _ => return None,
    };
    Some(digest::digest(alg, data))
}

/// Whether `id` names `cert` (the responder id: its subject, or the SHA-1 of its key).
fn names(id: &ResponderId, cert: &Certificate) -> bool {
    match id {
        ResponderId::ByName(name) => *name == cert.tbs_certificate.subject,
        ResponderId::ByKey(key_hash) => {
            hash(&SHA1, cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes())
                .is_some_and(|h| h.as_ref() == key_hash.as_bytes())
        }
    }
}

/// Whether `id` is the CertID of `cert` issued by `issuer` (in the hash `id` uses).
fn cert_id_matches(id: &CertId, cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(name) = cert.tbs_certificate.issuer.to_der() else { return false };
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let alg = &id.hash_algorithm.oid;
    id.serial_number == cert.tbs_certificate.serial_number
        && hash(alg, &name).is_some_and(|h| h.as_ref() == id.issuer_name_hash.as_bytes())
        && hash(alg, key).is_some_and(|h| h.as_ref() == id.issuer_key_hash.as_bytes())
}

fn extension(extensions: Option<&[Extension]>, id: ObjectIdentifier) -> Option<&Extension> {
    extensions.and_then(|all| all.iter().find(|e| e.extn_id == id))
}

/// The DER OCSP request for `cert` issued by `issuer`: a SHA-256 CertID, and `nonce` (as an
/// `id-pkix-ocsp-nonce` extension) if given.
///
/// # Errors
/// [`Error::InvalidCertificate`] if the request cannot be encoded from these certificates.
pub fn request_for(cert: &Certificate, issuer: &Certificate, nonce: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let bad = |_| Error::InvalidCertificate;
    let name = cert.tbs_certificate.issuer.to_der().map_err(bad)?;
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let sha256 = |data: &[u8]| OctetString::new(digest::digest(&digest::SHA256, data).as_ref());
    let req_cert = CertId {
        // With NULL parameters, as OpenSSL and `cryptography` write it.
        hash_algorithm: AlgorithmIdentifierOwned { oid: SHA256, parameters: Some(Any::null()) },
        issuer_name_hash: sha256(&name).map_err(bad)?,
        issuer_key_hash: sha256(key).map_err(bad)?,
        serial_number: cert.tbs_certificate.serial_number.clone(),
    };
    let request_extensions = match nonce {
        Some(n) => {
            let value = OctetString::new(n).and_then(|o| o.to_der()).and_then(OctetString::new).map_err(bad)?;
            Some(vec![Extension { extn_id: OCSP_NONCE, critical: false, extn_value: value }])
        }
        None => None,
    };
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![OneRequest { req_cert, single_request_extensions: None }],
            request_extensions,
        },
        optional_signature: None,
    };
    request.to_der().map_err(bad)
}

/// Reads a DER OCSP response about `cert` (issued by `issuer`; `nonce`: what the request
/// carried) into the facts the core decides on.
///
/// # Errors
/// What kept it from reading facts: [`Error::OcspResponseTooLarge`] (checked first),
/// [`Error::OcspMalformed`], [`Error::OcspResponderError`] for a `responseStatus` other than
/// `successful`.
pub fn read_response(
    der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    nonce: Option<&[u8]>,
) -> Result<Response, Error> {
    apisig::ocsp::check_len(der.len())?;
    let malformed = |_| Error::OcspMalformed;
    let outer = OcspResponse::from_der(der).map_err(malformed)?;
    if outer.response_status != OcspResponseStatus::Successful {
        return Err(Error::OcspResponderError);
    }
    let bytes = outer.response_bytes.ok_or(Error::OcspMalformed)?;
    if bytes.response_type != OCSP_BASIC {
        return Err(Error::OcspMalformed);
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(malformed)?;
    let data = &basic.tbs_response_data;
    let tbs = data.to_der().map_err(malformed)?;

    // Who signed: the issuer, a certificate included in the response, or nobody we know.
    let included = basic.certs.as_deref().unwrap_or_default();
    let (signer, key) = if names(&data.responder_id, issuer) {
        (Signer::Issuer, Some(issuer))
    } else if let Some(responder) = included.iter().find(|c| names(&data.responder_id, c)) {
        let validity = &responder.tbs_certificate.validity;
        let ocsp_signing = extension(responder.tbs_certificate.extensions.as_deref(), CE_EKU).is_some_and(|e| {
            ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).is_ok_and(|eku| eku.0.contains(&KP_OCSP_SIGNING))
        });
        let delegated = Signer::Delegated {
            issued_by_issuer: issued_by(responder, issuer),
            ocsp_signing,
            not_before: nanos(validity.not_before.to_unix_duration()),
            not_after: nanos(validity.not_after.to_unix_duration()),
        };
        (delegated, Some(responder))
    } else {
        (Signer::Unrelated, None)
    };
    let signature_valid = key.is_some_and(|k| {
        basic.signature.as_bytes().is_some_and(|sig| {
            verifies(&k.tbs_certificate.subject_public_key_info, &basic.signature_algorithm, &tbs, sig)
        })
    });

    // The single response about this certificate (else the first, whose CertID does not match).
    let mine = data.responses.iter().find(|one| cert_id_matches(&one.cert_id, cert, issuer));
    let single = mine.or(data.responses.first()).ok_or(Error::OcspMalformed)?;

    let nonce = match nonce {
        None => Nonce::NotSent,
        Some(sent) => match extension(data.response_extensions.as_deref(), OCSP_NONCE) {
            None => Nonce::Missing,
            Some(e) => match OctetString::from_der(e.extn_value.as_bytes()) {
                Ok(echoed) if echoed.as_bytes() == sent => Nonce::Echoed,
                _ => Nonce::Different,
            },
        },
    };
    let status = match single.cert_status {
        x509_ocsp::CertStatus::Good(_) => CertStatus::Good,
        x509_ocsp::CertStatus::Revoked(_) => CertStatus::Revoked,
        x509_ocsp::CertStatus::Unknown(_) => CertStatus::Unknown,
    };
    Ok(Response {
        signer,
        signature_valid,
        cert_id_matches: mine.is_some(),
        nonce,
        status,
        this_update: generalized(&single.this_update.0),
        next_update: single.next_update.as_ref().map(|t| generalized(&t.0)),
    })
}

/// The OCSP responder URL in `cert`'s Authority Information Access, if any.
pub fn responder_url(cert: &Certificate) -> Option<String> {
    let aia = extension(cert.tbs_certificate.extensions.as_deref(), PE_AIA)?;
    let aia = AuthorityInfoAccessSyntax::from_der(aia.extn_value.as_bytes()).ok()?;
    aia.0.into_iter().find_map(|d| match d.access_location {
        GeneralName::UniformResourceIdentifier(uri) if d.access_method == AD_OCSP => Some(uri.to_string()),
        _ => None,
    })
}

/// The OCSP failure that fail-soft let through: the layer puts it in the request's
/// extensions; log it as a warning.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct OcspWarning(pub Error);

/// A cached answer: the facts of a verified response, reusable until `until`.
#[derive(Copy, Clone, Debug)]
struct Cached {
    facts: Response,
    until: UnixNanos,
}

/// Checks client certificates' revocation status with OCSP, caching answers per certificate.
pub struct OcspChecker {
    issuers: Vec<Certificate>,
    responder: Option<String>,
    policy: Policy,
    timeout: Duration,
    nonce: bool,
    max_entries: usize,
    client: reqwest::Client,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
}

impl std::fmt::Debug for OcspChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspChecker")
            .field("issuers", &self.issuers.len())
            .field("responder", &self.responder)
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .field("nonce", &self.nonce)
            .field("max_entries", &self.max_entries)
            .finish_non_exhaustive()
    }
}

/// How long a responder is waited for by default: 3 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// How many certificates' answers are cached by default.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

impl OcspChecker {
    /// A checker for certificates issued by `issuers` (DER CA certificates; a certificate's
    /// issuer is the one whose key signed it), asking the responder in each certificate's
    /// Authority Information Access, under [`Policy::DEFAULT`] (fail closed).
    ///
    /// # Errors
    /// [`Error::InvalidCertificate`] for an issuer that is not a DER certificate, or none.
    pub fn new<C: AsRef<[u8]>>(issuers: impl IntoIterator<Item = C>) -> Result<OcspChecker, Error> {
        let issuers = issuers.into_iter().map(|c| parse_certificate(c.as_ref())).collect::<Result<Vec<_>, _>>()?;
        if issuers.is_empty() {
            return Err(Error::InvalidCertificate);
        }
        Ok(OcspChecker {
            issuers,
            responder: None,
            policy: Policy::DEFAULT,
            timeout: DEFAULT_TIMEOUT,
            nonce: true,
            max_entries: DEFAULT_MAX_ENTRIES,
            client: reqwest::Client::new(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Asks `url` rather than the responder the certificate names.
    pub fn responder(mut self, url: impl Into<String>) -> OcspChecker {
        self.responder = Some(url.into());
        self
    }

    /// The skew, maximum age and fail-soft choice (default [`Policy::DEFAULT`]).
    pub fn policy(mut self, policy: Policy) -> OcspChecker {
        self.policy = policy;
        self
    }

    /// How long a responder is waited for (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> OcspChecker {
        self.timeout = timeout;
        self
    }

    /// Whether requests carry a nonce the response must echo (default yes; responders that
    /// answer from precomputed responses echo none).
    pub fn nonce(mut self, nonce: bool) -> OcspChecker {
        self.nonce = nonce;
        self
    }

    /// How many certificates' answers are kept (default [`DEFAULT_MAX_ENTRIES`]).
    pub fn max_entries(mut self, entries: usize) -> OcspChecker {
        self.max_entries = entries;
        self
    }

    /// The verdict on the client certificate `der` at `now`: from the cache while its answer
    /// is current (no network), else from the responder.
    ///
    /// # Errors
    /// The refusal ([`apisig::ocsp::verdict`]): [`Error::CertificateRevoked`],
    /// [`Error::CertificateStatusUnknown`], an `Ocsp*` error (with fail-soft only the
    /// revocation); [`Error::InvalidCertificate`] for a certificate that is not DER.
    pub async fn check(&self, der: &[u8], now: UnixNanos) -> Result<Verdict, Error> {
        let key: [u8; 32] =
            digest::digest(&digest::SHA256, der).as_ref().try_into().map_err(|_| Error::InvalidCertificate)?;
        let hit = self.cache().get(&key).filter(|c| c.until > now).map(|c| c.facts);
        if let Some(facts) = hit {
            return apisig::ocsp::verdict(Ok(&facts), now, &self.policy);
        }
        let facts = self.fetch(der).await;
        if let Ok(f) = &facts {
            self.remember(key, f, now);
        }
        apisig::ocsp::verdict(facts.as_ref().map_err(|e| *e), now, &self.policy)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Cached>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Caches a verified answer (good, revoked or unknown) until [`apisig::ocsp::cache_until`];
    /// a response refused for itself (signature, nonce, times) is not cached.
    fn remember(&self, key: [u8; 32], facts: &Response, now: UnixNanos) {
        let verified = matches!(
            apisig::ocsp::check(facts, now, &self.policy),
            Ok(()) | Err(Error::CertificateRevoked | Error::CertificateStatusUnknown)
        );
        let until = apisig::ocsp::cache_until(facts.this_update, facts.next_update, now, self.policy.max_age);
        let (true, Some(until)) = (verified, until) else { return };
        if self.max_entries == 0 {
            return;
        }
        let mut cache = self.cache();
        if cache.len() >= self.max_entries && !cache.contains_key(&key) {
            cache.retain(|_, c| c.until > now);
            // Still full: the one that would expire soonest goes.
            let soonest = cache.iter().min_by_key(|(_, c)| c.until).map(|(k, _)| *k);
            if cache.len() >= self.max_entries
                && let Some(evicted) = soonest
            {
                cache.remove(&evicted);
            }
        }
        cache.insert(key, Cached { facts: *facts, until });
    }

    /// Asks the responder about `der` and reads its answer.
    async fn fetch(&self, der: &[u8]) -> Result<Response, Error> {
        let cert = parse_certificate(der)?;
        let issuer = self.issuers.iter().find(|i| issued_by(&cert, i)).ok_or(Error::OcspNoResponder)?;
        let url = self.responder.clone().or_else(|| responder_url(&cert)).ok_or(Error::OcspNoResponder)?;
        let mut nonce = [0u8; 16];
        let nonce = if self.nonce {
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
                .map_err(|_| Error::OcspUnavailable)?;
            Some(&nonce[..])
        } else {
            None
        };
        let request = request_for(&cert, issuer, nonce)?;
        let answer = self.post(&url, request).await?;
        read_response(&answer, &cert, issuer, nonce)
    }

    /// POSTs `request` to `url`; at most [`RESPONSE_MAX_LEN`] + 1 bytes of the answer are read.
    async fn post(&self, url: &str, request: Vec<u8>) -> Result<Vec<u8>, Error> {
        let unavailable = |_| Error::OcspUnavailable;
        // The timeout covers connecting, sending and reading the whole answer.
        let mut answer = self
            .client
            .post(url)
            .timeout(self.timeout)
            .header(http::header::CONTENT_TYPE, "application/ocsp-request")
            .body(request)
            .send()
            .await
            .map_err(unavailable)?;
        if answer.status() != reqwest::StatusCode::OK {
            return Err(Error::OcspUnavailable);
        }
        let mut body = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(unavailable)? {
            body.extend_from_slice(&chunk);
            if body.len() > RESPONSE_MAX_LEN {
                break;
            }
        }
        Ok(body)
    }
}
