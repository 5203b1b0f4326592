//! OCSP in the Rust HTTP face: the shared vectors (tests/vectors/ocsp.json, responses made by
//! `openssl ocsp`) read by x509-ocsp/ring and decided by the core must reach the verdicts the
//! Python (`cryptography`) and C (OpenSSL) faces reach; and the axum layer asking a stub
//! responder on 127.0.0.1 that serves those responses.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apisig::ocsp::{Policy, Verdict, verdict};
use apisig::pin::{Pin, PinKind, fingerprint};
use apisig::{Error, Verifier, Window, client::Slot, keyring::Keyring, replay::ReplayCache};
use apisig_http::ocsp::{OcspChecker, OcspWarning, parse_certificate, read_response, request_for, responder_url};
use apisig_http::server::{Authenticator, Mtls, PeerCertificate, Principal};
use axum::body::Body;
use axum::extract::Extension;
use bytes::Bytes;
use serde_json::Value;
use tower::ServiceExt;

const S: u64 = 1_000_000_000;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn file(name: &str) -> Vec<u8> {
    std::fs::read(vectors().join("ocsp").join(name)).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    s.as_bytes().chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap()).collect()
}

fn error(name: &str) -> Error {
    Error::from_name(name).expect(name)
}

#[test]
fn every_vector_reaches_the_shared_verdict() {
    let text = std::fs::read_to_string(vectors().join("ocsp.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let cases = all["tests"].as_array().unwrap();
    assert!(cases.len() >= 32, "the vectors are all there");
    for case in cases {
        let id = case["tcId"].as_u64().unwrap();
        let spec = &case["response"];
        let cert = parse_certificate(&file(case["cert"].as_str().unwrap())).unwrap();
        let issuer = parse_certificate(&file(case["issuer"].as_str().unwrap())).unwrap();
        let nonce = case["nonce"].as_str().map(unhex);
        let facts = if let Some(failure) = spec["failure"].as_str() {
            Err(error(failure))
        } else {
            let der = if let Some(name) = spec["file"].as_str() {
                let mut der = file(name);
                if let Some(n) = spec["truncate"].as_u64() {
                    der.truncate(usize::try_from(n).unwrap());
                }
                der
            } else if let Some(hex) = spec["hex"].as_str() {
                unhex(hex)
            } else {
                vec![0; usize::try_from(spec["zeros"].as_u64().unwrap()).unwrap()]
            };
            read_response(&der, &cert, &issuer, nonce.as_deref())
        };
        let policy = Policy::from_secs(
            case["skew"].as_u64().unwrap(),
            case["max_age"].as_u64().unwrap(),
            case["fail_soft"].as_bool().unwrap(),
        );
        let got = verdict(facts.as_ref().map_err(|e| *e), case["now"].as_u64().unwrap(), &policy);
        let want = match (case["result"].as_str().unwrap(), case["error"].as_str(), case["warning"].as_str()) {
            ("valid", None, None) => Ok(Verdict::Good),
            ("valid", None, Some(w)) => Ok(Verdict::FailSoft(error(w))),
            ("invalid", Some(e), None) => Err(error(e)),
            other => unreachable!("tcId {id}: unexpected expectation {other:?}"),
        };
        assert_eq!(got, want, "tcId {id}: {} ({facts:?})", case["comment"]);
    }
}

/// `openssl ocsp` printing a request (`-reqin`) or a response (`-respin`) as text.
fn openssl_text(flag: &str, der: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("apisig-ocsp-{}-{flag}.der", std::process::id()));
    std::fs::write(&path, der).unwrap();
    let text_flag = if flag == "-reqin" { "-req_text" } else { "-resp_text" };
    let out = std::process::Command::new("openssl")
        .args(["ocsp", flag])
        .arg(&path)
        .args([text_flag, "-noverify"])
        .output()
        .expect("the openssl command (scripts/c-deps.sh installs it)");
    std::fs::remove_file(&path).unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines of `text` that start (trimmed) with `label`.
fn field<'t>(text: &'t str, label: &str) -> Vec<&'t str> {
    text.lines().map(str::trim).filter(|l| l.starts_with(label)).collect()
}

