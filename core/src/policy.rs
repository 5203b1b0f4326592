//! Roles and the endpoints they may reach, with a canonical-path check that refuses rather
//! than normalises.
//!
//! Pattern grammar: a pattern is 1 to [`PATTERN_MAX`] bytes of printable ASCII starting with
//! `/`, without `?`, `%`, `;`, `\`, `//`, `.` or `..` segments, or a run of three or more
//! `*`. `*` matches any run (possibly empty) of bytes other than `/`; `**` matches any run of
//! any bytes, across segments and also inside one (`/v1/filtered**ApprovalTask`). Everything
//! else matches itself, case-sensitively. So `/v1/key/**` matches `/v1/key/` and
//! `/v1/key/a/b`, not `/v1/key`.
//!
//! Matching simulates the pattern's automaton over the path one byte at a time, so its cost
//! is linear in the path length whatever the pattern — no backtracking. The automaton's
//! states are bits, so one path byte costs a few word operations (the `policy-hostile`
//! benchmark: a 60-token pattern that keeps every state alive).
//!
//! ```
//! use apisig::dialect::{SECUROSYS_ROLES, KEY_OPERATION};
//! use apisig::Error;
//! assert_eq!(SECUROSYS_ROLES.authorize(KEY_OPERATION, b"/v1/sign"), Ok(()));
//! assert_eq!(SECUROSYS_ROLES.authorize(KEY_OPERATION, b"/v1/key"), Err(Error::Forbidden));
//! assert_eq!(SECUROSYS_ROLES.authorize(KEY_OPERATION, b"/v1/sign/../key"), Err(Error::NonCanonicalPath));
//! ```

use crate::Error;
use crate::client::Scopes;

/// Longest pattern accepted.
pub const PATTERN_MAX: usize = 128;

/// A role, by its position in a [`Policy`].
#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
pub struct RoleId(pub u8);

/// A named role and the endpoint patterns it may reach.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Role<'a> {
    /// The role's name.
    pub name: &'a str,
    /// Patterns of the paths it may reach.
    pub patterns: &'a [&'a str],
}

/// A table of roles; `RoleId(n)` is the n-th.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Policy<'a> {
    /// The roles.
    pub roles: &'a [Role<'a>],
}

impl Policy<'_> {
    /// The id of the role called `name`.
    pub fn role_id(&self, name: &str) -> Option<RoleId> {
        let i = self.roles.iter().position(|r| r.name == name)?;
        u8::try_from(i).ok().map(RoleId)
    }

    /// The role with id `id`.
    pub fn role(&self, id: RoleId) -> Option<&Role<'_>> {
        self.roles.get(usize::from(id.0))
    }

    /// Checks every pattern (do this once, when the policy is configured).
    ///
    /// # Errors
    /// [`Error::InvalidPattern`] for the first invalid pattern; more than 256 roles also
    /// gives it.
    pub fn check(&self) -> Result<(), Error> {
        if self.roles.len() > 256 {
            return Err(Error::InvalidPattern);
        }
        for role in self.roles {
            for p in role.patterns {
                Pattern::parse(p.as_bytes())?;
            }
        }
        Ok(())
    }

    /// Decides whether `role` may request `target` (path and optional query; the query is
    /// not part of the match).
    ///
    /// # Errors
    /// [`Error::NonCanonicalPath`] when the path is not canonical (see [`check_canonical`]),
    /// [`Error::Forbidden`] when no pattern of the role matches (or the role does not
    /// exist), [`Error::InvalidPattern`] when the role has an invalid pattern.
    pub fn authorize(&self, role: RoleId, target: &[u8]) -> Result<(), Error> {
        let path = check_canonical(target)?;
        let role = self.role(role).ok_or(Error::Forbidden)?;
        for p in role.patterns {
            if Pattern::parse(p.as_bytes())?.matches(path) {
                return Ok(());
            }
        }
        Err(Error::Forbidden)
    }
}

/// A server's table of scope names: bit `i` of a client's [`Scopes`] is `names[i]` (at most
/// 64). Scopes are per-key permissions ("add permissions to your API key"), checked by the
/// server for each endpoint the way roles are.
///
/// ```
/// use apisig::{Error, client::Scopes, policy::ScopeNames};
/// let table = ScopeNames { names: &["read", "trade", "withdraw"] };
/// let held = table.scopes(&["read", "trade"])?;
/// assert_eq!(held, Scopes(0b011));
/// assert_eq!(table.authorize(held, &["trade"]), Ok(()));
/// assert_eq!(table.authorize(held, &["withdraw"]), Err(Error::Forbidden));
/// assert_eq!(table.name(2), Some("withdraw"));
/// # Ok::<(), apisig::Error>(())
/// ```
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct ScopeNames<'a> {
    /// The names, by bit.
    pub names: &'a [&'a str],
}

