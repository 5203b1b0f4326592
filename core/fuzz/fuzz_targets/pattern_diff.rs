//! Differential: the core's linear-time pattern automaton against a plain dynamic-programming
//! glob matcher written from the grammar in `policy.rs`'s docs, and the core's
//! pattern validation against an independent reading of that grammar.
#![no_main]

use apisig::Error;
use apisig::policy::{PATTERN_MAX, pattern_matches};
use libfuzzer_sys::fuzz_target;

/// The grammar: 1..=PATTERN_MAX printable ASCII bytes starting with `/`; no `?`, `%`, `;`,
/// `\`; no `//`; no `.` or `..` segment; no run of three or more `*`.
fn valid(p: &[u8]) -> bool {
    if p.is_empty() || p.len() > PATTERN_MAX || p[0] != b'/' {
        return false;
    }
    if p.iter().any(|&b| !(0x21..=0x7e).contains(&b) || matches!(b, b'?' | b'%' | b';' | b'\\')) {
        return false;
    }
    let mut run = 0;
    for (i, &b) in p.iter().enumerate() {
        run = if b == b'*' { run + 1 } else { 0 };
        if run >= 3 || (i > 0 && b == b'/' && p[i - 1] == b'/') {
            return false;
        }
    }
    !p.split(|&b| b == b'/').any(|s| s == b"." || s == b"..")
}

/// `**` any run of bytes; `*` any run of non-`/` bytes; anything else itself. A table over
/// (pattern suffix, path suffix), filled from the ends: `m[i][j]` says `p[i..]` matches
/// `s[j..]`.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (pn, sn) = (p.len(), s.len());
    let mut m = vec![vec![false; sn + 1]; pn + 2];
    m[pn][sn] = true;
    for i in (0..pn).rev() {
        let double = p[i] == b'*' && p.get(i + 1) == Some(&b'*');
        for j in (0..=sn).rev() {
            m[i][j] = if double {
                m[i + 2][j] || (j < sn && m[i][j + 1])
            } else if p[i] == b'*' {
                m[i + 1][j] || (j < sn && s[j] != b'/' && m[i][j + 1])
            } else {
                j < sn && s[j] == p[i] && m[i + 1][j + 1]
            };
        }
    }
    m[0][0]
}

fuzz_target!(|data: &[u8]| {
    // pattern \0 path; without a NUL, the whole input is the path of a fixed pattern set.
    let (pattern, path) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"/v1/**/x*y/*"[..], data),
    };
    let Ok(pattern) = std::str::from_utf8(pattern) else { return };
    let got = pattern_matches(pattern, path);
    if !valid(pattern.as_bytes()) {
        assert_eq!(got, Err(Error::InvalidPattern), "{pattern:?} accepted");
        return;
    }
    let want = glob(pattern.as_bytes(), path);
    assert_eq!(got, Ok(want), "pattern {pattern:?} path {:?}", String::from_utf8_lossy(path));
});
