"""Securosys role policy: the pattern grammar, the canonical-path check, pattern
matching by two matchers that must agree (a ``re.fullmatch`` translation and a
linear-time NFA walk), and the default role table parsed out of the seed document."""

from __future__ import annotations

import re

from .common import SECUROSYS_SEED, VectorError, is_printable_ascii


def pattern_fault(pattern: str) -> str | None:
    """invalid_pattern unless the pattern follows the grammar, else None."""
    raw = pattern.encode("utf-8")
    if not 1 <= len(raw) <= 128 or not raw.startswith(b"/") or not is_printable_ascii(raw):
        return "invalid_pattern"
    if any(c in raw for c in (b"?", b"%", b";", b"\\")) or b"//" in raw or b"***" in raw:
        return "invalid_pattern"
    if any(seg in (b".", b"..") for seg in raw.split(b"/")[1:]):
        return "invalid_pattern"
    return None


def pattern_to_regex(pattern: str) -> str:
    """Matcher 1: `**` -> `.*`, `*` -> `[^/]*`, everything else literal."""
    out = []
    for piece in re.split(r"(\*\*|\*)", pattern):
        if piece == "**":
            out.append(".*")
        elif piece == "*":
            out.append("[^/]*")
        else:
            out.append(re.escape(piece))
    return "".join(out)


def pattern_tokens(pattern: str) -> list:
    tokens, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            tokens.append("**")
            i += 2
        elif pattern[i] == "*":
            tokens.append("*")
            i += 1
        else:
            tokens.append(("lit", pattern[i]))
            i += 1
    return tokens


def nfa_match(pattern: str, path: str) -> bool:
    """Matcher 2: a linear-time NFA walk over the pattern's tokens."""
    tokens = pattern_tokens(pattern)
    end = len(tokens)

    def closure(states: set) -> set:
        out, stack = set(), list(states)
        while stack:
            i = stack.pop()
            if i in out:
                continue
            out.add(i)
            if i < end and tokens[i] in ("*", "**"):
                stack.append(i + 1)
        return out

    current = closure({0})
    for ch in path:
        nxt = set()
        for i in current:
            if i == end:
                continue
            tok = tokens[i]
            if tok == "**" or (tok == "*" and ch != "/"):
                nxt.add(i)
            elif tok == ("lit", ch):
                nxt.add(i + 1)
        current = closure(nxt)
        if not current:
            return False
    return end in current


def pattern_matches(pattern: str, path: str) -> bool:
    """Both matchers; the regex one is skipped only where backtracking would explode
    (then the pattern's final literal is absent from the path's end, so no match)."""
    by_nfa = nfa_match(pattern, path)
    stars = len(re.findall(r"\*\*|\*", pattern))
    if stars >= 4 and len(path) > 64:
        if not by_nfa and path.endswith(pattern[-1]):
            raise VectorError("hostile case would need the regex oracle")
        return by_nfa
    by_regex = re.fullmatch(pattern_to_regex(pattern), path, flags=re.DOTALL) is not None
    if by_regex != by_nfa:
        raise VectorError(f"matchers disagree on {pattern!r} vs {path!r}")
    return by_nfa


PERCENT_REFUSED = frozenset(b"./\\;%")


def canonical_fault(target: str) -> str | None:
    """non_canonical_path unless the request target is canonical, else None."""
    raw = target.encode("utf-8")
    if not raw or not is_printable_ascii(raw):
        return "non_canonical_path"
    path = raw.split(b"?", 1)[0]
    if not path.startswith(b"/") or b"//" in path or b"\\" in path or b";" in path:
        return "non_canonical_path"
    if any(seg in (b".", b"..") for seg in path.split(b"/")[1:]):
        return "non_canonical_path"
    for i, c in enumerate(path):
        if c != ord("%"):
            continue
        hex2 = path[i + 1 : i + 3]
        if len(hex2) != 2 or not all(h in b"0123456789abcdefABCDEF" for h in hex2):
            return "non_canonical_path"
        byte = int(hex2, 16)
        if byte in PERCENT_REFUSED or byte < 0x20 or byte >= 0x7F:
            return "non_canonical_path"
    return None


def path_part(target: str) -> str:
    return target.split("?", 1)[0]


def role_fault(roles: dict, role: str, target: str) -> str | None:
    """The policy decision: non_canonical_path, forbidden, or None (allowed)."""
    fault = canonical_fault(target)
    if fault:
        return fault
    if any(pattern_matches(p, path_part(target)) for p in roles.get(role, [])):
        return None
    return "forbidden"


def parse_role_table(text: str) -> dict:
    """The default role table, in document order, from the Securosys seed."""
    roles: dict = {}
    current, in_details = None, False
    for line in text.splitlines():
        heading = re.fullmatch(r"\*\*[^*`]+\(`([A-Za-z]+)`\)\*\*\s*", line)
        if heading:
            current = heading.group(1)
            roles[current] = []
        elif line.strip() == "<details>":
            in_details = True
        elif line.strip() == "</details>":
            in_details = False
        elif in_details and current is not None:
            item = re.fullmatch(r"\s*-\s+(/\S*)\s*", line)
            if item:
                roles[current].append(item.group(1))
    sizes = {name: len(patterns) for name, patterns in roles.items()}
    expected = {
        "keyManagementToken": 10,
        "keyOperationToken": 22,
        "approverToken": 4,
        "serviceToken": 5,
        "approverKeyManagementToken": 1,
    }
    if len(roles) != 5 or sizes != expected:
        raise VectorError(f"role table parse gave {sizes}, expected {expected}")
    for patterns in roles.values():
        for p in patterns:
            if pattern_fault(p):
                raise VectorError(f"seed pattern {p!r} is not valid under the grammar")
    return roles


def load_roles() -> dict:
    if not SECUROSYS_SEED.is_file():
        raise VectorError(f"seed not found: {SECUROSYS_SEED} (set APISIG_SEEDS)")
    return parse_role_table(SECUROSYS_SEED.read_text(encoding="utf-8"))
