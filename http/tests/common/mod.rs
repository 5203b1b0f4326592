//! The servers the loopback tests run: the same clients, keys and schemes as the Python
//! integration tests' apps (`python/tests/apps.py`), so the Python clients drive the Rust
//! server with the very credentials they use against the Python middleware. Shared with the
//! `interop` example (included there by path).
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use apisig::jwt::JwtPolicy;
use apisig::session::SessionKeys;
use apisig::{
    Encoding, MacKey, TimeUnit, Verifier, Window,
    client::Slot,
    dialect,
    keyring::Keyring,
    message::{Part, Template},
    replay::ReplayCache,
    scheme::{Field, HeaderSpec, Scheme},
};
use apisig_http::server::{Authenticator, Principal};
use axum::Router;
use axum::body::Bytes;
use axum::extract::Extension;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Json};

pub const JWT_SECRET: &[u8] = b"jwt-secret-for-the-loopback-tests";
pub const SESSION_SECRET: &[u8] = b"session-secret-for-the-loopback-tests";

pub const SIGNIUS_KEY: &str = "sg-3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZ";
pub const ZS_PRIMARY: &str = "zs-primary-5b1f0c";
pub const ZS_SECONDARY: &str = "zs-secondary-93ad27";
pub const ZS_OLD: &str = "zs-rot-old-0a1b2c";
pub const ZS_NEW: &str = "zs-rot-new-3d4e5f";
pub const AEVO_KEY: &str = "aevo-key-1";
pub const AEVO_SECRET: &[u8] = b"aevo-secret-1";
pub const APEX_KEY: &str = "f3a9c2e5b7d84a61";
pub const APEX_SECRET: &[u8] = b"9e1c7b3a5d2f4e8c0b6a1d9f3e7c5a2b";
pub const APEX_USER: &str = "12";
pub const CB_KEY: &str = "cb-key-1";
pub const CB_SECRET: &[u8] = b"cb-secret-1";
pub const TSB_OPS: &str = "op-7f3a9c2e51d84b06";
pub const TSB_OPS_2: &str = "op-next-1Qa2Ws3Ed4";
pub const TSB_MGMT: &str = "km-0d5e8b7a4c3f2169";
pub const TSB_REVOKED: &str = "op-old";

/// A user-defined scheme (Coinbase style), as `apps.COINBASE` defines it in Python. Fields
/// the core adds later take the Aevo preset's values.
#[allow(clippy::needless_update)]
pub const COINBASE: Scheme<'static> = Scheme {
    name: "coinbase-style",
    headers: &[
        HeaderSpec::new("CB-ACCESS-KEY", Field::ApiKey),
        HeaderSpec::new("CB-ACCESS-SIGN", Field::Signature),
        HeaderSpec::new("CB-ACCESS-TIMESTAMP", Field::Timestamp),
    ],
    template: Some(Template {
        parts: &[Part::Timestamp, Part::Method, Part::Path, Part::Body],
        separator: b"",
        encoding: Encoding::Base64,
    }),
    time_unit: TimeUnit::Seconds,
    ..dialect::AEVO
};

pub const GATEWAY_SCHEMES: [&Scheme<'static>; 9] = [
    &dialect::AEVO,
    &dialect::AEVO_SECRET,
    &dialect::APEX,
    &dialect::APEX_SESSION,
    &dialect::SIGNIUS,
    &dialect::ZIGNSEC,
    &dialect::ZIGNSEC_LEGACY,
    &dialect::ZIGNSEC_OAUTH,
    &COINBASE,
];

/// Every dialect but Securosys's, and a scheme of the user's own.
pub fn gateway_verifier() -> Verifier<Keyring<16>, ReplayCache<4096>> {
    let mut ring = Keyring::<16>::new();
    ring.add("signius-portal", SIGNIUS_KEY.as_bytes()).unwrap();
    let acme = "zs-acme";
    ring.add(acme, ZS_PRIMARY.as_bytes()).unwrap();
    ring.set_secret(acme, Slot::Secondary, Some(ZS_SECONDARY.as_bytes())).unwrap();
    let rotated = "zs-rotated";
    ring.add(rotated, ZS_OLD.as_bytes()).unwrap();
    ring.set_secret(rotated, Slot::Secondary, Some(ZS_NEW.as_bytes())).unwrap();
    ring.set_secret(rotated, Slot::Primary, None).unwrap(); // the service retired the old key
    ring.add(AEVO_KEY, AEVO_SECRET).unwrap();
    let apex = APEX_KEY;
    ring.add(apex, APEX_SECRET).unwrap();
    ring.bind_user_id(apex, APEX_USER).unwrap();
    ring.add(CB_KEY, CB_SECRET).unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<4096>::new(), Window::DEFAULT);
    v.set_jwt(Some(JwtPolicy::new(JWT_SECRET).unwrap()));
    v.set_session_keys(Some(SessionKeys::new(SESSION_SECRET).unwrap()));
    v
}

