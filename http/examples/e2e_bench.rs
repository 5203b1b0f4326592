//! The servers and requests of the end-to-end benchmark (`scripts/bench-http.sh`, run by
//! `make bench`): what authentication costs a real axum server, measured by a real HTTP load
//! generator (wrk).
//!
//! * `e2e_bench presign N FILE` writes N Aevo requests signed ahead (a 200-byte body, distinct
//!   timestamps): the body on the first line, then `timestamp signature` per line.
//! * `e2e_bench serve auth|plain` serves `POST /orders` (reads the body, answers `ok`) on one
//!   runtime thread, behind the apisig layer verifying Aevo (`auth`) or with no
//!   authentication (`plain`); prints the port and its pid and stops when its standard input
//!   closes.
//! * `e2e_bench profile [N [auth|plain]]` calls both apps in process (tower's `oneshot`, no
//!   sockets): the time a request of each and the layer's share; with a mode, that app only,
//!   untimed, for a profiler (`perf record`, `valgrind --tool=callgrind`).
#![allow(missing_docs)]

use std::io::{BufWriter, Read, Write};

use apisig::{Credentials, Request as CoreRequest, Signer, Stamp, Verifier, Window, dialect, keyring::Keyring};
use apisig_http::server::{Authenticator, MemoryReplay};
use axum::Router;
use axum::body::Bytes;
use axum::routing::post;

type Failure = Box<dyn std::error::Error + Send + Sync>;

const KEY: &str = "bench-aevo-key";
const SECRET: &[u8] = b"bench-aevo-secret-0123456789abcdef";
/// The freshness window: each round's requests are signed just before it is sent, and the
/// records of a round long past expire (so the replay record holds about two rounds).
const WINDOW_SECS: u64 = 30;
/// Room for every request of a whole benchmark run inside the window (it refuses, failing
/// closed, when full of live entries).
const REPLAY_SLOTS: usize = 1 << 22;

fn body() -> String {
    let order =
        r#"{"instrument":"ETH-PERP","side":"buy","amount":"1.5","limit_price":"2000.00","post_only":true,"pad":""#;
    let pad = 200usize.saturating_sub(order.len()).saturating_sub(2);
    format!("{order}{}\"}}", "x".repeat(pad))
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2), args.get(3)) {
        (Some("presign"), Some(n), Some(file)) => presign(n.parse()?, file),
        (Some("serve"), Some(mode), _) if mode == "auth" || mode == "plain" => serve(mode == "auth"),
        (Some("profile"), n, mode) => profile(n.map_or(Ok(200_000), |n| n.parse())?, mode.map(String::as_str)),
        _ => {
            Err("usage: e2e_bench presign N FILE | e2e_bench serve auth|plain | e2e_bench profile [N [auth|plain]]"
                .into())
        }
    }
}

fn presign(n: u64, file: &str) -> Result<(), Failure> {
    let body = body();
    let creds = Credentials { api_key: KEY, secret: SECRET, ..Credentials::EMPTY };
    let signer = Signer::new(&dialect::AEVO, creds)?;
    let req = CoreRequest::new("POST", "/orders").with_body(body.as_bytes());
    let start = apisig_http::now();
    let mut out = BufWriter::new(std::fs::File::create(file)?);
    writeln!(out, "{body}")?;
    for i in 0..n {
        let set = signer.sign(&req, Stamp { now: start.saturating_add(i), nonce: None })?;
        let ts = set.get("AEVO-TIMESTAMP").map(|l| l.value).unwrap_or_default();
        let sig = set.get("AEVO-SIGNATURE").map(|l| l.value).unwrap_or_default();
        writeln!(out, "{ts} {sig}")?;
    }
    out.flush()?;
    Ok(())
}

fn authenticator() -> Result<Authenticator, apisig::Error> {
    let mut keyring = Keyring::<4>::new();
    keyring.add(KEY, SECRET)?;
    let verifier = Verifier::new(keyring, MemoryReplay::new(REPLAY_SLOTS), Window::from_secs(WINDOW_SECS));
    Authenticator::new(verifier).scheme(&dialect::AEVO)
}

/// The app `serve` serves: the handler, behind the layer or not.
fn router(layer: Option<apisig_http::server::ApisigLayer>) -> Router {
    let app =
        Router::new().route("/orders", post(|body: Bytes| async move { if body.is_empty() { "empty" } else { "ok" } }));
    match layer {
        Some(layer) => app.layer(layer),
        None => app,
    }
}

/// Both apps called in process (no sockets) with `n` requests each, signed ahead, in
/// interleaved batches: the time a request of each (the best batch) and their difference.
/// With a mode, only that app and no timing: for a profiler (`perf record`, callgrind).
fn profile(n: u64, only: Option<&str>) -> Result<(), Failure> {
    use tower::ServiceExt as _;
    let body = body();
    let creds = Credentials { api_key: KEY, secret: SECRET, ..Credentials::EMPTY };
    let signer = Signer::new(&dialect::AEVO, creds)?;
    let req = CoreRequest::new("POST", "/orders").with_body(body.as_bytes());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let apps = [("plain", router(None)), ("auth", router(Some(authenticator()?.layer())))];
    let rounds = if only.is_some() { 1 } else { 10 };
    let batch = n.checked_div(rounds).unwrap_or(n);
    let mut best = [f64::MAX; 2];
    let mut start = apisig_http::now();
    for _ in 0..rounds {
        for (i, (mode, app)) in apps.iter().enumerate() {
            if only.is_some_and(|m| m != *mode) {
                continue;
            }
            let requests = (0..batch)
                .map(|k| {
                    let set = signer.sign(&req, Stamp { now: start.saturating_add(k), nonce: None })?;
                    let mut r = http::Request::post("/orders").header("content-type", "application/json");
                    for line in set.iter() {
                        r = r.header(line.name, line.value);
                    }
                    Ok(r.body(axum::body::Body::from(body.clone()))?)
                })
                .collect::<Result<Vec<_>, Failure>>()?;
            start = start.saturating_add(batch);
            let t0 = std::time::Instant::now();
            runtime.block_on(async {
                for r in requests {
                    let res = app.clone().oneshot(r).await?;
                    if res.status() != http::StatusCode::OK {
                        return Err(Failure::from(format!("refused: {}", res.status())));
                    }
                }
                Ok(())
            })?;
            let took = t0.elapsed().as_secs_f64() * 1e6 / batch as f64;
            if let Some(b) = best.get_mut(i) {
                *b = b.min(took);
            }
        }
    }
    if only.is_none() {
        let [plain, auth] = best;
        println!(
            "in process, {rounds} interleaved batches of {batch} (best batch): plain {plain:.2} us, auth {auth:.2} us a request: the layer {:.2} us",
            auth - plain
        );
    }
    Ok(())
}

fn serve(auth: bool) -> Result<(), Failure> {
    let layer = if auth { Some(authenticator()?.layer()) } else { None };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    runtime.block_on(async move {
        let app = router(layer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        // The pid too: the benchmark reads the server's CPU time from /proc.
        println!("{}\n{}", listener.local_addr()?.port(), std::process::id());
        std::io::stdout().flush()?;
        let stop = tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()));
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await?;
        Ok(())
    })
}
