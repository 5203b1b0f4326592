//! The stated MSRV (`rust-version`) of every published crate (apisig, apisig-ffi,
//! apisig-redis, apisig-store, apisig-http) holds for what its users compile: no crate in its normal
//! dependency tree (every feature on) asks for a newer Rust.
//! Our own code is held to it by clippy's `incompatible_msrv` lint, which reads the same
//! `rust-version` (`make lint`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::Value;

fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The crates published for others (`make package-check` packages the same five).
const PUBLISHED: [&str; 5] = ["apisig", "apisig-ffi", "apisig-redis", "apisig-store", "apisig-http"];

#[test]
fn no_dependency_needs_a_newer_rust_than_the_stated_msrv() {
    // This machine's platform only: the crates of other platforms may not be downloaded here.
    let rustc =
        Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned())).arg("-vV").output().unwrap();
    let rustc = String::from_utf8(rustc.stdout).unwrap();
    let host = rustc.lines().find_map(|l| l.strip_prefix("host: ")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        // Default features: the crate's dev-dependency on itself turns its optional ones on.
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();

    let packages: HashMap<&str, &Value> =
        meta["packages"].as_array().unwrap().iter().map(|p| (p["id"].as_str().unwrap(), p)).collect();
    let nodes: HashMap<&str, &Value> =
        meta["resolve"]["nodes"].as_array().unwrap().iter().map(|n| (n["id"].as_str().unwrap(), n)).collect();
    let this = packages.values().find(|p| p["name"] == "apisig-http").unwrap();
    assert_eq!(version(this["rust_version"].as_str().unwrap()), version(env!("CARGO_PKG_RUST_VERSION")));

    let mut newer = Vec::new();
    for name in PUBLISHED {
        let ours = packages
            .values()
            .find(|p| p["name"] == name && p["source"].is_null())
            .unwrap_or_else(|| panic!("{name} is not a workspace member"));
        let msrv = version(ours["rust_version"].as_str().unwrap_or_else(|| panic!("{name} states no rust-version")));
        // The normal (and build) dependencies reachable from the crate: what its users build.
        let mut seen = BTreeSet::new();
        let mut todo = vec![ours["id"].as_str().unwrap()];
        while let Some(id) = todo.pop() {
            if !seen.insert(id) {
                continue;
            }
            for dep in nodes[id]["deps"].as_array().unwrap() {
                let kinds = dep["dep_kinds"].as_array().unwrap();
                if kinds.iter().any(|k| k["kind"].is_null() || k["kind"] == "build") {
                    todo.push(dep["pkg"].as_str().unwrap());
                }
            }
        }
        assert!(seen.len() > 5, "{name}'s tree was walked: {} crates", seen.len());
        newer.extend(seen.iter().filter_map(|id| {
            let p = packages[id];
            let needs = p["rust_version"].as_str()?;
            let (dep, v) = (p["name"].as_str()?, p["version"].as_str()?);
            (version(needs) > msrv).then(|| format!("{name} states {msrv:?}, but {dep} {v} needs Rust {needs}"))
        }));
    }
    assert!(newer.is_empty(), "{newer:#?}");
}
