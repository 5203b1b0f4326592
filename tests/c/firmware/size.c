/* size.c: the firmware of the size table (scripts/c-firmware.sh --sizes). Built once per row,
 * each build linking only what that row's device needs, so the linker map measures it:
 *   -DSIZE_SIGN    signs one request through apisig_aevo_signer_init (apisig_apex_signer_init)
 *                  + apisig_signer_sign; with -DSIZE_GENERIC through apisig_preset +
 *                  apisig_signer_init instead (the scheme chosen at run time); with
 *                  -DSIZE_TYPED through the typed signer, apisig_aevo_signer_setup +
 *                  apisig_aevo_signer_sign (apisig_apex_signer_setup + _sign)
 *   -DSIZE_VERIFY  checks one signed request through apisig_verifier_init + _verify (APEX:
 *                  with the client's user id bound)
 *   -DSIZE_FLOOR   the bare floor: HMAC-SHA256 + hex of the same message (libapisig_floor.a)
 * with -DCASE_APEX for APEX's case instead of Aevo's (tests/vectors/sign.json, through
 * size_cases.h). Prints the painted stack depth of each call and exits 0 only when the
 * signature matches the shared vector. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "paint.h"
#include "size_cases.h"

#ifdef CASE_APEX
#define CASE(x) APEX_##x
#else
#define CASE(x) AEVO_##x
#endif
#define LEN(s) (sizeof(s) - 1)

static int ok;
static size_t depth_a, depth_b;

#if defined SIZE_FLOOR || defined SIZE_SIGN
static const char signature[] = CASE(SIGNATURE);
#endif

#ifdef SIZE_FLOOR
int floor_sign(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len, uint8_t *out, size_t out_cap);

static void op_floor(void) {
    static const char key[] = CASE(SECRET), msg[] = CASE(MESSAGE);
    uint8_t hex[64];
    ok = floor_sign((const uint8_t *)key, LEN(key), (const uint8_t *)msg, LEN(msg), hex, sizeof hex) == 0 &&
         memcmp(hex, signature, sizeof hex) == 0;
}

static const char *run(void) {
    depth_a = stack_depth(op_floor);
    return "floor_sign";
}
#else
#include "apisig.h"

#if defined SIZE_VERIFY || defined SIZE_GENERIC
static apisig_scheme scheme;
#endif
static apisig_request req;

static void setup(void) {
    static const char body[] = CASE(BODY);
    ok = 1;
    req.method = CASE(METHOD);
    req.method_len = LEN(CASE(METHOD));
    req.path = CASE(PATH);
    req.path_len = LEN(CASE(PATH));
    req.body = (const uint8_t *)body;
    req.body_len = LEN(body);
}

#ifdef SIZE_SIGN
#ifndef SIZE_TYPED
static apisig_signer signer;
#elif defined CASE_APEX
static apisig_apex_signer signer;
#else
static apisig_aevo_signer signer;
#endif
static apisig_headers headers;
static uint8_t buf[256];

static void op_init(void) {
    static const char key[] = CASE(KEY), secret[] = CASE(SECRET), user[] = CASE(USER);
    apisig_credentials creds = {key, LEN(key), (const uint8_t *)secret, LEN(secret), user, LEN(user), NULL, 0};
#if defined SIZE_TYPED && defined CASE_APEX
    ok = ok && apisig_apex_signer_setup(&signer, &creds) == APISIG_RESULT_OK;
#elif defined SIZE_TYPED
    ok = ok && apisig_aevo_signer_setup(&signer, &creds) == APISIG_RESULT_OK;
#elif defined SIZE_GENERIC
    ok = ok && apisig_preset(CASE(SCHEME), LEN(CASE(SCHEME)), &scheme) == APISIG_RESULT_OK &&
         apisig_signer_init(&signer, &scheme, &creds) == APISIG_RESULT_OK;
#elif defined CASE_APEX
    ok = ok && apisig_apex_signer_init(&signer, &creds) == APISIG_RESULT_OK;
#else
    ok = ok && apisig_aevo_signer_init(&signer, &creds) == APISIG_RESULT_OK;
#endif
}

static void op_sign(void) {
    apisig_stamp stamp = {CASE(NOW_NS), CASE(NONCE), CASE(HAS_NONCE)};
    size_t len = 0, i;
    int found = 0;
#if defined SIZE_TYPED && defined CASE_APEX
    (void)stamp;
    ok = ok && apisig_apex_signer_sign(&signer, CASE(NONCE), &headers, buf, sizeof buf, &len) == APISIG_RESULT_OK;
#elif defined SIZE_TYPED
    (void)stamp;
    ok = ok && apisig_aevo_signer_sign(&signer, req.method, req.method_len, req.path, req.path_len, req.body,
                                       req.body_len, CASE(NOW_NS), &headers, buf, sizeof buf, &len) == APISIG_RESULT_OK;
#else
    ok = ok && apisig_signer_sign(&signer, &req, stamp, &headers, buf, sizeof buf, &len) == APISIG_RESULT_OK;
#endif
    for (i = 0; ok && i < headers.len; i++)
        found |= headers.lines[i].value_len == LEN(signature) &&
                 memcmp(headers.lines[i].value, signature, LEN(signature)) == 0;
    ok = ok && found;
}

static const char *run(void) {
    setup();
    depth_a = stack_depth(op_init);
    depth_b = stack_depth(op_sign);
    return "apisig_signer_init, apisig_signer_sign";
}
#endif

#ifdef SIZE_VERIFY
/* The request as a gateway receives it: the headers the signer wrote (from the vector). */
static apisig_verifier verifier;

static void op_init(void) {
    uint32_t client;
    static const char key[] = CASE(KEY), secret[] = CASE(SECRET);
    ok = ok && apisig_preset(CASE(SCHEME), LEN(CASE(SCHEME)), &scheme) == APISIG_RESULT_OK &&
         apisig_verifier_init(&verifier, NULL, APISIG_WINDOW_DEFAULT_NS) == APISIG_RESULT_OK &&
         apisig_keyring_add(apisig_verifier_keyring(&verifier), key, LEN(key), (const uint8_t *)secret, LEN(secret),
                            &client) == APISIG_RESULT_OK;
#ifdef CASE_APEX
    /* APEX binds the client's user id: the verifier checks the one presented. */
    ok = ok && apisig_keyring_bind_user_id(apisig_verifier_keyring(&verifier), client, CASE(USER),
                                           LEN(CASE(USER))) == APISIG_RESULT_OK;
#endif
}

static void op_verify(void) {
    static const apisig_header_in in[] = {CASE(HEADERS)};
    apisig_principal who;
    req.headers = in;
    req.headers_len = sizeof in / sizeof in[0];
    ok = ok && apisig_verifier_verify(&verifier, &scheme, &req, CASE(NOW_NS), &who) == APISIG_RESULT_OK;
}

static const char *run(void) {
    setup();
    depth_a = stack_depth(op_init);
    depth_b = stack_depth(op_verify);
    return "apisig_verifier_init + keyring_add, apisig_verifier_verify";
}
#endif
#endif

int main(void) {
    const char *what = run();
    printf("size: stack %u %u (%s)\n", (unsigned)depth_a, (unsigned)depth_b, what);
    printf("size: %s\n", ok ? "ok" : "FAIL");
    return ok ? 0 : 1;
}
