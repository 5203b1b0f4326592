//! The tower layer and the reqwest middleware over real HTTP on 127.0.0.1: an axum server
//! verifying every dialect, driven by the signing middleware; tampering and replay refused,
//! key rotation exercised, roles applied to the path, mutual-TLS pins, the 413 and 503 answers.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use apisig::claim::{Claim, Deferred};
use apisig::pin::{PinKind, fingerprint};
use apisig::{
    Credentials, Error, Request as CoreRequest, Signer, Stamp, Verifier, Window, client::Slot, dialect,
    keyring::Keyring, pin::Pin,
};
use apisig_http::client::{ApexSession, SigningMiddleware};
use apisig_http::server::{Authenticator, BoxFuture, ClaimStore, Mtls, PeerCertificate};
use common::*;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware};
use serde_json::Value;

fn plain() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn with(m: impl Middleware) -> ClientWithMiddleware {
    ClientBuilder::new(plain()).with(m).build()
}

fn creds(api_key: &str) -> Credentials<'_> {
    Credentials { api_key, ..Credentials::EMPTY }
}

async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn take(log: &Log) -> Vec<u16> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[tokio::test]
async fn every_dialect_signed_by_the_middleware_is_accepted() {
    let (addr, log) = serve(gateway()).await;
    let url = |p: &str| format!("http://{addr}{p}");
    let token = jwt_for("zs-acme");
    let cases: [(&apisig::scheme::Scheme<'static>, Credentials<'_>, &str); 7] = [
        (&dialect::AEVO, Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY }, AEVO_KEY),
        (&dialect::AEVO_SECRET, Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY }, AEVO_KEY),
        (&COINBASE, Credentials { api_key: CB_KEY, secret: CB_SECRET, ..Credentials::EMPTY }, CB_KEY),
        (&dialect::SIGNIUS, creds(SIGNIUS_KEY), "signius-portal"),
        (&dialect::ZIGNSEC, creds(ZS_PRIMARY), "zs-acme"),
        (&dialect::ZIGNSEC_LEGACY, creds(ZS_SECONDARY), "zs-acme"),
        (&dialect::ZIGNSEC_OAUTH, Credentials { api_key: ZS_PRIMARY, token: &token, ..Credentials::EMPTY }, "zs-acme"),
    ];
    for (scheme, c, client_id) in cases {
        let client = with(SigningMiddleware::new(scheme, c).unwrap());
        for (method, body) in [("GET", ""), ("POST", "{\"qty\":1,\"side\":\"buy\"}")] {
            let req = client.request(method.parse().unwrap(), url("/v1/orders?limit=5")).body(body);
            let (status, got) = json(req.send().await.unwrap()).await;
            assert_eq!(status, 200, "{} {method}: {got}", scheme.name);
            assert_eq!(got["client_id"], client_id);
            assert_eq!(got["scheme"], scheme.name);
            assert_eq!(got["body"], body, "the handler gets the body unchanged");
        }
    }
    assert_eq!(take(&log), vec![200; 14], "no request needed a retry");

    // APEX: AuthenticateUser once, then aptoken.
    let apex = ApexSession::new(
        Credentials { api_key: APEX_KEY, secret: APEX_SECRET, user_id: APEX_USER, ..Credentials::EMPTY },
        "/AuthenticateUser",
    )
    .unwrap();
    let client = with(apex);
    for _ in 0..3 {
        let (status, got) = json(client.get(url("/v1/account")).send().await.unwrap()).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!((got["client_id"].as_str(), got["scheme"].as_str()), (Some(APEX_KEY), Some("apex-session")));
        assert_eq!(got["user_id"], APEX_USER);
    }
    assert_eq!(take(&log), [200; 4], "one AuthenticateUser, then three requests");

    // Securosys: an API key per role, and a bearer JWT.
    let (addr, _) = serve(tsb()).await;
    let token = jwt_for("tsb-ops");
    for c in [creds(TSB_OPS), Credentials { token: &token, ..Credentials::EMPTY }] {
        let scheme = if c.token.is_empty() { &dialect::SECUROSYS } else { &dialect::SECUROSYS_JWT };
        let client = with(SigningMiddleware::new(scheme, c).unwrap());
        let (status, got) = json(client.post(format!("http://{addr}/v1/sign")).send().await.unwrap()).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!((got["client_id"].as_str(), got["role"].as_str()), (Some("tsb-ops"), Some("keyOperationToken")));
    }
}

