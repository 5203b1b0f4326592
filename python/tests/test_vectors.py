"""Every case of the shared vectors in tests/vectors/ (written by an independent Python oracle,
tests/vectors/generate.py), run through the Python face."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import load_vectors

import apisig

RFC4231 = load_vectors("hmac_sha256_rfc4231.json")
SIGN = load_vectors("sign.json")
VERIFY = load_vectors("verify.json")
POLICY = load_vectors("policy.json")

SIGN_KEYS = {
    "tcId", "comment", "scheme", "template", "credentials", "request", "now_ns", "timestamp", "nonce",
    "message", "message_hex", "signature", "headers", "authenticate_body", "result", "error",
}  # fmt: skip
VERIFY_KEYS = {"tcId", "comment", "scheme", "keyring", "window_s", "replay_capacity", "steps"}
STEP_KEYS = {"comment", "now_ns", "request", "authorize", "result", "principal", "error"}


def ids(cases: list[dict[str, Any]]) -> list[str]:
    return [f"tc{c['tcId']}" for c in cases]


def data(obj: dict[str, Any], name: str) -> bytes | None:
    """Bytes given as text (`name`) or hex (`name_hex`)."""
    if obj.get(name) is not None:
        value: str = obj[name]
        return value.encode()
    if obj.get(f"{name}_hex") is not None:
        return bytes.fromhex(obj[f"{name}_hex"])
    return None


def scheme_of(case: dict[str, Any]) -> apisig.Scheme:
    if case["scheme"] != "custom":
        return apisig.PRESETS[case["scheme"]]
    return apisig.Scheme.from_dict({"name": "custom", **case["template"]})


def expect_error(exc: apisig.ApisigError, want: str, where: str) -> None:
    assert exc.name == want, f"{where}: got {type(exc).__name__} ({exc.name}), want {want}"
    assert isinstance(exc, apisig.ApisigError)


@pytest.mark.parametrize("case", RFC4231["tests"], ids=ids(RFC4231["tests"]))
def test_rfc4231(case: dict[str, Any]) -> None:
    key, msg, tag = (bytes.fromhex(case[k]) for k in ("key", "msg", "tag"))
    if case["result"] == "valid":
        assert apisig.hmac_sign(key, msg) == tag
        apisig.hmac_verify(key, msg, tag)
    else:
        with pytest.raises(apisig.ApisigError) as info:
            apisig.hmac_verify(key, msg, tag)
        expect_error(info.value, case["error"], case["comment"])


@pytest.mark.parametrize("case", SIGN["tests"], ids=ids(SIGN["tests"]))
def test_sign(case: dict[str, Any]) -> None:
    assert set(case) <= SIGN_KEYS, f"new vector fields {set(case) - SIGN_KEYS}: teach the Python test"
    where = f"tcId {case['tcId']} ({case['comment']})"
    c, r = case["credentials"], case["request"]
    body = data(r, "body") or b""
    headers = [tuple(h) for h in r.get("headers") or []]
    unit_name = case["template"].get("time_unit", "s") if case["scheme"] == "custom" else None
    now = case.get("now_ns")
    if now is None:
        unit_name = unit_name or apisig.PRESETS[case["scheme"]].time_unit
        now = (case.get("timestamp") or 0) * {"s": 10**9, "ms": 10**6, "ns": 1}[unit_name]
    nonce = case.get("nonce")
    kwargs = {"now": now, "nonce": nonce}

    def run() -> tuple[apisig.Signer, dict[str, str]]:
        # Time and nonce injected as the clock and nonce source (None: no nonce to give).
        signer = apisig.Signer(
            scheme_of(case),  # a user-defined scheme is checked here
            api_key=c.get("key_id") or "",
            secret=data(c, "secret") or b"",
            user_id=c.get("user_id") or "",
            token=c.get("token") or "",
            clock=lambda: now,
            nonces=lambda: nonce,
        )
        return signer, signer.sign(r["method"], r["path"], body, headers)

    if case["result"] == "invalid":
        with pytest.raises(apisig.ApisigError) as info:
            run()
        expect_error(info.value, case["error"], where)
        return
    signer, got = run()
    assert list(got.items()) == [tuple(h) for h in case["headers"]], where
    message = data(case, "message")
    if message is not None:
        assert signer.message(r["method"], r["path"], body, headers, **kwargs) == message, where
    else:
        assert signer.scheme.kind != "signed", where
        with pytest.raises(apisig.InvalidTemplate):
            signer.message(r["method"], r["path"], body, headers, **kwargs)
    if case.get("authenticate_body") is not None:
        json_body = signer.sign_json(r["method"], r["path"], body, headers, **kwargs)
        assert json_body == case["authenticate_body"].encode(), where


@pytest.mark.parametrize("case", VERIFY["tests"], ids=ids(VERIFY["tests"]))
def test_verify(case: dict[str, Any]) -> None:
    assert set(case) <= VERIFY_KEYS, f"new vector fields {set(case) - VERIFY_KEYS}: teach the Python test"
    scheme = scheme_of(case)
    verifier = apisig.Verifier(
        capacity=16,
        replay_capacity=case.get("replay_capacity") or 64,
        window=case.get("window_s", 300),
        policy=apisig.SECUROSYS_ROLES,
    )
    for entry in case["keyring"]:
        primary = data(entry, "key") or data(entry, "secret")
        assert primary is not None
        verifier.add(
            entry["id"],
            primary,
            secondary=data(entry, "secondary_key") or data(entry, "secondary_secret"),
            role=entry.get("role"),
            user_id=entry.get("user_id"),
        )
        # The lifecycle fields: status, and per slot revoked / expires_ns.
        if entry.get("status") == "revoked":
            verifier.revoke(entry["id"])
        elif entry.get("status") == "disabled":
            verifier.disable(entry["id"])
        for slot in ("primary", "secondary"):
            if entry.get(f"{slot}_revoked"):
                verifier.revoke_key(entry["id"], slot=slot)
            if entry.get(f"{slot}_expires_ns") is not None:
                verifier.set_expiry(entry["id"], entry[f"{slot}_expires_ns"], slot=slot)
    for n, step in enumerate(case["steps"]):
        assert set(step) <= STEP_KEYS, f"new step fields {set(step) - STEP_KEYS}"
        where = f"tcId {case['tcId']} step {n} ({step['comment']})"
        r = step["request"]
        headers = [(name, value) for name, value in r["headers"]]

        def run(r: dict[str, Any] = r, step: dict[str, Any] = step, h: Any = headers) -> apisig.Principal:
            return verifier.verify(
                scheme,
                r["method"],
                r["path"],
                h,
                data(r, "body") or b"",
                now=step["now_ns"],
                authorize=step.get("authorize", False),
            )

        if step["result"] == "valid":
            p = run()
            want = step["principal"]
            assert (p.client_id, p.slot, p.role) == (want["id"], want["slot"], want["role"]), where
            assert p.scheme == scheme.name
        else:
            with pytest.raises(apisig.ApisigError) as info:
                run()
            expect_error(info.value, step["error"], where)


@pytest.mark.parametrize("case", POLICY["tests"], ids=ids(POLICY["tests"]))
def test_policy(case: dict[str, Any]) -> None:
    if case["result"] == "valid":
        apisig.SECUROSYS_ROLES.authorize(case["role"], case["path"])
    else:
        with pytest.raises(apisig.AuthorizationFailed) as info:
            apisig.SECUROSYS_ROLES.authorize(case["role"], case["path"])
        expect_error(info.value, case["error"], case["comment"])


@pytest.mark.parametrize("case", POLICY["pattern_tests"], ids=ids(POLICY["pattern_tests"]))
def test_pattern(case: dict[str, Any]) -> None:
    if case["result"] == "valid":
        assert apisig.pattern_matches(case["pattern"], case["path"])
    elif case["error"] == "forbidden":
        assert not apisig.pattern_matches(case["pattern"], case["path"])
    else:
        with pytest.raises(apisig.ApisigError) as info:
            apisig.pattern_matches(case["pattern"], case["path"])
        expect_error(info.value, case["error"], case["comment"])


def test_role_table_is_the_documents() -> None:
    assert apisig.SECUROSYS_ROLES.roles == POLICY["roles"]
    # A user-defined policy built from the same table behaves the same.
    mine = apisig.Policy(POLICY["roles"])
    for case in POLICY["tests"]:
        try:
            mine.authorize(case["role"], case["path"])
            got = "valid"
        except apisig.AuthorizationFailed as e:
            got = e.name
        assert got == ("valid" if case["result"] == "valid" else case["error"]), case["comment"]


def test_every_error_name_in_vectors_is_a_class() -> None:
    names = {cls.name for cls in apisig.exceptions._BY_CODE.values()}

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if isinstance(v.get("error"), str):
                assert v["error"] in names, v["error"]
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for doc in (RFC4231, SIGN, VERIFY, POLICY):
        walk(doc)