#[test]
fn the_request_carries_a_sha256_cert_id_and_the_nonce() {
    // Oracle: OpenSSL reads our request, and its CertID is the one the responder (`openssl
    // ocsp`, asked with a SHA-256 request) named in its response about this certificate.
    let cert = parse_certificate(&file("client-good.der")).unwrap();
    let issuer = parse_certificate(&file("ca-a.der")).unwrap();
    let nonce = [0x5au8; 16];
    let request = openssl_text("-reqin", &request_for(&cert, &issuer, Some(&nonce)).unwrap());
    let response = openssl_text("-respin", &file("good-by-issuer.der"));
    for label in ["Hash Algorithm:", "Issuer Name Hash:", "Issuer Key Hash:", "Serial Number:"] {
        let (ours, theirs) = (field(&request, label), field(&response, label));
        assert_eq!(ours.len(), 1, "{label} in {request}");
        assert_eq!(ours, theirs[..1], "{label}");
    }
    assert_eq!(field(&request, "Hash Algorithm:"), ["Hash Algorithm: sha256"]);
    assert!(request.contains(&format!("0410{}", "5A".repeat(16))), "the nonce, as OpenSSL writes it: {request}");
    let bare = openssl_text("-reqin", &request_for(&cert, &issuer, None).unwrap());
    assert!(field(&bare, "Issuer Key Hash:").len() == 1 && !bare.contains("Nonce"), "{bare}");
}

/// A stub responder on 127.0.0.1: answers every POST with the DER file currently chosen
/// (`None`: HTTP 500) and counts the requests.
#[derive(Clone, Default)]
struct Stub {
    answer: Arc<Mutex<Option<Vec<u8>>>>,
    asked: Arc<AtomicUsize>,
}

