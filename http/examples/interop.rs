//! The Rust side of the cross-language tests (`python/tests/test_rust_http.py`).
//!
//! `interop serve` serves the loopback tests' two axum apps (a gateway accepting every dialect
//! but Securosys's, and a Securosys TSB with its role table) behind the apisig layer, prints
//! `{"gateway": URL, "tsb": URL}` on one line and stops when its standard input closes (so it
//! never outlives the test that started it).
//!
//! `interop serve-redis REDIS_PORT [RECOVERY WINDOW]` serves one worker sharing its replay record
//! in that Redis with the Python workers of `python/tests/redis_worker.py` (same keys, namespace,
//! window and session secret; answers the client id as text), and prints its URL. RECOVERY and
//! WINDOW (seconds) are 0 and 30 unless given, as that worker's (`scripts/soak.py` gives them).
//!
//! `interop client GATEWAY TSB` drives two such servers (the Python ASGI middleware's, in the
//! tests) with the reqwest middleware: every dialect, APEX's session flow, ZignSec and
//! Securosys key rotation, a tampered and a replayed request. It prints one JSON object per
//! line: `{"case", "status", "answer", "sent_sha256", "current_key"}`; the test checks them.
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Read;
use std::sync::Arc;

use apisig::{Credentials, Request as CoreRequest, Signer, Stamp, dialect, scheme::Scheme};
use apisig_http::client::{ApexSession, SigningMiddleware};
use common::*;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::{Value, json};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The body the client sends: non-ASCII text, a comma (Aevo's separator) and 3 KB.
fn body() -> String {
    format!("{{\"name\": \"Grüße, ✓\", \"pad\": \"{}\"}}", "x".repeat(3000))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") => serve_until_stdin_closes().await,
        Some("serve-redis") => {
            let number = |i: usize, default: u64| args.get(i).map_or(Ok(default), |a| a.parse::<u64>());
            match (args.get(2).map(|p| p.parse::<u16>()), number(3, 0), number(4, 30)) {
                (Some(Ok(port)), Ok(recovery), Ok(window)) => serve_redis_worker(port, recovery, window).await,
                _ => Err("usage: interop serve-redis REDIS_PORT [RECOVERY_SECS WINDOW_SECS]".into()),
            }
        }
        Some("client") => match (args.get(2), args.get(3)) {
            (Some(gateway), Some(tsb)) => client(gateway, tsb).await,
            _ => Err("usage: interop client GATEWAY_URL TSB_URL".into()),
        },
        _ => Err("usage: interop serve | interop client GATEWAY_URL TSB_URL".into()),
    }
}

async fn serve_until_stdin_closes() -> Result<(), Failure> {
    let (gateway, _) = serve(common::gateway()).await;
    let (tsb, _) = serve(common::tsb()).await;
    println!("{}", json!({"gateway": format!("http://{gateway}"), "tsb": format!("http://{tsb}")}));
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    Ok(())
}

