/* bad_input.c: the C ABI's contract on bad input — NULL pointers, (NULL, n) inputs, short
 * buffers (distinct code, size needed, nothing else written), oversized fields, out-of-range
 * enum values, flags other than 0 and 1, object storage that is not the object (zeroed,
 * garbage, wiped, another type) — plus every result code produced at least once,
 * caller-owned storage without malloc, sign→verify round trips and the rotation state
 * machine. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, for a key store's file */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int seen[256];

/* CHECK_RC that also records which codes the tests produced. */
#define EXPECT(want, expr)                    \
    do {                                      \
        apisig_result expect_rc_ = (expr);    \
        CHECK_RC(want, expect_rc_);           \
        if (expect_rc_ < 256) seen[expect_rc_] = 1; \
    } while (0)

#define S(lit) lit, (sizeof lit - 1)

static const uint32_t all_codes[] = {
    APISIG_RESULT_OK,
    APISIG_RESULT_NULL_PARAMETER,
    APISIG_RESULT_BUFFER_TOO_SMALL,
    APISIG_RESULT_INVALID_OBJECT,
    APISIG_RESULT_MISSING_CREDENTIAL,
    APISIG_RESULT_DUPLICATE_HEADER,
    APISIG_RESULT_INVALID_HEADER_VALUE,
    APISIG_RESULT_FIELD_TOO_LONG,
    APISIG_RESULT_INVALID_METHOD,
    APISIG_RESULT_SEPARATOR_IN_FIELD,
    APISIG_RESULT_INVALID_PATH,
    APISIG_RESULT_INVALID_BODY,
    APISIG_RESULT_UNKNOWN_KEY,
    APISIG_RESULT_SECRET_MISMATCH,
    APISIG_RESULT_SIGNATURE_MISMATCH,
    APISIG_RESULT_INVALID_SIGNATURE_ENCODING,
    APISIG_RESULT_USER_ID_MISMATCH,
    APISIG_RESULT_UNSUPPORTED_CREDENTIAL,
    APISIG_RESULT_INVALID_TIMESTAMP,
    APISIG_RESULT_TIMESTAMP_OUTSIDE_WINDOW,
    APISIG_RESULT_INVALID_NONCE,
    APISIG_RESULT_REPLAYED_REQUEST,
    APISIG_RESULT_REPLAY_CACHE_FULL,
    APISIG_RESULT_REPLAY_STORE_UNAVAILABLE,
    APISIG_RESULT_NON_CANONICAL_PATH,
    APISIG_RESULT_FORBIDDEN,
    APISIG_RESULT_INVALID_PATTERN,
    APISIG_RESULT_KEYRING_FULL,
    APISIG_RESULT_DUPLICATE_KEY_ID,
    APISIG_RESULT_EMPTY_SECRET,
    APISIG_RESULT_INVALID_TEMPLATE,
    APISIG_RESULT_TOKEN_MALFORMED,
    APISIG_RESULT_TOKEN_TOO_LONG,
    APISIG_RESULT_ALGORITHM_NONE,
    APISIG_RESULT_ALGORITHM_NOT_ALLOWED,
    APISIG_RESULT_MISSING_ALGORITHM,
    APISIG_RESULT_DUPLICATE_FIELD,
    APISIG_RESULT_EMBEDDED_KEY,
    APISIG_RESULT_TOKEN_EXPIRED,
    APISIG_RESULT_TOKEN_NOT_YET_VALID,
    APISIG_RESULT_MISSING_CLAIM,
    APISIG_RESULT_CLAIM_MISMATCH,
    APISIG_RESULT_INVALID_CERTIFICATE,
    APISIG_RESULT_UNPINNED_CERTIFICATE,
    APISIG_RESULT_CERTIFICATE_REVOKED,
    APISIG_RESULT_CERTIFICATE_STATUS_UNKNOWN,
    APISIG_RESULT_OCSP_UNAVAILABLE,
    APISIG_RESULT_OCSP_RESPONDER_ERROR,
    APISIG_RESULT_OCSP_MALFORMED,
    APISIG_RESULT_OCSP_RESPONSE_TOO_LARGE,
    APISIG_RESULT_OCSP_CERT_ID_MISMATCH,
    APISIG_RESULT_OCSP_NONCE_MISMATCH,
    APISIG_RESULT_OCSP_UNAUTHORIZED_RESPONDER,
    APISIG_RESULT_OCSP_SIGNATURE_INVALID,
    APISIG_RESULT_OCSP_RESPONSE_STALE,
    APISIG_RESULT_OCSP_RESPONSE_NOT_YET_VALID,
    APISIG_RESULT_OCSP_NO_RESPONDER,
    APISIG_RESULT_STORE_UNAVAILABLE,
    APISIG_RESULT_CLIENT_REVOKED,
    APISIG_RESULT_KEY_REVOKED,
    APISIG_RESULT_KEY_EXPIRED,
    APISIG_RESULT_CLIENT_DISABLED,
    APISIG_RESULT_ADDRESS_NOT_ALLOWED,
    APISIG_RESULT_INVALID_KEY_FORMAT,
    APISIG_RESULT_INVALID_FORWARDED_FOR,
    APISIG_RESULT_UNKNOWN_KID,
    APISIG_RESULT_KEY_TYPE_MISMATCH,
    APISIG_RESULT_JWKS_MALFORMED,
    APISIG_RESULT_JWKS_TOO_LARGE,
    APISIG_RESULT_SYMMETRIC_ALGORITHM,
    APISIG_RESULT_CRIT_UNSUPPORTED,
    APISIG_RESULT_TOKEN_TYPE_MISMATCH,
    APISIG_RESULT_MISSING_KID,
    APISIG_RESULT_ISSUER_MISMATCH,
    APISIG_RESULT_AUDIENCE_MISMATCH,
    APISIG_RESULT_JWK_WEAK_KEY,
    APISIG_RESULT_JWKS_UNAVAILABLE,
    APISIG_RESULT_DISCOVERY_MISMATCH,
    APISIG_RESULT_TOKEN_INACTIVE,
    APISIG_RESULT_INTROSPECTION_UNAVAILABLE,
    APISIG_RESULT_INTROSPECTION_MALFORMED,
    APISIG_RESULT_INVALID_MASTER_KEY,
    APISIG_RESULT_WRONG_MASTER_KEY,
    APISIG_RESULT_INVALID_STORE_URL,
    APISIG_RESULT_INVALID_ADDRESS,
    APISIG_RESULT_PANIC,
};
#define N_CODES (sizeof all_codes / sizeof all_codes[0])

static const uint64_t NOW = 1700000000000000000ull;

static apisig_scheme preset(const char *name) {
    apisig_scheme s;
    memset(&s, 0xee, sizeof s);
    EXPECT(APISIG_RESULT_OK, apisig_preset(name, strlen(name), &s));
    return s;
}

static apisig_request request(const char *method, const char *path, const char *body) {
    apisig_request r;
    memset(&r, 0, sizeof r);
    r.method = method;
    r.method_len = strlen(method);
    r.path = path;
    r.path_len = strlen(path);
    r.body = (const uint8_t *)body;
    r.body_len = body ? strlen(body) : 0;
    return r;
}

static apisig_stamp stamp(uint64_t now, int has_nonce, uint64_t nonce) {
    apisig_stamp s;
    s.now_ns = now;
    s.nonce = nonce;
    s.has_nonce = has_nonce != 0;
    return s;
}

static apisig_credentials creds(const char *key, const char *secret, const char *user, const char *token) {
    apisig_credentials c;
    memset(&c, 0, sizeof c);
    c.api_key = key;
    c.api_key_len = key ? strlen(key) : 0;
    c.secret = (const uint8_t *)secret;
    c.secret_len = secret ? strlen(secret) : 0;
    c.user_id = user;
    c.user_id_len = user ? strlen(user) : 0;
    c.token = token;
    c.token_len = token ? strlen(token) : 0;
    return c;
}

/* The produced headers as a received request's headers. */
static size_t to_request_headers(const apisig_headers *h, apisig_header_in *out) {
    size_t i;
    for (i = 0; i < h->len; i++) {
        out[i].name = h->lines[i].name;
        out[i].name_len = h->lines[i].name_len;
        out[i].value = (const uint8_t *)h->lines[i].value;
        out[i].value_len = h->lines[i].value_len;
    }
    return h->len;
}

static int all_bytes(const void *p, size_t n, uint8_t b) {
    const uint8_t *q = p;
    size_t i;
    for (i = 0; i < n; i++) {
        if (q[i] != b) return 0;
    }
    return 1;
}

static void test_codes_and_strings(void) {
    size_t i;
    uint32_t c;
    for (i = 0; i < N_CODES; i++) {
        const char *msg = apisig_strerror(all_codes[i]);
        const char *name = apisig_result_name(all_codes[i]);
        CHECK(msg != NULL && strlen(msg) > 0, "strerror(%u)", all_codes[i]);
        CHECK(name != NULL && strcmp(name, "unknown") != 0, "name(%u)", all_codes[i]);
    }
    CHECK(strcmp(apisig_result_name(APISIG_RESULT_SIGNATURE_MISMATCH), "signature_mismatch") == 0, "name");
    CHECK(APISIG_RESULT_SIGNATURE_MISMATCH == 22 && APISIG_RESULT_PANIC == 99 && APISIG_RESULT_OK == 0 &&
              APISIG_RESULT_NULL_PARAMETER == 1 && APISIG_RESULT_BUFFER_TOO_SMALL == 2 &&
              APISIG_RESULT_INVALID_OBJECT == 3,
          "stable numbers");
    CHECK(strcmp(apisig_result_name(98), "unknown") == 0 && apisig_strerror(0xffffffffu) != NULL, "unknown code");
    /* The list above is every code apisig_result_name knows, and no other. */
    for (c = 0; c < 1024; c++) {
        int listed = 0;
        for (i = 0; i < N_CODES; i++) listed |= all_codes[i] == c;
        CHECK(listed == (strcmp(apisig_result_name(c), "unknown") != 0), "code %u listed %d", c, listed);
    }
    /* The statuses a server answers (DESIGN.md; the Python middleware answers the same). */
    CHECK(apisig_result_http_status(APISIG_RESULT_OK) == 200, "status ok");
    CHECK(apisig_result_http_status(APISIG_RESULT_MISSING_CREDENTIAL) == 401 &&
              apisig_result_http_status(APISIG_RESULT_SIGNATURE_MISMATCH) == 401 &&
              apisig_result_http_status(APISIG_RESULT_TOKEN_EXPIRED) == 401,
          "status 401");
    CHECK(apisig_result_http_status(APISIG_RESULT_FORBIDDEN) == 403 &&
              apisig_result_http_status(APISIG_RESULT_NON_CANONICAL_PATH) == 403 &&
              apisig_result_http_status(APISIG_RESULT_CERTIFICATE_REVOKED) == 403,
          "status 403");
    CHECK(apisig_result_http_status(APISIG_RESULT_REPLAY_CACHE_FULL) == 503 &&
              apisig_result_http_status(APISIG_RESULT_REPLAY_STORE_UNAVAILABLE) == 503 &&
              apisig_result_http_status(APISIG_RESULT_OCSP_UNAVAILABLE) == 503,
          "status 503");
    CHECK(apisig_result_http_status(APISIG_RESULT_KEYRING_FULL) == 500 &&
              apisig_result_http_status(APISIG_RESULT_NULL_PARAMETER) == 500 &&
              apisig_result_http_status(98) == 500,
          "status 500");
    CHECK(apisig_tag_bytes() == APISIG_TAG_BYTES, "tag bytes");
    CHECK(apisig_keyring_size() == APISIG_KEYRING_SIZE && sizeof(apisig_keyring) == APISIG_KEYRING_SIZE, "size");
    CHECK(apisig_verifier_size() == APISIG_VERIFIER_SIZE && sizeof(apisig_verifier) == APISIG_VERIFIER_SIZE, "size");
}

static void test_hmac_buffers(void) {
    uint8_t tag[APISIG_TAG_BYTES + 1];
    size_t len = 12345;
    memset(tag, 0xee, sizeof tag);
    /* (NULL, n > 0) input, NULL out_len, NULL out with cap. */
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_hmac_sha256(NULL, 4, (const uint8_t *)"m", 1, tag, sizeof tag, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_hmac_sha256((const uint8_t *)"k", 1, NULL, 1, tag, sizeof tag, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_hmac_sha256((const uint8_t *)"k", 1, NULL, 0, tag, sizeof tag, NULL));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_hmac_sha256((const uint8_t *)"k", 1, NULL, 0, NULL, 32, &len));
    CHECK(len == 12345 && all_bytes(tag, sizeof tag, 0xee), "nothing written on NULL_PARAMETER");
    /* (NULL, 0) is the empty input: the empty message is fine, the empty key is not. */
    EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_hmac_sha256(NULL, 0, NULL, 0, tag, sizeof tag, &len));
    CHECK(len == 12345, "nothing written on error");
    /* A short buffer: distinct code, the size needed, nothing else written. */
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_hmac_sha256((const uint8_t *)"k", 1, NULL, 0, tag, 31, &len));
    CHECK(len == APISIG_TAG_BYTES && all_bytes(tag, sizeof tag, 0xee), "size needed; buffer untouched");
    len = 0;
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_hmac_sha256((const uint8_t *)"k", 1, NULL, 0, NULL, 0, &len));
    CHECK(len == APISIG_TAG_BYTES, "size query");
    EXPECT(APISIG_RESULT_OK, apisig_hmac_sha256((const uint8_t *)"k", 1, NULL, 0, tag, sizeof tag, &len));
    CHECK(len == APISIG_TAG_BYTES && tag[APISIG_TAG_BYTES] == 0xee, "exactly 32 bytes written");
    EXPECT(APISIG_RESULT_OK, apisig_hmac_sha256_verify((const uint8_t *)"k", 1, NULL, 0, tag, APISIG_TAG_BYTES));
    EXPECT(APISIG_RESULT_INVALID_SIGNATURE_ENCODING,
           apisig_hmac_sha256_verify((const uint8_t *)"k", 1, NULL, 0, tag, APISIG_TAG_BYTES - 1));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_hmac_sha256_verify((const uint8_t *)"k", 1, NULL, 0, NULL, 32));
}

