"""policy.json: the Securosys role table, role checks, path attacks and pattern
matching."""

from __future__ import annotations

from oracles.common import VALID, VectorError
from oracles.policy import canonical_fault, path_part, pattern_fault, pattern_matches, role_fault

from .common import TcIds, check_faults, file_header, outcome

ROLE_ALLOWED = {
    "keyManagementToken": [
        "/v1/key", "/v1/key/abc?x=1", "/v1/key/", "/v1/key/my-key", "/v1/key/my-key/attributes",
        "/v1/key/a/b/attributes", "/v1/importedKey", "/v1/derivedKey", "/v1/dataObject",
        "/v1/dataObject/obj-1", "/v1/dataObject/a/b", "/v1/attestation/key/k1",
        "/v1/attestation/", "/v1/modify", "/v1/synchronousModify", "/v1/key?",
        "/v1/key/a%20b", "/v1/key/%41", "/v1/key/.hidden", "/v1/key/...",
    ],
    "keyOperationToken": [
        "/v1/certificate/synchronous/selfsign", "/v1/synchronousUnwrap",
        "/v1/synchronousUnblock", "/v1/synchronousSign", "/v1/synchronousFileDecrypt",
        "/v1/synchronousDecrypt", "/v1/synchronousBlock", "/v1/synchronousHmac",
        "/v1/fileEncrypt", "/v1/wrap", "/v1/verify", "/v1/encrypt", "/v1/createRfcTimestamp",
        "/v1/generateRandom/32", "/v1/unwrap", "/v1/unblock", "/v1/sign", "/v1/decrypt",
        "/v1/block", "/v1/request/abc-123", "/v1/filteredRequests", "/v1/sign?x=1",
        "/v1/sign?next=/../v1/key", "/v1/sign?redirect=https://example.com/a",
        "/v1/sign?q=%41%20b", "/v1/certificate/", "/v1/request/a/b/c",
    ],
    "approverToken": [
        "/v1/filteredApprovalTask", "/v1/filteredXYZApprovalTask",
        "/v1/filteredSign/Decrypt/ApprovalTask", "/v1/approval", "/v1/task",
        "/v1/approver/onboard", "/v1/approval?status=open",
    ],
    "serviceToken": [
        "/v1/versionInfo", "/v1/licenseInfo", "/v1/keystore/statistics", "/v1/hsm/log",
        "/v1/hsm/log/", "/v1/hsm/log/2024-01-01", "/v1/hsm/log/a/b",
    ],
    "approverKeyManagementToken": [
        "/v1/approverManagement/", "/v1/approverManagement/approvers",
        "/v1/approverManagement/approvers/42/keys",
    ],
}

ROLE_FORBIDDEN = {
    "keyManagementToken": [
        ("/v1/sign", "keyOperationToken's endpoint"),
        ("/v1/keys", "longer literal"),
        ("/v1/keystore/statistics", "prefix '/v1/key' without the '/' of '/v1/key/**'"),
        ("/v1/attestation", "'/v1/attestation/**' needs the trailing '/'"),
        ("/v1/dataObjects", "longer literal"),
        ("/v1/modify/", "trailing slash does not match a literal"),
        ("/v2/key", "other API version"),
        ("/v1/ke%79", "percent-encoded 'y' is matched literally, not decoded"),
        ("/", "root"),
    ],
    "keyOperationToken": [
        ("/v1/key", "keyManagementToken's endpoint"),
        ("/v1/certificate", "'/v1/certificate/**' needs the trailing '/'"),
        ("/v1/generateRandom", "'/v1/generateRandom/**' needs the trailing '/'"),
        ("/v1/approval", "approverToken's endpoint"),
        ("/v1/key?x=/../sign", "query is not matched: the path is /v1/key"),
    ],
    "approverToken": [
        ("/v1/filteredRequests", "keyOperationToken's endpoint"),
        ("/v1/filteredApprovalTasks", "'**' then literal must end the path"),
        ("/v1/approverManagement/x", "approverKeyManagementToken's endpoint"),
        ("/v1/tasks", "longer literal"),
        ("/v1/approver/onboard/x", "literal pattern has no '**'"),
    ],
    "serviceToken": [
        ("/v1/hsm/logs", "longer literal"),
        ("/v1/hsm", "shorter literal"),
        ("/v1/key", "keyManagementToken's endpoint"),
        ("/v1/keystore", "prefix of a literal"),
    ],
    "approverKeyManagementToken": [
        ("/v1/approverManagement", "'/v1/approverManagement/**' needs the trailing '/'"),
        ("/v1/approval", "approverToken's endpoint"),
        ("/v1/approverManagementX/y", "'/**' requires the '/' right after the literal"),
    ],
}