/// Aevo headers for `method target body` signed now with the test credentials.
fn aevo_headers(method: &str, target: &str, body: &[u8]) -> Vec<(String, String)> {
    let c = Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY };
    let set = Signer::new(&dialect::AEVO, c)
        .unwrap()
        .sign(&CoreRequest::new(method, target).with_body(body), Stamp { now: apisig_http::now(), nonce: None })
        .unwrap();
    set.iter().map(|l| (l.name.to_owned(), format!("{}{}", l.prefix, l.value))).collect()
}

async fn send(addr: SocketAddr, target: &str, headers: &[(String, String)], body: &'static str) -> reqwest::Response {
    let mut req = plain().post(format!("http://{addr}{target}")).body(body);
    for (n, v) in headers {
        req = req.header(n, v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn tampering_and_replay_are_refused_with_the_core_error() {
    let (addr, _) = serve(gateway()).await;
    let headers = aevo_headers("POST", "/v1/orders", b"{\"qty\":1}");
    let refused = send(addr, "/v1/orders", &headers, "{\"qty\":9}").await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(challenge, "Apisig realm=\"apisig\", error=\"signature_mismatch\"");
    let (_, body) = json(refused).await;
    assert_eq!(
        body,
        serde_json::json!({"error": "signature_mismatch", "code": 22, "message": "signature does not match"})
    );
    let (status, _) = json(send(addr, "/v1/orders?x=1", &headers, "{\"qty\":1}").await).await;
    assert_eq!(status, 401, "another target");

    assert_eq!(send(addr, "/v1/orders", &headers, "{\"qty\":1}").await.status(), 200);
    let (status, body) = json(send(addr, "/v1/orders", &headers, "{\"qty\":1}").await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("replayed_request")));

    let (status, body) = json(plain().get(format!("http://{addr}/v1/orders")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(10)), "no credentials: missing_credential");
    let health = plain().get(format!("http://{addr}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200, "exempt path");
}

#[tokio::test]
async fn rotation_moves_to_the_next_key_and_keeps_it() {
    let (addr, log) = serve(gateway()).await;
    // ZignSec: the old key is retired server-side; 401 → the other key → kept.
    let m = Arc::new(SigningMiddleware::with_keys(&dialect::ZIGNSEC, [creds(ZS_OLD), creds(ZS_NEW)]).unwrap());
    let client = ClientBuilder::new(plain()).with_arc(m.clone()).build();
    let (status, got) = json(client.get(format!("http://{addr}/v1/id")).send().await.unwrap()).await;
    assert_eq!((status, got["slot"].as_str()), (200, Some("secondary")));
    assert_eq!(take(&log), [401, 200]);
    assert_eq!(m.current_key(), 1);
    assert_eq!(client.get(format!("http://{addr}/v1/id")).send().await.unwrap().status(), 200);
    assert_eq!(take(&log), [200], "the key that worked is current");

    // ZignSec also retries on 403 (the product refuses the primary key), with a body.
    let client =
        with(SigningMiddleware::with_keys(&dialect::ZIGNSEC, [creds(ZS_PRIMARY), creds(ZS_SECONDARY)]).unwrap());
    let (status, got) = json(client.post(format!("http://{addr}/zs/strict")).body("abc").send().await.unwrap()).await;
    assert_eq!((status, got["body"].as_str()), (200, Some("abc")));
    assert_eq!(take(&log), [403, 200]);

    // Securosys rolls over on 401 only, through every key.
    let (addr, log) = serve(tsb()).await;
    let keys = [creds(TSB_REVOKED), creds("op-unknown"), creds(TSB_OPS_2)];
    let client = with(SigningMiddleware::with_keys(&dialect::SECUROSYS, keys).unwrap());
    let (status, got) = json(client.post(format!("http://{addr}/v1/sign")).send().await.unwrap()).await;
    assert_eq!((status, got["client_id"].as_str()), (200, Some("tsb-ops-2")));
    assert_eq!(take(&log), [401, 401, 200]);
    let client = with(SigningMiddleware::with_keys(&dialect::SECUROSYS, [creds(TSB_MGMT), creds(TSB_OPS)]).unwrap());
    let (status, got) = json(client.post(format!("http://{addr}/v1/sign")).send().await.unwrap()).await;
    assert_eq!((status, got["error"].as_str()), (403, Some("forbidden")), "403 is not retried for Securosys");
    assert_eq!(take(&log), [403]);
}

#[tokio::test]
async fn keys_rotated_on_the_server_while_it_serves() {
    let layer = gateway().layer();
    let auth = layer.authenticator();
    // The gateway's verifier, as common::gateway_verifier builds it.
    type Gateway = Verifier<Keyring<16>, apisig::replay::ReplayCache<4096>>;
    let wrong: Option<()> = auth.with_verifier(|_: &mut Verifier<Keyring<4>, apisig::replay::ReplayCache<4096>>| ());
    assert_eq!(wrong, None, "another keyring size is not this verifier");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().fallback(|| async { "ok" }).layer(layer.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let client = with(SigningMiddleware::new(&dialect::ZIGNSEC, creds("zs-brand-new-key-1")).unwrap());
    let get = || client.get(format!("http://{addr}/v1/x")).send();
    assert_eq!(get().await.unwrap().status(), 401, "not registered yet");
    let added = auth.with_verifier(|v: &mut Gateway| v.store_mut().add("zs-new", b"zs-brand-new-key-1"));
    assert!(matches!(added, Some(Ok(_))));
    assert_eq!(get().await.unwrap().status(), 200, "registered while serving");
    let retired = auth.with_verifier(|v: &mut Gateway| v.store_mut().set_secret("zs-new", Slot::Primary, None));
    assert_eq!(retired, Some(Ok(())));
    assert_eq!(get().await.unwrap().status(), 401, "retired while serving");
    // A revoked client is refused with its own code, whatever key it still holds.
    let get_acme = || {
        with(SigningMiddleware::new(&dialect::ZIGNSEC, creds(ZS_PRIMARY)).unwrap())
            .get(format!("http://{addr}/v1/x"))
            .send()
    };
    assert_eq!(get_acme().await.unwrap().status(), 200);
    let revoked = auth.with_verifier(|v: &mut Gateway| {
        v.store_mut().update("zs-acme", |c| {
            c.set_status(apisig::client::Status::Revoked);
            Ok(())
        })
    });
    assert_eq!(revoked, Some(Ok(())));
    let refused = get_acme().await.unwrap();
    assert_eq!(refused.status(), 401, "revoked while serving");
    assert!(refused.text().await.unwrap().contains("client_revoked"));
}

#[tokio::test]
async fn roles_are_applied_to_the_canonical_path() {
    let (addr, _) = serve(tsb()).await;
    let client = with(SigningMiddleware::new(&dialect::SECUROSYS, creds(TSB_MGMT)).unwrap());
    let get = |p: &'static str| client.get(format!("http://{addr}{p}")).send();
    let (status, body) = json(get("/v1/sign").await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, body) = json(get("/v1/key/attributes//x").await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("non_canonical_path")));
    let (status, body) = json(get("/v1/key/attributes").await.unwrap()).await;
    assert_eq!((status, body["role"].as_str()), (200, Some("keyManagementToken")), "{body}");
}

#[tokio::test]
async fn bodies_are_buffered_only_for_schemes_that_sign_them() {
    let (addr, _) = serve(gateway().max_body(16)).await;
    let aevo = with(
        SigningMiddleware::new(
            &dialect::AEVO,
            Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY },
        )
        .unwrap(),
    );
    let big = "x".repeat(100);
    let res = aevo.post(format!("http://{addr}/v1/upload")).body(big.clone()).send().await.unwrap();
    assert_eq!(res.status(), 413);
    let small = aevo.post(format!("http://{addr}/v1/upload")).body("0123456789abcdef").send().await.unwrap();
    assert_eq!(small.status(), 200, "exactly the limit");
    let signius = with(SigningMiddleware::new(&dialect::SIGNIUS, creds(SIGNIUS_KEY)).unwrap());
    let (status, got) = json(signius.post(format!("http://{addr}/v1/upload")).body(big).send().await.unwrap()).await;
    assert_eq!((status, got["length"].as_u64()), (200, Some(100)), "a static key does not sign the body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_are_verified_off_the_runtime_threads_and_handed_on() {
    let (addr, _) = serve(gateway()).await;
    let aevo = with(
        SigningMiddleware::new(
            &dialect::AEVO,
            Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY },
        )
        .unwrap(),
    );
    // 1.5 MiB: under axum's own 2 MB limit for the handler's `Bytes`.
    let body: Vec<u8> = (0..(3usize << 19)).map(|i| (i % 251) as u8).collect();
    assert!(body.len() >= apisig_http::server::OFFLOAD_BODY);
    let (status, got) = json(aevo.put(format!("http://{addr}/v1/blob")).body(body.clone()).send().await.unwrap()).await;
    assert_eq!((status, got["length"].as_u64()), (200, Some(body.len() as u64)));
    assert_eq!(got["sha256"], sha256_hex(&body));
    let mut headers = aevo_headers("PUT", "/v1/blob", &body);
    headers.retain(|(n, _)| n != "Content-Length");
    let mut tampered = body.clone();
    tampered[1 << 20] ^= 1;
    let mut req = plain().put(format!("http://{addr}/v1/blob")).body(tampered);
    for (n, v) in &headers {
        req = req.header(n, v);
    }
    let (status, got) = json(req.send().await.unwrap()).await;
    assert_eq!((status, got["error"].as_str()), (401, Some("signature_mismatch")));
}

#[tokio::test]
async fn apex_login_refusals_and_body_fields() {
    let (addr, _) = serve(gateway()).await;
    let wrong = ApexSession::new(
        Credentials { api_key: APEX_KEY, secret: b"not-the-secret", user_id: APEX_USER, ..Credentials::EMPTY },
        "/AuthenticateUser",
    )
    .unwrap();
    let (status, got) = json(with(wrong).get(format!("http://{addr}/v1/account")).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!((got["Authenticated"].as_bool(), got["error"].as_str()), (Some(false), Some("signature_mismatch")));

    // The signed fields in the JSON body only (as AlphaPoint's WebSocket clients send them).
    let c = Credentials { api_key: APEX_KEY, secret: APEX_SECRET, user_id: APEX_USER, ..Credentials::EMPTY };
    let stamp = Stamp { now: apisig_http::now(), nonce: Some(apisig_http::now() / 1_000_000) };
    let set =
        Signer::new(&dialect::APEX, c).unwrap().sign(&CoreRequest::new("POST", "/AuthenticateUser"), stamp).unwrap();
    let mut doc = vec![0u8; set.json_len()];
    set.write_json(&mut doc).unwrap();
    let res = plain().post(format!("http://{addr}/AuthenticateUser")).body(doc.clone()).send().await.unwrap();
    let (status, got) = json(res).await;
    assert_eq!((status, got["Authenticated"].as_bool()), (200, Some(true)), "{got}");
    let token = got["SessionToken"].as_str().unwrap().to_owned();
    let res = plain().post(format!("http://{addr}/AuthenticateUser")).body(doc).send().await.unwrap();
    assert_eq!(json(res).await.1["error"], "replayed_request", "the nonce must grow");
    let res = plain().get(format!("http://{addr}/v1/x")).header("aptoken", &token).send().await.unwrap();
    assert_eq!(json(res).await.1["client_id"], APEX_KEY);
}

/// A shared replay record in a map, as Redis would keep it (for the 503 and the order checks).
#[derive(Default)]
struct MapStore {
    seen: std::sync::Mutex<std::collections::HashSet<Vec<u8>>>,
    calls: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

impl ClaimStore for MapStore {
    fn claim<'a>(&'a self, claim: &'a Claim) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await; // a real await point, as a network store has
            if self.down.load(Ordering::SeqCst) {
                return Err(Error::ReplayStoreUnavailable);
            }
            let fresh = self.seen.lock().unwrap().insert(claim.key().to_vec());
            if fresh { Ok(()) } else { Err(Error::ReplayedRequest) }
        })
    }
}

fn shared(store: Arc<MapStore>) -> Authenticator {
    let mut ring = Keyring::<4>::new();
    ring.add(AEVO_KEY, AEVO_SECRET).unwrap();
    Authenticator::shared(Verifier::new(ring, Deferred::new(), Window::DEFAULT), store).scheme(&dialect::AEVO).unwrap()
}

#[tokio::test]
async fn a_shared_replay_record_is_asked_after_verification_and_fails_closed() {
    let store = Arc::new(MapStore::default());
    // Two workers, one record: a request accepted by one is a replay at the other.
    let (a, _) = serve(shared(store.clone())).await;
    let (b, _) = serve(shared(store.clone())).await;
    let headers = aevo_headers("POST", "/v1/orders", b"{}");
    assert_eq!(send(a, "/v1/orders", &headers, "{}").await.status(), 200);
    let (status, body) = json(send(b, "/v1/orders", &headers, "{}").await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("replayed_request")));
    let before = store.calls.load(Ordering::SeqCst);
    assert_eq!(send(a, "/v1/orders", &aevo_headers("POST", "/v1/orders", b"{}"), "{!}").await.status(), 401);
    assert_eq!(store.calls.load(Ordering::SeqCst), before, "a refused request claims nothing");

    store.down.store(true, Ordering::SeqCst);
    let res = send(a, "/v1/orders", &aevo_headers("POST", "/v1/orders", b"{}"), "{}").await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().get("www-authenticate").is_none());
    assert_eq!(json(res).await.1["error"], "replay_store_unavailable");
}