static void test_presets(void) {
    apisig_scheme s;
    char name[32];
    size_t i, len = 0;
    memset(&s, 0xee, sizeof s);
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_preset(S("no-such-dialect"), &s));
    CHECK(all_bytes(&s, sizeof s, 0xee), "not written on error");
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_preset(NULL, 4, &s));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_preset(S("aevo"), NULL));
    CHECK(apisig_preset_count() == 10, "ten presets");
    for (i = 0; i < apisig_preset_count(); i++) {
        EXPECT(APISIG_RESULT_OK, apisig_preset_name(i, (uint8_t *)name, sizeof name, &len));
        EXPECT(APISIG_RESULT_OK, apisig_preset(name, len, &s));
        EXPECT(APISIG_RESULT_OK, apisig_scheme_check(&s));
    }
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_preset_name(i, (uint8_t *)name, sizeof name, &len));
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_preset_name(0, (uint8_t *)name, 1, &len));
    CHECK(len == strlen("signius"), "size of the first preset's name");
    s.preset = 999;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_scheme_check(NULL));
}

static void test_custom_scheme_shapes(void) {
    apisig_header_spec h[APISIG_MAX_HEADERS + 1];
    apisig_part p[APISIG_MAX_PARTS + 1];
    apisig_scheme s;
    size_t i;
    memset(h, 0, sizeof h);
    memset(p, 0, sizeof p);
    memset(&s, 0, sizeof s);
    h[0].name = "X-Key";
    h[0].name_len = 5;
    h[0].field = APISIG_FIELD_API_KEY;
    h[1].name = "X-Sig";
    h[1].name_len = 5;
    h[1].field = APISIG_FIELD_SIGNATURE;
    h[2].name = "X-Ts";
    h[2].name_len = 4;
    h[2].field = APISIG_FIELD_TIMESTAMP;
    p[0].kind = APISIG_PART_KIND_TIMESTAMP;
    p[1].kind = APISIG_PART_KIND_BODY;
    s.headers = h;
    s.headers_len = 3;
    s.parts = p;
    s.parts_len = 2;
    s.encoding = APISIG_ENCODING_BASE64;
    s.time_unit = APISIG_TIME_UNIT_MILLIS;
    EXPECT(APISIG_RESULT_OK, apisig_scheme_check(&s));
    /* Out-of-range enum values from C are refused, never undefined behaviour. */
    s.encoding = 99;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    s.encoding = APISIG_ENCODING_HEX;
    s.time_unit = 99;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    s.time_unit = APISIG_TIME_UNIT_SECONDS;
    h[2].field = 99;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    h[2].field = APISIG_FIELD_TIMESTAMP;
    p[1].kind = 99;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    p[1].kind = APISIG_PART_KIND_BODY;
    /* Oversized: too many parts or headers. */
    for (i = 2; i <= APISIG_MAX_PARTS; i++) p[i].kind = APISIG_PART_KIND_BODY;
    s.parts_len = APISIG_MAX_PARTS + 1;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    s.parts_len = 2;
    s.headers_len = APISIG_MAX_HEADERS + 1;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    s.headers_len = 3;
    /* (NULL, n > 0) arrays and strings. */
    s.parts = NULL;
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_scheme_check(&s));
    s.parts = p;
    h[0].name = NULL;
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_scheme_check(&s));
    h[0].name = "X-Key";
    /* A header name that is not UTF-8, and a template header part that is not. */
    h[0].name = "X-\xff";
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    h[0].name = "X-Key";
    p[1].kind = APISIG_PART_KIND_HEADER;
    p[1].data = (const uint8_t *)"\xfe";
    p[1].len = 1;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    p[1].kind = APISIG_PART_KIND_BODY;
    p[1].data = NULL;
    p[1].len = 0;
    /* A signed scheme with no timestamp or nonce header is incoherent (nothing stops replay). */
    s.headers_len = 2;
    p[0].kind = APISIG_PART_KIND_METHOD;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
}

static void test_sign_errors(void) {
    apisig_scheme aevo = preset("aevo"), apex = preset("apex"), signius = preset("signius");
    apisig_credentials c = creds("API_KEY", "API_SECRET", NULL, NULL);
    apisig_request r = request("GET", "/account", NULL);
    apisig_headers h;
    uint8_t buf[512];
    size_t len = 777, need = 0;
    char long_method[40];

    memset(&h, 0xee, sizeof h);
    memset(buf, 0xee, sizeof buf);
    /* NULL for each required pointer. */
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_sign(NULL, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_sign(&aevo, NULL, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_sign(&aevo, &c, NULL, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), NULL, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, NULL));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, NULL, 10, &len));
    c.secret = NULL;
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    c.secret = (const uint8_t *)"API_SECRET";
    r.body_len = 3; /* body (NULL, 3) */
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r.body_len = 0;
    CHECK(len == 777 && all_bytes(&h, sizeof h, 0xee) && all_bytes(buf, sizeof buf, 0xee), "untouched");

    /* Short buffer: the size needed, nothing else written. */
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, 10, &need));
    CHECK(need == 19 + 64 + 7, "aevo needs %zu", need);
    CHECK(all_bytes(&h, sizeof h, 0xee) && all_bytes(buf, sizeof buf, 0xee), "untouched on BUFFER_TOO_SMALL");
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, need - 1, &len));
    EXPECT(APISIG_RESULT_OK, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, need, &len));
    CHECK(len == need && h.len == 3 && buf[need] == 0xee, "exact fit");
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_message(&aevo, &c, &r, stamp(NOW, 0, 0), buf, 5, &len));
    CHECK(len == strlen("API_KEY,1700000000000000000,GET,/account,"), "message size %zu", len);

    /* Request errors. */
    r = request("GE T", "/account", NULL);
    EXPECT(APISIG_RESULT_INVALID_METHOD, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    memset(long_method, 'A', sizeof long_method);
    r.method = long_method;
    r.method_len = sizeof long_method; /* oversized: methods are at most 32 bytes */
    EXPECT(APISIG_RESULT_INVALID_METHOD, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r = request("GET", "/a,b", NULL);
    EXPECT(APISIG_RESULT_SEPARATOR_IN_FIELD, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r = request("GET", "account", NULL);
    EXPECT(APISIG_RESULT_INVALID_PATH, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r = request("GET", "/\xc3\xa9", NULL); /* not ASCII */
    EXPECT(APISIG_RESULT_INVALID_PATH, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r = request("GET", "/\xff", NULL); /* not UTF-8 */
    EXPECT(APISIG_RESULT_INVALID_PATH, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r = request("GET", "/account", NULL);

    /* Credential errors. */
    c = creds("API_KEY\r\nX-Evil: 1", "s", NULL, NULL);
    EXPECT(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    c = creds("API_KEY", "", NULL, NULL);
    EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    c = creds(NULL, NULL, NULL, NULL);
    EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_sign(&signius, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    c = creds("K", "S", "42", NULL);
    EXPECT(APISIG_RESULT_INVALID_NONCE, apisig_sign(&apex, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_message(&signius, &c, &r, stamp(NOW, 0, 0), buf, sizeof buf, &len));
}

/* The typed signers: every NULL, refused requests and too-small buffers write nothing but
 * the size needed; errors are the generic signer's. */
static void test_typed_signers(void) {
    static apisig_aevo_signer aevo;
    static apisig_apex_signer apex;
    apisig_credentials c = creds("API_KEY", "API_SECRET", "42", NULL);
    apisig_credentials no_secret = creds("API_KEY", "", "42", NULL), no_user = creds("K", "S", NULL, NULL);
    apisig_headers h;
    uint8_t buf[256];
    size_t len = 777;

    memset(&h, 0xee, sizeof h);
    memset(buf, 0xee, sizeof buf);
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_setup(NULL, &c));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_setup(&aevo, NULL));
    EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_aevo_signer_setup(&aevo, &no_secret));
    EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_aevo_signer_wipe(&aevo));
    EXPECT(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_apex_signer_setup(&apex, &no_user));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_apex_signer_setup(NULL, &c));
    EXPECT(APISIG_RESULT_OK, apisig_aevo_signer_setup(&aevo, &c));
    EXPECT(APISIG_RESULT_OK, apisig_apex_signer_setup(&apex, &c));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_sign(NULL, S("GET"), S("/a"), NULL, 0, NOW, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_sign(&aevo, NULL, 3, S("/a"), NULL, 0, NOW, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_sign(&aevo, S("GET"), NULL, 2, NULL, 0, NOW, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_sign(&aevo, S("GET"), S("/a"), NULL, 1, NOW, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_sign(&aevo, S("GET"), S("/a"), NULL, 0, NOW, NULL, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_sign(&aevo, S("GET"), S("/a"), NULL, 0, NOW, &h, buf, sizeof buf, NULL));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_aevo_signer_sign(&aevo, S("GET"), S("/a"), NULL, 0, NOW, &h, NULL, 10, &len));
    EXPECT(APISIG_RESULT_INVALID_METHOD, apisig_aevo_signer_sign(&aevo, S("G T"), S("/a"), NULL, 0, NOW, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_INVALID_PATH, apisig_aevo_signer_sign(&aevo, S("GET"), S("a"), NULL, 0, NOW, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_SEPARATOR_IN_FIELD, apisig_aevo_signer_sign(&aevo, S("GET"), S("/a,b"), NULL, 0, NOW, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_apex_signer_sign(NULL, 1, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_apex_signer_sign(&apex, 1, &h, buf, sizeof buf, NULL));
    CHECK(len == 777 && all_bytes(&h, sizeof h, 0xee) && all_bytes(buf, sizeof buf, 0xee), "typed: nothing written");
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_aevo_signer_sign(&aevo, S("GET"), S("/a"), NULL, 0, NOW, &h, buf, 10, &len));
    CHECK(len == 19 + 64 + 7 && all_bytes(&h, sizeof h, 0xee) && all_bytes(buf, sizeof buf, 0xee), "typed aevo: size needed");
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_apex_signer_sign(&apex, 7, &h, NULL, 0, &len));
    CHECK(len == 7 + 64 + 2 + 1 && all_bytes(&h, sizeof h, 0xee), "typed apex: size needed");
    EXPECT(APISIG_RESULT_OK, apisig_aevo_signer_wipe(&aevo));
    EXPECT(APISIG_RESULT_OK, apisig_apex_signer_wipe(&apex));
}

static void test_keyring(void) {
    apisig_keyring ring;
    char id[80];
    uint32_t client = 4242;
    size_t len = 0;
    int i;

    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_init(NULL));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_init(&ring));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_add(NULL, S("a"), (const uint8_t *)"s", 1, &client));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_add(&ring, S("a"), (const uint8_t *)"s", 1, NULL));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_add(&ring, NULL, 1, (const uint8_t *)"s", 1, &client));
    EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_keyring_add(&ring, S("a"), NULL, 0, &client));
    EXPECT(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_keyring_add(&ring, NULL, 0, (const uint8_t *)"s", 1, &client));
    EXPECT(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_keyring_add(&ring, S("a\xff"), (const uint8_t *)"s", 1, &client));
    memset(id, 'k', sizeof id); /* oversized: ids are at most 64 bytes */
    EXPECT(APISIG_RESULT_FIELD_TOO_LONG, apisig_keyring_add(&ring, id, 65, (const uint8_t *)"s", 1, &client));
    CHECK(client == 4242, "client not written on error");
    EXPECT(APISIG_RESULT_OK, apisig_keyring_add(&ring, id, 64, (const uint8_t *)"s", 1, &client));
    EXPECT(APISIG_RESULT_DUPLICATE_KEY_ID, apisig_keyring_add(&ring, id, 64, (const uint8_t *)"t", 1, &client));
    EXPECT(APISIG_RESULT_DUPLICATE_KEY_ID, apisig_keyring_add(&ring, S("b"), (const uint8_t *)"s", 1, &client));
    for (i = 1; i < APISIG_KEYRING_CAPACITY; i++) {
        char name[8], secret[8];
        snprintf(name, sizeof name, "c%d", i);
        snprintf(secret, sizeof secret, "s%d", i);
        EXPECT(APISIG_RESULT_OK, apisig_keyring_add(&ring, name, strlen(name), (const uint8_t *)secret, strlen(secret), &client));
        CHECK(client == (uint32_t)i, "clients are numbered in order");
    }
    EXPECT(APISIG_RESULT_KEYRING_FULL, apisig_keyring_add(&ring, S("full"), (const uint8_t *)"x", 1, &client));
    CHECK(apisig_keyring_len(&ring) == APISIG_KEYRING_CAPACITY && apisig_keyring_len(NULL) == 0, "len");
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_set_secret(&ring, 99, APISIG_SLOT_PRIMARY, (const uint8_t *)"z", 1));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_set_secret(&ring, 0, 7, (const uint8_t *)"z", 1));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_set_role(&ring, 99, 1));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_clear_role(&ring, 99));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_set_scopes(&ring, 99, 1));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_set_scopes(NULL, 0, 1));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_remove_secret(&ring, 99, APISIG_SLOT_PRIMARY));
    EXPECT(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_keyring_bind_user_id(&ring, 0, NULL, 0));
    EXPECT(APISIG_RESULT_FIELD_TOO_LONG, apisig_keyring_bind_user_id(&ring, 0, id, 65));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_find(&ring, S("nobody"), &client));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_find(&ring, S("c3"), &client));
    CHECK(client == 3, "find");
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_keyring_client_id(&ring, 0, NULL, 0, &len));
    CHECK(len == 64, "id size");
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_client_id(&ring, 99, (uint8_t *)id, sizeof id, &len));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_wipe(&ring));
    EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_keyring_find(&ring, S("c3"), &client));
    CHECK(apisig_keyring_len(&ring) == 0, "a wiped keyring is no keyring");
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_wipe(NULL));
    /* A misaligned pointer is refused like NULL. */
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_init((apisig_keyring *)((char *)&ring + 1)));
}

/* Static storage: what firmware does, no malloc anywhere. */
static apisig_verifier static_verifier;