async fn responder(stub: Stub) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |body: Bytes| {
            let stub = stub.clone();
            async move {
                assert!(!body.is_empty(), "a request was posted");
                stub.asked.fetch_add(1, Ordering::SeqCst);
                match stub.answer.lock().unwrap().clone() {
                    Some(der) => axum::response::Response::new(Body::from(der)),
                    None => {
                        let mut res = axum::response::Response::new(Body::empty());
                        *res.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                        res
                    }
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}

async fn whoami(p: Extension<Principal>, warning: Option<Extension<OcspWarning>>) -> String {
    format!("{} {:?}", p.client_id, warning.map(|w| w.0.0))
}

/// The layer over an app, with `certificate` pinned for "portal" (mTLS alone) and `checker`.
fn app(checker: OcspChecker, pinned: &[u8], now: u64) -> axum::Router {
    let mut ring = Keyring::<4>::new();
    let id = "portal";
    ring.add(id, b"unused-secret-of-the-portal").unwrap();
    let pin = fingerprint(pinned, PinKind::Certificate).unwrap();
    ring.set_pin(id, Slot::Primary, Some(Pin { kind: PinKind::Certificate, fingerprint: pin })).unwrap();
    let verifier = Verifier::new(ring, ReplayCache::<64>::new(), Window::DEFAULT);
    let auth = Authenticator::new(verifier).mtls(Mtls::Alone).ocsp(checker).clock(move || now);
    axum::Router::new().fallback(whoami).layer(auth.layer())
}

async fn call(app: &axum::Router, certificate: &[u8]) -> (u16, String) {
    let mut req = axum::http::Request::get("/v1/x").body(Body::empty()).unwrap();
    req.extensions_mut().insert(PeerCertificate(Bytes::copy_from_slice(certificate)));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn the_layer_asks_the_responder_and_caches_its_answer() {
    let stub = Stub::default();
    let url = responder(stub.clone()).await;
    // The vectors' responses carry a fixed nonce (or none): the checker sends none here.
    let checker = |fail_soft: bool| {
        OcspChecker::new([file("ca-a.der")])
            .unwrap()
            .responder(url.clone())
            .nonce(false)
            .timeout(Duration::from_secs(2))
            .policy(Policy::from_secs(300, 3600, fail_soft))
    };
    let now = 1_796_523_556 * S;
    let good = file("client-good.der");
    let revoked = file("client-revoked.der");

    // good → 200, asked once, then answered from the cache (the responder is not asked again).
    *stub.answer.lock().unwrap() = Some(file("good-no-nonce.der"));
    let app_good = app(checker(false), &good, now);
    assert_eq!(call(&app_good, &good).await, (200, "portal None".to_owned()));
    assert_eq!(call(&app_good, &good).await, (200, "portal None".to_owned()));
    assert_eq!(stub.asked.load(Ordering::SeqCst), 1, "the second request hit the cache");

    // An unpinned certificate is refused before any responder is asked.
    let (status, body) = call(&app_good, &revoked).await;
    assert_eq!((status, body.contains("unpinned_certificate")), (401, true), "{body}");
    assert_eq!(stub.asked.load(Ordering::SeqCst), 1);

    // revoked → 403 with its code, even fail-soft.
    *stub.answer.lock().unwrap() = Some(file("revoked.der"));
    for soft in [false, true] {
        let (status, body) = call(&app(checker(soft), &revoked, now), &revoked).await;
        assert_eq!((status, body.contains("\"certificate_revoked\"")), (403, true), "{body}");
    }

    // The responder answers for another CA: refused (503, unauthorized responder).
    *stub.answer.lock().unwrap() = Some(file("good-by-other-ca-no-certs.der"));
    let (status, body) = call(&app(checker(false), &good, now), &good).await;
    assert_eq!((status, body.contains("ocsp_unauthorized_responder")), (503, true), "{body}");

    // A hostile responder: an endless answer is cut after 64 KiB + 1 and refused unparsed.
    *stub.answer.lock().unwrap() = Some(vec![0x30; 1 << 20]);
    let (status, body) = call(&app(checker(false), &good, now), &good).await;
    assert_eq!((status, body.contains("ocsp_response_too_large")), (503, true), "{body}");

    // Responder down (HTTP 500, then nothing listening): 503 fail closed, 200 with a warning fail-soft.
    *stub.answer.lock().unwrap() = None;
    let (status, body) = call(&app(checker(false), &good, now), &good).await;
    assert_eq!((status, body.contains("ocsp_unavailable")), (503, true), "{body}");
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let nobody = OcspChecker::new([file("ca-a.der")]).unwrap().responder(format!("http://{closed}/")).nonce(false);
    let (status, body) = call(&app(nobody, &good, now), &good).await;
    assert_eq!((status, body.contains("ocsp_unavailable")), (503, true), "{body}");
    let (status, body) = call(&app(checker(true), &good, now), &good).await;
    assert_eq!((status, body), (200, format!("portal {:?}", Some(Error::OcspUnavailable))));

    // Only another CA's certificate configured: no responder is known for this one.
    let (status, body) = call(&app(OcspChecker::new([file("ca-b.der")]).unwrap(), &good, now), &good).await;
    assert_eq!((status, body.contains("ocsp_no_responder")), (503, true), "{body}");
}

#[test]
fn the_responder_is_read_from_the_authority_information_access() {
    // Oracle: `openssl x509 -ext authorityInfoAccess` shows "OCSP - URI:http://127.0.0.1:8888/".
    let cert = parse_certificate(&file("client-good.der")).unwrap();
    assert_eq!(responder_url(&cert).as_deref(), Some("http://127.0.0.1:8888/"));
    assert_eq!(responder_url(&parse_certificate(&file("ca-a.der")).unwrap()), None);
}

#[tokio::test]
async fn a_cached_answer_expires_with_the_response() {
    let stub = Stub::default();
    let url = responder(stub.clone()).await;
    *stub.answer.lock().unwrap() = Some(file("good-no-nonce.der"));
    let checker = OcspChecker::new([file("ca-a.der")]).unwrap().responder(url).nonce(false);
    let good = file("client-good.der");
    let now = 1_796_523_556 * S;
    assert_eq!(checker.check(&good, now).await, Ok(Verdict::Good));
    assert_eq!(checker.check(&good, now + 3599 * S).await, Ok(Verdict::Good));
    assert_eq!(stub.asked.load(Ordering::SeqCst), 1, "cached for at most max_age (an hour)");
    // The responder's answer changes (here: about another certificate): once the cached
    // answer is past, the responder is asked again and its new answer counts.
    *stub.answer.lock().unwrap() = Some(file("revoked.der"));
    assert_eq!(checker.check(&good, now + 3601 * S).await, Err(Error::OcspCertIdMismatch));
    assert_eq!(stub.asked.load(Ordering::SeqCst), 2);
}