async fn serve_redis_worker(redis_port: u16, recovery: u64, window: u64) -> Result<(), Failure> {
    use apisig::claim::Deferred;
    use apisig::session::SessionKeys;
    use apisig::{Verifier, Window, keyring::Keyring};
    use apisig_http::server::{Authenticator, Principal};
    use axum::extract::Extension;

    let client = redis::Client::open(format!("redis://127.0.0.1:{redis_port}/"))?;
    // As the Python test workers: unless given, a fresh Redis is trusted at once (the tests'
    // nonces are above any floor); a real server keeps the default recovery period.
    let store = apisig_redis::AsyncRedisReplayStore::new(client, "apisig-test")?
        .recovery(std::time::Duration::from_secs(recovery));
    let mut ring = Keyring::<4>::new();
    ring.add("aevo-worker-key", b"aevo-worker-secret")?;
    let apex = "apex-worker-key";
    ring.add(apex, b"apex-worker-secret")?;
    ring.bind_user_id(apex, "42")?;
    let mut verifier = Verifier::new(ring, Deferred::new(), Window::from_secs(window));
    verifier.set_session_keys(Some(SessionKeys::new(b"session-secret-shared-by-the-workers")?));
    let auth = Authenticator::shared(verifier, store)
        .scheme(&dialect::AEVO)?
        .scheme(&dialect::APEX_SESSION)?
        .apex_login("/AuthenticateUser");
    let app = axum::Router::new()
        .fallback(|Extension(who): Extension<Principal>| async move { who.client_id })
        .layer(auth.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    Ok(())
}

fn plain() -> Result<reqwest::Client, Failure> {
    Ok(reqwest::Client::builder().no_proxy().build()?)
}

fn with_arc(m: Arc<SigningMiddleware>) -> Result<ClientWithMiddleware, Failure> {
    Ok(ClientBuilder::new(plain()?).with_arc(m).build())
}

fn report(case: &str, status: u16, answer: Value, sent: &[u8], current_key: Option<usize>) {
    let line = json!({
        "case": case,
        "status": status,
        "answer": answer,
        "sent_sha256": sha256_hex(sent),
        "current_key": current_key,
    });
    println!("{line}");
}

async fn answer(res: reqwest::Response) -> Result<(u16, Value), Failure> {
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

async fn client(gateway: &str, tsb: &str) -> Result<(), Failure> {
    let body = body();
    let jwt_ops = jwt_for("tsb-ops");
    let jwt_zs = jwt_for("zs-acme");
    let key = |api_key| Credentials { api_key, ..Credentials::EMPTY };
    let dialects: [(&str, &Scheme<'static>, Credentials<'_>, &str); 9] = [
        ("signius", &dialect::SIGNIUS, key(SIGNIUS_KEY), gateway),
        ("zignsec", &dialect::ZIGNSEC, key(ZS_PRIMARY), gateway),
        ("zignsec-legacy", &dialect::ZIGNSEC_LEGACY, key(ZS_SECONDARY), gateway),
        ("zignsec-oauth", &dialect::ZIGNSEC_OAUTH, Credentials { token: &jwt_zs, ..key(ZS_PRIMARY) }, gateway),
        ("aevo", &dialect::AEVO, Credentials { secret: AEVO_SECRET, ..key(AEVO_KEY) }, gateway),
        ("aevo-secret", &dialect::AEVO_SECRET, Credentials { secret: AEVO_SECRET, ..key(AEVO_KEY) }, gateway),
        ("coinbase-style", &COINBASE, Credentials { secret: CB_SECRET, ..key(CB_KEY) }, gateway),
        ("securosys", &dialect::SECUROSYS, key(TSB_OPS), tsb),
        ("securosys-jwt", &dialect::SECUROSYS_JWT, Credentials { token: &jwt_ops, ..Credentials::EMPTY }, tsb),
    ];
    for (case, scheme, creds, base) in dialects {
        let path = if base == tsb { "/v1/sign?mode=async&x=%2F" } else { "/api/v1/things?limit=10&q=a%20b" };
        let m = Arc::new(SigningMiddleware::new(scheme, creds)?);
        let client = with_arc(m)?;
        let (status, got) = answer(client.post(format!("{base}{path}")).body(body.clone()).send().await?).await?;
        report(case, status, got, body.as_bytes(), None);
        let (status, got) = answer(client.get(format!("{base}{path}")).send().await?).await?;
        report(&format!("{case} GET"), status, got, b"", None);
    }

    let apex = ApexSession::new(
        Credentials { api_key: APEX_KEY, secret: APEX_SECRET, user_id: APEX_USER, ..Credentials::EMPTY },
        "/AuthenticateUser",
    )?;
    let client = ClientBuilder::new(plain()?).with(apex).build();
    for case in ["apex", "apex again"] {
        let (status, got) =
            answer(client.post(format!("{gateway}/GetAccountPositions")).body(body.clone()).send().await?).await?;
        report(case, status, got, body.as_bytes(), None);
    }

    let zs = Arc::new(SigningMiddleware::with_keys(&dialect::ZIGNSEC, [key(ZS_OLD), key(ZS_NEW)])?);
    let (status, got) =
        answer(with_arc(zs.clone())?.post(format!("{gateway}/core/api/sessions")).body(body.clone()).send().await?)
            .await?;
    report("zignsec rotation", status, got, body.as_bytes(), Some(zs.current_key()));
    let zs = Arc::new(SigningMiddleware::with_keys(&dialect::ZIGNSEC, [key(ZS_PRIMARY), key(ZS_SECONDARY)])?);
    let (status, got) =
        answer(with_arc(zs.clone())?.post(format!("{gateway}/zs/strict")).body(body.clone()).send().await?).await?;
    report("zignsec 403 rotation", status, got, body.as_bytes(), Some(zs.current_key()));
    let tsb_keys = Arc::new(SigningMiddleware::with_keys(&dialect::SECUROSYS, [key(TSB_REVOKED), key(TSB_OPS_2)])?);
    let (status, got) = answer(with_arc(tsb_keys.clone())?.post(format!("{tsb}/v1/sign")).send().await?).await?;
    report("securosys rotation", status, got, b"", Some(tsb_keys.current_key()));
    let (status, got) = answer(with_arc(tsb_keys.clone())?.post(format!("{tsb}/v1/key")).send().await?).await?;
    report("securosys forbidden", status, got, b"", Some(tsb_keys.current_key()));

    // Tampering and replay, with headers signed by the core and a plain client.
    let creds = Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY };
    let signed = Signer::new(&dialect::AEVO, creds)?.sign(
        &CoreRequest::new("POST", "/orders").with_body(body.as_bytes()),
        Stamp { now: apisig_http::now(), nonce: None },
    )?;
    let headers: Vec<(String, String)> =
        signed.iter().map(|l| (l.name.to_owned(), format!("{}{}", l.prefix, l.value))).collect();
    for (case, sent) in [("tampered", format!("{body} ")), ("signed", body.clone()), ("replayed", body.clone())] {
        let mut req = plain()?.post(format!("{gateway}/orders")).body(sent.clone());
        for (n, v) in &headers {
            req = req.header(n, v);
        }
        let (status, got) = answer(req.send().await?).await?;
        report(case, status, got, sent.as_bytes(), None);
    }
    Ok(())
}