static void test_verify_round_trips(void) {
    apisig_scheme aevo = preset("aevo"), apex = preset("apex"), aevo_secret = preset("aevo-secret"),
                  signius = preset("signius"), jwt = preset("securosys-jwt"), securosys = preset("securosys");
    apisig_keyring *ring;
    apisig_credentials c = creds("API_KEY", "API_SECRET", NULL, NULL);
    apisig_request r = request("POST", "/orders", "{\"qty\":1}");
    apisig_header_in in[APISIG_MAX_HEADERS + 40];
    apisig_headers h;
    apisig_principal who;
    uint8_t buf[512];
    size_t len, n, i;
    uint32_t client, keyop_client;
    uint8_t keyop;

    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_init(NULL, NULL, APISIG_WINDOW_DEFAULT_NS));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_init(&static_verifier, NULL, APISIG_WINDOW_DEFAULT_NS));
    ring = apisig_verifier_keyring(&static_verifier);
    CHECK(ring != NULL && apisig_verifier_keyring(NULL) == NULL, "keyring");
    EXPECT(APISIG_RESULT_OK, apisig_keyring_add(ring, S("API_KEY"), (const uint8_t *)"API_SECRET", 10, &client));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_add(ring, S("apex-key"), (const uint8_t *)"apex-secret", 11, &client));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_bind_user_id(ring, client, S("42")));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_add(ring, S("ops"), (const uint8_t *)"op-7f3a9c2e51d84b06", 19, &keyop_client));
    EXPECT(APISIG_RESULT_OK, apisig_securosys_role(S("keyOperationToken"), &keyop));
    EXPECT(APISIG_RESULT_FORBIDDEN, apisig_securosys_role(S("rootToken"), &keyop));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_set_role(ring, keyop_client, keyop));

    /* Aevo: sign, verify once, refuse the replay and a tampered body. */
    EXPECT(APISIG_RESULT_OK, apisig_sign(&aevo, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    n = to_request_headers(&h, in);
    r.headers = in;
    r.headers_len = n;
    memset(&who, 0xee, sizeof who);
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, NULL));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_verify(NULL, &aevo, &r, NOW, &who));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_verify(&static_verifier, NULL, &r, NOW, &who));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_verify(&static_verifier, &aevo, NULL, NOW, &who));
    EXPECT(APISIG_RESULT_TIMESTAMP_OUTSIDE_WINDOW,
           apisig_verifier_verify(&static_verifier, &aevo, &r, NOW + APISIG_WINDOW_DEFAULT_NS + 1, &who));
    CHECK(all_bytes(&who, sizeof who, 0xee), "principal not written on error");
    r.body = (const uint8_t *)"{\"qty\":9}";
    EXPECT(APISIG_RESULT_SIGNATURE_MISMATCH, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));
    r.body = (const uint8_t *)"{\"qty\":1}";
    /* Unrelated headers are skipped, however many. */
    for (i = n; i < n + 40; i++) {
        in[i].name = "X-Unrelated";
        in[i].name_len = 11;
        in[i].value = (const uint8_t *)"\xff";
        in[i].value_len = 1;
    }
    r.headers_len = n + 40;
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));
    CHECK(who.client == 0 && who.slot == APISIG_SLOT_PRIMARY && !who.has_role, "principal");
    EXPECT(APISIG_RESULT_REPLAYED_REQUEST, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));
    CHECK(apisig_verifier_replay_live(&static_verifier, NOW) == 1 && apisig_verifier_replay_live(NULL, NOW) == 0, "live");
    /* Many copies of a header the scheme reads: refused as duplicates. */
    for (i = 0; i < 40; i++) in[i] = in[0];
    r.headers_len = 40;
    EXPECT(APISIG_RESULT_DUPLICATE_HEADER, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));
    n = to_request_headers(&h, in);
    in[n] = in[2]; /* AEVO-KEY twice */
    r.headers_len = n + 1;
    EXPECT(APISIG_RESULT_DUPLICATE_HEADER, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));
    r.headers_len = 0;
    EXPECT(APISIG_RESULT_MISSING_CREDENTIAL, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));
    /* Bad timestamp text and bad signature encoding. */
    n = to_request_headers(&h, in);
    r.headers_len = n;
    in[0].value = (const uint8_t *)"17e17";
    in[0].value_len = 5;
    EXPECT(APISIG_RESULT_INVALID_TIMESTAMP, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));
    n = to_request_headers(&h, in);
    in[1].value_len = 10;
    EXPECT(APISIG_RESULT_INVALID_SIGNATURE_ENCODING, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));
    n = to_request_headers(&h, in);
    in[2].value = (const uint8_t *)"NOBODY";
    in[2].value_len = 6;
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_verifier_verify(&static_verifier, &aevo, &r, NOW, &who));

    /* Fill the replay cache with live entries: it fails closed. */
    {
        int full = 0;
        uint64_t k;
        for (k = 1; k < 400 && !full; k++) {
            apisig_result rc;
            EXPECT(APISIG_RESULT_OK, apisig_sign(&aevo, &c, &r, stamp(NOW + k, 0, 0), &h, buf, sizeof buf, &len));
            r.headers = in;
            r.headers_len = to_request_headers(&h, in);
            rc = apisig_verifier_verify(&static_verifier, &aevo, &r, NOW + k, &who);
            if (rc == APISIG_RESULT_REPLAY_CACHE_FULL) full = 1;
            else CHECK_RC(APISIG_RESULT_OK, rc);
        }
        CHECK(full, "replay cache never filled");
        seen[APISIG_RESULT_REPLAY_CACHE_FULL] = full;
    }

    /* APEX: nonce counter, user id bound to the key. */
    c = creds("apex-key", "apex-secret", "42", NULL);
    r = request("POST", "/AuthenticateUser", NULL);
    EXPECT(APISIG_RESULT_OK, apisig_sign(&apex, &c, &r, stamp(NOW, 1, 1001), &h, buf, sizeof buf, &len));
    r.headers = in;
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(&static_verifier, &apex, &r, NOW, &who));
    CHECK(who.client == 1, "apex client");
    EXPECT(APISIG_RESULT_REPLAYED_REQUEST, apisig_verifier_verify(&static_verifier, &apex, &r, NOW, &who));
    c = creds("apex-key", "apex-secret", "43", NULL);
    EXPECT(APISIG_RESULT_OK, apisig_sign(&apex, &c, &r, stamp(NOW, 1, 1002), &h, buf, sizeof buf, &len));
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_USER_ID_MISMATCH, apisig_verifier_verify(&static_verifier, &apex, &r, NOW, &who));
    in[3].value = (const uint8_t *)"x1";
    in[3].value_len = 2;
    EXPECT(APISIG_RESULT_INVALID_NONCE, apisig_verifier_verify(&static_verifier, &apex, &r, NOW, &who));

    /* Key and secret in clear. */
    c = creds("API_KEY", "WRONG", NULL, NULL);
    r = request("GET", "/account", NULL);
    EXPECT(APISIG_RESULT_OK, apisig_sign(&aevo_secret, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    CHECK(h.lines[1].secret, "the secret header is marked secret");
    r.headers = in;
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_SECRET_MISMATCH, apisig_verifier_verify(&static_verifier, &aevo_secret, &r, NOW, &who));

    /* Static role key, then authorization. */
    c = creds("op-7f3a9c2e51d84b06", NULL, NULL, NULL);
    EXPECT(APISIG_RESULT_OK, apisig_sign(&securosys, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(&static_verifier, &securosys, &r, NOW, &who));
    CHECK(who.has_role && who.role == keyop && who.client == keyop_client, "role");
    EXPECT(APISIG_RESULT_OK, apisig_securosys_authorize(who.role, S("/v1/sign")));
    EXPECT(APISIG_RESULT_FORBIDDEN, apisig_securosys_authorize(who.role, S("/v1/key")));
    EXPECT(APISIG_RESULT_NON_CANONICAL_PATH, apisig_securosys_authorize(who.role, S("/v1/sign/../key")));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_securosys_authorize(who.role, NULL, 3));
    EXPECT(APISIG_RESULT_INVALID_PATTERN, apisig_pattern_match(S("/a/***"), S("/a/b")));
    EXPECT(APISIG_RESULT_OK, apisig_pattern_match(S("/v1/filtered**ApprovalTask"), S("/v1/filtered/x/yApprovalTask")));
    /* Scopes: none until given; then the principal carries the keyring's bits, and the
     * core's check admits a request only if every bit it needs is held (else 403). */
    CHECK(who.scopes == 0, "no scopes until given");
    EXPECT(APISIG_RESULT_OK, apisig_keyring_set_scopes(ring, keyop_client, 0x5u | (1ull << 63)));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(&static_verifier, &securosys, &r, NOW, &who));
    CHECK(who.scopes == (0x5u | (1ull << 63)), "the principal's scopes: %llx", (unsigned long long)who.scopes);
    EXPECT(APISIG_RESULT_OK, apisig_scopes_authorize(who.scopes, 0x1));
    EXPECT(APISIG_RESULT_OK, apisig_scopes_authorize(who.scopes, 0x4u | (1ull << 63)));
    EXPECT(APISIG_RESULT_OK, apisig_scopes_authorize(who.scopes, 0));
    EXPECT(APISIG_RESULT_FORBIDDEN, apisig_scopes_authorize(who.scopes, 0x2));
    EXPECT(APISIG_RESULT_FORBIDDEN, apisig_scopes_authorize(who.scopes, 0x3));
    EXPECT(APISIG_RESULT_FORBIDDEN, apisig_scopes_authorize(0, 1ull << 63));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_set_scopes(ring, keyop_client, 0));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(&static_verifier, &securosys, &r, NOW, &who));
    CHECK(who.scopes == 0, "scopes replaced");
    EXPECT(APISIG_RESULT_FORBIDDEN, apisig_scopes_authorize(who.scopes, 0x1));
    /* Secondary key; removing the primary revokes it. */
    EXPECT(APISIG_RESULT_OK, apisig_keyring_set_secret(ring, keyop_client, APISIG_SLOT_SECONDARY, (const uint8_t *)"op-next", 7));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_remove_secret(ring, keyop_client, APISIG_SLOT_PRIMARY));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_verifier_verify(&static_verifier, &securosys, &r, NOW, &who));
    c = creds("op-next", NULL, NULL, NULL);
    EXPECT(APISIG_RESULT_OK, apisig_sign(&signius, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(&static_verifier, &signius, &r, NOW, &who));
    CHECK(who.slot == APISIG_SLOT_SECONDARY, "secondary slot");
    EXPECT(APISIG_RESULT_OK, apisig_keyring_clear_role(ring, keyop_client));

    /* Tokens are carried, not verified, by the core. */
    c = creds(NULL, NULL, NULL, "eyJhbGciOi.x.y");
    EXPECT(APISIG_RESULT_OK, apisig_sign(&jwt, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    CHECK(h.len == 1 && h.lines[0].value_len == 7 + 14 && memcmp(h.lines[0].value, "Bearer ", 7) == 0, "bearer");
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_UNSUPPORTED_CREDENTIAL, apisig_verifier_verify(&static_verifier, &jwt, &r, NOW, &who));

    /* Wiping the verifier's keyring through its handle empties it; the verifier stays. */
    c = creds("op-next", NULL, NULL, NULL);
    EXPECT(APISIG_RESULT_OK, apisig_sign(&signius, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(&static_verifier, &signius, &r, NOW, &who));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_wipe(ring));
    CHECK(apisig_keyring_len(ring) == 0 && apisig_verifier_replay_live(&static_verifier, NOW) > 0, "keyring emptied");
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_verifier_verify(&static_verifier, &signius, &r, NOW, &who));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_wipe(&static_verifier));
    EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_verifier_verify(&static_verifier, &signius, &r, NOW, &who));
    EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_keyring_add(ring, S("late"), (const uint8_t *)"s", 1, &client));
    CHECK(apisig_verifier_keyring(&static_verifier) == NULL && apisig_verifier_replay_live(&static_verifier, NOW) == 0,
          "wiped");
}

static void test_moved_keyring(void) {
    apisig_keyring ring;
    apisig_verifier v;
    uint32_t client;
    EXPECT(APISIG_RESULT_OK, apisig_keyring_init(&ring));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_add(&ring, S("a"), (const uint8_t *)"k", 1, &client));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_init(&v, &ring, 0));
    CHECK(apisig_keyring_len(&ring) == 0 && apisig_keyring_len(apisig_verifier_keyring(&v)) == 1, "moved");
    EXPECT(APISIG_RESULT_OK, apisig_verifier_wipe(&v));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_wipe(&ring));
}

static void test_rotation(void) {
    apisig_rotation r;
    apisig_attempt a;
    uint32_t next = 9;
    size_t key = 9;
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_rotation_zignsec(NULL));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_zignsec(&r));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&r, &a));
    CHECK(apisig_attempt_key(&a) == 0, "starts with key 0");
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&r, &a, 403, &next, &key));
    CHECK(next == APISIG_NEXT_RETRY && key == 1, "retry with the other key");
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&r, &a, 200, &next, &key));
    CHECK(next == APISIG_NEXT_DONE && apisig_rotation_current(&r) == 1, "sticky");
    EXPECT(APISIG_RESULT_OK, apisig_rotation_securosys(&r, 3));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&r, &a));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&r, &a, 403, &next, &key));
    CHECK(next == APISIG_NEXT_DONE, "securosys does not retry 403");
    EXPECT(APISIG_RESULT_OK, apisig_rotation_init(&r, 2, 0));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&r, &a));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&r, &a, 401, &next, &key));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&r, &a, 401, &next, &key));
    CHECK(next == APISIG_NEXT_EXHAUSTED && apisig_rotation_current(&r) == 0, "exhausted");
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_rotation_on_response(&r, &a, 401, NULL, &key));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_rotation_begin(NULL, &a));
    CHECK(apisig_rotation_current(NULL) == 0 && apisig_attempt_key(NULL) == 0, "NULL getters");
}

static const char JWT_KEY[] = "a secret of at least 32 bytes!!!";

