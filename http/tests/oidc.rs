//! The `oidc` feature against a real, independent OpenID provider: node-oidc-provider
//! (installed by scripts/oidc-provider.sh, configured by python/tests/oidc_provider.mjs, the
//! provider the Python tests use) on 127.0.0.1. The client finds the token endpoint by
//! discovery and fetches client-credentials tokens (both client authentications); an axum
//! server with `OidcLayer` (the provider's JWK set) and `ApisigLayer` (ZignSec's product key)
//! accepts them; the provider's keys are rotated and the provider stopped. Opaque tokens are
//! checked by RFC 7662 introspection (cached, revoked, another audience, a wrong client secret,
//! the provider stopped).
#![cfg(feature = "oidc")]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::arithmetic_side_effects)]
#![allow(clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use apisig::client::Slot;
use apisig::jwk::{Alg, AlgSet};
use apisig::keyring::Keyring;
use apisig::{Credentials, Error, Verifier, Window, dialect, replay::ReplayCache};
use apisig_http::client::SigningMiddleware;
use apisig_http::introspection::Introspector;
use apisig_http::oidc::{AccessToken, AuthMethod, ClientCredentials, Jwks, OidcError, OidcLayer};
use apisig_http::server::{Authenticator, Principal};
use axum::Router;
use axum::extract::Extension;
use axum::response::Json;
use axum::routing::get;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const API: &str = "https://api.example.test/";
const BASIC: (&str, &str) = ("client-basic", "secret-basic-0123456789abcdef0123456789");
const POST: (&str, &str) = ("client-post", "secret-post-0123456789abcdef0123456789a");
const PRIMARY: &str = "zs-primary-6a0c2f";
const SECONDARY: &str = "zs-secondary-91be44";
const S: u64 = 1_000_000_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One node-oidc-provider process on a free loopback port.
struct Provider {
    port: u16,
    child: Option<Child>,
}

impl Provider {
    /// Starts the provider; one that is not ready in 30 s (node, rarely, on a loaded machine)
    /// is killed and started once more.
    async fn start(port: u16, generation: u32) -> Provider {
        for _ in 0..2 {
            if let Ok(provider) = tokio::time::timeout(Duration::from_secs(30), Provider::spawn(port, generation)).await
            {
                return provider;
            }
        }
        panic!("node-oidc-provider did not start on port {port}");
    }

    async fn spawn(port: u16, generation: u32) -> Provider {
        let mut child = Command::new("node")
            .arg(root().join("python/tests/oidc_provider.mjs"))
            .arg(port.to_string())
            .arg(generation.to_string())
            .env("OIDC_PROVIDER_DIR", root().join(".oidc-provider"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("ready "), "provider did not start: {line:?}");
        // The provider prints notices later (introspection's): a closed pipe would kill it.
        tokio::spawn(async move { tokio::io::copy(&mut out, &mut tokio::io::sink()).await });
        Provider { port, child: Some(child) }
    }

    async fn launch() -> Provider {
        let status = std::process::Command::new(root().join("scripts/oidc-provider.sh")).status().unwrap();
        assert!(status.success(), "scripts/oidc-provider.sh");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Provider::start(port, 1).await
    }

    fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }
}