impl<'a> ScopeNames<'a> {
    /// Checks the table (do this once, when it is configured).
    ///
    /// # Errors
    /// [`Error::InvalidPattern`] for more than 64 names, an empty one or one named twice.
    pub fn check(&self) -> Result<(), Error> {
        let unique =
            self.names.iter().enumerate().all(|(i, n)| !self.names.iter().skip(i.saturating_add(1)).any(|m| m == n));
        if self.names.len() > 64 || self.names.iter().any(|n| n.is_empty()) || !unique {
            return Err(Error::InvalidPattern);
        }
        Ok(())
    }

    /// The bit of the scope called `name`.
    pub fn bit(&self, name: &str) -> Option<u32> {
        let i = self.names.iter().position(|n| *n == name)?;
        u32::try_from(i).ok().filter(|&b| b < 64)
    }

    /// The name of scope bit `bit`.
    pub fn name(&self, bit: u32) -> Option<&'a str> {
        self.names.get(usize::try_from(bit).ok()?).copied().filter(|_| bit < 64)
    }

    /// The scopes called `names`.
    ///
    /// # Errors
    /// [`Error::InvalidPattern`] for a name not in the table.
    pub fn scopes(&self, names: &[&str]) -> Result<Scopes, Error> {
        names.iter().try_fold(Scopes::NONE, |acc, n| {
            let bit = self.bit(n).ok_or(Error::InvalidPattern)?;
            Ok(Scopes(acc.0 | 1u64.checked_shl(bit).unwrap_or(0)))
        })
    }

    /// Decides whether a client holding `held` (its [`Principal::scopes`](crate::Principal))
    /// may make a request that needs every scope in `needed`.
    ///
    /// # Errors
    /// [`Error::Forbidden`] when one is missing, [`Error::InvalidPattern`] when `needed`
    /// names a scope not in the table (the server's mistake).
    pub fn authorize(&self, held: Scopes, needed: &[&str]) -> Result<(), Error> {
        held.authorize(self.scopes(needed)?)
    }
}

/// Checks that a request target is canonical and returns its path part (before any `?`).
///
/// Refused: anything outside printable ASCII (space, tab, controls, DEL, raw non-ASCII); a
/// path not starting with `/`; `//`; a `.` or `..` segment; `\`; `;`; a `%` not followed by
/// two hex digits; a percent-encoded `.`, `/`, `\`, `;`, `%`, control byte, DEL or byte ≥
/// 0x80. Nothing is decoded or normalised: a router might resolve such a path to another
/// endpoint than the one matched.
///
/// # Errors
/// [`Error::NonCanonicalPath`].
pub fn check_canonical(target: &[u8]) -> Result<&[u8], Error> {
    let bad = Err(Error::NonCanonicalPath);
    if !target.iter().all(|b| matches!(b, 0x21..=0x7e)) {
        return bad;
    }
    let end = target.iter().position(|&b| b == b'?').unwrap_or(target.len());
    let path = target.get(..end).unwrap_or(&[]);
    if path.first() != Some(&b'/') {
        return bad;
    }
    if path.windows(2).any(|w| w == b"//") || path.split(|&b| b == b'/').any(|s| s == b"." || s == b"..") {
        return bad;
    }
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        match b {
            b'\\' | b';' => return bad,
            b'%' => {
                let hi = path.get(i.saturating_add(1)).and_then(|&c| hex_value(c));
                let lo = path.get(i.saturating_add(2)).and_then(|&c| hex_value(c));
                let (Some(hi), Some(lo)) = (hi, lo) else { return bad };
                let decoded = hi.wrapping_mul(16).wrapping_add(lo);
                if matches!(decoded, b'.' | b'/' | b'\\' | b';' | b'%' | 0x00..=0x1f | 0x7f..=0xff) {
                    return bad;
                }
                i = i.saturating_add(3);
            }
            _ => i = i.saturating_add(1),
        }
    }
    Ok(path)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(c.wrapping_sub(b'a').wrapping_add(10)),
        b'A'..=b'F' => Some(c.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

#[derive(Copy, Clone, Eq, PartialEq)]
enum Token {
    Byte(u8),
    /// `*`: any run of non-`/` bytes.
    Star,
    /// `**`: any run of bytes.
    Stars,
}

/// A parsed pattern: its tokens, in fixed storage.
struct Pattern {
    tokens: [Token; PATTERN_MAX],
    len: usize,
}

/// A set of automaton states (token positions 0..=PATTERN_MAX).
#[derive(Copy, Clone, Default, Eq, PartialEq)]
struct States([u64; 3]);

impl States {
    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1u64 << (i % 64);
        }
    }
    fn has(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }
    fn is_empty(&self) -> bool {
        self.0 == [0; 3]
    }
    fn and(self, o: States) -> States {
        States([self.0[0] & o.0[0], self.0[1] & o.0[1], self.0[2] & o.0[2]])
    }
    fn or(self, o: States) -> States {
        States([self.0[0] | o.0[0], self.0[1] | o.0[1], self.0[2] | o.0[2]])
    }
    /// Every state moved one token on.
    fn shift(self) -> States {
        let [a, b, c] = self.0;
        States([a << 1, (b << 1) | (a >> 63), (c << 1) | (b >> 63)])
    }
}