/* Encodes `claims` (and `header`, NULL for the default) with JWT_KEY into `out`. */
static apisig_result jwt(const char *header, const char *claims, char *out, size_t cap, size_t *len) {
    return apisig_jwt_encode((const uint8_t *)JWT_KEY, strlen(JWT_KEY), (const uint8_t *)header,
                             header ? strlen(header) : 0, (const uint8_t *)claims, strlen(claims), (uint8_t *)out, cap,
                             len);
}

static apisig_jwt_validation validation(void) {
    apisig_jwt_validation v;
    memset(&v, 0, sizeof v);
    v.require_exp = 1;
    v.max_len = APISIG_JWT_MAX;
    return v;
}

static apisig_result jwt_check(const char *token, const apisig_jwt_validation *v, uint64_t now_s) {
    uint8_t scratch[APISIG_JWT_MAX];
    apisig_jwt_claims claims;
    return apisig_jwt_verify((const uint8_t *)JWT_KEY, strlen(JWT_KEY), (const uint8_t *)token, strlen(token), v,
                             now_s * 1000000000ull, scratch, sizeof scratch, &claims);
}

static void test_tokens(void) {
    char token[512];
    size_t len = 0, need = 0;
    apisig_jwt_validation v = validation();
    apisig_jwt_claims claims;
    uint8_t scratch[APISIG_JWT_MAX];
    apisig_session session;
    apisig_opt_bytes none;
    memset(&none, 0, sizeof none);

    /* Encoding: size query, then header refusals. */
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, jwt(NULL, "{\"sub\":\"c\",\"exp\":1900000000}", NULL, 0, &need));
    EXPECT(APISIG_RESULT_OK, jwt(NULL, "{\"sub\":\"c\",\"exp\":1900000000}", token, need, &len));
    CHECK(len == need, "jwt size %zu vs %zu", len, need);
    token[len] = '\0';
    EXPECT(APISIG_RESULT_OK, apisig_jwt_verify((const uint8_t *)JWT_KEY, strlen(JWT_KEY), (const uint8_t *)token, len,
                                               &v, NOW, scratch, sizeof scratch, &claims));
    CHECK(claims.sub.present && claims.sub.len == 1 && claims.exp.present && claims.exp.value == 1900000000u, "claims");
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL,
           apisig_jwt_verify((const uint8_t *)JWT_KEY, strlen(JWT_KEY), (const uint8_t *)token, len, &v, NOW, scratch,
                             len - 1, &claims));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_jwt_verify((const uint8_t *)JWT_KEY, strlen(JWT_KEY),
                                                           (const uint8_t *)token, len, NULL, NOW, scratch,
                                                           sizeof scratch, &claims));
    EXPECT(APISIG_RESULT_ALGORITHM_NONE, jwt("{\"alg\":\"none\"}", "{}", token, sizeof token, &len));
    EXPECT(APISIG_RESULT_ALGORITHM_NOT_ALLOWED, jwt("{\"alg\":\"HS512\"}", "{}", token, sizeof token, &len));
    EXPECT(APISIG_RESULT_MISSING_ALGORITHM, jwt("{\"typ\":\"JWT\"}", "{}", token, sizeof token, &len));
    EXPECT(APISIG_RESULT_DUPLICATE_FIELD, jwt("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", "{}", token, sizeof token, &len));
    EXPECT(APISIG_RESULT_EMBEDDED_KEY, jwt("{\"alg\":\"HS256\",\"jku\":\"x\"}", "{}", token, sizeof token, &len));
    EXPECT(APISIG_RESULT_TOKEN_MALFORMED, jwt(NULL, "[1]", token, sizeof token, &len));
    EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_jwt_encode(NULL, 0, NULL, 0, (const uint8_t *)"{}", 2, (uint8_t *)token,
                                                         sizeof token, &len));
    /* Verification: each claim rule. */
    EXPECT(APISIG_RESULT_TOKEN_MALFORMED, jwt_check("a.b", &v, 1700000000));
    v.max_len = 3;
    EXPECT(APISIG_RESULT_TOKEN_TOO_LONG, jwt_check("a.b.c", &v, 1700000000));
    v.max_len = APISIG_JWT_MAX;
    EXPECT(APISIG_RESULT_OK, jwt(NULL, "{\"exp\":1600000000}", token, sizeof token - 1, &len));
    token[len] = '\0';
    EXPECT(APISIG_RESULT_TOKEN_EXPIRED, jwt_check(token, &v, 1700000000));
    EXPECT(APISIG_RESULT_OK, jwt(NULL, "{\"exp\":1900000000,\"nbf\":1800000000}", token, sizeof token - 1, &len));
    token[len] = '\0';
    EXPECT(APISIG_RESULT_TOKEN_NOT_YET_VALID, jwt_check(token, &v, 1700000000));
    EXPECT(APISIG_RESULT_OK, jwt(NULL, "{\"iss\":\"b\"}", token, sizeof token - 1, &len));
    token[len] = '\0';
    EXPECT(APISIG_RESULT_MISSING_CLAIM, jwt_check(token, &v, 1700000000));
    v.require_exp = 0;
    v.issuer.present = 1;
    v.issuer.ptr = "a";
    v.issuer.len = 1;
    EXPECT(APISIG_RESULT_CLAIM_MISMATCH, jwt_check(token, &v, 1700000000));

    /* Session tokens: issue, verify, tamper, expire. */
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_session_issue((const uint8_t *)"k1", 2, S("42"), S("key"), 1700003600, NULL, 0, &need));
    EXPECT(APISIG_RESULT_OK, apisig_session_issue((const uint8_t *)"k1", 2, S("42"), S("key"), 1700003600, (uint8_t *)token, need, &len));
    CHECK(len == need, "session size");
    EXPECT(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_session_issue((const uint8_t *)"k1", 2, S("4 2"), S("key"), 1, (uint8_t *)token, sizeof token, &len));
    EXPECT(APISIG_RESULT_OK, apisig_session_verify((const uint8_t *)"k1", 2, none, (const uint8_t *)token, need, NOW, &session));
    CHECK(session.user_id_len == 2 && memcmp(session.user_id, "42", 2) == 0 && session.expires == 1700003600u, "session");
    EXPECT(APISIG_RESULT_TOKEN_EXPIRED, apisig_session_verify((const uint8_t *)"k1", 2, none, (const uint8_t *)token, need, NOW + 3600000000000ull, &session));
    EXPECT(APISIG_RESULT_SIGNATURE_MISMATCH, apisig_session_verify((const uint8_t *)"k2", 2, none, (const uint8_t *)token, need, NOW, &session));
    none.present = 1; /* present but empty: refused, unlike absent */
    EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_session_verify((const uint8_t *)"k1", 2, none, (const uint8_t *)token, need, NOW, &session));
}

static void test_verifier_tokens_and_pins(void) {
    apisig_scheme jwt_scheme = preset("securosys-jwt"), apex_session = preset("apex-session");
    apisig_verifier *v = apisig_verifier_new(NULL, APISIG_WINDOW_DEFAULT_NS);
    apisig_keyring *ring = apisig_verifier_keyring(v);
    apisig_request r = request("GET", "/v1/keystore/statistics", NULL);
    apisig_credentials c;
    apisig_headers h;
    apisig_header_in in[APISIG_MAX_HEADERS];
    apisig_principal who;
    apisig_opt_str none_str;
    apisig_opt_bytes none;
    char token[512];
    uint8_t buf[1024], fp[APISIG_PIN_BYTES];
    size_t len = 0, der_len = 0;
    uint32_t client = 0, len32 = 0;
    uint8_t *der;
    FILE *f;
    memset(&none_str, 0, sizeof none_str);
    memset(&none, 0, sizeof none);

    EXPECT(APISIG_RESULT_OK, apisig_keyring_add(ring, S("client-7"), (const uint8_t *)"static-7", 8, &client));
    /* A client with no key (certificate-only): no placeholder secret. */
    EXPECT(APISIG_RESULT_OK, apisig_keyring_add_client(ring, S("cert-only"), &len32));
    CHECK(len32 == client + 1, "numbered after client-7");
    EXPECT(APISIG_RESULT_DUPLICATE_KEY_ID, apisig_keyring_add_client(ring, S("cert-only"), &len32));
    /* JWT scheme: refused until configured, then the principal is the client named by sub. */
    EXPECT(APISIG_RESULT_OK, jwt(NULL, "{\"sub\":\"client-7\",\"exp\":1900000000}", token, sizeof token - 1, &len));
    token[len] = '\0';
    c = creds(NULL, NULL, NULL, token);
    EXPECT(APISIG_RESULT_OK, apisig_sign(&jwt_scheme, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r.headers = in;
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_UNSUPPORTED_CREDENTIAL, apisig_verifier_verify(v, &jwt_scheme, &r, NOW, &who));
    EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_verifier_set_jwt(v, NULL, 0, 0, 1, none_str, none_str));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_set_jwt(v, (const uint8_t *)JWT_KEY, strlen(JWT_KEY), 0, 1, none_str, none_str));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(v, &jwt_scheme, &r, NOW, &who));
    CHECK(who.client == client, "jwt principal");

    /* Session scheme (APEX aptoken). */
    EXPECT(APISIG_RESULT_OK, apisig_verifier_set_session_keys(v, (const uint8_t *)"sk", 2, none));
    EXPECT(APISIG_RESULT_OK, apisig_session_issue((const uint8_t *)"sk", 2, S("42"), S("client-7"), 1700003600, (uint8_t *)token, sizeof token - 1, &len));
    token[len] = '\0';
    c = creds(NULL, NULL, NULL, token);
    EXPECT(APISIG_RESULT_OK, apisig_sign(&apex_session, &c, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    r.headers_len = to_request_headers(&h, in);
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(v, &apex_session, &r, NOW, &who));
    CHECK(who.client == client, "session principal");

    /* Certificate pins. */
    EXPECT(APISIG_RESULT_INVALID_CERTIFICATE, apisig_certificate_fingerprint((const uint8_t *)"\x30\x80", 2, APISIG_PIN_KIND_CERTIFICATE, fp, sizeof fp, &len));
    f = fopen("tests/vectors/certs/ec-p256-leaf.der", "rb");
    CHECK(f != NULL, "certificate file (run from the repository root)");
    if (f) {
        der = malloc(4096);
        der_len = fread(der, 1, 4096, f);
        fclose(f);
        EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL, apisig_certificate_fingerprint(der, der_len, APISIG_PIN_KIND_PUBLIC_KEY, fp, 31, &len));
        CHECK(len == APISIG_PIN_BYTES, "pin size");
        EXPECT(APISIG_RESULT_OK, apisig_certificate_fingerprint(der, der_len, APISIG_PIN_KIND_PUBLIC_KEY, fp, sizeof fp, &len));
        EXPECT(APISIG_RESULT_UNPINNED_CERTIFICATE, apisig_verifier_verify_certificate(v, der, der_len, 0, &who));
        EXPECT(APISIG_RESULT_INVALID_CERTIFICATE, apisig_keyring_set_pin(ring, client, APISIG_SLOT_SECONDARY, APISIG_PIN_KIND_PUBLIC_KEY, fp, 31));
        EXPECT(APISIG_RESULT_INVALID_CERTIFICATE, apisig_keyring_set_pin(ring, client, APISIG_SLOT_SECONDARY, 7, fp, sizeof fp));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_pin(ring, client, APISIG_SLOT_SECONDARY, APISIG_PIN_KIND_PUBLIC_KEY, fp, sizeof fp));
        EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_certificate(v, der, der_len, 0, &who));
        CHECK(who.client == client && who.slot == APISIG_SLOT_SECONDARY, "pinned principal");
        CHECK(who.id_len == 8 && memcmp(who.id, "client-7", 8) == 0, "the principal's id");
        /* The pinned slot revoked, then expired, then the whole client disabled and revoked:
           each refused with its own code, for the pin and for the session issued before. */
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_key_revoked(ring, client, APISIG_SLOT_SECONDARY, 1));
        EXPECT(APISIG_RESULT_KEY_REVOKED, apisig_verifier_verify_certificate(v, der, der_len, NOW, &who));
        EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(v, &apex_session, &r, NOW, &who)); /* the primary slot still works */
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_key_revoked(ring, client, APISIG_SLOT_SECONDARY, 0));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_expiry(ring, client, APISIG_SLOT_SECONDARY, NOW));
        EXPECT(APISIG_RESULT_KEY_EXPIRED, apisig_verifier_verify_certificate(v, der, der_len, NOW, &who));
        EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_certificate(v, der, der_len, NOW - 1, &who));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_expiry(ring, client, APISIG_SLOT_SECONDARY, 0));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_status(ring, client, APISIG_CLIENT_STATUS_DISABLED));
        EXPECT(APISIG_RESULT_CLIENT_DISABLED, apisig_verifier_verify_certificate(v, der, der_len, NOW, &who));
        EXPECT(APISIG_RESULT_CLIENT_DISABLED, apisig_verifier_verify(v, &apex_session, &r, NOW, &who));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_status(ring, client, APISIG_CLIENT_STATUS_REVOKED));
        EXPECT(APISIG_RESULT_CLIENT_REVOKED, apisig_verifier_verify_certificate(v, der, der_len, NOW, &who));
        EXPECT(APISIG_RESULT_CLIENT_REVOKED, apisig_verifier_verify(v, &apex_session, &r, NOW, &who));
        EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_keyring_set_status(ring, client, 9));
        EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_set_status(ring, 5, APISIG_CLIENT_STATUS_ACTIVE));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_status(ring, client, APISIG_CLIENT_STATUS_ACTIVE));
        EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_certificate(v, der, der_len, NOW, &who));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_clear_pin(ring, client, APISIG_SLOT_SECONDARY));
        EXPECT(APISIG_RESULT_UNPINNED_CERTIFICATE, apisig_verifier_verify_certificate(v, der, der_len, 0, &who));
        free(der);
    }
    apisig_verifier_free(v);
}

/* Object storage that is not the object it is passed as. One union holds any of them. */
enum kind { KEYRING, VERIFIER, SIGNER, ROTATION, ATTEMPT, AEVO_SIGNER, APEX_SIGNER, N_KINDS };
static const char *const kind_names[N_KINDS] = {"keyring",  "verifier",    "signer",     "rotation",
                                                "attempt", "aevo signer", "apex signer"};
