#!/usr/bin/env python3
"""Seeds the fuzz corpora from tests/vectors (run by scripts/fuzz.sh).

    seeds.py VECTORS_DIR CORPUS_DIR

Writes one file per seed, named by its SHA-1 (as libFuzzer does), so re-running is idempotent
and never clobbers what the fuzzer found.
"""
import hashlib
import json
import pathlib
import sys

vectors, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def load(name):
    return json.loads((vectors / name).read_text())


jwt = load("jwt.json")
for t in jwt["tests"] + jwt["encode"]:
    if isinstance(t.get("token"), str):
        put("jwt", t["token"])
session = load("session.json")
for t in session["tests"] + session["issue"]:
    if isinstance(t.get("token"), str):
        put("session", t["token"])
policy = load("policy.json")
for t in policy["tests"]:
    put("policy", t["path"])
for t in policy["pattern_tests"]:
    put("pattern_diff", t["pattern"].encode() + b"\0" + t["path"].encode())
    put("policy", t["path"])
for t in load("sign.json")["tests"]:
    if isinstance(t.get("signature"), str):
        put("signature_decode", t["signature"])
for der in sorted((vectors / "certs").glob("*.der")):
    put("pin", der.read_bytes())
jws = load("jws.json")
put("jwks", jws["jwks"])
for t in jws["tests"]:
    if isinstance(t.get("token"), str):
        put("jws", t["token"])
        put("jws_backends", t["token"])
    if t["kind"] == "rfc":
        put("jws_backends", t["signing_input"] + "." + t["signature"])
    if isinstance(t.get("jwks"), str):
        put("jwks", t["jwks"])
for t in load("introspection.json")["tests"]:
    put("jwks", t["body"])
