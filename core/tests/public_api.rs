//! The public surface, listed where a reviewer sees it change: every item at the crate root
//! and every public module, each named by its one path. Adding, moving or renaming a public
//! item fails here until this list, and the table in `lib.rs`'s docs, say so too.

#![allow(clippy::expect_used)]

use std::collections::BTreeSet;

// The root: what signing and verifying a request takes. Each is defined in a private module.
use apisig::{
    Credentials, Encoding, Error, Family, MacKey, PreparedScheme, Principal, Request, SIGNATURE_TEXT_MAX,
    SignatureText, Signer, Stamp, TAG_LEN, Tag, TimeUnit, TokenLifetime, UnixNanos, Verifier, Window, hmac_sign,
    hmac_verify,
};
// The modules, which hold their own types.
use apisig::{
    claim, client, dialect, headers, introspect, jwk, jws, jwt, keyring, message, names, ocsp, pin, policy, preset,
    replay, rotation, scheme, session, store,
};

const ROOT_ITEMS: [&str; 21] = [
    "Credentials",
    "Encoding",
    "Error",
    "Family",
    "MacKey",
    "PreparedScheme",
    "Principal",
    "Request",
    "SIGNATURE_TEXT_MAX",
    "SignatureText",
    "Signer",
    "Stamp",
    "TAG_LEN",
    "Tag",
    "TimeUnit",
    "TokenLifetime",
    "UnixNanos",
    "Verifier",
    "Window",
    "hmac_sign",
    "hmac_verify",
];

const MODULES: [&str; 20] = [
    "claim",
    "client",
    "dialect",
    "headers",
    "introspect",
    "jwk",
    "jws",
    "jwt",
    "keyring",
    "message",
    "names",
    "ocsp",
    "pin",
    "policy",
    "preset",
    "replay",
    "rotation",
    "scheme",
    "session",
    "store",
];

fn root_items() -> BTreeSet<&'static str> {
    ROOT_ITEMS.into_iter().collect()
}

fn lib_rs() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).expect("core/src/lib.rs")
}

/// Each `pub use module::{…};` line of lib.rs as (module, names).
fn reexports(src: &str) -> Vec<(String, Vec<String>)> {
    src.split(';')
        .filter_map(|stmt| stmt.trim().strip_prefix("pub use "))
        .map(|rest| {
            let (module, names) = rest.split_once("::").expect("pub use module::…");
            let names = names.trim_start_matches('{').trim_end_matches('}');
            (module.to_owned(), names.split(',').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect())
        })
        .collect()
}

fn modules(src: &str, public: bool) -> BTreeSet<String> {
    let prefix = if public { "pub mod " } else { "mod " };
    src.lines().filter_map(|l| l.strip_prefix(prefix)).map(|m| m.trim_end_matches(';').to_owned()).collect()
}

#[test]
fn the_root_reexports_exactly_the_listed_items_once_each() {
    let src = lib_rs();
    let mut seen = BTreeSet::new();
    for (_, names) in reexports(&src) {
        for n in names {
            assert!(seen.insert(n.clone()), "{n} is re-exported twice");
        }
    }
    let listed: BTreeSet<String> = root_items().into_iter().map(str::to_owned).collect();
    assert_eq!(seen, listed, "the root's re-exports differ from ROOT_ITEMS");
}

#[test]
fn root_items_come_from_private_modules_only() {
    // An item of a public module re-exported at the root would have two paths.
    let src = lib_rs();
    let (public, private) = (modules(&src, true), modules(&src, false));
    for (module, names) in reexports(&src) {
        assert!(!public.contains(&module), "{names:?} re-exported from the public module {module}");
        assert!(private.contains(&module), "{module} is not a private module of the crate");
    }
    assert_eq!(public, MODULES.iter().map(|m| (*m).to_owned()).collect(), "the public modules differ from MODULES");
}

#[test]
fn the_crate_docs_list_every_root_item_and_module() {
    let src = lib_rs();
    for n in root_items() {
        assert!(src.contains(&format!("[`{n}`]")), "lib.rs's table does not list {n}");
    }
    for m in MODULES {
        assert!(src.contains(&format!("| [`{m}`] |")), "lib.rs's table does not list the module {m}");
    }
}