pub fn gateway() -> Authenticator {
    let mut auth = Authenticator::new(gateway_verifier()).apex_login("/AuthenticateUser").exempt("/health");
    for s in GATEWAY_SCHEMES {
        auth = auth.scheme(s).unwrap();
    }
    auth
}

/// Securosys TSB: a key per role, the seed's role table applied to the path.
pub fn tsb() -> Authenticator {
    let policy = dialect::SECUROSYS_ROLES;
    let role = |name| policy.role_id(name);
    let mut ring = Keyring::<8>::new();
    let ops = "tsb-ops";
    ring.add(ops, TSB_OPS.as_bytes()).unwrap();
    ring.set_role(ops, role("keyOperationToken")).unwrap();
    let ops2 = "tsb-ops-2";
    ring.add(ops2, TSB_OPS_2.as_bytes()).unwrap();
    ring.set_role(ops2, role("keyOperationToken")).unwrap();
    let mgmt = "tsb-mgmt";
    ring.add(mgmt, TSB_MGMT.as_bytes()).unwrap();
    ring.set_role(mgmt, role("keyManagementToken")).unwrap();
    let mut v = Verifier::new(ring, ReplayCache::<1024>::new(), Window::DEFAULT);
    v.set_jwt(Some(JwtPolicy::new(JWT_SECRET).unwrap()));
    Authenticator::new(v)
        .scheme(&dialect::SECUROSYS)
        .unwrap()
        .scheme(&dialect::SECUROSYS_JWT)
        .unwrap()
        .policy(policy)
        .unwrap()
}

/// A JWT for `sub`, valid for ten minutes.
pub fn jwt_for(sub: &str) -> String {
    let exp = apisig_http::now() / 1_000_000_000 + 600;
    let claims = format!(r#"{{"sub":"{sub}","exp":{exp}}}"#);
    let mut out = [0u8; 1024];
    let key = MacKey::new(JWT_SECRET).unwrap();
    let token = apisig::jwt::encode(&key, apisig::jwt::DEFAULT_HEADER, claims.as_bytes(), &mut out).unwrap();
    String::from_utf8(token.to_vec()).unwrap()
}

/// What the handler answers: who, by which key and scheme, and a digest of the body it got,
/// as `apps.describe` does in Python.
async fn whoami(Extension(p): Extension<Principal>, method: Method, uri: Uri, body: Bytes) -> axum::response::Response {
    if uri.path() == "/zs/strict" && p.slot == Slot::Primary {
        let refusal = serde_json::json!({"error": "primary key disabled for this product"});
        return (StatusCode::FORBIDDEN, Json(refusal)).into_response();
    }
    let slot = match p.slot {
        Slot::Primary => "primary",
        Slot::Secondary => "secondary",
    };
    Json(serde_json::json!({
        "client_id": p.client_id,
        "slot": slot,
        "role": p.role,
        "user_id": p.user_id,
        "scheme": p.scheme,
        "method": method.as_str(),
        "length": body.len(),
        "sha256": sha256_hex(&body),
        "body": String::from_utf8_lossy(&body),
        "path": uri.path(),
    }))
    .into_response()
}

/// SHA-256 of `data` in lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// The statuses the server answered, in order (the layer's refusals included).
pub type Log = Arc<Mutex<Vec<u16>>>;

pub fn app(auth: Authenticator, log: Log) -> Router {
    Router::new().route("/health", axum::routing::get(|| async { "ok" })).fallback(whoami).layer(auth.layer()).layer(
        tower::util::MapResponseLayer::new(move |res: axum::response::Response| {
            log.lock().unwrap().push(res.status().as_u16());
            res
        }),
    )
}

/// Serves `auth` on a free loopback port; returns its address and the log of statuses.
pub async fn serve(auth: Authenticator) -> (SocketAddr, Log) {
    let log = Log::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = app(auth, log.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, log)
}
