//! `make demo`: every dialect signed by the client side, printed as a ready-to-paste curl
//! command, verified by the server side, then a tampered request and a replay refused.

// The no-panic lints guard the library; a demo may do plain arithmetic.
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
use std::time::{SystemTime, UNIX_EPOCH};

use apisig::dialect::{self, KEY_MANAGEMENT, KEY_OPERATION, SECUROSYS_ROLES};
use apisig::jwt::{self, JwtPolicy};
use apisig::rotation::RetryOn;
use apisig::rotation::{Next, Rotation};
use apisig::session::{Session, SessionKeys};
use apisig::{
    Credentials, Encoding, Error, MacKey, Principal, Request, Signer, Stamp, TimeUnit, TokenLifetime, Verifier, Window,
    client::Slot,
    headers::{Header, HeaderSet, MAX_HEADERS},
    keyring::Keyring,
    message::{Part, Template},
    replay::ReplayCache,
    scheme::{Field, HeaderSpec, Scheme},
};

type Server = Verifier<Keyring<8>, ReplayCache<64>>;

fn main() -> Result<(), Error> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    signius(now)?;
    securosys(now)?;
    zignsec(now)?;
    apex(now)?;
    aevo(now)?;
    custom(now)?;
    Ok(())
}

fn title(t: &str) {
    println!("\n== {t}");
}

/// Prints the headers as a curl command.
fn curl(base: &str, req: &Request<'_>, headers: &HeaderSet<'_>) {
    let mut cmd = format!("curl -X {} '{}{}'", req.method.to_ascii_uppercase(), base, req.path);
    for h in headers {
        cmd.push_str(&format!(" \\\n     -H '{h}'"));
    }
    if !req.body.is_empty() {
        cmd.push_str(&format!(" \\\n     --data '{}'", String::from_utf8_lossy(req.body)));
    }
    println!("{cmd}");
}

/// The request as the server receives it: the signed headers attached.
fn received<'a>(
    req: &Request<'a>,
    headers: &'a HeaderSet<'_>,
    store: &'a mut [u8; 1024],
    slots: &'a mut [Header<'a>; MAX_HEADERS],
) -> Result<Request<'a>, Error> {
    Ok(req.with_headers(headers.as_request_headers(store, slots)?))
}

fn outcome(label: &str, result: Result<String, Error>) {
    match result {
        Ok(who) => println!("  accepted  {label}: {who}"),
        Err(e) => println!("  REFUSED   {label}: {} ({}, code {})", e, e.name(), e.code()),
    }
}

fn check(server: &mut Server, scheme: &Scheme<'_>, req: &Request<'_>, now: u64) -> Result<String, Error> {
    let p = server.verify(scheme, req, now)?;
    Ok(describe(p))
}

fn describe(p: Principal) -> String {
    let id = p.id;
    let role = p.role.and_then(|r| SECUROSYS_ROLES.role(r)).map(|r| format!(", role {}", r.name)).unwrap_or_default();
    format!("client {id:?} ({:?} key{role})", p.slot)
}

fn server() -> Server {
    Verifier::new(Keyring::new(), ReplayCache::new(), Window::DEFAULT)
}

fn signius(now: u64) -> Result<(), Error> {
    title("SIGNIUS — X-Api-Key");
    let key = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le";
    let mut server = server();
    server.store_mut().add("portal-integration", key.as_bytes())?;
    let signer = Signer::new(&dialect::SIGNIUS, Credentials { api_key: key, ..Credentials::EMPTY })?;
    let req = Request::new("GET", "/api/v1/envelopes");
    let headers = signer.sign(&req, Stamp { now, nonce: None })?;
    curl("https://api.signius.example", &req, &headers);
    let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
    outcome(
        "signed request",
        check(&mut server, &dialect::SIGNIUS, &received(&req, &headers, &mut store, &mut slots)?, now),
    );
    let forged = [Header::new("X-Api-Key", "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Lf")];
    outcome(
        "key with its last character changed",
        check(&mut server, &dialect::SIGNIUS, &req.with_headers(&forged), now),
    );
    Ok(())
}