# (role, target, expected, what the attack tries)
ATTACKS = [
    ("serviceToken", "/v1/hsm/log/../../key", "non_canonical_path", "'..' segments"),
    ("keyOperationToken", "/v1/certificate/../key", "non_canonical_path", "'..' out of '/**'"),
    ("approverToken", "/v1/filtered/../../v1/key/x/ApprovalTask", "non_canonical_path",
     "'..' inside a mid-segment '**' match"),
    ("keyManagementToken", "/v1/key/../sign", "non_canonical_path", "'..' out of '/v1/key/**'"),
    ("keyManagementToken", "/v1/key/..", "non_canonical_path", "trailing '..'"),
    ("keyManagementToken", "/v1/key/.", "non_canonical_path", "trailing '.'"),
    ("keyOperationToken", "/v1/./key", "non_canonical_path", "'/./'"),
    ("keyOperationToken", "/v1/request/./../key", "non_canonical_path", "'/./' and '..'"),
    ("serviceToken", "/..", "non_canonical_path", "'..' at the root"),
    ("keyOperationToken", "//v1/sign", "non_canonical_path", "leading '//'"),
    ("keyOperationToken", "/v1//sign", "non_canonical_path", "'//' in the middle"),
    ("keyOperationToken", "/v1/request//../key", "non_canonical_path", "'//' then '..'"),
    ("keyOperationToken", "/v1/certificate/%2e%2e/key", "non_canonical_path", "'%2e%2e'"),
    ("keyOperationToken", "/v1/certificate/%2E%2E/key", "non_canonical_path", "'%2E%2E'"),
    ("keyOperationToken", "/v1/certificate/.%2e/key", "non_canonical_path", "'.%2e'"),
    ("keyOperationToken", "/v1/certificate/%252e%252e/key", "non_canonical_path",
     "double-encoded '%252e'"),
    ("serviceToken", "/v1/hsm/log/..%2f..%2fkey", "non_canonical_path", "'%2f'"),
    ("serviceToken", "/v1/hsm/log/..%2F..%2Fkey", "non_canonical_path", "'%2F'"),
    ("serviceToken", "/v1/hsm/log/..%5c..%5ckey", "non_canonical_path", "'%5c'"),
    ("serviceToken", "/v1/hsm/log/..\\..\\key", "non_canonical_path", "backslash"),
    ("keyManagementToken", "/v1/key;jsessionid=x", "non_canonical_path", "';' parameter"),
    ("keyOperationToken", "/v1/sign/..;/key", "non_canonical_path", "'..;/'"),
    ("keyOperationToken", "/v1/certificate/..;/key", "non_canonical_path",
     "'..;/' inside '/**'"),
    ("keyOperationToken", "/v1/certificate/..%3b/key", "non_canonical_path", "'%3b'"),
    ("keyOperationToken", "/v1/sign ", "non_canonical_path", "trailing space"),
    ("keyOperationToken", "/v1/sign\t", "non_canonical_path", "trailing tab"),
    ("keyOperationToken", " /v1/sign", "non_canonical_path", "leading space"),
    ("keyOperationToken", "/v1/sign\r\n", "non_canonical_path", "trailing CR LF"),
    ("keyOperationToken", "/v1/sign?x=1 y", "non_canonical_path", "space in the query"),
    ("keyOperationToken", "/v1/sign/", "forbidden", "trailing slash"),
    ("keyOperationToken", "/V1/KEY", "forbidden", "case change"),
    ("keyOperationToken", "/v1/SIGN", "forbidden", "case change of an allowed path"),
    ("keyManagementToken", "/v1/Key", "forbidden", "case change"),
    ("keyOperationToken", "/v1/sign%00", "non_canonical_path", "'%00'"),
    ("keyOperationToken", "/v1/certificate/x%00/../../key", "non_canonical_path",
     "'%00' and '..'"),
    ("keyOperationToken", "/v1/sign%0a", "non_canonical_path", "'%0a'"),
    ("keyOperationToken", "/v1/sign%1f", "non_canonical_path", "'%1f'"),
    ("keyOperationToken", "/v1/sign%7f", "non_canonical_path", "'%7f' (DEL)"),
    ("keyOperationToken", "/v1/certificate/..%c0%af..%c0%afkey", "non_canonical_path",
     "overlong UTF-8 '/' '%c0%af'"),
    ("keyOperationToken", "/v1/sign%80", "non_canonical_path", "'%80'"),
    ("keyOperationToken", "/v1/sign%ff", "non_canonical_path", "'%ff'"),
    ("keyOperationToken", "/v1/sign%2", "non_canonical_path", "'%' with one hex digit"),
    ("keyOperationToken", "/v1/sign%2?x=1", "non_canonical_path",
     "'%' with one hex digit before the query"),
    ("keyOperationToken", "/v1/sign%", "non_canonical_path", "'%' at the end"),
    ("keyOperationToken", "/v1/sign%zz", "non_canonical_path", "'%zz'"),
    ("keyOperationToken", "/v1/sign%g0", "non_canonical_path", "'%g0'"),
    ("keyOperationToken", "", "non_canonical_path", "empty target"),
    ("keyOperationToken", "*", "non_canonical_path", "asterisk-form"),
    ("keyOperationToken", "v1/sign", "non_canonical_path", "no leading '/'"),
    ("keyOperationToken", "?x=1", "non_canonical_path", "query only, empty path"),
    ("keyOperationToken", "http://hsm.example/v1/sign", "non_canonical_path",
     "absolute-form"),
    ("keyOperationToken", "/v1/sign/\u00e9", "non_canonical_path", "raw non-ASCII"),
    ("keyOperationToken", "/v1/sign\x01", "non_canonical_path", "control byte 0x01"),
    ("keyOperationToken", "/v1/sign\x7f", "non_canonical_path", "DEL"),
    ("keyOperationToken", "/v1/sign?next=/../v1/key", VALID,
     "'/../' in the query is fine: the query is not matched"),
    ("keyOperationToken", "/v1/%73ign", "forbidden",
     "'%73' ('s') is allowed but matched literally"),
    ("approverToken", "/v1/%61pproval", "forbidden", "'%61' ('a') is matched literally"),
    ("keyManagementToken", "/v1/key/%7e", VALID, "'%7e' ('~') is allowed"),
]