static union {
    apisig_keyring keyring;
    apisig_verifier verifier;
    apisig_signer signer;
    apisig_rotation rotation;
    apisig_attempt attempt;
    apisig_aevo_signer aevo_signer;
    apisig_apex_signer apex_signer;
} any;
static const char *storage_case = "";
static apisig_scheme any_scheme;
static apisig_credentials any_creds;

/* Makes `any` an initialized object of kind `k`. */
static void init_as(enum kind k) {
    apisig_rotation r;
    switch (k) {
    case KEYRING: EXPECT(APISIG_RESULT_OK, apisig_keyring_init(&any.keyring)); break;
    case VERIFIER: EXPECT(APISIG_RESULT_OK, apisig_verifier_init(&any.verifier, NULL, APISIG_WINDOW_DEFAULT_NS)); break;
    case SIGNER: EXPECT(APISIG_RESULT_OK, apisig_signer_init(&any.signer, &any_scheme, &any_creds)); break;
    case ROTATION: EXPECT(APISIG_RESULT_OK, apisig_rotation_zignsec(&any.rotation)); break;
    case ATTEMPT:
        EXPECT(APISIG_RESULT_OK, apisig_rotation_zignsec(&r));
        EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&r, &any.attempt));
        break;
    case AEVO_SIGNER: EXPECT(APISIG_RESULT_OK, apisig_aevo_signer_setup(&any.aevo_signer, &any_creds)); break;
    case APEX_SIGNER: EXPECT(APISIG_RESULT_OK, apisig_apex_signer_setup(&any.apex_signer, &any_creds)); break;
    default: break;
    }
}

/* Wipes an object of kind `k` that has a _wipe; 0 for kinds without one. */
static int wipe_as(enum kind k) {
    switch (k) {
    case KEYRING: EXPECT(APISIG_RESULT_OK, apisig_keyring_wipe(&any.keyring)); return 1;
    case VERIFIER: EXPECT(APISIG_RESULT_OK, apisig_verifier_wipe(&any.verifier)); return 1;
    case SIGNER: EXPECT(APISIG_RESULT_OK, apisig_signer_wipe(&any.signer)); return 1;
    case AEVO_SIGNER: EXPECT(APISIG_RESULT_OK, apisig_aevo_signer_wipe(&any.aevo_signer)); return 1;
    case APEX_SIGNER: EXPECT(APISIG_RESULT_OK, apisig_apex_signer_wipe(&any.apex_signer)); return 1;
    default: return 0;
    }
}

#define EXPECT_INVALID(expr)                                                                                 \
    do {                                                                                                      \
        apisig_result invalid_rc_ = (expr);                                                                   \
        CHECK(invalid_rc_ == APISIG_RESULT_INVALID_OBJECT, "%s: got %s", storage_case, apisig_result_name(invalid_rc_)); \
        seen[APISIG_RESULT_INVALID_OBJECT] = 1;                                                               \
    } while (0)

/* Every call that takes an object of kind `k` refuses `any`, and writes none of its outputs. */
static void expect_refused(enum kind k) {
    static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    apisig_scheme aevo = preset("aevo");
    apisig_request r = request("GET", "/account", NULL);
    apisig_opt_str no_str;
    apisig_opt_bytes no_bytes;
    apisig_principal who;
    apisig_headers h;
    apisig_rotation rot;
    apisig_attempt att;
    uint8_t buf[256], fp[APISIG_PIN_BYTES] = {0};
    uint32_t client = 4242, next = 4242;
    size_t len = 4242, key = 4242;
    memset(&no_str, 0, sizeof no_str);
    memset(&no_bytes, 0, sizeof no_bytes);
    memset(&who, 0xee, sizeof who);
    memset(&h, 0xee, sizeof h);
    memset(buf, 0xee, sizeof buf);
    switch (k) {
    case KEYRING: {
        apisig_keyring *ring = &any.keyring;
        apisig_verifier v;
        memset(&v, 0, sizeof v);
        EXPECT_INVALID(apisig_keyring_add(ring, S("a"), (const uint8_t *)"s", 1, &client));
        EXPECT_INVALID(apisig_keyring_set_secret(ring, 0, APISIG_SLOT_PRIMARY, (const uint8_t *)"s", 1));
        EXPECT_INVALID(apisig_keyring_remove_secret(ring, 0, APISIG_SLOT_PRIMARY));
        EXPECT_INVALID(apisig_keyring_set_role(ring, 0, 1));
        EXPECT_INVALID(apisig_keyring_clear_role(ring, 0));
        EXPECT_INVALID(apisig_keyring_set_scopes(ring, 0, 1));
        EXPECT_INVALID(apisig_keyring_bind_user_id(ring, 0, S("42")));
        EXPECT_INVALID(apisig_keyring_find(ring, S("a"), &client));
        EXPECT_INVALID(apisig_keyring_client_id(ring, 0, buf, sizeof buf, &len));
        EXPECT_INVALID(apisig_keyring_set_pin(ring, 0, APISIG_SLOT_PRIMARY, APISIG_PIN_KIND_CERTIFICATE, fp, sizeof fp));
        EXPECT_INVALID(apisig_keyring_clear_pin(ring, 0, APISIG_SLOT_PRIMARY));
        CHECK(apisig_keyring_len(ring) == 0, "%s: len", storage_case);
        /* A verifier is not made from it, and is not written. */
        EXPECT_INVALID(apisig_verifier_init(&v, ring, APISIG_WINDOW_DEFAULT_NS));
        CHECK(all_bytes(&v, sizeof v, 0), "%s: verifier written", storage_case);
        EXPECT_INVALID(apisig_keyring_wipe(ring));
        break;
    }
    case VERIFIER: {
        apisig_verifier *v = &any.verifier;
        EXPECT_INVALID(apisig_verifier_verify(v, &aevo, &r, NOW, &who));
        EXPECT_INVALID(apisig_verifier_verify_certificate(v, der, sizeof der, 0, &who));
        EXPECT_INVALID(apisig_verifier_set_jwt(v, (const uint8_t *)"k", 1, 0, 1, no_str, no_str));
        EXPECT_INVALID(apisig_verifier_set_session_keys(v, (const uint8_t *)"k", 1, no_bytes));
        CHECK(apisig_verifier_keyring(v) == NULL && apisig_verifier_replay_live(v, NOW) == 0, "%s: getters",
              storage_case);
        EXPECT_INVALID(apisig_verifier_wipe(v));
        break;
    }
    case SIGNER:
        EXPECT_INVALID(apisig_signer_sign(&any.signer, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
        EXPECT_INVALID(apisig_signer_wipe(&any.signer));
        break;
    case AEVO_SIGNER:
        EXPECT_INVALID(apisig_aevo_signer_sign(&any.aevo_signer, r.method, r.method_len, r.path, r.path_len, r.body,
                                               r.body_len, NOW, &h, buf, sizeof buf, &len));
        EXPECT_INVALID(apisig_aevo_signer_wipe(&any.aevo_signer));
        break;
    case APEX_SIGNER:
        EXPECT_INVALID(apisig_apex_signer_sign(&any.apex_signer, 7, &h, buf, sizeof buf, &len));
        EXPECT_INVALID(apisig_apex_signer_wipe(&any.apex_signer));
        break;
    case ROTATION:
        EXPECT(APISIG_RESULT_OK, apisig_rotation_zignsec(&rot));
        EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&rot, &att));
        memset(&att, 0xee, sizeof att);
        EXPECT_INVALID(apisig_rotation_begin(&any.rotation, &att));
        CHECK(all_bytes(&att, sizeof att, 0xee), "%s: attempt written", storage_case);
        EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&rot, &att));
        EXPECT_INVALID(apisig_rotation_on_response(&any.rotation, &att, 401, &next, &key));
        CHECK(apisig_rotation_current(&any.rotation) == 0, "%s: current", storage_case);
        break;
    case ATTEMPT:
        EXPECT(APISIG_RESULT_OK, apisig_rotation_zignsec(&rot));
        EXPECT_INVALID(apisig_rotation_on_response(&rot, &any.attempt, 401, &next, &key));
        CHECK(apisig_attempt_key(&any.attempt) == 0, "%s: key", storage_case);
        break;
    default: break;
    }
    CHECK(client == 4242 && next == 4242 && len == 4242 && key == 4242, "%s: outputs written", storage_case);
    CHECK(all_bytes(&who, sizeof who, 0xee) && all_bytes(&h, sizeof h, 0xee) && all_bytes(buf, sizeof buf, 0xee),
          "%s: outputs written", storage_case);
}

/* After the refusals, the storage still works once initialized. */
static void expect_works(enum kind k) {
    apisig_request r = request("GET", "/account", NULL);
    apisig_headers h;
    apisig_rotation rot;
    uint8_t buf[256];
    uint32_t client = 0, next = 0;
    size_t len = 0, key = 0;
    init_as(k);
    switch (k) {
    case KEYRING:
        EXPECT(APISIG_RESULT_OK, apisig_keyring_add(&any.keyring, S("a"), (const uint8_t *)"s", 1, &client));
        CHECK(apisig_keyring_len(&any.keyring) == 1, "keyring works");
        break;
    case VERIFIER:
        EXPECT(APISIG_RESULT_OK, apisig_keyring_add(apisig_verifier_keyring(&any.verifier), S("a"), (const uint8_t *)"s", 1, &client));
        EXPECT(APISIG_RESULT_OK, apisig_verifier_set_session_keys(&any.verifier, (const uint8_t *)"k", 1, (apisig_opt_bytes){0, NULL, 0}));
        break;
    case SIGNER:
        EXPECT(APISIG_RESULT_OK, apisig_signer_sign(&any.signer, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
        CHECK(h.len == 3, "signer works");
        break;
    case AEVO_SIGNER:
        EXPECT(APISIG_RESULT_OK, apisig_aevo_signer_sign(&any.aevo_signer, r.method, r.method_len, r.path, r.path_len,
                                                         r.body, r.body_len, NOW, &h, buf, sizeof buf, &len));
        CHECK(h.len == 3, "aevo signer works");
        break;
    case APEX_SIGNER:
        EXPECT(APISIG_RESULT_OK, apisig_apex_signer_sign(&any.apex_signer, 7, &h, buf, sizeof buf, &len));
        CHECK(h.len == 4, "apex signer works");
        break;
    case ROTATION:
        CHECK(apisig_rotation_current(&any.rotation) == 0, "rotation works");
        break;
    case ATTEMPT:
        EXPECT(APISIG_RESULT_OK, apisig_rotation_zignsec(&rot));
        EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&rot, &any.attempt, 401, &next, &key));
        CHECK(next == APISIG_NEXT_RETRY && key == 1, "attempt works");
        break;
    default: break;
    }
    wipe_as(k);
}

static void test_invalid_objects(void) {
    int k, other;
    any_scheme = preset("aevo");
    any_creds = creds("API_KEY", "API_SECRET", "42", NULL);
    for (k = 0; k < N_KINDS; k++) {
        char label[80];
        storage_case = label;
        snprintf(label, sizeof label, "%s in zeroed storage", kind_names[k]);
        memset(&any, 0, sizeof any);
        expect_refused(k);
        snprintf(label, sizeof label, "%s in storage filled with 0xA5", kind_names[k]);
        memset(&any, 0xa5, sizeof any);
        expect_refused(k);
        for (other = 0; other < N_KINDS; other++) {
            /* A verifier's address is the handle to its keyring (apisig_verifier_keyring). */
            if (other == k || (k == KEYRING && other == VERIFIER)) continue;
            snprintf(label, sizeof label, "%s given a %s", kind_names[k], kind_names[other]);
            memset(&any, 0, sizeof any);
            init_as(other);
            expect_refused(k);
            wipe_as(other);
        }
        memset(&any, 0, sizeof any);
        init_as(k);
        if (wipe_as(k)) {
            snprintf(label, sizeof label, "%s after its wipe", kind_names[k]);
            expect_refused(k);
        }
        memset(&any, 0xa5, sizeof any);
        expect_works(k);
    }
    storage_case = "";

    /* A signer whose init failed is no signer. */
    {
        apisig_credentials empty = creds("API_KEY", "", NULL, NULL);
        apisig_request r = request("GET", "/account", NULL);
        apisig_headers h;
        uint8_t buf[256];
        size_t len = 0;
        EXPECT(APISIG_RESULT_EMPTY_SECRET, apisig_signer_init(&any.signer, &any_scheme, &empty));
        EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_signer_sign(&any.signer, &r, stamp(NOW, 0, 0), &h, buf, sizeof buf, &len));
    }
    /* A verifier's own keyring cannot move into it; a misaligned pointer is no object. */
    init_as(VERIFIER);
    EXPECT(APISIG_RESULT_INVALID_OBJECT,
           apisig_verifier_init(&any.verifier, apisig_verifier_keyring(&any.verifier), APISIG_WINDOW_DEFAULT_NS));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_wipe(&any.verifier));
    init_as(KEYRING);
    EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_keyring_clear_role((apisig_keyring *)((char *)&any + 8 + 1), 0));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_wipe(&any.keyring));
}

/* Flags are uint8_t: any nonzero value is true, as C programmers expect of a truth value. */
static void test_flags(void) {
    apisig_scheme apex = preset("apex");
    apisig_credentials c = creds("K", "S", "42", NULL);
    apisig_request r = request("POST", "/AuthenticateUser", NULL);
    apisig_stamp st = stamp(NOW, 0, 1001);
    apisig_jwt_validation v = validation();
    apisig_rotation rot;
    apisig_attempt a;
    apisig_headers h;
    uint8_t buf[512];
    char token[512];
    size_t len = 0, key = 0;
    uint32_t next = 0;
    st.has_nonce = 0x80;
    EXPECT(APISIG_RESULT_OK, apisig_sign(&apex, &c, &r, st, &h, buf, sizeof buf, &len));
    st.has_nonce = 0;
    EXPECT(APISIG_RESULT_INVALID_NONCE, apisig_sign(&apex, &c, &r, st, &h, buf, sizeof buf, &len));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_init(&rot, 2, 2));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&rot, &a));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&rot, &a, 403, &next, &key));
    CHECK(next == APISIG_NEXT_RETRY && key == 1, "retry_on_forbidden = 2 retries on 403");
    EXPECT(APISIG_RESULT_OK, jwt(NULL, "{\"iss\":\"b\"}", token, sizeof token - 1, &len));
    token[len] = '\0';
    v.require_exp = 0xff;
    EXPECT(APISIG_RESULT_MISSING_CLAIM, jwt_check(token, &v, 1700000000));
    v.require_exp = 0;
    EXPECT(APISIG_RESULT_OK, jwt_check(token, &v, 1700000000));
    v.issuer.present = 2;
    v.issuer.ptr = "a";
    v.issuer.len = 1;
    EXPECT(APISIG_RESULT_CLAIM_MISMATCH, jwt_check(token, &v, 1700000000));
}

