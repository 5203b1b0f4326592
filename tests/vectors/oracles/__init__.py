"""Reference implementations behind the shared vectors, written from the specification
(../shared/DESIGN.md, the seeds, the vector brief), never from apisig's code, and never
importing it. Standard library only. One oracle per module:

* hmac_sha256: HMAC-SHA256 by Python's ``hmac`` and by hand (RFC 2104), which must agree.
* policy: Securosys patterns, canonical paths and the role table read from the seed.
* signer / verifier: the client and server sides of every dialect (replay cache, nonces).
* base64url, strict_json, jwt_hs256: HS256 JWTs over canonical base64url and strict JSON.
* session_token: APEX session tokens.  der: certificate pins (a DER walker to the SPKI).

Each reference returns the checks an input fails (an error name per failed check), so the
case tables in ../cases can insist that an invalid case fails exactly the check it declares.
"""