PATTERN_TESTS = [
    ("/v1/filtered**ApprovalTask", "/v1/filteredFooApprovalTask", VALID, "'**' inside a segment"),
    ("/v1/filtered**ApprovalTask", "/v1/filteredApprovalTask", VALID, "'**' matches empty"),
    ("/v1/filtered**ApprovalTask", "/v1/filteredA/B/CApprovalTask", VALID,
     "'**' inside a segment crosses '/'"),
    ("/v1/filtered**ApprovalTask", "/v1/filteredApprovalTaskX", "forbidden", "extra suffix"),
    ("/v1/filtered**ApprovalTask", "/v1/filteredApprovalTas", "forbidden", "short suffix"),
    ("/v1/filtered**ApprovalTask", "/v1/FilteredXApprovalTask", "forbidden", "case-sensitive"),
    ("/v1/key/**", "/v1/key/", VALID, "'/**' matches the empty rest"),
    ("/v1/key/**", "/v1/key/a/b", VALID, "'/**' crosses segments"),
    ("/v1/key/**", "/v1/key", "forbidden", "the '/' before '**' is literal"),
    ("/v1/key/**/attributes", "/v1/key/x/attributes", VALID, "one segment"),
    ("/v1/key/**/attributes", "/v1/key/x/y/attributes", VALID, "two segments"),
    ("/v1/key/**/attributes", "/v1/key/attributes", "forbidden", "needs '/' on both sides"),
    ("/v1/key/**/attributes", "/v1/key/x/attributes/", "forbidden", "trailing slash"),
    ("/v1/*/sign", "/v1/abc/sign", VALID, "'*' one segment"),
    ("/v1/*/sign", "/v1/a/b/sign", "forbidden", "'*' does not cross '/'"),
    ("/v1/key*", "/v1/key", VALID, "'*' matches empty"),
    ("/v1/key*", "/v1/keystore", VALID, "'*' matches within the segment"),
    ("/v1/key*", "/v1/key/x", "forbidden", "'*' stops at '/'"),
    ("/v1/*", "/v1/", VALID, "'*' matches an empty last segment"),
    ("/*/*/*", "/a/b/c", VALID, "three segments"),
    ("/*/*/*", "/a/b", "forbidden", "two segments"),
    ("/*/*/*", "/a/b/c/d", "forbidden", "four segments"),
    ("/*/*/*", "/a/b/", VALID, "empty third segment"),
    ("/**", "/", VALID, "'/**' matches '/'"),
    ("/**", "/anything/at/all", VALID, "'/**' matches everything under '/'"),
    ("/", "/", VALID, "root literal"),
    ("/", "/x", "forbidden", "root literal only"),
    ("/v1/**x", "/v1/x", VALID, "'**' empty before a literal"),
    ("/v1/**x", "/v1/a/b/x", VALID, "'**' across segments before a literal"),
    ("/v1/**x", "/v1/a/b/y", "forbidden", "wrong last literal"),
    ("/a*b*c", "/abc", VALID, "two stars, empty"),
    ("/a*b*c", "/aXbYc", VALID, "two stars"),
    ("/a*b*c", "/aX/bYc", "forbidden", "'*' does not cross '/'"),
    ("/v1/Key", "/v1/key", "forbidden", "case-sensitive"),
    ("/v1/a.b+c(d)[e]{f}^$|", "/v1/a.b+c(d)[e]{f}^$|", VALID,
     "regex metacharacters are literal"),
    ("/v1/a.b+c(d)[e]{f}^$|", "/v1/aXb+c(d)[e]{f}^$|", "forbidden", "'.' is literal"),
    ("/v1/.hidden", "/v1/.hidden", VALID, "a segment starting with '.' is fine"),
    ("/v1/...", "/v1/...", VALID, "'...' is not a dot segment"),
    ("/" + "a" * 127, "/" + "a" * 127, VALID, "pattern of exactly 128 bytes"),
    ("/**a**a**a**a**a**b", "/" + "a" * 256, "forbidden",
     "hostile pattern vs 256 'a's: must stay linear"),
    ("/**a**a**a**a**a**b", "/" + "a" * 255 + "b", VALID, "hostile pattern, matching"),
    ("/*a*a*a*a*a*b", "/" + "a" * 256, "forbidden", "hostile single-star pattern"),
    ("/**/**/**/**/**/x", "/a" * 128, "forbidden", "hostile '/**/' pattern vs 128 segments"),
    ("", "/v1/key", "invalid_pattern", "empty pattern"),
    ("v1/key", "/v1/key", "invalid_pattern", "no leading '/'"),
    ("*", "/v1/key", "invalid_pattern", "no leading '/'"),
    ("**", "/v1/key", "invalid_pattern", "no leading '/'"),
    ("/v1/key?", "/v1/key", "invalid_pattern", "'?'"),
    ("/v1/key?x=1", "/v1/key", "invalid_pattern", "'?' query"),
    ("/v1/%2e", "/v1/key", "invalid_pattern", "'%'"),
    ("/v1/key;x", "/v1/key", "invalid_pattern", "';'"),
    ("/v1\\key", "/v1/key", "invalid_pattern", "backslash"),
    ("/v1//key", "/v1/key", "invalid_pattern", "'//'"),
    ("/**//x", "/v1/key", "invalid_pattern", "'//' after '**'"),
    ("/v1/./key", "/v1/key", "invalid_pattern", "'.' segment"),
    ("/v1/../key", "/v1/key", "invalid_pattern", "'..' segment"),
    ("/v1/key/.", "/v1/key", "invalid_pattern", "trailing '.' segment"),
    ("/v1/key/..", "/v1/key", "invalid_pattern", "trailing '..' segment"),
    ("/v1/***", "/v1/key", "invalid_pattern", "three stars"),
    ("/****", "/v1/key", "invalid_pattern", "four stars"),
    ("/v1/ key", "/v1/key", "invalid_pattern", "space"),
    ("/v1/key\t", "/v1/key", "invalid_pattern", "tab"),
    ("/v1/key\x7f", "/v1/key", "invalid_pattern", "DEL"),
    ("/v1/k\u00e9y", "/v1/key", "invalid_pattern", "non-ASCII"),
    ("/" + "a" * 128, "/" + "a" * 128, "invalid_pattern", "pattern of 129 bytes"),
]