fn cert(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../tests/vectors/certs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A server whose "TLS acceptor" presents `der` as the client's certificate on every request.
async fn serve_mtls(mode: Mtls, der: Option<Vec<u8>>) -> SocketAddr {
    let mut ring = Keyring::<4>::new();
    let portal = "signius-portal";
    ring.add(portal, SIGNIUS_KEY.as_bytes()).unwrap();
    let pin = Pin {
        kind: PinKind::PublicKey,
        fingerprint: fingerprint(&cert("client-ec-p256.der"), PinKind::PublicKey).unwrap(),
    };
    ring.set_pin(portal, Slot::Primary, Some(pin)).unwrap();
    ring.add("other", b"other-key-0123456789").unwrap();
    let auth = Authenticator::new(Verifier::new(ring, apisig::replay::ReplayCache::<64>::new(), Window::DEFAULT))
        .scheme(&dialect::SIGNIUS)
        .unwrap()
        .mtls(mode);
    let log = Log::default();
    let app = app(auth, log).layer(axum::middleware::map_request(move |mut req: axum::extract::Request| {
        let der = der.clone();
        async move {
            if let Some(der) = der {
                req.extensions_mut().insert(PeerCertificate(der.into()));
            }
            req
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn status_of<F: Future<Output = reqwest_middleware::Result<reqwest::Response>>>(f: F) -> (u16, Value) {
    json(f.await.unwrap()).await
}

#[tokio::test]
async fn mutual_tls_pins_alone_and_with_credentials() {
    let signius = |key| with(SigningMiddleware::new(&dialect::SIGNIUS, creds(key)).unwrap());
    let bare = ClientBuilder::new(plain()).build();

    // Re-issued certificate for the same key: the public-key pin still holds.
    let addr = serve_mtls(Mtls::Alone, Some(cert("client-ec-p256-reissued.der"))).await;
    let (status, got) = status_of(bare.get(format!("http://{addr}/v1/x")).send()).await;
    assert_eq!(
        (status, got["client_id"].as_str(), got["scheme"].as_str()),
        (200, Some("signius-portal"), Some("mtls"))
    );

    let addr = serve_mtls(Mtls::Combined, Some(cert("client-ec-p256.der"))).await;
    let (status, got) = status_of(signius(SIGNIUS_KEY).get(format!("http://{addr}/v1/x")).send()).await;
    assert_eq!((status, got["scheme"].as_str()), (200, Some("signius")));
    let (status, got) = status_of(signius("other-key-0123456789").get(format!("http://{addr}/v1/x")).send()).await;
    assert_eq!((status, got["error"].as_str()), (401, Some("unpinned_certificate")), "pinned to another client");
    let (status, got) = status_of(bare.get(format!("http://{addr}/v1/x")).send()).await;
    assert_eq!((status, got["error"].as_str()), (401, Some("missing_credential")));

    let addr = serve_mtls(Mtls::Combined, Some(cert("rsa2048-leaf.der"))).await;
    let (status, got) = status_of(signius(SIGNIUS_KEY).get(format!("http://{addr}/v1/x")).send()).await;
    assert_eq!((status, got["error"].as_str()), (401, Some("unpinned_certificate")));
    let addr = serve_mtls(Mtls::Alone, None).await;
    let (status, got) = status_of(signius(SIGNIUS_KEY).get(format!("http://{addr}/v1/x")).send()).await;
    assert_eq!((status, got["error"].as_str()), (401, Some("missing_credential")), "no certificate");
}

#[tokio::test]
async fn only_the_headers_a_scheme_reads_count() {
    let (addr, _) = serve(gateway()).await;
    let mut headers = aevo_headers("POST", "/v1/orders", b"{}");
    headers.push(("Accept".into(), "a".into()));
    headers.push(("Accept".into(), "b".into()));
    assert_eq!(send(addr, "/v1/orders", &headers, "{}").await.status(), 200, "an unrelated header may repeat");
    let mut headers = aevo_headers("POST", "/v1/orders", b"{}");
    let sig = headers.iter().find(|(n, _)| n == "AEVO-SIGNATURE").unwrap().clone();
    headers.push(sig);
    let (status, body) = json(send(addr, "/v1/orders", &headers, "{}").await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("duplicate_header")));
}
