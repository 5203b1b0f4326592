//! Allowed addresses over real HTTP on 127.0.0.1: the layer checks a client's allow-list
//! against the connection's peer (axum's `ConnectInfo`), or behind trusted proxies against
//! the right-most `X-Forwarded-For` address that is no trusted proxy; a spoofed header from
//! an untrusted peer is ignored, a malformed one from a trusted proxy refused; IPv6 entries;
//! no peer address at all fails closed.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::net::SocketAddr;

use apisig::client::{Cidr, Client, Slot};
use apisig::{Verifier, Window, dialect, keyring::Keyring, replay::ReplayCache};
use apisig_http::server::Authenticator;
use serde_json::Value;

const LOCAL: &str = "sg-local-7f3a9c2e51d84b06";
const OFFICE: &str = "sg-office-0d5e8b7a4c3f2169";
const ANYWHERE: &str = "sg-anywhere-93ad275b1f0c";

/// SIGNIUS clients: one allowed from loopback, one from an office network (IPv4 and IPv6),
/// one from anywhere.
fn authenticator() -> Authenticator {
    let mut ring = Keyring::<8>::new();
    for (id, key, allowed) in [
        ("local", LOCAL, &["127.0.0.0/8"][..]),
        ("office", OFFICE, &["203.0.113.0/24", "2001:db8::/32"][..]),
        ("anywhere", ANYWHERE, &[][..]),
    ] {
        let mut c = Client::new(id).unwrap();
        c.set_secret(Slot::Primary, Some(key.as_bytes())).unwrap();
        c.set_allowed(&allowed.iter().map(|a| Cidr::parse(a).unwrap()).collect::<Vec<_>>()).unwrap();
        ring.insert(c).unwrap();
    }
    Authenticator::new(Verifier::new(ring, ReplayCache::<64>::new(), Window::DEFAULT))
        .scheme(&dialect::SIGNIUS)
        .unwrap()
}

/// Serves `auth` on a free loopback port, with the connection's address in each request's
/// extensions (`ConnectInfo`) when `connect_info`.
async fn serve(auth: Authenticator, connect_info: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = common::app(auth, common::Log::default());
    if connect_info {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    } else {
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    addr
}

/// The status and error name `key` (with `forwarded` as `X-Forwarded-For` lines) gets.
async fn ask(addr: SocketAddr, key: &str, forwarded: &[&str]) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = client.get(format!("http://{addr}/account")).header("X-Api-Key", key);
    for f in forwarded {
        req = req.header("X-Forwarded-For", *f);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body["error"].as_str().unwrap_or("").to_owned())
}

fn ok() -> (u16, String) {
    (200, String::new())
}

fn refused(status: u16, name: &str) -> (u16, String) {
    (status, name.to_owned())
}

#[tokio::test]
async fn the_connection_peer_is_checked_and_a_spoofed_header_ignored() {
    let addr = serve(authenticator(), true).await;
    assert_eq!(ask(addr, LOCAL, &[]).await, ok(), "127.0.0.1 is in 127.0.0.0/8");
    assert_eq!(ask(addr, ANYWHERE, &[]).await, ok());
    assert_eq!(ask(addr, OFFICE, &[]).await, refused(403, "address_not_allowed"));
    // No proxy is trusted: the client's own X-Forwarded-For changes nothing, even malformed.
    assert_eq!(ask(addr, OFFICE, &["203.0.113.7"]).await, refused(403, "address_not_allowed"));
    assert_eq!(ask(addr, LOCAL, &["not an address"]).await, ok());
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_address_it_reports_is_checked() {
    let auth = authenticator().trusted_proxies([Cidr::parse("127.0.0.1").unwrap()]);
    let addr = serve(auth, true).await;
    assert_eq!(ask(addr, OFFICE, &["203.0.113.7"]).await, ok());
    assert_eq!(ask(addr, OFFICE, &["2001:db8::7"]).await, ok(), "an IPv6 client");
    // Entries left of the proxy's own are the client's words: never taken.
    assert_eq!(ask(addr, OFFICE, &["198.51.100.9, 203.0.113.7"]).await, ok());
    assert_eq!(ask(addr, OFFICE, &["203.0.113.7, 198.51.100.9"]).await, refused(403, "address_not_allowed"));
    assert_eq!(ask(addr, OFFICE, &["203.0.113.7", "198.51.100.9"]).await, refused(403, "address_not_allowed"));
    // The proxy's own request (no header): its address.
    assert_eq!(ask(addr, LOCAL, &[]).await, ok());
    assert_eq!(ask(addr, LOCAL, &["203.0.113.7"]).await, refused(403, "address_not_allowed"));
    for bad in ["203.0.113.7:443", "[2001:db8::7]", "unknown", "203.0.113.7,"] {
        assert_eq!(ask(addr, OFFICE, &[bad]).await, refused(401, "invalid_forwarded_for"), "{bad:?}");
    }
}

#[tokio::test]
async fn without_a_peer_address_an_allow_list_fails_closed() {
    let addr = serve(authenticator(), false).await;
    assert_eq!(ask(addr, LOCAL, &[]).await, refused(403, "address_not_allowed"));
    assert_eq!(ask(addr, ANYWHERE, &[]).await, ok());
}