def policy_test(ids: TcIds, roles: dict, role: str, target: str, expect: str,
                comment: str) -> dict:
    check_faults({role_fault(roles, role, target)} - {None}, expect, comment)
    return {"tcId": ids.next(), "comment": comment, "role": role, "path": target,
            **outcome(expect)}


def pattern_test(ids: TcIds, pattern: str, path: str, expect: str, comment: str) -> dict:
    if canonical_fault(path) or "?" in path:
        raise VectorError(f"pattern test paths must be canonical, without query: {path!r}")
    fault = pattern_fault(pattern)
    if fault is None and not pattern_matches(pattern, path):
        fault = "forbidden"
    check_faults({fault} - {None}, expect, comment)
    return {"tcId": ids.next(), "comment": comment, "pattern": pattern, "path": path,
            **outcome(expect)}


def check_role_coverage(roles: dict, tests: list) -> None:
    for role, patterns in roles.items():
        allowed = [t["path"] for t in tests if t["role"] == role and t["result"] == "valid"]
        denied = [t for t in tests if t["role"] == role and t.get("error") == "forbidden"]
        if len(allowed) < 3 or len(denied) < 2:
            raise VectorError(f"{role}: needs >= 3 allowed and >= 2 forbidden paths")
        for p in patterns:
            if not any(pattern_matches(p, path_part(a)) for a in allowed):
                raise VectorError(f"{role}: pattern {p!r} is not covered by an allowed path")


