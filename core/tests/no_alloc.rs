//! The core allocates nothing: every signing and verification path runs under a global
//! allocator that counts, and the count must stay zero. (`harness = false`: the test harness
//! itself allocates, so this is a plain `main`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs)]
#![allow(unsafe_code)] // a GlobalAlloc is unsafe to implement; the core itself forbids unsafe

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use apisig::jwt::{self, JwtPolicy};
use apisig::session::{Session, SessionKeys};
use apisig::{
    Credentials, MacKey, Request, Signer, Stamp, Verifier, Window,
    client::Slot,
    dialect,
    headers::{Header, MAX_HEADERS},
    keyring::Keyring,
    replay::ReplayCache,
};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const NOW: u64 = 1_700_000_000_000_000_000;

fn count(label: &str, f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    let n = ALLOCATIONS.load(Ordering::SeqCst) - before;
    println!("{label:<40} {n} allocations");
    n
}

fn main() {
    // Speak enough of libtest's protocol for cargo-nextest to list this one test.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("no_alloc: test");
        }
        return;
    }
    let mut total = 0;
    let creds = Credentials { api_key: "API_KEY", secret: b"API_SECRET", user_id: "12", token: "" };
    let body = [b'x'; 4096];
    let req = Request::new("POST", "/orders?x=1").with_body(&body);
    let mut ring = Keyring::<4>::new();
    let mut verifier = Verifier::new(Keyring::<4>::new(), ReplayCache::<64>::new(), Window::DEFAULT);

    total += count("keyring setup", || {
        let c = "API_KEY";
        ring.add(c, b"API_SECRET").unwrap();
        ring.set_secret(c, Slot::Secondary, Some(b"NEXT")).unwrap();
        ring.bind_user_id(c, "12").unwrap();
        let v = verifier.store_mut();
        let c = "API_KEY";
        v.add(c, b"API_SECRET").unwrap();
        v.bind_user_id(c, "12").unwrap();
        v.add("static", b"static-key").unwrap();
        verifier.set_session_keys(Some(SessionKeys::new(b"session").unwrap()));
        verifier.set_jwt(Some(JwtPolicy::new(b"jwt-secret").unwrap()));
    });

    for scheme in [&dialect::AEVO, &dialect::APEX] {
        total += count(&format!("{} sign + verify", scheme.name), || {
            let signer = Signer::new(scheme, creds).unwrap();
            let set = signer.sign(&req, Stamp { now: NOW, nonce: Some(7) }).unwrap();
            let (mut store, mut slots) = ([0u8; 512], [Header::new("", ""); MAX_HEADERS]);
            let hs = set.as_request_headers(&mut store, &mut slots).unwrap();
            let mut msg = [0u8; 8192];
            signer.message(&req, Stamp { now: NOW, nonce: Some(7) }, &mut msg).unwrap();
            verifier.verify(scheme, &req.with_headers(hs), NOW).unwrap();
            assert!(verifier.verify(scheme, &req.with_headers(hs), NOW).is_err());
        });
    }

    total += count("APEX AuthenticateUser from the JSON body", || {
        let set = Signer::new(&dialect::APEX, creds).unwrap().sign(&req, Stamp { now: NOW, nonce: Some(8) }).unwrap();
        let mut json = [0u8; 512];
        let json = set.write_json(&mut json).unwrap();
        let apex = apisig::PreparedScheme::new(&dialect::APEX).unwrap();
        verifier.verify_json_body(&apex, &req.with_body(json), NOW).unwrap();
    });

    total += count("static key + secret verify", || {
        let hs = [Header::new("X-Api-Key", "static-key")];
        verifier.verify(&dialect::SIGNIUS, &req.with_headers(&hs), NOW).unwrap();
        let hs = [Header::new("AEVO-KEY", "API_KEY"), Header::new("AEVO-SECRET", "API_SECRET")];
        verifier.verify(&dialect::AEVO_SECRET, &req.with_headers(&hs), NOW).unwrap();
    });

    total += count("jwt encode + verify through verifier", || {
        let mut out = [0u8; 512];
        let token = jwt::encode(
            &MacKey::new(b"jwt-secret").unwrap(),
            jwt::DEFAULT_HEADER,
            br#"{"sub":"static","exp":1800000000}"#,
            &mut out,
        )
        .unwrap();
        let mut bearer = [0u8; 600];
        bearer[..7].copy_from_slice(b"Bearer ");
        bearer[7..7 + token.len()].copy_from_slice(token);
        let hs = [Header { name: "Authorization", value: &bearer[..7 + token.len()] }];
        verifier.verify(&dialect::SECUROSYS_JWT, &req.with_headers(&hs), NOW).unwrap();
    });

    total += count("session issue + verify through verifier", || {
        let mut out = [0u8; 256];
        let s = Session { user_id: "12", key_id: "API_KEY", expires: 1_800_000_000 };
        let token = verifier.session_keys().unwrap().issue(&s, &mut out).unwrap();
        let hs = [Header { name: "aptoken", value: token }];
        verifier.verify(&dialect::APEX_SESSION, &req.with_headers(&hs), NOW).unwrap();
    });

    total += count("policy authorize", || {
        dialect::SECUROSYS_ROLES.authorize(dialect::KEY_MANAGEMENT, b"/v1/key/abc/attributes").unwrap();
    });

    // ES256 and EdDSA access tokens from the shared vectors (read before counting). With the
    // `rsa` feature the set's RSA key is loaded too, and RSA needs a heap.
    #[cfg(all(feature = "es256", feature = "eddsa", not(feature = "rsa")))]
    {
        use apisig::jwk::{Alg, AlgSet, JwkSet};
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/jws.json")).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let jwks = file["jwks"].as_str().unwrap().to_owned();
        let now = file["now"].as_u64().unwrap() * 1_000_000_000;
        let tokens: Vec<String> = ["ES256 access token", "EdDSA access token"]
            .iter()
            .map(|c| {
                let case = file["tests"].as_array().unwrap().iter().find(|t| t["comment"] == *c).unwrap();
                case["token"].as_str().unwrap().to_owned()
            })
            .collect();
        let issuer = apisig::jws::Issuer {
            algorithms: AlgSet::EMPTY.with(Alg::Es256).with(Alg::EdDsa),
            ..apisig::jws::Issuer::new("https://op.example.test/realms/zignsec", "https://api.example.test")
        };
        total += count("JWK set parse + ES256 + EdDSA verify", || {
            let set: JwkSet<16> = JwkSet::parse(jwks.as_bytes()).unwrap();
            let mut scratch = [0u8; 2048];
            for t in &tokens {
                apisig::jws::verify(&set, &issuer, t.as_bytes(), now, &mut scratch).unwrap();
            }
        });
    }

    assert_eq!(total, 0, "the core allocated");
    // Control: the counter does see an allocation.
    assert_eq!(count("control: one Vec", || drop(std::hint::black_box(vec![1u8]))), 1);
    println!("no_alloc: 1 passed, 0 failed");
}