/// Most distinct bytes a pattern may use for the bit-parallel matcher; a pattern with more
/// (rare: patterns are short) is matched token by token, in linear time too.
const CLASSES: usize = 24;

/// The pattern's automaton as bit masks, one bit per token position: the positions of `*`,
/// of `**`, and of each distinct literal byte. Matching a path byte is then a few word
/// operations whatever the pattern's length.
struct Masks {
    star: States,
    stars: States,
    /// Class of each printable byte (0x20..=0x7f), 0 for bytes the pattern never uses.
    class: [u8; 96],
    by_class: [States; CLASSES],
}

impl Pattern {
    /// Parses and validates a pattern (grammar in the module docs).
    fn parse(p: &[u8]) -> Result<Pattern, Error> {
        let bad = Err(Error::InvalidPattern);
        if p.is_empty() || p.len() > PATTERN_MAX || p.first() != Some(&b'/') {
            return bad;
        }
        if p.iter().any(|b| !matches!(b, 0x21..=0x7e) || b"?%;\\".contains(b)) {
            return bad;
        }
        if p.windows(2).any(|w| w == b"//") || p.windows(3).any(|w| w == b"***") {
            return bad;
        }
        if p.split(|&b| b == b'/').any(|s| s == b"." || s == b"..") {
            return bad;
        }
        let mut pattern = Pattern { tokens: [Token::Byte(0); PATTERN_MAX], len: 0 };
        let mut i = 0;
        while let Some(&b) = p.get(i) {
            let double = b == b'*' && p.get(i.saturating_add(1)) == Some(&b'*');
            let token = match (b, double) {
                (b'*', true) => Token::Stars,
                (b'*', false) => Token::Star,
                _ => Token::Byte(b),
            };
            i = i.saturating_add(if double { 2 } else { 1 });
            let slot = pattern.tokens.get_mut(pattern.len).ok_or(Error::InvalidPattern)?;
            *slot = token;
            pattern.len = pattern.len.saturating_add(1);
        }
        Ok(pattern)
    }

    fn tokens(&self) -> &[Token] {
        self.tokens.get(..self.len).unwrap_or(&[])
    }

    /// Adds the states reachable without consuming a byte (a star may match nothing).
    fn closure(&self, mut s: States) -> States {
        for (i, t) in self.tokens().iter().enumerate() {
            if s.has(i) && matches!(t, Token::Star | Token::Stars) {
                s.set(i.saturating_add(1));
            }
        }
        s
    }

    /// The masks, or `None` when the pattern uses more than `CLASSES - 1` distinct bytes.
    fn masks(&self) -> Option<Masks> {
        let mut m = Masks {
            star: States::default(),
            stars: States::default(),
            class: [0; 96],
            by_class: [States::default(); CLASSES],
        };
        let mut classes = 1usize;
        for (i, t) in self.tokens().iter().enumerate() {
            match *t {
                Token::Star => m.star.set(i),
                Token::Stars => m.stars.set(i),
                Token::Byte(b) => {
                    let slot = m.class.get_mut(usize::from(b.checked_sub(0x20)?))?;
                    if *slot == 0 {
                        *slot = u8::try_from(classes).ok()?;
                        classes = classes.saturating_add(1);
                    }
                    m.by_class.get_mut(usize::from(*slot))?.set(i);
                }
            }
        }
        Some(m)
    }

    fn matches(&self, path: &[u8]) -> bool {
        let Some(m) = self.masks() else { return self.matches_slowly(path) };
        let any_star = m.star.or(m.stars);
        // A star may match nothing: from its position, the next token is reachable too. Stars
        // are never adjacent (`***` is refused), so one step closes the set.
        let closure = |s: States| s.or(s.and(any_star).shift());
        let mut start = States::default();
        start.set(0);
        let mut current = closure(start);
        let none = States::default();
        for &c in path {
            let class = usize::from(c).checked_sub(0x20).and_then(|i| m.class.get(i)).copied().unwrap_or(0);
            let bytes = if class == 0 { none } else { m.by_class.get(usize::from(class)).copied().unwrap_or(none) };
            let stay = if c == b'/' { m.stars } else { any_star };
            current = closure(current.and(bytes).shift().or(current.and(stay)));
            if current.is_empty() {
                return false;
            }
        }
        current.has(self.len)
    }