/// The resource server: ZignSec's product key (`ApisigLayer`, outer: checked first) and the
/// provider's access token (`OidcLayer`), both required.
async fn resource(jwks: Arc<Jwks>) -> SocketAddr {
    let mut ring = Keyring::<4>::new();
    ring.add("zs-customer", PRIMARY.as_bytes()).unwrap();
    ring.set_secret("zs-customer", Slot::Secondary, Some(SECONDARY.as_bytes())).unwrap();
    let verifier = Verifier::new(ring, ReplayCache::<64>::new(), Window::DEFAULT);
    let keys = Authenticator::new(verifier).scheme(&dialect::ZIGNSEC).unwrap().layer();
    let app = Router::new()
        .route(
            "/v3/ekyc",
            get(|Extension(token): Extension<AccessToken>, Extension(key): Extension<Principal>| async move {
                Json(serde_json::json!({
                    "client_id": token.client_id, "scopes": token.scopes, "alg": token.alg.map(|a| a.name()),
                    "key": key.client_id, "slot": format!("{:?}", key.slot),
                }))
            }),
        )
        .layer(OidcLayer::shared(jwks))
        .layer(keys);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn jwks(issuer: &str, audience: &str) -> Jwks {
    Jwks::new(reqwest::Client::new(), issuer, audience).algorithms(AlgSet::EMPTY.with(Alg::Es256)).strict(true)
}

async fn credentials(
    issuer: &str,
    (id, secret): (&str, &str),
    method: AuthMethod,
    resource: &str,
) -> ClientCredentials {
    ClientCredentials::from_issuer(&reqwest::Client::new(), issuer, id, secret)
        .await
        .unwrap()
        .auth_method(method)
        .param("scope", "payments:read")
        .param("resource", resource)
}

fn client(creds: Arc<ClientCredentials>, keys: &[&str]) -> reqwest_middleware::ClientWithMiddleware {
    let signer = SigningMiddleware::with_keys(
        &dialect::ZIGNSEC,
        keys.iter().map(|k| Credentials { api_key: k, ..Credentials::EMPTY }),
    )
    .unwrap();
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new()).with_arc(creds).with(signer).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oidc_against_node_oidc_provider() {
    let mut provider = Provider::launch().await;
    let issuer = provider.issuer();

    // Discovery: the document's issuer must be the one asked for, exactly.
    let slash = ClientCredentials::from_issuer(&reqwest::Client::new(), &format!("{issuer}/"), "c", "s").await;
    assert!(matches!(slash, Err(apisig_http::oidc::OidcError::Core(Error::DiscoveryMismatch))), "{slash:?}");

    let keys = Arc::new(jwks(&issuer, &format!("{API}ES256")).refetch_interval(Duration::from_millis(300)));
    let addr = resource(Arc::clone(&keys)).await;
    let url = format!("http://{addr}/v3/ekyc");

    // Both client authentications, through discovery; product key and token both checked.
    for (who, method) in [(BASIC, AuthMethod::ClientSecretBasic), (POST, AuthMethod::ClientSecretPost)] {
        let creds = Arc::new(credentials(&issuer, who, method, &format!("{API}ES256")).await);
        assert_eq!(creds.token_url(), format!("{issuer}/token"));
        let res = client(Arc::clone(&creds), &[PRIMARY]).get(&url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["client_id"], who.0);
        assert_eq!((body["alg"].as_str(), body["key"].as_str()), (Some("ES256"), Some("zs-customer")));
        assert_eq!(body["scopes"], serde_json::json!(["payments:read"]));
        assert_eq!(creds.fetches(), 1);
    }
    assert_eq!(keys.fetches(), 1);

    // Refusals: no product key, no token, a token for another resource, a wrong secret.
    let creds = Arc::new(credentials(&issuer, BASIC, AuthMethod::ClientSecretBasic, &format!("{API}ES256")).await);
    let token = creds.token().await.unwrap();
    let plain = reqwest::Client::new();
    let res = plain.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!((res.status().as_u16(), error(res).await), (401, "missing_credential".into()));
    let res = plain.get(&url).header("Zs-Product-Key", PRIMARY).send().await.unwrap();
    assert_eq!((res.status().as_u16(), error(res).await), (401, "missing_credential".into()));
    let other = credentials(&issuer, BASIC, AuthMethod::ClientSecretBasic, &format!("{API}EdDSA")).await;
    let res = plain.get(&url).header("Zs-Product-Key", PRIMARY).bearer_auth(other.token().await.unwrap()).send();
    let res = res.await.unwrap();
    assert_eq!((res.status().as_u16(), error(res).await), (401, "algorithm_not_allowed".into()));
    let wrong = ClientCredentials::new(&plain, format!("{issuer}/token"), BASIC.0, "wrong");
    assert!(matches!(wrong.token().await, Err(apisig_http::oidc::OidcError::Token { status: 401, .. })));

    // Many concurrent requests, one token; ZignSec's primary key retired: the secondary is
    // used after a 401, and stays current.
    let creds = Arc::new(credentials(&issuer, POST, AuthMethod::ClientSecretPost, &format!("{API}ES256")).await);
    let api = client(Arc::clone(&creds), &["zs-retired", SECONDARY]);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (api, url) = (api.clone(), url.clone());
        tasks.push(tokio::spawn(async move { api.get(&url).send().await.unwrap().status().as_u16() }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(creds.fetches(), 1);

    // The token is kept until the core's TokenLifetime says refresh (the provider's 1200 s,
    // minus 60 s).
    let now = Arc::new(AtomicU64::new(apisig_http::now()));
    let clock = Arc::clone(&now);
    let creds = credentials(&issuer, BASIC, AuthMethod::ClientSecretBasic, &format!("{API}ES256")).await;
    let creds = Arc::new(creds.clock(move || clock.load(Ordering::SeqCst)));
    let api = client(Arc::clone(&creds), &[PRIMARY]);
    let start = now.load(Ordering::SeqCst);
    for (at, fetches) in [(0, 1), (1139, 1), (1140, 2), (1141, 2)] {
        now.store(start + at * S, Ordering::SeqCst);
        assert_eq!(api.get(&url).send().await.unwrap().status(), 200);
        assert_eq!(creds.fetches(), fetches, "at {at} s");
    }

    // A token the resource server refuses (expired by its clock, which the client's frozen
    // clock does not see): dropped, a new one fetched, the request sent once more.
    let short_keys = Arc::new(jwks(&issuer, &format!("{API}ES256/short")));
    let short_addr = resource(Arc::clone(&short_keys)).await;
    let frozen = apisig_http::now();
    let creds = credentials(&issuer, BASIC, AuthMethod::ClientSecretBasic, &format!("{API}ES256/short")).await;
    let creds = Arc::new(creds.clock(move || frozen));
    let api = client(Arc::clone(&creds), &[PRIMARY]);
    let short_url = format!("http://{short_addr}/v3/ekyc");
    assert_eq!(api.get(&short_url).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(3100)).await; // the 2 s token has expired
    assert_eq!(api.get(&short_url).send().await.unwrap().status(), 200);
    assert_eq!(creds.fetches(), 2);

    // Key rotation: the provider restarts with new keys; a token with the new kid makes the set
    // fetched again (once the refetch interval has passed) and is accepted; the old kid is gone.
    let old = creds_token(&issuer).await;
    provider.stop().await;
    provider = Provider::start(provider.port, 2).await;
    let new = creds_token(&issuer).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let send = |t: String| plain.get(&url).header("Zs-Product-Key", PRIMARY).bearer_auth(t).send();
    let res = send(new.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(keys.has_kid("ec-2") && !keys.has_kid("ec-1"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let res = send(old.clone()).await.unwrap();
    assert_eq!((res.status().as_u16(), error(res).await), (503, "unknown_kid".into()));

    // The provider stopped: the kept keys still verify, past their max-age too (the failed
    // refetch keeps the last good set); an unknown kid fails closed.
    let stale = jwks(&issuer, &format!("{API}ES256"))
        .default_max_age(Duration::from_millis(200))
        .refetch_interval(Duration::from_millis(100));
    assert_eq!(stale.verify(&new).await.map(|t| t.client_id), Ok(Some(BASIC.0.to_owned())));
    provider.stop().await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(send(new.clone()).await.unwrap().status(), 200);
    assert_eq!(stale.refresh(false).await, Err(Error::JwksUnavailable), "the provider is down");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(stale.verify(&new).await.map(|t| t.client_id), Ok(Some(BASIC.0.to_owned())));
    assert_eq!(stale.fetches(), 1);
    let res = send(old.clone()).await.unwrap();
    assert_eq!((res.status().as_u16(), error(res).await), (503, "unknown_kid".into()));
    // A server that never had the keys: 503 jwks_unavailable.
    let cold = resource(Arc::new(jwks(&issuer, &format!("{API}ES256")))).await;
    let res = plain.get(format!("http://{cold}/v3/ekyc")).header("Zs-Product-Key", PRIMARY).bearer_auth(old);
    let res = res.send().await.unwrap();
    assert_eq!((res.status().as_u16(), error(res).await), (503, "jwks_unavailable".into()));
}

/// A server whose handler answers with the principal the layer put in the request.
async fn principal_server(layer: OidcLayer) -> String {
    let app = Router::new()
        .route(
            "/v3/ekyc",
            get(|Extension(token): Extension<AccessToken>| async move {
                Json(serde_json::json!({
                    "client_id": token.client_id, "sub": token.subject, "scopes": token.scopes,
                    "alg": token.alg.map(|a| a.name()), "aud": token.audience,
                }))
            }),
        )
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v3/ekyc")
}

/// The system clock, which tests move forward (tokens the provider issues later must not be
/// issued in this clock's future).
#[derive(Clone)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn new() -> Clock {
        Clock(Arc::new(AtomicU64::new(0)))
    }

    fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds * S, Ordering::SeqCst);
    }

    fn reader(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let ahead = Arc::clone(&self.0);
        move || apisig_http::now() + ahead.load(Ordering::SeqCst)
    }
}

async fn opaque_token(issuer: &str, resource: &str) -> String {
    let token = credentials(issuer, BASIC, AuthMethod::ClientSecretBasic, resource).await.token().await.unwrap();
    assert!(!token.contains('.'), "an opaque token, not a JWT: {token}");
    token
}

async fn status_and_body(res: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let res = res.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opaque_tokens_by_introspection_against_node_oidc_provider() {
    let mut provider = Provider::launch().await;
    let issuer = provider.issuer();
    let opaque = format!("{API}opaque");
    let http = reqwest::Client::new();
    let clock = Clock::new();
    let introspector = |secret: &str| {
        Introspector::new(&http, &issuer, BASIC.0, secret).audience(&opaque).max_cache(Duration::from_secs(60))
    };
    let intro = Arc::new(introspector(BASIC.1).clock(clock.reader()));
    assert_eq!(intro.introspection_endpoint().await.unwrap(), format!("{issuer}/token/introspection"));
    let keys = Arc::new(jwks(&issuer, &format!("{API}ES256")));
    let url = principal_server(OidcLayer::shared(Arc::clone(&keys)).opaque_tokens(Arc::clone(&intro))).await;
    let get = |token: &str| http.get(&url).bearer_auth(token);

    // An opaque token: 16 concurrent requests, one introspection; the handler sees the client.
    let token = opaque_token(&issuer, &opaque).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let req = get(&token);
        tasks.push(tokio::spawn(status_and_body(req)));
    }
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["client_id"], BASIC.0);
        assert_eq!(body["scopes"], serde_json::json!(["payments:read"]));
        assert_eq!((body["alg"].clone(), body["aud"].clone()), (serde_json::Value::Null, serde_json::json!([opaque])));
    }
    assert_eq!((intro.requests(), intro.cached()), (1, 1));

    // A JWT goes to the JWK set, not to introspection.
    let jwt = creds_token(&issuer).await;
    let (status, body) = status_and_body(get(&jwt)).await;
    assert_eq!((status, body["alg"].as_str()), (200, Some("ES256")));
    assert_eq!((intro.requests(), keys.fetches()), (1, 1));

    // client_secret_post at the introspection endpoint (another client may introspect).
    let post = Introspector::new(&http, &issuer, POST.0, POST.1).auth_method(AuthMethod::ClientSecretPost);
    assert_eq!(post.introspect(&token).await.unwrap().client_id.as_deref(), Some(BASIC.0));

    // The cache is bounded: with room for two answers, a third replaces one.
    let small = introspector(BASIC.1).capacity(2);
    for (n, t) in
        [token.clone(), opaque_token(&issuer, &opaque).await, opaque_token(&issuer, &opaque).await].iter().enumerate()
    {
        small.verify(t).await.unwrap();
        assert_eq!(small.cached(), (n + 1).min(2));
    }
    assert_eq!(small.requests(), 3);

    // A token the provider never issued: inactive, not kept (asked again each time).
    for n in [2, 3] {
        let (status, body) = status_and_body(get("not-a-token-the-provider-issued")).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("token_inactive")));
        assert_eq!(intro.requests(), n);
    }
    // A token for another resource: its audience is not ours.
    let other = opaque_token(&issuer, &format!("{API}opaque/short")).await;
    let (status, body) = status_and_body(get(&other)).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("audience_mismatch")));

    // An answer is never kept past the token's exp: a 2-second token is asked about again.
    let short_clock = Clock::new();
    let short = introspector(BASIC.1).audience(format!("{opaque}/short")).clock(short_clock.reader());
    assert_eq!(short.verify(&other).await.unwrap().client_id.as_deref(), Some(BASIC.0));
    assert_eq!(short.verify(&other).await.map(|_| short.requests()), Ok(1));
    short_clock.advance(3);
    let refused = short.verify(&other).await.unwrap_err();
    assert!(matches!(refused, Error::TokenExpired | Error::TokenInactive), "{refused:?}");
    assert_eq!(short.requests(), 2);

    // The resource server's own secret wrong: a clear error, not "inactive"; 503 at the layer.
    let wrong = Arc::new(introspector("wrong-secret"));
    match wrong.introspect(&token).await {
        Err(OidcError::Introspection { status: 401, error }) => assert_eq!(error.as_deref(), Some("invalid_client")),
        other => panic!("{other:?}"),
    }
    assert!(wrong.last_failure().unwrap().contains("invalid_client"), "{:?}", wrong.last_failure());
    let wrong_url = principal_server(OidcLayer::introspected(Arc::clone(&wrong))).await;
    let (status, body) = status_and_body(http.get(&wrong_url).bearer_auth(&token)).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("introspection_unavailable")));

    // Revoked (RFC 7009): still accepted while the answer is kept, refused once it expires.
    let doc = apisig_http::oidc::discover(&http, &issuer).await.unwrap();
    let revoked = opaque_token(&issuer, &opaque).await;
    let (status, body) = status_and_body(get(&revoked)).await;
    assert_eq!(status, 200, "{body}");
    let revocation = doc["revocation_endpoint"].as_str().unwrap();
    let res = http.post(revocation).basic_auth(BASIC.0, Some(BASIC.1)).form(&[("token", revoked.as_str())]).send();
    assert_eq!(res.await.unwrap().status(), 200);
    assert_eq!(status_and_body(get(&revoked)).await.0, 200);
    let asked = intro.requests();
    clock.advance(61);
    let (status, body) = status_and_body(get(&revoked)).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("token_inactive")), "{body}");
    assert_eq!(intro.requests(), asked + 1);

    // The provider stopped: kept answers still serve until they expire (with serve_stale a
    // while longer); new tokens fail closed (503), unless the introspector fails open.
    let kept = opaque_token(&issuer, &opaque).await;
    let unseen = opaque_token(&issuer, &opaque).await;
    assert_eq!(status_and_body(get(&kept)).await.0, 200);
    let patient = introspector(BASIC.1).serve_stale(Duration::from_secs(3600)).clock(clock.reader());
    assert_eq!(patient.verify(&kept).await.map(|t| t.client_id), Ok(Some(BASIC.0.to_owned())));
    provider.stop().await;
    assert_eq!(status_and_body(get(&kept)).await.0, 200);
    let (status, body) = status_and_body(get(&unseen)).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("introspection_unavailable")));
    assert!(matches!(intro.introspect(&unseen).await, Err(OidcError::Http(_))));
    clock.advance(61);
    let (status, body) = status_and_body(get(&kept)).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("introspection_unavailable")));
    assert_eq!(patient.verify(&kept).await.map(|t| t.client_id), Ok(Some(BASIC.0.to_owned())));
    assert_eq!((patient.served_stale(), patient.requests()), (1, 1));
    assert_eq!(patient.verify(&unseen).await, Err(Error::IntrospectionUnavailable));
    clock.advance(1200); // past the token's exp (1200 s), within max_cache + serve_stale: never past exp
    assert_eq!(patient.verify(&kept).await, Err(Error::IntrospectionUnavailable));
    assert_eq!((patient.served_stale(), patient.cached()), (1, 0));
    let open = Arc::new(introspector(BASIC.1).endpoint(intro.introspection_endpoint().await.unwrap()).fail_open(true));
    let open_url = principal_server(OidcLayer::introspected(Arc::clone(&open))).await;
    let (status, body) = status_and_body(http.get(&open_url).bearer_auth(&unseen)).await;
    assert_eq!(
        (status, body["client_id"].clone(), body["scopes"].clone()),
        (200, serde_json::Value::Null, serde_json::json!([]))
    );
    assert_eq!(open.accepted_unavailable(), 1);
}

async fn creds_token(issuer: &str) -> String {
    credentials(issuer, BASIC, AuthMethod::ClientSecretBasic, &format!("{API}ES256")).await.token().await.unwrap()
}

async fn error(res: reqwest::Response) -> String {
    let body: serde_json::Value = res.json().await.unwrap();
    body["error"].as_str().unwrap().to_owned()
}