/// Names every root item and each module's main items by their one path: this file stops
/// compiling when one moves.
#[test]
fn each_item_by_its_one_path() -> Result<(), Error> {
    let key = MacKey::new(b"key")?;
    let tag: Tag = hmac_sign(b"key", b"msg")?;
    assert_eq!(hmac_verify(b"key", b"msg", tag.as_bytes()), Ok(()));
    assert_eq!(key.sign(b"msg"), tag);
    let text: SignatureText = Encoding::Hex.encode(&tag);
    assert_eq!((text.len(), SIGNATURE_TEXT_MAX, TAG_LEN), (2 * TAG_LEN, 2 * TAG_LEN, 32));
    assert_eq!(Error::ReplayedRequest.family(), Family::Authentication);

    let now: UnixNanos = TimeUnit::Seconds.to_nanos(1_700_000_000);
    let creds = Credentials { api_key: "k", secret: b"s", ..Credentials::EMPTY };
    let req = Request::new("GET", "/a");
    let sent = Signer::new(&dialect::AEVO, creds)?.sign(&req, Stamp { now, nonce: None })?;

    let mut ring = keyring::Keyring::<2>::new();
    ring.add("k", b"s")?;
    let mut verifier = Verifier::new(ring, replay::ReplayCache::<8>::new(), Window::DEFAULT);
    let (mut store, mut slots) = ([0u8; 256], [headers::Header::new("", ""); headers::MAX_HEADERS]);
    let received = req.with_headers(sent.as_request_headers(&mut store, &mut slots)?);
    let prepared = PreparedScheme::new(&dialect::AEVO)?;
    let who: Principal = verifier.verify_prepared(&prepared, &received, now)?;
    assert_eq!((who.id.as_str(), who.slot, who.role), ("k", client::Slot::Primary, None));
    assert_eq!(verifier.store().get(&who.id).map(client::Client::id), Some("k"));

    let lifetime = TokenLifetime { issued_at: now, lifetime_s: 600, skew_s: 30 };
    assert!(!lifetime.needs_refresh(now));

    // One item of each module, by its module path.
    let _: Option<claim::Claim> = claim::Deferred::new().take();
    let _: &scheme::Scheme<'_> = &dialect::APEX;
    let _: scheme::Kind = dialect::APEX.kind();
    let _: Option<&scheme::HeaderSpec<'_>> = dialect::APEX.header_for(scheme::Field::Signature);
    let _: Option<message::Template<'_>> = dialect::APEX.template;
    let _: message::PartKind = message::Part::Body.kind();
    let _: message::MessageInput<'_> = message::MessageInput::EMPTY;
    let _: Option<headers::HeaderLine<'_>> = sent.get("AEVO-KEY");
    let _: headers::HeaderSet<'_> = sent;
    assert_eq!(ocsp::check_len(ocsp::RESPONSE_MAX_LEN), Ok(()));
    let _: Option<pin::Pin> = None;
    let _: pin::PinKind = pin::PinKind::PublicKey;
    let _: Option<policy::RoleId> = dialect::SECUROSYS_ROLES.role_id("serviceToken");
    let _: &[policy::Role<'_>] = dialect::SECUROSYS_ROLES.roles;
    let _: &policy::Policy<'_> = &dialect::SECUROSYS_ROLES;
    let _: Option<preset::PresetSigner<'_, preset::Aevo>> = None;
    let _: Option<(preset::PresetSigner<'_, preset::Apex>, preset::Signed)> = None;
    fn is_preset<P: preset::Preset>() {}
    is_preset::<preset::Aevo>();
    let _: Option<replay::ReplayEntry> = None;
    fn is_store<S: replay::ReplayStore>(_: &S) {}
    is_store(verifier.replay());
    let _: rotation::Rotation = rotation::Rotation::new(2, rotation::RetryOn::Unauthorized);
    let mut c: client::Client = client::Client::new("c")?;
    c.set_allowed(&[client::Cidr::parse("10.0.0.0/8")?])?;
    c.set_status(client::Status::Disabled);
    c.set_scopes(client::Scopes(1));
    assert_eq!(client::ALLOWED_MAX, 8);
    let peer: core::net::IpAddr = "192.0.2.1".parse().unwrap_or(core::net::IpAddr::from([0, 0, 0, 0]));
    assert_eq!(client::peer_behind_proxies(peer, core::iter::empty(), &[]), Ok(peer));
    assert!(policy::ScopeNames { names: &["read"] }.authorize(c.scopes(), &["read"]).is_ok());
    assert_eq!(c.scopes().authorize(client::Scopes(2)), Err(Error::Forbidden));
    let _: [u8; 32] = store::key_digest(b"k");
    fn is_client_store<C: store::ClientStore>(_: &C) {}
    is_client_store(verifier.store());
    let _: jwt::Validation<'_> = jwt::Validation::DEFAULT;
    let _: Option<jwt::JwtPolicy> = None;
    assert_eq!(jwk::Alg::from_name("EdDSA"), Some(jwk::Alg::EdDsa));
    let _: Option<jws::Issuer<'_>> = None;
    let _: Option<introspect::Expected<'_>> = None;
    let _: Option<session::SessionKeys> = None;
    assert_eq!(<Encoding as names::Named>::name(Encoding::Hex), "hex");
    Ok(())
}