    /// The same automaton, token by token (for patterns with many distinct bytes).
    fn matches_slowly(&self, path: &[u8]) -> bool {
        let mut start = States::default();
        start.set(0);
        let mut current = self.closure(start);
        for &c in path {
            let mut next = States::default();
            for (i, t) in self.tokens().iter().enumerate() {
                if !current.has(i) {
                    continue;
                }
                match *t {
                    Token::Byte(b) if b == c => next.set(i.saturating_add(1)),
                    Token::Star if c != b'/' => next.set(i),
                    Token::Stars => next.set(i),
                    _ => {}
                }
            }
            current = self.closure(next);
            if current.is_empty() {
                return false;
            }
        }
        current.has(self.len)
    }
}

/// Whether `path` matches `pattern` (grammar in the module docs). The path is not checked
/// for canonical form here; [`Policy::authorize`] does that.
///
/// # Errors
/// [`Error::InvalidPattern`] when the pattern is not valid.
pub fn pattern_matches(pattern: &str, path: &[u8]) -> Result<bool, Error> {
    Ok(Pattern::parse(pattern.as_bytes())?.matches(path))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn stars() {
        let m = |p: &str, s: &str| pattern_matches(p, s.as_bytes()).ok();
        assert_eq!(m("/v1/key/**", "/v1/key/a/b"), Some(true));
        assert_eq!(m("/v1/key/**", "/v1/key/"), Some(true));
        assert_eq!(m("/v1/key/**", "/v1/key"), Some(false));
        assert_eq!(m("/v1/filtered**ApprovalTask", "/v1/filteredApprovalTask"), Some(true));
        assert_eq!(m("/v1/filtered**ApprovalTask", "/v1/filtered/x/yApprovalTask"), Some(true));
        assert_eq!(m("/v1/*/x", "/v1/a/x"), Some(true));
        assert_eq!(m("/v1/*/x", "/v1/a/b/x"), Some(false));
        assert_eq!(m("/v1/key/**/attributes", "/v1/key/k1/attributes"), Some(true));
        assert_eq!(m("/a/***", "/a/b"), None);
        assert_eq!(m("/a/../b", "/b"), None);
    }

    #[test]
    fn canonical_paths() {
        assert_eq!(check_canonical(b"/v1/key?x=/../"), Ok(&b"/v1/key"[..]));
        assert_eq!(check_canonical(b"/v1/key/"), Ok(&b"/v1/key/"[..]));
        assert_eq!(check_canonical(b"/v1/a%41"), Ok(&b"/v1/a%41"[..]));
        for bad in [
            "",
            "v1",
            "//v1",
            "/v1//key",
            "/v1/./key",
            "/v1/..",
            "/v1/key/.",
            "/v1\\key",
            "/v1;x",
            "/v1/%2e%2e",
            "/v1/%2F",
            "/v1/%25",
            "/v1/%c0%af",
            "/v1/%0",
            "/v1/%zz",
            "/v1 ",
            "/v1\t",
            "/v1/%00",
        ] {
            assert_eq!(check_canonical(bad.as_bytes()), Err(Error::NonCanonicalPath), "{bad:?}");
        }
    }

    /// An independent oracle: the grammar read directly as a backtracking matcher
    /// (exponential in the worst case, fine for short inputs).
    fn naive(p: &[u8], s: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=s.len()).any(|k| naive(rest, &s[k..])),
            [b'*', rest @ ..] => (0..=s.len()).take_while(|&k| !s[..k].contains(&b'/')).any(|k| naive(rest, &s[k..])),
            [c, rest @ ..] => s.first() == Some(c) && naive(rest, &s[1..]),
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_backtracking_matcher(
            p in "/[ab/*]{0,10}",
            s in "/[ab/]{0,12}",
        ) {
            if let Ok(got) = pattern_matches(&p, s.as_bytes()) {
                proptest::prop_assert_eq!(got, naive(p.as_bytes(), s.as_bytes()), "{} {}", p, s);
            }
        }

        #[test]
        fn bit_parallel_agrees_with_token_by_token(p in "/[a-z0-9/*]{0,40}", s in "/[a-z0-9/]{0,60}") {
            if let Ok(pattern) = Pattern::parse(p.as_bytes()) {
                proptest::prop_assert_eq!(pattern.matches(s.as_bytes()), pattern.matches_slowly(s.as_bytes()));
            }
        }
    }
}