/* Reads a test certificate (run from the repository root); NULL when absent. */
static uint8_t *read_cert(const char *name, size_t *len) {
    char path[128];
    uint8_t *der;
    FILE *f;
    snprintf(path, sizeof path, "tests/vectors/certs/%s", name);
    f = fopen(path, "rb");
    CHECK(f != NULL, "certificate file %s (run from the repository root)", path);
    if (!f) return NULL;
    der = malloc(4096);
    *len = der ? fread(der, 1, 4096, f) : 0;
    fclose(f);
    return der;
}

/* An APEX AuthenticateUser body for apex-key / user 42 with `nonce` and `user` written as
 * given (JSON text), signed over the nonce text `signed`. */
static size_t apex_body(char *out, size_t cap, const char *nonce, const char *user, const char *signed_nonce) {
    uint8_t msg[64], tag[APISIG_TAG_BYTES];
    char hex[2 * APISIG_TAG_BYTES + 1];
    size_t len = 0, i;
    int n = snprintf((char *)msg, sizeof msg, "%s42apex-key", signed_nonce);
    EXPECT(APISIG_RESULT_OK, apisig_hmac_sha256((const uint8_t *)"apex-secret", 11, msg, (size_t)n, tag, sizeof tag, &len));
    for (i = 0; i < sizeof tag; i++) snprintf(hex + 2 * i, 3, "%02x", tag[i]);
    n = snprintf(out, cap, "{\"APIKey\":\"apex-key\",\"Signature\":\"%s\",\"UserId\":%s,\"Nonce\":%s,\"UserName\":\"ann\"}",
                 hex, user, nonce);
    return (size_t)n;
}

/* The protocol rules the core decides once, so a C server answers as a Python one does:
 * header names unique in a scheme, which rotation a scheme gets, the APEX JSON body, and a
 * client certificate alone or with credentials (checked first: a refusal records nothing). */
static void test_protocol_rules(void) {
    apisig_scheme apex = preset("apex"), securosys = preset("securosys"), zignsec = preset("zignsec-oauth");
    apisig_header_spec hs[2];
    apisig_scheme s;
    apisig_rotation rot;
    apisig_attempt a;
    apisig_verifier *v = apisig_verifier_new(NULL, APISIG_WINDOW_DEFAULT_NS);
    apisig_keyring *ring = apisig_verifier_keyring(v);
    apisig_credentials c = creds("apex-key", "apex-secret", "42", NULL);
    apisig_request r = request("POST", "/AuthenticateUser", NULL);
    apisig_header_in in[APISIG_MAX_HEADERS];
    apisig_headers h;
    apisig_principal who;
    char body[512];
    uint8_t buf[512], fp[APISIG_PIN_BYTES];
    size_t len = 0, key = 0, ops_len = 0, dev_len = 0;
    uint32_t next = 0, apex_client = 0, ops_client = 0;
    uint8_t *ops_der, *dev_der;

    /* Two headers of one name, in any case. */
    memset(hs, 0, sizeof hs);
    memset(&s, 0, sizeof s);
    hs[0].name = "X-Key";
    hs[0].name_len = 5;
    hs[0].field = APISIG_FIELD_API_KEY;
    hs[1].name = "x-KEY";
    hs[1].name_len = 5;
    hs[1].field = APISIG_FIELD_SECRET;
    s.headers = hs;
    s.headers_len = 2;
    EXPECT(APISIG_RESULT_INVALID_TEMPLATE, apisig_scheme_check(&s));
    hs[1].name = "X-Keys";
    hs[1].name_len = 6;
    EXPECT(APISIG_RESULT_OK, apisig_scheme_check(&s));

    /* The scheme's rotation: ZignSec retries on 403 (the seed), Securosys does not; a
     * described scheme says so with its flag, 0 or 1. */
    EXPECT(APISIG_RESULT_OK, apisig_rotation_for_scheme(&rot, &zignsec, 2));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&rot, &a));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&rot, &a, 403, &next, &key));
    CHECK(next == APISIG_NEXT_RETRY && key == 1, "zignsec retries on 403");
    EXPECT(APISIG_RESULT_OK, apisig_rotation_for_scheme(&rot, &securosys, 2));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&rot, &a));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&rot, &a, 403, &next, &key));
    CHECK(next == APISIG_NEXT_DONE, "securosys does not retry on 403");
    s.retry_on_forbidden = 1;
    EXPECT(APISIG_RESULT_OK, apisig_rotation_for_scheme(&rot, &s, 2));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&rot, &a));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&rot, &a, 403, &next, &key));
    CHECK(next == APISIG_NEXT_RETRY, "a described scheme's flag");
    s.retry_on_forbidden = 0x80; /* a flag: any nonzero value is true */
    EXPECT(APISIG_RESULT_OK, apisig_rotation_for_scheme(&rot, &s, 2));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&rot, &a));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&rot, &a, 403, &next, &key));
    CHECK(next == APISIG_NEXT_RETRY, "retry_on_forbidden = 0x80 is true");
    s.retry_on_forbidden = 0;
    EXPECT(APISIG_RESULT_OK, apisig_rotation_for_scheme(&rot, &s, 2));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_begin(&rot, &a));
    EXPECT(APISIG_RESULT_OK, apisig_rotation_on_response(&rot, &a, 403, &next, &key));
    CHECK(next == APISIG_NEXT_DONE, "retry_on_forbidden = 0 is false");
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_rotation_for_scheme(NULL, &zignsec, 2));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_rotation_for_scheme(&rot, NULL, 2));

    /* APEX AuthenticateUser with its credentials in the JSON body. */
    EXPECT(APISIG_RESULT_OK, apisig_keyring_add(ring, S("apex-key"), (const uint8_t *)"apex-secret", 11, &apex_client));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_bind_user_id(ring, apex_client, S("42")));
    EXPECT(APISIG_RESULT_OK, apisig_sign_json(&apex, &c, &r, stamp(NOW, 1, 7), buf, sizeof buf, &len));
    r.body = buf;
    r.body_len = len;
    EXPECT(APISIG_RESULT_MISSING_CREDENTIAL, apisig_verifier_verify(v, &apex, &r, NOW, &who));
    memset(&who, 0xee, sizeof who);
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    CHECK(who.client == apex_client, "body principal");
    EXPECT(APISIG_RESULT_REPLAYED_REQUEST, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    /* Numbers as AlphaPoint clients send them; one text per integer. */
    r.body = (const uint8_t *)body;
    r.body_len = apex_body(body, sizeof body, "8", "42", "8");
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    r.body_len = apex_body(body, sizeof body, "\"09\"", "42", "09");
    EXPECT(APISIG_RESULT_INVALID_NONCE, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    r.body_len = apex_body(body, sizeof body, "9.0", "42", "9.0");
    EXPECT(APISIG_RESULT_INVALID_NONCE, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    r.body_len = apex_body(body, sizeof body, "09", "42", "09");
    EXPECT(APISIG_RESULT_INVALID_BODY, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    r.body_len = apex_body(body, sizeof body, "9,\"Nonce\":10", "42", "9");
    EXPECT(APISIG_RESULT_DUPLICATE_HEADER, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    r.body_len = apex_body(body, sizeof body, "true", "42", "9");
    EXPECT(APISIG_RESULT_INVALID_BODY, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    r.body_len = apex_body(body, sizeof body, "9", "42.0", "9");
    EXPECT(APISIG_RESULT_USER_ID_MISMATCH, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    r.body_len = apex_body(body, sizeof body, "9", "42", "9");
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_json_body(v, &apex, &r, NOW, &who));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_verify_json_body(v, &apex, NULL, NOW, &who));

    /* A client certificate alone, or with credentials naming the same client. */
    ops_der = read_cert("client-ec-p256.der", &ops_len);
    dev_der = read_cert("ec-p256-leaf.der", &dev_len);
    if (ops_der && dev_der) {
        EXPECT(APISIG_RESULT_OK, apisig_keyring_add(ring, S("ops"), (const uint8_t *)"ops-key", 7, &ops_client));
        EXPECT(APISIG_RESULT_OK, apisig_certificate_fingerprint(ops_der, ops_len, APISIG_PIN_KIND_CERTIFICATE, fp, sizeof fp, &len));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_pin(ring, ops_client, APISIG_SLOT_PRIMARY, APISIG_PIN_KIND_CERTIFICATE, fp, sizeof fp));
        EXPECT(APISIG_RESULT_OK, apisig_certificate_fingerprint(dev_der, dev_len, APISIG_PIN_KIND_CERTIFICATE, fp, sizeof fp, &len));
        EXPECT(APISIG_RESULT_OK, apisig_keyring_set_pin(ring, apex_client, APISIG_SLOT_PRIMARY, APISIG_PIN_KIND_CERTIFICATE, fp, sizeof fp));
        EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_with_certificate(v, NULL, NULL, ops_der, ops_len, NOW, &who));
        CHECK(who.client == ops_client, "the certificate alone");
        EXPECT(APISIG_RESULT_MISSING_CREDENTIAL, apisig_verifier_verify_with_certificate(v, NULL, NULL, NULL, 0, NOW, &who));
        EXPECT(APISIG_RESULT_INVALID_CERTIFICATE, apisig_verifier_verify_with_certificate(v, NULL, NULL, (const uint8_t *)"\x30\x80", 2, NOW, &who));
        EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_verify_with_certificate(v, &securosys, NULL, ops_der, ops_len, NOW, &who));
        r = request("GET", "/v1/sign", NULL);
        in[0].name = "X-API-KEY";
        in[0].name_len = 9;
        in[0].value = (const uint8_t *)"ops-key";
        in[0].value_len = 7;
        r.headers = in;
        r.headers_len = 1;
        EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_with_certificate(v, &securosys, &r, ops_der, ops_len, NOW, &who));
        CHECK(who.client == ops_client, "key and certificate of one client");
        EXPECT(APISIG_RESULT_UNPINNED_CERTIFICATE, apisig_verifier_verify_with_certificate(v, &securosys, &r, dev_der, dev_len, NOW, &who));
        EXPECT(APISIG_RESULT_MISSING_CREDENTIAL, apisig_verifier_verify_with_certificate(v, &securosys, &r, NULL, 0, NOW, &who));
        /* A signed request refused for its certificate records no nonce. */
        r = request("POST", "/AuthenticateUser", NULL);
        EXPECT(APISIG_RESULT_OK, apisig_sign(&apex, &c, &r, stamp(NOW, 1, 20), &h, buf, sizeof buf, &len));
        r.headers = in;
        r.headers_len = to_request_headers(&h, in);
        EXPECT(APISIG_RESULT_UNPINNED_CERTIFICATE, apisig_verifier_verify_with_certificate(v, &apex, &r, ops_der, ops_len, NOW, &who));
        EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_with_certificate(v, &apex, &r, dev_der, dev_len, NOW, &who));
        CHECK(who.client == apex_client, "signed request and certificate of one client");
        EXPECT(APISIG_RESULT_REPLAYED_REQUEST, apisig_verifier_verify_with_certificate(v, &apex, &r, dev_der, dev_len, NOW, &who));
    }
    free(ops_der);
    free(dev_der);
    apisig_verifier_free(v);
}

/* ZignSec's 20-minute access tokens: refresh a minute early; the skew is capped at half the
 * lifetime; arithmetic saturates. */
static void test_token_lifetime(void) {
    const uint64_t s = 1000000000u;
    apisig_token_lifetime t = {100 * s, 1200, 60};
    CHECK(apisig_token_expires_at(t) == 1300 * s, "expires_at");
    CHECK(apisig_token_refresh_at(t) == 1240 * s, "refresh_at");
    CHECK(!apisig_token_needs_refresh(t, 1240 * s - 1) && apisig_token_needs_refresh(t, 1240 * s), "edge");
    t.lifetime_s = 10;
    CHECK(apisig_token_refresh_at(t) == 105 * s, "skew capped at half the lifetime");
    t.issued_at = UINT64_MAX - 1;
    t.lifetime_s = UINT64_MAX;
    CHECK(apisig_token_expires_at(t) == UINT64_MAX, "saturates");
}

/* OCSP: every refusal of apisig_ocsp_verdict, from the facts or from a failure (the shared
 * vectors, parsed with OpenSSL, are tests/c/ocsp.c). */
