//! The shared token vectors through the `oidc` feature's layer, as the other faces run them
//! (python/tests/test_jwks.py, tests/c/vectors.c): every access-token case of
//! tests/vectors/jws.json (the attack table: algorithm confusion, `alg: none`, a kid of another
//! key type, another issuer's colliding kid, `jku`/`x5u`/`jwk`/`x5c`, `crit`, wrong
//! `iss`/`aud`/`typ`, expired, not yet valid, altered signatures, an oversized token) sent to
//! `OidcLayer` with the case's JWK set served on 127.0.0.1, its JWK-set cases (oversized and
//! malformed sets) loaded by `Jwks`, and every answer of tests/vectors/introspection.json served
//! by a stub introspection endpoint to an `Introspector` behind the layer. Each refusal must be
//! the vectors' error, by name and code, with the status DESIGN.md gives its family; nothing
//! may crash. The vectors' outcomes come from independent oracles (tests/vectors/oracles/).
//! The stub also serves a slow endpoint: concurrent callers with one token send one request.
#![cfg(feature = "oidc")]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::arithmetic_side_effects)]
#![allow(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use apisig::Error;
use apisig::jwk::{Alg, AlgSet};
use apisig_http::introspection::Introspector;
use apisig_http::oidc::{AccessToken, Jwks, OidcLayer};
use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::response::Json;
use axum::routing::{get, post};
use http::{Request, header};
use serde_json::Value;
use tower::ServiceExt;

const S: u64 = 1_000_000_000;

