#!/usr/bin/env python3
"""Generate apisig's shared test vectors (tests/vectors/*.json).

The Rust, C and Python test suites of apisig all read the JSON files this script writes.
Every expected value comes from an oracle that is independent of apisig:

* HMAC-SHA256 is computed twice, by Python's ``hmac`` module and by a hand-written HMAC
  construction over ``hashlib.sha256`` (RFC 2104), and the two must agree. The RFC 4231
  file also embeds the RFC's published outputs as literals and checks them against both.
* Encodings come from ``bytes.hex`` and ``base64``.
* Canonical messages, header sets, the verifier's decisions (including replay cache and
  nonce state) and the Securosys role policy are computed by small reference
  implementations (oracles/, one per module) written from the spec (../shared/DESIGN.md,
  the seeds, and the vector brief). Path patterns are matched twice, by a
  ``re.fullmatch`` translation and by a linear-time NFA walk, and the two must agree.
* Every case also *declares* its expected outcome by hand; the generator refuses to write
  anything unless the reference computation gives exactly that outcome. An invalid case must
  trip exactly one check of the reference, so the order in which an implementation runs its
  checks never changes the expected error (see the "notes" in each file).

The default Securosys role table is parsed out of the seed document
(../shared/seeds/securosys-tsb-authentication.md relative to the repository, or
$APISIG_SEEDS), so the table in policy.json is provably verbatim.

The token files (jwt.json, session.json, pins.json) take their references from
oracles/base64url.py, strict_json.py, jwt_hs256.py, session_token.py and der.py: a
hand-written HS256 JWT (canonical base64url decoded two ways, a strict JSON parser that
keeps raw string text, cross-checked against ``json.loads``), the APEX session token
format, and a DER walker from Certificate to SubjectPublicKeyInfo.
Their verification has an order the brief fixes (a JWT's header before its signature), so
those references run in stages: the first stage with a failed check decides, and inside
a stage an invalid case must fail exactly one check. jwt.json embeds RFC 7515 Appendix
A.1's token verbatim. When PyJWT is importable its verdict on every JWT case is compared
with the one declared for it (evidence only; --pyjwt makes a disagreement an error).
pins.json reads real certificates from certs/*.der, made once with the openssl CLI by
--regen-certs (see cases/pins.py, regen_certs: the exact commands, and a cross-check of the
DER walker against openssl); plain runs and --check never run openssl.

The case tables (what each JSON file holds, with every case's declared outcome) are in
cases/, one module per file; cases/writer.py builds, validates and writes them.

Usage, from the repository root:

    python3 tests/vectors/generate.py          # (re)write the JSON files
    python3 tests/vectors/generate.py --check  # exit 1 if a committed file is stale
    python3 tests/vectors/generate.py --pyjwt  # also require PyJWT to agree as declared
    python3 tests/vectors/generate.py --regen-certs  # new certs/*.der (openssl), then write

Standard library only. Output is deterministic:
``json.dumps(obj, indent=1, ensure_ascii=False) + "\\n"``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the oracles and cases packages

from cases.writer import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv))