static void test_ocsp(void) {
    const uint64_t s = 1000000000ull;
    apisig_ocsp_policy closed = {300 * s, 3600 * s, 0};
    apisig_ocsp_response good, r;
    uint32_t warning = 0;
    static const uint32_t failures[] = {APISIG_RESULT_OCSP_UNAVAILABLE, APISIG_RESULT_OCSP_RESPONDER_ERROR,
                                        APISIG_RESULT_OCSP_MALFORMED, APISIG_RESULT_OCSP_RESPONSE_TOO_LARGE,
                                        APISIG_RESULT_OCSP_NO_RESPONDER};
    size_t i;
    memset(&good, 0, sizeof good);
    good.signer = APISIG_OCSP_SIGNER_ISSUER;
    good.signature_valid = 1;
    good.cert_id_matches = 1;
    good.nonce = APISIG_OCSP_NONCE_ECHOED;
    good.this_update = 1000 * s;
    good.has_next_update = 1;
    good.next_update = 2000 * s;
    EXPECT(APISIG_RESULT_OK, apisig_ocsp_verdict(&good, 0, 1500 * s, &closed, &warning));
    r = good, r.status = APISIG_OCSP_STATUS_REVOKED;
    EXPECT(APISIG_RESULT_CERTIFICATE_REVOKED, apisig_ocsp_verdict(&r, 0, 1500 * s, &closed, &warning));
    r = good, r.status = APISIG_OCSP_STATUS_UNKNOWN;
    EXPECT(APISIG_RESULT_CERTIFICATE_STATUS_UNKNOWN, apisig_ocsp_verdict(&r, 0, 1500 * s, &closed, &warning));
    r = good, r.cert_id_matches = 0;
    EXPECT(APISIG_RESULT_OCSP_CERT_ID_MISMATCH, apisig_ocsp_verdict(&r, 0, 1500 * s, &closed, &warning));
    r = good, r.nonce = APISIG_OCSP_NONCE_MISSING;
    EXPECT(APISIG_RESULT_OCSP_NONCE_MISMATCH, apisig_ocsp_verdict(&r, 0, 1500 * s, &closed, &warning));
    r = good, r.signer = APISIG_OCSP_SIGNER_DELEGATED, r.responder_ocsp_signing = 0, r.responder_issued_by_issuer = 1;
    r.responder_not_after = 3000 * s;
    EXPECT(APISIG_RESULT_OCSP_UNAUTHORIZED_RESPONDER, apisig_ocsp_verdict(&r, 0, 1500 * s, &closed, &warning));
    r = good, r.signature_valid = 0;
    EXPECT(APISIG_RESULT_OCSP_SIGNATURE_INVALID, apisig_ocsp_verdict(&r, 0, 1500 * s, &closed, &warning));
    EXPECT(APISIG_RESULT_OCSP_RESPONSE_STALE, apisig_ocsp_verdict(&good, 0, 2301 * s, &closed, &warning));
    EXPECT(APISIG_RESULT_OCSP_RESPONSE_NOT_YET_VALID, apisig_ocsp_verdict(&good, 0, 699 * s, &closed, &warning));
    for (i = 0; i < sizeof failures / sizeof failures[0]; i++)
        EXPECT(failures[i], apisig_ocsp_verdict(NULL, failures[i], 1500 * s, &closed, &warning));
    r = good, r.nonce = 4;
    EXPECT(APISIG_RESULT_OCSP_MALFORMED, apisig_ocsp_verdict(&r, 0, 1500 * s, &closed, &warning));
    CHECK(warning == 0, "warning untouched by refusals");
}

/* OpenID access tokens: every refusal of apisig_jws_verify that a C build (ES256, EdDSA; RSA
 * in host builds) can reach, and the set loaded once. The good token and the EC key are from tests/vectors/jws.json (the oracle's). */
static void test_jws(void) {
    static const char ec[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                             "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\",\"kid\":\"ec-1\"}";
    static const char good[] =
        "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTEiLCJ0eXAiOiJhdCtqd3QifQ.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUudGVzdC9yZWFs"
        "bXMvemlnbnNlYyIsInN1YiI6ImNsaWVudC03IiwiYXVkIjoiaHR0cHM6Ly9hcGkuZXhhbXBsZS50ZXN0IiwiZXhwIjoxNzAwMDAxMjAwLCJp"
        "YXQiOjE2OTk5OTk5OTAsImNsaWVudF9pZCI6ImNsaWVudC03Iiwic2NvcGUiOiJwYXltZW50czpyZWFkIiwianRpIjoianRpLTEifQ.b2Sr2F"
        "Mz8r13zwLp6o3TfVyQqdvD7r3AkaqQkC0BV2mAv5VNb360sUyOM4v1Y3QclIp1YZmWWyZ_dB3UTtHijg";
    static const char iss[] = "https://op.example.test/realms/zignsec", aud[] = "https://api.example.test";
    const uint64_t now = 1700000000ull * 1000000000ull;
    char set[512], two[1024];
    uint8_t scratch[1024];
    char *big;
    apisig_access_token claims;
    apisig_jws_issuer i = {iss, sizeof iss - 1, aud, sizeof aud - 1, APISIG_JWS_ES256 | APISIG_JWS_EDDSA, 0, 0,
                           APISIG_ACCESS_TOKEN_MAX};
    apisig_jws_issuer other = i;
#define JWS(want, jwks, token, issuer)                                                                          \
    EXPECT(want, apisig_jws_verify((const uint8_t *)(jwks), strlen(jwks), (const uint8_t *)(token), strlen(token), \
                                   (issuer), now, scratch, sizeof scratch, &claims))
    snprintf(set, sizeof set, "{\"keys\":[%s]}", ec);
    snprintf(two, sizeof two, "{\"keys\":[%s,%s]}", ec, ec);
    JWS(APISIG_RESULT_OK, set, good, &i);
    CHECK(claims.client_id.present && claims.client_id.len == 8 && memcmp(claims.client_id.ptr, "client-7", 8) == 0 &&
              claims.algorithm == APISIG_JWS_ES256,
          "jws claims");
    JWS(APISIG_RESULT_JWKS_MALFORMED, "{", good, &i);
    big = malloc(APISIG_JWKS_MAX + 2);
    memset(big, ' ', APISIG_JWKS_MAX + 1);
    big[APISIG_JWKS_MAX + 1] = 0;
    JWS(APISIG_RESULT_JWKS_TOO_LARGE, big, good, &i);
    free(big);
    JWS(APISIG_RESULT_SYMMETRIC_ALGORITHM, set, "eyJhbGciOiJIUzI1NiJ9.e30.AA", &i);
    JWS(APISIG_RESULT_CRIT_UNSUPPORTED, set, "eyJhbGciOiJFUzI1NiIsImNyaXQiOlsieCJdfQ.e30.AA", &i);
    JWS(APISIG_RESULT_TOKEN_TYPE_MISMATCH, set, "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0In0.e30.AA", &i);
    JWS(APISIG_RESULT_UNKNOWN_KID, set, "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.e30.AA", &i);
    JWS(APISIG_RESULT_KEY_TYPE_MISMATCH, set, "eyJhbGciOiJFZERTQSIsImtpZCI6ImVjLTEifQ.e30.AA", &i);
    JWS(APISIG_RESULT_MISSING_KID, two, "eyJhbGciOiJFUzI1NiJ9.e30.AA", &i);
    other.issuer = "https://op.example.test";
    other.issuer_len = strlen(other.issuer);
    JWS(APISIG_RESULT_ISSUER_MISMATCH, set, good, &other);
    other = i;
    other.audience = "https://api.example.test/v2";
    other.audience_len = strlen(other.audience);
    JWS(APISIG_RESULT_AUDIENCE_MISMATCH, set, good, &other);
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_jws_verify((const uint8_t *)set, strlen(set), (const uint8_t *)good,
                                                           strlen(good), NULL, now, scratch, sizeof scratch, &claims));
#undef JWS
    /* RSA (host builds): a 1024-bit key is refused when the set is read. */
    CHECK(apisig_jws_algorithms() == (APISIG_JWS_RS256 | APISIG_JWS_PS256 | APISIG_JWS_ES256 | APISIG_JWS_EDDSA),
          "host algorithms");
    {
        static const char weak[] =
            "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"swM4qS0iy7tUqHIUlrXXKjkEx6-onMEBLIv60hC39RjHbNTW0fyZ6"
            "dKZrGgn4ZBw6_AKiPSOPjsHxWr8KoPwr7ZnAsQjXMykrDKMbBDTzA5-WWSOOXSEGL2VvHTBSZNT1DNfrjYttWLoPqJE3aHn5D-xeerag-f0XTk"
            "qczzOSB0\"}]}";
        apisig_jwks *h = NULL;
        EXPECT(APISIG_RESULT_JWK_WEAK_KEY, apisig_jwks_load((const uint8_t *)weak, strlen(weak), &h));
        CHECK(h == NULL, "jwks_load wrote on error");
        EXPECT(APISIG_RESULT_JWKS_MALFORMED, apisig_jwks_load((const uint8_t *)"{", 1, &h));
        EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_jwks_load(NULL, 3, &h));
        EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_jwks_load((const uint8_t *)set, strlen(set), NULL));
        EXPECT(APISIG_RESULT_OK, apisig_jwks_load((const uint8_t *)set, strlen(set), &h));
        CHECK(apisig_jwks_len(h) == 1 && apisig_jwks_len(NULL) == 0, "jwks_len");
        EXPECT(APISIG_RESULT_OK, apisig_jwks_verify(h, (const uint8_t *)good, strlen(good), &i, now, scratch,
                                                    sizeof scratch, &claims));
        EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL,
               apisig_jwks_verify(h, (const uint8_t *)good, strlen(good), &i, now, scratch, 8, &claims));
        EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_jwks_verify(NULL, (const uint8_t *)good, strlen(good), &i, now,
                                                                scratch, sizeof scratch, &claims));
        EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_jwks_verify(h, (const uint8_t *)good, strlen(good), NULL, now,
                                                                scratch, sizeof scratch, &claims));
        apisig_jwks_free(h);
        apisig_jwks_free(NULL);
    }
}

/* Introspection answers: the pointers, an audience of NULL (none expected), text that is not
 * UTF-8, and nothing written on error. The vectors (vectors.c) hold every judgement. */
static void test_introspection(void) {
    static const char iss[] = "http://127.0.0.1:3000", active[] = "{\"active\":true,\"client_id\":\"c\"}";
    const uint64_t now = 1700000000ull * 1000000000ull;
    apisig_introspection_expected e = {iss, sizeof iss - 1, NULL, 0, 0};
    apisig_access_token claims;
    uint64_t cache_s = 7;
#define CHECK_IT(want, body, exp)                                                                                 \
    EXPECT(want, apisig_introspection_check((const uint8_t *)(body), strlen(body), (exp), now, 300, &claims, &cache_s))
    CHECK_IT(APISIG_RESULT_OK, active, &e);
    CHECK(cache_s == 300 && claims.client_id.present && claims.client_id.len == 1 && claims.algorithm == 0,
          "introspection claims");
    cache_s = 7;
    CHECK_IT(APISIG_RESULT_TOKEN_INACTIVE, "{\"active\":false}", &e);
    CHECK_IT(APISIG_RESULT_INTROSPECTION_MALFORMED, "{\"active\":1}", &e);
    CHECK(cache_s == 7, "nothing written on error");
    e.audience = "x";
    e.audience_len = 1;
    CHECK_IT(APISIG_RESULT_AUDIENCE_MISMATCH, active, &e);
    e.audience = "\xff";
    CHECK_IT(APISIG_RESULT_INVALID_HEADER_VALUE, active, &e);
    CHECK_IT(APISIG_RESULT_NULL_PARAMETER, active, NULL);
    e.audience = NULL;
    e.audience_len = 0;
    EXPECT(APISIG_RESULT_NULL_PARAMETER,
           apisig_introspection_check(NULL, 3, &e, now, 300, &claims, &cache_s));
    EXPECT(APISIG_RESULT_NULL_PARAMETER,
           apisig_introspection_check((const uint8_t *)active, strlen(active), &e, now, 300, NULL, &cache_s));
    EXPECT(APISIG_RESULT_NULL_PARAMETER,
           apisig_introspection_check((const uint8_t *)active, strlen(active), &e, now, 300, &claims, NULL));
#undef CHECK_IT
}