fn vectors(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The status of a refusal, by hand from DESIGN.md's families: what cannot be decided for
/// want of the provider's keys or answer is 503 (fail closed), a refused token 401.
fn status_of(error: &str) -> u16 {
    match error {
        "unknown_kid" | "jwks_unavailable" | "introspection_malformed" | "introspection_unavailable" => 503,
        "discovery_mismatch" => 500, // the deployment's mistake
        _ => 401,
    }
}

/// A provider stand-in on 127.0.0.1: `/jwks/<n>` serves JWK set documents, `/introspect`
/// answers the body registered for the posted `token`. It decides nothing.
async fn stub(sets: HashMap<String, String>, answers: HashMap<String, String>) -> String {
    let app = Router::new()
        .route("/jwks/{n}", get(|State((sets, _)): State<Docs>, Path(n): Path<String>| async move { sets[&n].clone() }))
        .route(
            "/introspect",
            post(|State((_, answers)): State<Docs>, form: String| async move {
                let form: HashMap<String, String> = url::form_urlencoded::parse(form.as_bytes()).into_owned().collect();
                answers[&form["token"]].clone()
            }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                r#"{"active":true,"client_id":"c"}"#
            }),
        )
        .route("/other/.well-known/openid-configuration", get(|| async { r#"{"issuer":"https://op.example"}"# }))
        .with_state((Arc::new(sets), Arc::new(answers)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

type Docs = (Arc<HashMap<String, String>>, Arc<HashMap<String, String>>);

/// The app behind the layer: its handler answers with the principal it sees.
fn app(layer: OidcLayer) -> Router {
    Router::new()
        .route(
            "/",
            get(|Extension(t): Extension<AccessToken>| async move {
                Json(serde_json::json!({
                    "sub": t.subject, "client_id": t.client_id, "scope": t.scopes.join(" "),
                    "aud": t.audience, "exp": t.expires,
                }))
            }),
        )
        .layer(layer)
}

/// The layer's answer to `Authorization: Bearer <token>`: status and JSON body.
async fn send(app: Router, token: &str) -> (u16, Value) {
    let req = Request::get("/").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    let res = app.oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

fn refused(id: u64, (status, body): (u16, Value), name: &str) {
    assert_eq!((status, body["error"].as_str()), (status_of(name), Some(name)), "case {id}: {body}");
    assert_eq!(body["code"], Error::from_name(name).unwrap().code(), "case {id}");
}

fn algorithms(names: &Value) -> AlgSet {
    let mut set = AlgSet::EMPTY;
    for name in names.as_array().unwrap() {
        set = set.with(Alg::from_name(name.as_str().unwrap()).expect("an algorithm the vectors name"));
    }
    set
}

#[tokio::test]
async fn the_jws_attack_table_through_the_layer() {
    let file = vectors("jws.json");
    let now = file["now"].as_u64().unwrap() * S;
    let cases = file["tests"].as_array().unwrap();
    let mut sets = HashMap::from([("shared".to_owned(), file["jwks"].as_str().unwrap().to_owned())]);
    for case in cases.iter().filter(|c| c["kind"] == "jwks") {
        sets.insert(case["tcId"].to_string(), case["jwks"].as_str().unwrap().to_owned());
    }
    let base = stub(sets, HashMap::new()).await;
    let http = reqwest::Client::new();
    let jwks = |uri: String, issuer: &Value| {
        Jwks::new(http.clone(), issuer["issuer"].as_str().unwrap(), issuer["audience"].as_str().unwrap())
            .algorithms(algorithms(&issuer["algorithms"]))
            .leeway(issuer["leeway_s"].as_u64().unwrap())
            .strict(issuer["strict"].as_bool().unwrap())
            .jwks_uri(uri)
            .clock(move || now)
    };

    let (mut valid, mut invalid) = (0, 0);
    for case in cases.iter().filter(|c| c["kind"] == "token") {
        let id = case["tcId"].as_u64().unwrap();
        let issuer = &case["issuer"];
        assert_eq!(issuer["max_len"], 8192, "case {id}: the layer reads tokens up to the core's ACCESS_TOKEN_MAX");
        let keys = Arc::new(jwks(format!("{base}/jwks/shared"), issuer));
        let answer = send(app(OidcLayer::shared(Arc::clone(&keys))), case["token"].as_str().unwrap()).await;
        if case["result"] == "valid" {
            let (status, body) = answer;
            assert_eq!(status, 200, "case {id} ({}): {body}", case["comment"]);
            for claim in ["sub", "client_id", "scope"] {
                assert_eq!(body[claim], case["claims"][claim], "case {id}: {claim}");
            }
            valid += 1;
        } else {
            refused(id, answer, case["error"].as_str().unwrap());
            invalid += 1;
        }
        assert_eq!(keys.fetches(), 1, "case {id}: one fetch, whatever the token says");
    }
    assert!(valid >= 12 && invalid >= 30, "the table is all there: {valid} valid, {invalid} refused");

    // JWK sets: the set's own error from a fetch; the layer, never having had a set, refuses
    // every token with jwks_unavailable (503) and keeps the last good set over a bad one.
    let token = cases.iter().find(|c| c["comment"] == "ES256 access token").unwrap();
    for case in cases.iter().filter(|c| c["kind"] == "jwks") {
        let id = case["tcId"].as_u64().unwrap();
        let keys = Arc::new(jwks(format!("{base}/jwks/{id}"), &token["issuer"]));
        let fetched = keys.refresh(true).await;
        if case["result"] == "valid" {
            assert_eq!(fetched, Ok(true), "case {id}");
            for kid in case["kids"].as_array().unwrap() {
                assert!(keys.has_kid(kid.as_str().unwrap()), "case {id}: {kid}");
            }
        } else {
            assert_eq!(fetched.map_err(Error::name), Err(case["error"].as_str().unwrap()), "case {id}");
            let answer = send(app(OidcLayer::shared(keys)), token["token"].as_str().unwrap()).await;
            refused(id, answer, "jwks_unavailable");
        }
    }
}

#[tokio::test]
async fn the_introspection_vectors_through_the_layer() {
    let file = vectors("introspection.json");
    let cases = file["tests"].as_array().unwrap();
    let answers = cases.iter().map(|c| (format!("token-{}", c["tcId"]), c["body"].as_str().unwrap().to_owned()));
    let base = stub(HashMap::new(), answers.collect()).await;
    let http = reqwest::Client::new();
    let mut refusals = 0;
    for case in cases {
        let id = case["tcId"].as_u64().unwrap();
        let expected = &case["expected"];
        let now = case["now"].as_u64().unwrap() * S;
        let mut intro = Introspector::new(&http, expected["issuer"].as_str().unwrap(), "rs", "rs-secret")
            .endpoint(format!("{base}/introspect"))
            .leeway(expected["leeway_s"].as_u64().unwrap())
            .max_cache(Duration::from_secs(case["max_cache_s"].as_u64().unwrap()))
            .clock(move || now);
        if let Some(audience) = expected["audience"].as_str() {
            intro = intro.audience(audience);
        }
        let intro = Arc::new(intro);
        let app = app(OidcLayer::introspected(Arc::clone(&intro)));
        let answer = send(app.clone(), &format!("token-{id}")).await;
        if case["result"] == "valid" {
            let (status, body) = answer;
            assert_eq!(status, 200, "case {id} ({}): {body}", case["comment"]);
            let claims = &case["claims"];
            for claim in ["sub", "client_id", "exp", "aud"] {
                assert_eq!(body[claim], claims[claim], "case {id}: {claim}");
            }
            assert_eq!(body["scope"], claims["scope"].as_str().unwrap_or(""), "case {id}: scope");
            // Kept for cache_s: asked once, then served from the cache (cache_s 0: asked again).
            assert_eq!(send(app, &format!("token-{id}")).await.0, 200, "case {id}");
            let kept = case["cache_s"].as_u64().unwrap() > 0;
            assert_eq!((intro.cached(), intro.requests()), (usize::from(kept), if kept { 1 } else { 2 }), "case {id}");
        } else {
            refused(id, answer, case["error"].as_str().unwrap());
            assert_eq!(intro.cached(), 0, "case {id}: a refusal is not kept");
            refusals += 1;
        }
    }
    assert!(refusals >= 25, "the vectors are all there");

    // A token longer than any access token is refused without asking the provider.
    let intro =
        Arc::new(Introspector::new(&http, "https://op.example", "rs", "s").endpoint(format!("{base}/introspect")));
    let answer = send(app(OidcLayer::introspected(Arc::clone(&intro))), &"a".repeat(8193)).await;
    refused(0, answer, "token_too_long");
    assert_eq!(intro.requests(), 0);

    // Concurrent callers with one token wait for one request; a caller dropped mid-request
    // leaves nothing behind.
    let slow = Arc::new(Introspector::new(&http, "https://op.example", "rs", "s").endpoint(format!("{base}/slow")));
    let calls: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn({
                let slow = Arc::clone(&slow);
                async move { slow.verify("t").await }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(slow.in_flight(), 1);
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().client_id.as_deref(), Some("c"));
    }
    assert_eq!((slow.requests(), slow.in_flight(), slow.cached()), (1, 0, 1));
    let dropped = tokio::spawn({
        let slow = Arc::clone(&slow);
        async move { slow.verify("u").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(slow.in_flight(), 1);
    dropped.abort();
    assert!(dropped.await.unwrap_err().is_cancelled());
    assert_eq!((slow.in_flight(), slow.cached()), (0, 1));

    // The endpoint from discovery: a document that cannot be had leaves it unknown (503); one
    // naming another issuer is the deployment's mistake (500).
    for (issuer, error) in [("none", "introspection_unavailable"), ("other", "discovery_mismatch")] {
        let intro = Arc::new(Introspector::new(&http, format!("{base}/{issuer}"), "rs", "s"));
        refused(0, send(app(OidcLayer::introspected(intro)), "token-1").await, error);
    }
}

/// A token the provider refused (revoked after its answer was kept) does not come back as a
/// stale answer once the provider is down: the refusal drops what was kept.
#[tokio::test]
async fn a_refused_token_is_not_served_stale() {
    use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
    // 0: active, 1: inactive (revoked), 2: down.
    let mode = Arc::new(AtomicU8::new(0));
    let router = Router::new().route(
        "/introspect",
        post({
            let mode = Arc::clone(&mode);
            move || async move {
                let active = r#"{"active":true,"client_id":"c","iss":"https://op.example","exp":4000000000}"#;
                match mode.load(Ordering::SeqCst) {
                    0 => (http::StatusCode::OK, active.to_owned()),
                    1 => (http::StatusCode::OK, r#"{"active":false}"#.to_owned()),
                    _ => (http::StatusCode::SERVICE_UNAVAILABLE, String::new()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let now = Arc::new(AtomicU64::new(1_700_000_000 * S));
    let clock = Arc::clone(&now);
    let intro = Arc::new(
        Introspector::new(&reqwest::Client::new(), "https://op.example", "rs", "s")
            .endpoint(format!("{base}/introspect"))
            .max_cache(Duration::from_secs(60))
            .serve_stale(Duration::from_secs(3600))
            .clock(move || clock.load(Ordering::SeqCst)),
    );
    let app = app(OidcLayer::introspected(Arc::clone(&intro)));
    assert_eq!(send(app.clone(), "t").await.0, 200);
    assert_eq!(intro.cached(), 1);
    // Past max_cache the provider is asked again, and now refuses the token.
    now.fetch_add(61 * S, Ordering::SeqCst);
    mode.store(1, Ordering::SeqCst);
    refused(0, send(app.clone(), "t").await, "token_inactive");
    assert_eq!(intro.cached(), 0, "the refusal dropped the kept answer");
    // The provider down: nothing kept to serve stale, so the request fails closed.
    mode.store(2, Ordering::SeqCst);
    refused(0, send(app.clone(), "t").await, "introspection_unavailable");
    assert_eq!(intro.served_stale(), 0);
}