def build_policy(roles: dict) -> dict:
    ids = TcIds()
    tests = []
    for role, paths in ROLE_ALLOWED.items():
        for target in paths:
            tests.append(policy_test(ids, roles, role, target, VALID,
                                     f"{role}: allowed path"))
    for role, items in ROLE_FORBIDDEN.items():
        for target, why in items:
            tests.append(policy_test(ids, roles, role, target, "forbidden",
                                     f"{role}: not allowed ({why})"))
    for role, target, expect, why in ATTACKS:
        tests.append(policy_test(ids, roles, role, target, expect,
                                 f"attack table, {role}: {why}"))
    check_role_coverage(roles, tests)
    pattern_tests = [pattern_test(ids, p, path, expect, why)
                     for p, path, expect, why in PATTERN_TESTS]
    return {
        **file_header(
            "Securosys TSB role policy: the default role table (verbatim from the seed), "
            "role checks on request targets (canonical-path check, then pattern match), and "
            "pattern-matcher tests.",
            [
                "roles: parsed from seeds/securosys-tsb-authentication.md in document order, "
                "including its duplicate '/v1/fileEncrypt'.",
                "tests: does the role allow the request target? valid, or forbidden (no "
                "pattern matches), or non_canonical_path (checked first; refused, never "
                "normalised). The query (from the first '?') is not matched.",
                "Canonical path rules: whole target printable ASCII 0x21-0x7e; the path "
                "part starts with '/', has no '//', no '.' or '..' segment, no '\\', no ';'; "
                "every '%' is followed by two hex digits and does not encode '.', '/', "
                "'\\', ';', '%', a byte < 0x20, 0x7f or >= 0x80. Other percent escapes "
                "are allowed and matched literally (not decoded). The dot, '//', '\\', ';' "
                "and percent rules apply to the path part only; vectors keep queries free "
                "of those characters except '/../' and '//' (allowed).",
                "pattern_tests: one pattern against one canonical path: valid (match), "
                "forbidden (no match) or invalid_pattern (pattern breaks the grammar). "
                "'*' matches any run (possibly empty) of non-'/' bytes; '**' any run of any "
                "bytes; everything else is literal and case-sensitive.",
                "tcIds are unique across tests and pattern_tests.",
            ],
        ),
        "source": "seeds/securosys-tsb-authentication.md",
        "roles": roles,
        "tests": tests,
        "pattern_tests": pattern_tests,
    }