/* Peer addresses: text, sockets' bytes, proxies, allow-lists; the _from verify calls. */
static void test_peers(void) {
    apisig_keyring ring;
    apisig_verifier v;
    apisig_scheme signius = preset("signius");
    apisig_request r = request("GET", "/", NULL);
    apisig_header_in h[1];
    apisig_principal who;
    apisig_ip ip, out, bad;
    uint32_t client;
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};
    char many[9 * 16 + 1];
    int i;

    EXPECT(APISIG_RESULT_OK, apisig_ip_parse(S("192.0.2.7"), &ip));
    CHECK(ip.family == APISIG_IP_V4 && memcmp(ip.bytes, "\xc0\x00\x02\x07", 4) == 0, "IPv4 bytes");
    EXPECT(APISIG_RESULT_OK, apisig_ip_parse(S("2001:db8::42"), &out));
    CHECK(out.family == APISIG_IP_V6 && memcmp(out.bytes, v6, 16) == 0, "IPv6 bytes");
    memset(&out, 0x5a, sizeof out);
    EXPECT(APISIG_RESULT_INVALID_ADDRESS, apisig_ip_parse(S("192.0.2.7:443"), &out));
    EXPECT(APISIG_RESULT_INVALID_ADDRESS, apisig_ip_parse(S("[2001:db8::1]"), &out));
    EXPECT(APISIG_RESULT_INVALID_ADDRESS, apisig_ip_parse(S(""), &out));
    EXPECT(APISIG_RESULT_INVALID_ADDRESS, apisig_ip_parse("\xff", 1, &out));
    CHECK(out.family == 0x5a, "nothing written on error");
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_ip_parse(NULL, 3, &out));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_ip_parse(S("192.0.2.7"), NULL));

    /* Behind proxies: the right-most untrusted entry; a trusted proxy's bad header. */
    EXPECT(APISIG_RESULT_OK, apisig_ip_parse(S("10.0.0.1"), &ip));
    EXPECT(APISIG_RESULT_OK, apisig_peer_behind_proxies(&ip, S("6.6.6.6, 203.0.113.7, 10.0.0.2"), S("10.0.0.0/8"), &out));
    CHECK(out.family == APISIG_IP_V4 && memcmp(out.bytes, "\xcb\x00\x71\x07", 4) == 0, "203.0.113.7");
    EXPECT(APISIG_RESULT_OK, apisig_peer_behind_proxies(&ip, NULL, 0, S("10.0.0.0/8"), &out));
    CHECK(memcmp(out.bytes, "\x0a\x00\x00\x01", 4) == 0, "no header: the peer");
    EXPECT(APISIG_RESULT_OK, apisig_peer_behind_proxies(&ip, S("not an address"), NULL, 0, &out));
    CHECK(memcmp(out.bytes, "\x0a\x00\x00\x01", 4) == 0, "no trusted proxy: the header is not read");
    memset(&out, 0x5a, sizeof out);
    EXPECT(APISIG_RESULT_INVALID_FORWARDED_FOR, apisig_peer_behind_proxies(&ip, S("203.0.113.7:80"), S("10.0.0.0/8"), &out));
    EXPECT(APISIG_RESULT_INVALID_FORWARDED_FOR, apisig_peer_behind_proxies(&ip, S(","), S("10.0.0.0/8"), &out));
    EXPECT(APISIG_RESULT_INVALID_PATTERN, apisig_peer_behind_proxies(&ip, NULL, 0, S("10.0.0.1/8"), &out));
    CHECK(out.family == 0x5a, "nothing written on error");
    bad = ip;
    bad.family = 5;
    EXPECT(APISIG_RESULT_INVALID_ADDRESS, apisig_peer_behind_proxies(&bad, NULL, 0, NULL, 0, &out));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_peer_behind_proxies(NULL, NULL, 0, NULL, 0, &out));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_peer_behind_proxies(&ip, NULL, 0, NULL, 0, NULL));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_peer_behind_proxies(&ip, NULL, 5, NULL, 0, &out));
    for (i = 0; i < 33; i++) memcpy(many + 4 * i, "::1,", 4);
    EXPECT(APISIG_RESULT_FIELD_TOO_LONG, apisig_peer_behind_proxies(&ip, NULL, 0, many, 4 * 33 - 1, &out));

    /* A keyring client restricted to some ranges. */
    EXPECT(APISIG_RESULT_OK, apisig_keyring_init(&ring));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_add(&ring, S("cam"), (const uint8_t *)"cam-static-key", 14, &client));
    EXPECT(APISIG_RESULT_INVALID_PATTERN, apisig_keyring_set_allowed(&ring, client, S("192.0.2.1/24")));
    EXPECT(APISIG_RESULT_INVALID_PATTERN, apisig_keyring_set_allowed(&ring, client, S("192.0.2.0/24,")));
    for (i = 0; i < 9; i++) memcpy(many + 16 * i, "192.0.2.0/24,   ", 16);
    EXPECT(APISIG_RESULT_FIELD_TOO_LONG, apisig_keyring_set_allowed(&ring, client, many, 16 * 9 - 4));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_keyring_set_allowed(&ring, 7, S("192.0.2.0/24")));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_set_allowed(&ring, client, NULL, 3));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_keyring_set_allowed(NULL, client, S("192.0.2.0/24")));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_set_allowed(&ring, client, S(" 192.0.2.0/24 , 2001:db8::/32")));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_init(&v, &ring, APISIG_WINDOW_DEFAULT_NS));
    h[0].name = "X-Api-Key";
    h[0].name_len = 9;
    h[0].value = (const uint8_t *)"cam-static-key";
    h[0].value_len = 14;
    r.headers = h;
    r.headers_len = 1;
    EXPECT(APISIG_RESULT_OK, apisig_ip_parse(S("192.0.2.200"), &ip));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_from(&v, &signius, &r, &ip, NOW, &who));
    CHECK(who.client == 0 && who.id_len == 3, "cam from an allowed peer");
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_json_body_from(&v, &signius, &r, &ip, NOW, &who));
    memcpy(out.bytes, v6, 16);
    out.family = APISIG_IP_V6;
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify_from(&v, &signius, &r, &out, NOW, &who));
    EXPECT(APISIG_RESULT_OK, apisig_ip_parse(S("192.0.3.1"), &ip));
    memset(&who, 0x5a, sizeof who);
    EXPECT(APISIG_RESULT_ADDRESS_NOT_ALLOWED, apisig_verifier_verify_from(&v, &signius, &r, &ip, NOW, &who));
    EXPECT(APISIG_RESULT_ADDRESS_NOT_ALLOWED, apisig_verifier_verify(&v, &signius, &r, NOW, &who));
    EXPECT(APISIG_RESULT_ADDRESS_NOT_ALLOWED, apisig_verifier_verify_json_body_from(&v, &signius, &r, &ip, NOW, &who));
    EXPECT(APISIG_RESULT_INVALID_ADDRESS, apisig_verifier_verify_from(&v, &signius, &r, &bad, NOW, &who));
    EXPECT(APISIG_RESULT_INVALID_ADDRESS,
           apisig_verifier_verify_with_certificate_from(&v, NULL, NULL, (const uint8_t *)"x", 1, &bad, NOW, &who));
    CHECK(who.id_len == 0x5a, "*who not written on error");
    EXPECT(APISIG_RESULT_OK, apisig_verifier_wipe(&v));
    EXPECT(APISIG_RESULT_OK, apisig_keyring_wipe(&ring));
}

/* Key stores: opening (URLs, master keys), NULL and length checks, a typo'd issued key. */
static void test_stores(void) {
    static const char master[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    static const char other[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    char dir[] = "/tmp/apisig-bad-input-XXXXXX", url[160], path[128], key[APISIG_ISSUED_KEY_MAX];
    apisig_store *store = NULL, *none = (apisig_store *)&seen;
    apisig_store_config config;
    apisig_verifier v;
    apisig_scheme signius = preset("signius");
    apisig_request r = request("GET", "/", NULL);
    apisig_header_in h[1];
    apisig_principal who;
    char presented[96];
    size_t len;
    uint8_t raw[32];
    int i;

    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/keys.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    EXPECT(APISIG_RESULT_INVALID_STORE_URL, apisig_store_open(S("mysql://localhost/keys"), (const uint8_t *)master, 64, NULL, &store));
    EXPECT(APISIG_RESULT_INVALID_STORE_URL, apisig_store_open(S(""), (const uint8_t *)master, 64, NULL, &store));
    EXPECT(APISIG_RESULT_INVALID_MASTER_KEY, apisig_store_open(url, strlen(url), (const uint8_t *)"00112233", 8, NULL, &store));
    EXPECT(APISIG_RESULT_INVALID_MASTER_KEY, apisig_store_open(url, strlen(url), (const uint8_t *)master, 63, NULL, &store));
    EXPECT(APISIG_RESULT_STORE_UNAVAILABLE,
           apisig_store_open(S("postgres://postgres@127.0.0.1:1/postgres"), (const uint8_t *)master, 64, NULL, &store));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_open(NULL, 3, (const uint8_t *)master, 64, NULL, &store));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_open(url, strlen(url), NULL, 64, NULL, &store));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, NULL, NULL));
    memset(&config, 0, sizeof config);
    config.roles = "admin,,reader";
    config.roles_len = strlen(config.roles);
    EXPECT(APISIG_RESULT_INVALID_PATTERN, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, &config, &store));
    config.roles = NULL;
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, &config, &store));
    /* Scope names: none empty, none twice, at most 64 (one per bit of a principal's scopes). */
    config.roles_len = 0;
    config.scopes = "read,,trade";
    config.scopes_len = strlen(config.scopes);
    EXPECT(APISIG_RESULT_INVALID_PATTERN, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, &config, &store));
    config.scopes = "read, trade,read";
    config.scopes_len = strlen(config.scopes);
    EXPECT(APISIG_RESULT_INVALID_PATTERN, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, &config, &store));
    {
        char names[65 * 4];
        size_t at = 0;
        for (i = 0; i < 65; i++) at += (size_t)snprintf(names + at, sizeof names - at, "%ss%d", i ? "," : "", i);
        config.scopes = names;
        config.scopes_len = at;
        EXPECT(APISIG_RESULT_FIELD_TOO_LONG, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, &config, &store));
        config.scopes_len = strlen("s0,s1,s2,s3,s4,s5,s6,s7,s8,s9") + 54 * 4; /* the first 64 */
        CHECK(names[config.scopes_len] == ',' && names[config.scopes_len - 1] == '3', "64 names");
        EXPECT(APISIG_RESULT_OK, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, &config, &store));
        apisig_store_free(store);
        store = NULL;
    }
    config.scopes = NULL;
    config.scopes_len = 3;
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, &config, &store));
    CHECK(store == NULL, "*out not written on error");
    /* Created under `master`; the same key as 32 raw bytes opens it, another key does not. */
    EXPECT(APISIG_RESULT_OK, apisig_store_open(url, strlen(url), (const uint8_t *)master, 64, NULL, &store));
    apisig_store_free(store);
    store = NULL;
    EXPECT(APISIG_RESULT_WRONG_MASTER_KEY, apisig_store_open(url, strlen(url), (const uint8_t *)other, 64, NULL, &store));
    for (i = 0; i < 32; i++) raw[i] = (uint8_t)((i % 16) * 0x11);
    EXPECT(APISIG_RESULT_OK, apisig_store_open(url, strlen(url), raw, 32, NULL, &store));
    if (!store) return;

    /* NULL, invalid objects and bad ids through every store call. */
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_create_client(NULL, S("x")));
    EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_store_create_client(none, S("x")));
    EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_store_invalidate_all(none));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_invalidate_all(NULL));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_create_client(store, NULL, 1));
    EXPECT(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_store_create_client(store, S("")));
    EXPECT(APISIG_RESULT_FIELD_TOO_LONG,
           apisig_store_create_client(store, S("a-client-id-longer-than-sixty-four-bytes-is-refused-by-the-core-x")));
    EXPECT(APISIG_RESULT_OK, apisig_store_create_client(store, S("cam")));
    EXPECT(APISIG_RESULT_NULL_PARAMETER,
           apisig_store_issue(store, S("cam"), APISIG_SLOT_PRIMARY, APISIG_KEY_STATIC, NULL, 8, &len));
    EXPECT(APISIG_RESULT_NULL_PARAMETER,
           apisig_store_issue(store, S("cam"), APISIG_SLOT_PRIMARY, APISIG_KEY_STATIC, key, sizeof key, NULL));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_store_issue(store, S("cam"), 9, APISIG_KEY_STATIC, key, sizeof key, &len));
    EXPECT(APISIG_RESULT_BUFFER_TOO_SMALL,
           apisig_store_issue(store, S("cam"), APISIG_SLOT_PRIMARY, APISIG_KEY_STATIC, NULL, 0, &len));
    CHECK(len == 59, "a static key's size: %zu", len);
    EXPECT(APISIG_RESULT_OK,
           apisig_store_issue(store, S("cam"), APISIG_SLOT_PRIMARY, APISIG_KEY_STATIC, key, sizeof key, &len));
    EXPECT(APISIG_RESULT_UNKNOWN_KEY, apisig_store_revoke_key(store, S("cam"), 9));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_revoke_key(NULL, S("cam"), APISIG_SLOT_PRIMARY));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_store_revoke_client(store, NULL, 2));
    EXPECT(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_store_invalidate(store, "\xff", 1));
    EXPECT(APISIG_RESULT_OK, apisig_store_invalidate(store, S("cam")));

    /* A verifier over the store: the issued key, then a typo of it (its checksum). */
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_init_with_store(&v, NULL, APISIG_WINDOW_DEFAULT_NS));
    EXPECT(APISIG_RESULT_INVALID_OBJECT, apisig_verifier_init_with_store(&v, none, APISIG_WINDOW_DEFAULT_NS));
    EXPECT(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_init_with_store(NULL, store, APISIG_WINDOW_DEFAULT_NS));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_init_with_store(&v, store, APISIG_WINDOW_DEFAULT_NS));
    snprintf(presented, sizeof presented, "%.*s", (int)len, key);
    h[0].name = "X-Api-Key";
    h[0].name_len = 9;
    h[0].value = (const uint8_t *)presented;
    h[0].value_len = strlen(presented);
    r.headers = h;
    r.headers_len = 1;
    EXPECT(APISIG_RESULT_OK, apisig_verifier_verify(&v, &signius, &r, NOW, &who));
    CHECK(who.client == APISIG_CLIENT_NONE && who.id_len == 3 && memcmp(who.id, "cam", 3) == 0, "cam");
    presented[20] = presented[20] == 'x' ? 'y' : 'x';
    EXPECT(APISIG_RESULT_INVALID_KEY_FORMAT, apisig_verifier_verify(&v, &signius, &r, NOW, &who));
    /* The refusal is this request's: the next one is judged on its own. */
    h[0].value = (const uint8_t *)"not-an-issued-key";
    h[0].value_len = 17;
    EXPECT(APISIG_RESULT_INVALID_KEY_FORMAT, apisig_verifier_verify(&v, &signius, &r, NOW, &who));
    EXPECT(APISIG_RESULT_OK, apisig_verifier_wipe(&v));
    apisig_store_free(store);
    apisig_store_free(NULL);
    remove(path);
    snprintf(path, sizeof path, "%s/keys.db-wal", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/keys.db-shm", dir);
    remove(path);
    remove(dir);
}

int main(void) {
    size_t i;
    test_codes_and_strings();
    test_hmac_buffers();
    test_presets();
    test_custom_scheme_shapes();
    test_sign_errors();
    test_typed_signers();
    test_keyring();
    test_verify_round_trips();
    test_moved_keyring();
    test_rotation();
    test_tokens();
    test_verifier_tokens_and_pins();
    test_protocol_rules();
    test_token_lifetime();
    test_invalid_objects();
    test_flags();
    test_ocsp();
    test_jws();
    test_introspection();
    test_peers();
    test_stores();
    /* Every code was produced by some call above, but the two skipped below. */
    for (i = 0; i < N_CODES; i++) {
        /* PANIC: the core cannot panic. REPLAY_STORE_UNAVAILABLE: only a shared store
         * (Redis, in the Python face) reports it; the C verifier's store is in memory. */
        if (all_codes[i] == APISIG_RESULT_PANIC || all_codes[i] == APISIG_RESULT_REPLAY_STORE_UNAVAILABLE)
            continue;
        /* The fetching and discovery codes are the Python face's. */
        if (all_codes[i] == APISIG_RESULT_JWKS_UNAVAILABLE ||
            all_codes[i] == APISIG_RESULT_DISCOVERY_MISMATCH || all_codes[i] == APISIG_RESULT_INTROSPECTION_UNAVAILABLE)
            continue;
        CHECK(seen[all_codes[i]], "code %s never produced", apisig_result_name(all_codes[i]));
    }
    return check_report("bad_input");
}
