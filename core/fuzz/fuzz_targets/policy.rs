//! Canonical paths and role policies: `check_canonical` against an independent reading of
//! its rules; `authorize` (Securosys table and arbitrary policies) is consistent with
//! `check_canonical` and `pattern_matches`, and never panics.
//!
//! Input: `target` or `target \0 rest`, `rest` read by `arbitrary` for a role and an
//! arbitrary policy (seeds are the paths of `tests/vectors/policy.json`).
#![no_main]

use apisig::dialect::SECUROSYS_ROLES;
use apisig::policy::{check_canonical, pattern_matches};
use apisig::{Error, policy::{Policy, Role, RoleId}};
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Default)]
struct Input<'a> {
    role: u8,
    roles: Vec<Vec<&'a str>>,
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// The documented rules, written out separately.
fn canonical(target: &[u8]) -> Option<&[u8]> {
    if target.iter().any(|&b| !(0x21..=0x7e).contains(&b)) {
        return None;
    }
    let path = target.split(|&b| b == b'?').next().unwrap_or(&[]);
    if !path.starts_with(b"/") || path.windows(2).any(|w| w == b"//") {
        return None;
    }
    if path.split(|&b| b == b'/').any(|s| s == b"." || s == b"..") {
        return None;
    }
    if path.contains(&b'\\') || path.contains(&b';') {
        return None;
    }
    let mut i = 0;
    while i < path.len() {
        if path[i] == b'%' {
            let h = path.get(i + 1).copied().and_then(hex)?;
            let l = path.get(i + 2).copied().and_then(hex)?;
            let d = h * 16 + l;
            if d < 0x20 || d >= 0x7f || matches!(d, b'.' | b'/' | b'\\' | b';' | b'%') {
                return None;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Some(path)
}

fn check(policy: &Policy<'_>, role: RoleId, target: &[u8]) {
    let got = policy.authorize(role, target);
    let Some(path) = canonical(target) else {
        assert_eq!(got, Err(Error::NonCanonicalPath));
        return;
    };
    let Some(r) = policy.role(role) else {
        assert_eq!(got, Err(Error::Forbidden));
        return;
    };
    // First pattern that errors or matches decides, as authorize walks them in order.
    let mut want = Err(Error::Forbidden);
    for p in r.patterns {
        match pattern_matches(p, path) {
            Ok(true) => {
                want = Ok(());
                break;
            }
            Ok(false) => {}
            Err(e) => {
                want = Err(e);
                break;
            }
        }
    }
    assert_eq!(got, want);
}

fuzz_target!(|data: &[u8]| {
    let (target, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let x = Input::arbitrary_take_rest(Unstructured::new(rest)).unwrap_or_default();
    let got = check_canonical(target);
    assert_eq!(got.ok(), canonical(target), "target {:?}", String::from_utf8_lossy(target));
    for role in 0..6 {
        check(&SECUROSYS_ROLES, RoleId(role), target);
    }

    let roles: Vec<Role<'_>> = x.roles.iter().take(8).map(|p| Role { name: "r", patterns: p }).collect();
    let policy = Policy { roles: &roles };
    let _ = policy.check();
    check(&policy, RoleId(x.role % 9), target);
});