fn securosys(now: u64) -> Result<(), Error> {
    title("Securosys TSB — X-API-KEY, one key per role");
    let mut server = server();
    let ops = "ops-key";
    server.store_mut().add(ops, b"op-7f3a9c2e51d84b06")?;
    server.store_mut().set_role(ops, Some(KEY_OPERATION))?;
    let mgmt = "mgmt-key";
    server.store_mut().add(mgmt, b"km-0d5e8b7a4c3f2169")?;
    server.store_mut().set_role(mgmt, Some(KEY_MANAGEMENT))?;
    let signer =
        Signer::new(&dialect::SECUROSYS, Credentials { api_key: "op-7f3a9c2e51d84b06", ..Credentials::EMPTY })?;
    for path in ["/v1/sign", "/v1/key", "/v1/sign/../key", "/v1/%2e%2e/key"] {
        let req = Request::new("POST", path).with_body(br#"{"signRequest":{}}"#);
        let headers = signer.sign(&req, Stamp { now, nonce: None })?;
        if path == "/v1/sign" {
            curl("https://tsb.example.com", &req, &headers);
        }
        let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
        let rx = received(&req, &headers, &mut store, &mut slots)?;
        let result = server.verify(&dialect::SECUROSYS, &rx, now).and_then(|p| {
            SECUROSYS_ROLES.authorize(p.role.ok_or(Error::Forbidden)?, path.as_bytes())?;
            Ok(describe(p))
        });
        outcome(&format!("keyOperationToken on {path}"), result);
    }
    // The same client with a JWT (HS256) instead of the API key.
    let mut policy = JwtPolicy::new(b"tsb-jwt-secret-please-use-32-bytes")?;
    policy.leeway_s = 30;
    server.set_jwt(Some(policy));
    let exp = now / 1_000_000_000 + 300;
    for (label, alg_none) in [("JWT for ops-key", false), ("JWT with alg none", true)] {
        let mut buf = [0u8; 512];
        let claims = format!(r#"{{"sub":"ops-key","exp":{exp}}}"#);
        let token = if alg_none {
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJvcHMta2V5In0.".to_owned()
        } else {
            let key = MacKey::new(b"tsb-jwt-secret-please-use-32-bytes")?;
            String::from_utf8_lossy(jwt::encode(&key, jwt::DEFAULT_HEADER, claims.as_bytes(), &mut buf)?).into_owned()
        };
        let req = Request::new("POST", "/v1/sign");
        let headers = Signer::new(&dialect::SECUROSYS_JWT, Credentials { token: &token, ..Credentials::EMPTY })?
            .sign(&req, Stamp::default())?;
        if !alg_none {
            curl("https://tsb.example.com", &req, &headers);
        }
        let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
        let rx = received(&req, &headers, &mut store, &mut slots)?;
        let result = server.verify(&dialect::SECUROSYS_JWT, &rx, now).and_then(|p| {
            SECUROSYS_ROLES.authorize(p.role.ok_or(Error::Forbidden)?, b"/v1/sign")?;
            Ok(describe(p))
        });
        outcome(label, result);
    }
    Ok(())
}

fn zignsec(now: u64) -> Result<(), Error> {
    title("ZignSec — Zs-Product-Key, primary and secondary; legacy Authorization; rotation");
    let mut server = server();
    let c = "acme";
    server.store_mut().add(c, b"zs-primary-5b1f0c")?;
    let req = Request::new("POST", "/core/api/sessions");
    for (scheme, key) in [(&dialect::ZIGNSEC, "zs-primary-5b1f0c"), (&dialect::ZIGNSEC_LEGACY, "zs-primary-5b1f0c")] {
        let headers =
            Signer::new(scheme, Credentials { api_key: key, ..Credentials::EMPTY })?.sign(&req, Stamp::default())?;
        curl("https://test-gateway.zignsec.com", &req, &headers);
        let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
        outcome(scheme.name, check(&mut server, scheme, &received(&req, &headers, &mut store, &mut slots)?, now));
    }
    // The service rotates: the secondary key goes live, then the primary is retired.
    server.store_mut().set_secret(c, Slot::Secondary, Some(b"zs-secondary-93ad27"))?;
    server.store_mut().set_secret(c, Slot::Primary, None)?;
    let keys = ["zs-primary-5b1f0c", "zs-secondary-93ad27"];
    let mut rotation = Rotation::zignsec();
    let mut attempt = rotation.begin();
    loop {
        let key = keys.get(attempt.key()).copied().unwrap_or_default();
        let headers = Signer::new(&dialect::ZIGNSEC, Credentials { api_key: key, ..Credentials::EMPTY })?
            .sign(&req, Stamp::default())?;
        let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
        let result = check(&mut server, &dialect::ZIGNSEC, &received(&req, &headers, &mut store, &mut slots)?, now);
        let status = if result.is_ok() { 200 } else { 401 };
        outcome(&format!("rotation: key {} → HTTP {status}", attempt.key()), result);
        match rotation.on_response(&mut attempt, status) {
            Next::Retry(k) => println!("  retry with key {k}"),
            Next::Done | Next::Exhausted => break,
        }
    }
    println!("  next requests start with key {}", rotation.current());

    // OAuth2: a short-lived access token from the token endpoint, plus the product key.
    let secret = b"zignsec-oauth-signing-secret-0001";
    server.set_jwt(Some(JwtPolicy::new(secret)?));
    let lifetime = TokenLifetime { issued_at: now, lifetime_s: 20 * 60, skew_s: 60 };
    let claims = format!(r#"{{"client_id":"acme","exp":{}}}"#, lifetime.expires_at() / 1_000_000_000);
    let mut buf = [0u8; 512];
    let token =
        String::from_utf8_lossy(jwt::encode(&MacKey::new(secret)?, jwt::DEFAULT_HEADER, claims.as_bytes(), &mut buf)?)
            .into_owned();
    let creds = Credentials { token: &token, api_key: "zs-secondary-93ad27", ..Credentials::EMPTY };
    let headers = Signer::new(&dialect::ZIGNSEC_OAUTH, creds)?.sign(&req, Stamp::default())?;
    curl("https://test-gateway.zignsec.com", &req, &headers);
    let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
    let rx = received(&req, &headers, &mut store, &mut slots)?;
    outcome("bearer + product key", check(&mut server, &dialect::ZIGNSEC_OAUTH, &rx, now));
    println!("  refresh the access token after {} s", (lifetime.refresh_at() - now) / 1_000_000_000);
    outcome(
        "the same token 21 minutes later",
        check(&mut server, &dialect::ZIGNSEC_OAUTH, &rx, now + 21 * 60_000_000_000),
    );
    Ok(())
}

fn apex(now: u64) -> Result<(), Error> {
    title("Kiiex / AlphaPoint APEX — AuthenticateUser: Signature = HMAC(secret, Nonce‖UserId‖APIKey)");
    let mut server = server();
    let c = "f3a9c2e5b7d84a61";
    server.store_mut().add(c, b"9e1c7b3a5d2f4e8c0b6a1d9f3e7c5a2b")?;
    server.store_mut().bind_user_id(c, "12")?;
    let creds = Credentials {
        api_key: "f3a9c2e5b7d84a61",
        secret: b"9e1c7b3a5d2f4e8c0b6a1d9f3e7c5a2b",
        user_id: "12",
        ..Credentials::EMPTY
    };
    let signer = Signer::new(&dialect::APEX, creds)?;
    let nonce = now / 1_000_000; // a millisecond counter
    let req = Request::new("POST", "/AuthenticateUser");
    let headers = signer.sign(&req, Stamp { now, nonce: Some(nonce) })?;
    let mut body = [0u8; 512];
    let body = headers.write_json(&mut body)?;
    curl("https://apstage.proxy.kiiex.io/ap", &req.with_body(body), &headers);
    let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
    let rx = received(&req, &headers, &mut store, &mut slots)?;
    outcome("AuthenticateUser", check(&mut server, &dialect::APEX, &rx, now));
    outcome("the same request again", check(&mut server, &dialect::APEX, &rx, now));
    // Move the nonce's last digit into the user id: same concatenation, same signature.
    let sig = headers.get("Signature").map(|h| h.value).unwrap_or_default();
    let nonce_text = nonce.to_string();
    let (shifted_nonce, digit) = nonce_text.split_at(nonce_text.len() - 1);
    let user = format!("{digit}12");
    let shifted = [
        Header::new("APIKey", "f3a9c2e5b7d84a61"),
        Header::new("Signature", sig),
        Header::new("UserId", &user),
        Header::new("Nonce", shifted_nonce),
    ];
    outcome(
        "digits shifted from Nonce into UserId",
        check(&mut server, &dialect::APEX, &req.with_headers(&shifted), now),
    );
    // The server answers with a session token; later requests send it as `aptoken`.
    server.set_session_keys(Some(SessionKeys::new(b"server-session-secret-7d1f")?));
    let session = Session { user_id: "12", key_id: "f3a9c2e5b7d84a61", expires: now / 1_000_000_000 + 3600 };
    let mut buf = [0u8; apisig::session::TOKEN_MAX];
    let aptoken = server.session_keys().map(|k| k.issue(&session, &mut buf)).transpose()?.unwrap_or_default();
    let aptoken = String::from_utf8_lossy(aptoken).into_owned();
    let next = Request::new("POST", "/GetAccountPositions").with_body(br#"{"OMSId":1,"AccountId":7}"#);
    let headers = Signer::new(&dialect::APEX_SESSION, Credentials { token: &aptoken, ..Credentials::EMPTY })?
        .sign(&next, Stamp::default())?;
    curl("https://apstage.proxy.kiiex.io/ap", &next, &headers);
    let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
    let rx = received(&next, &headers, &mut store, &mut slots)?;
    outcome("aptoken", check(&mut server, &dialect::APEX_SESSION, &rx, now));
    outcome("aptoken an hour later", check(&mut server, &dialect::APEX_SESSION, &rx, now + 3_600_000_000_000));
    Ok(())
}

fn aevo(now: u64) -> Result<(), Error> {
    title("Aevo — AEVO-SIGNATURE = HMAC(secret, \"key,timestamp,METHOD,path,body\")");
    let mut server = server();
    server.store_mut().add("API_KEY", b"API_SECRET")?;
    let creds = Credentials { api_key: "API_KEY", secret: b"API_SECRET", ..Credentials::EMPTY };
    let signer = Signer::new(&dialect::AEVO, creds)?;
    let body = br#"{"name": "My API key"}"#;
    let req = Request::new("POST", "/api-key").with_body(body);
    let stamp = Stamp { now, nonce: None };
    let headers = signer.sign(&req, stamp)?;
    let mut msg = [0u8; 256];
    println!("signed message: {}", String::from_utf8_lossy(signer.message(&req, stamp, &mut msg)?));
    curl("https://api-testnet.aevo.xyz", &req, &headers);
    let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
    let rx = received(&req, &headers, &mut store, &mut slots)?;
    outcome("signed request", check(&mut server, &dialect::AEVO, &rx, now));
    outcome("replayed 2 s later", check(&mut server, &dialect::AEVO, &rx, now + 2_000_000_000));
    let tampered = rx.with_body(br#"{"name": "My API key!"}"#);
    outcome("body changed in transit", check(&mut server, &dialect::AEVO, &tampered, now));
    outcome("delivered 10 minutes late", check(&mut server, &dialect::AEVO, &rx, now + 600_000_000_000));

    let plain = Signer::new(&dialect::AEVO_SECRET, creds)?.sign(&req, stamp)?;
    println!("key-and-secret method:");
    curl("https://api-testnet.aevo.xyz", &req, &plain);
    let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
    outcome(
        "AEVO-KEY + AEVO-SECRET",
        check(&mut server, &dialect::AEVO_SECRET, &received(&req, &plain, &mut store, &mut slots)?, now),
    );
    Ok(())
}

fn custom(now: u64) -> Result<(), Error> {
    title("A scheme apisig does not ship, defined as data (Coinbase-style)");
    const COINBASE: Scheme<'static> = Scheme {
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
        retry_on: RetryOn::Unauthorized,
    };
    let mut server = server();
    server.store_mut().add("cb-key-1", b"a-64-byte-secret-would-go-here")?;
    let creds = Credentials { api_key: "cb-key-1", secret: b"a-64-byte-secret-would-go-here", ..Credentials::EMPTY };
    let req = Request::new("GET", "/orders?limit=10");
    let headers = Signer::new(&COINBASE, creds)?.sign(&req, Stamp { now, nonce: None })?;
    curl("https://api.exchange.example", &req, &headers);
    let (mut store, mut slots) = ([0u8; 1024], [Header::new("", ""); MAX_HEADERS]);
    let rx = received(&req, &headers, &mut store, &mut slots)?;
    outcome("signed request", check(&mut server, &COINBASE, &rx, now));
    outcome("query changed", check(&mut server, &COINBASE, &Request { path: "/orders?limit=1000", ..rx }, now));
    Ok(())
}
