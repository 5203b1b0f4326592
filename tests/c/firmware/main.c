/* main.c: apisig on a Cortex-M3 (LM3S6965), a Cortex-M4F (MPS2 AN386) or a RISC-V rv32imac
 * (QEMU virt) under QEMU. Links the no_std
 * libapisig_ffi.a, runs the shared vectors (generated into vectors.h) through the C ABI with
 * every object in static storage, measures the stack depth of sign and verify by painting
 * the stack, and exits (semihosting) with 0 only when everything matched. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apisig.h"
#include "paint.h"
#include "vectors.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#ifndef FW_CORE
#define FW_CORE "Cortex-M3"
#endif

static unsigned passed, failed;

static void check(int ok, const char *what, int tc) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s tcId %d\n", what, tc);
    }
}

/* Caller-owned storage: no malloc anywhere in apisig. */
static apisig_verifier verifier;
static apisig_signer signer;
static apisig_aevo_signer aevo_signer;
static apisig_apex_signer apex_signer;
static uint8_t buf[1024];
static uint8_t msg_buf[8192];

static int scheme_for(const char *preset, const apisig_scheme *described, apisig_scheme *out) {
    if (!preset) {
        *out = *described;
        return 1;
    }
    return apisig_preset(preset, strlen(preset), out) == APISIG_RESULT_OK;
}

static void run_hmac(void) {
    size_t i;
    for (i = 0; i < COUNT(fw_hmac); i++) {
        const struct fw_hmac *c = &fw_hmac[i];
        uint8_t tag[APISIG_TAG_BYTES];
        size_t len = 0;
        apisig_result rc = apisig_hmac_sha256_verify(c->key, c->key_len, c->msg, c->msg_len, c->tag, c->tag_len);
        check(rc == c->code, "hmac verify", c->tc);
        if (c->code == APISIG_RESULT_OK) {
            rc = apisig_hmac_sha256(c->key, c->key_len, c->msg, c->msg_len, tag, sizeof tag, &len);
            check(rc == APISIG_RESULT_OK && len == c->tag_len && memcmp(tag, c->tag, len) == 0, "hmac sign", c->tc);
        }
    }
}

static void run_sign(void) {
    size_t i, j;
    for (i = 0; i < COUNT(fw_sign); i++) {
        const struct fw_sign *c = &fw_sign[i];
        apisig_scheme scheme;
        apisig_headers h;
        size_t len = 0;
        apisig_result rc;
        if (!scheme_for(c->preset, &c->scheme, &scheme)) {
            check(0, "sign preset", c->tc);
            continue;
        }
        rc = apisig_sign(&scheme, &c->creds, &c->req, c->stamp, &h, buf, sizeof buf, &len);
        check(rc == c->code, "sign result", c->tc);
        if (c->preset && (strcmp(c->preset, "aevo") == 0 || strcmp(c->preset, "apex") == 0)) {
            /* The preset-named signer: the same result, and the same headers below. */
            apisig_result named = strcmp(c->preset, "aevo") == 0 ? apisig_aevo_signer_init(&signer, &c->creds)
                                                                  : apisig_apex_signer_init(&signer, &c->creds);
            if (named == APISIG_RESULT_OK)
                named = apisig_signer_sign(&signer, &c->req, c->stamp, &h, buf, sizeof buf, &len);
            apisig_signer_wipe(&signer);
            check(named == c->code, "preset signer result", c->tc);
            if (named != rc) continue;
            /* The typed signer (the preset fixed at compile time): the same result, and the
             * same headers below. Its APEX call always has a nonce. */
            if (strcmp(c->preset, "aevo") == 0) {
                named = apisig_aevo_signer_setup(&aevo_signer, &c->creds);
                if (named == APISIG_RESULT_OK)
                    named = apisig_aevo_signer_sign(&aevo_signer, c->req.method, c->req.method_len, c->req.path,
                                                    c->req.path_len, c->req.body, c->req.body_len, c->stamp.now_ns, &h,
                                                    buf, sizeof buf, &len);
                apisig_aevo_signer_wipe(&aevo_signer);
            } else if (c->stamp.has_nonce) {
                named = apisig_apex_signer_setup(&apex_signer, &c->creds);
                if (named == APISIG_RESULT_OK)
                    named = apisig_apex_signer_sign(&apex_signer, c->stamp.nonce, &h, buf, sizeof buf, &len);
                apisig_apex_signer_wipe(&apex_signer);
            }
            check(named == c->code, "typed signer result", c->tc);
            if (named != rc) continue;
        }
        if (rc != APISIG_RESULT_OK || c->code != APISIG_RESULT_OK) continue;
        check(h.len == c->n_headers, "sign header count", c->tc);
        for (j = 0; j < h.len && j < c->n_headers; j++) {
            const struct fw_text *name = &c->headers[2 * j], *value = &c->headers[2 * j + 1];
            check(h.lines[j].name_len == name->len && memcmp(h.lines[j].name, name->s, name->len) == 0 &&
                      h.lines[j].value_len == value->len && memcmp(h.lines[j].value, value->s, value->len) == 0,
                  "sign header", c->tc);
        }
        if (c->message) {
            rc = apisig_message(&scheme, &c->creds, &c->req, c->stamp, msg_buf, sizeof msg_buf, &len);
            check(rc == APISIG_RESULT_OK && len == c->message_len && memcmp(msg_buf, c->message, len) == 0, "message",
                  c->tc);
        }
    }
}

static void run_tokens(void);
static const struct fw_verify *current;
static apisig_scheme current_scheme;
static size_t verify_worst, init_depth;

static void run_steps(void);

static void init_verifier(void) {
    check(apisig_verifier_init(&verifier, NULL, current->window_s * 1000000000ull) == APISIG_RESULT_OK, "init",
          current->tc);
}

static void run_verify(void) {
    size_t i, j, k;
    /* Each case: set up the verifier, then measure the stack of its steps. */
    for (i = 0; i < COUNT(fw_verify); i++) {
        const struct fw_verify *c = &fw_verify[i];
        apisig_keyring *ring;
        apisig_scheme scheme;
        size_t depth;
        if (!scheme_for(c->preset, &c->scheme, &scheme)) {
            check(0, "verify setup", c->tc);
            continue;
        }
        current = c;
        current_scheme = scheme;
        depth = stack_depth(init_verifier);
        if (depth > init_depth) init_depth = depth;
        ring = apisig_verifier_keyring(&verifier);
        for (j = 0; j < c->n_ring; j++) {
            const struct fw_client *e = &c->ring[j];
            uint32_t client = 0;
            uint8_t role = 0;
            int ok = apisig_keyring_add(ring, e->id, e->id_len, e->primary, e->primary_len, &client) == APISIG_RESULT_OK;
            if (e->secondary)
                ok = ok && apisig_keyring_set_secret(ring, client, APISIG_SLOT_SECONDARY, e->secondary,
                                                     e->secondary_len) == APISIG_RESULT_OK;
            if (e->role)
                ok = ok && apisig_securosys_role(e->role, e->role_len, &role) == APISIG_RESULT_OK &&
                     apisig_keyring_set_role(ring, client, role) == APISIG_RESULT_OK;
            if (e->user) ok = ok && apisig_keyring_bind_user_id(ring, client, e->user, e->user_len) == APISIG_RESULT_OK;
            if (e->status != APISIG_CLIENT_STATUS_ACTIVE)
                ok = ok && apisig_keyring_set_status(ring, client, e->status) == APISIG_RESULT_OK;
            for (k = 0; k < 2; k++) {
                uint32_t slot = k == 0 ? APISIG_SLOT_PRIMARY : APISIG_SLOT_SECONDARY;
                if (e->revoked[k]) ok = ok && apisig_keyring_set_key_revoked(ring, client, slot, 1) == APISIG_RESULT_OK;
                if (e->has_expiry[k])
                    ok = ok && apisig_keyring_set_expiry(ring, client, slot, e->expires_ns[k]) == APISIG_RESULT_OK;
            }
            check(ok, "keyring", c->tc);
        }
        depth = stack_depth(run_steps);
        if (depth > verify_worst) verify_worst = depth;
        check(apisig_verifier_wipe(&verifier) == APISIG_RESULT_OK, "wipe", c->tc);
    }
}

/* The steps of the current verify case: the measured part. */
static void run_steps(void) {
    const struct fw_verify *c = current;
    apisig_keyring *ring = apisig_verifier_keyring(&verifier);
    size_t j;
    for (j = 0; j < c->n_steps; j++) {
        const struct fw_step *s = &c->steps[j];
        apisig_principal who;
        apisig_result rc = apisig_verifier_verify(&verifier, &current_scheme, &s->req, s->now_ns, &who);
        if (rc == APISIG_RESULT_OK && s->authorize) {
            rc = who.has_role ? apisig_securosys_authorize(who.role, s->req.path, s->req.path_len)
                              : APISIG_RESULT_FORBIDDEN;
        }
        check(rc == s->code, "verify step", c->tc);
        if (rc == APISIG_RESULT_OK && s->code == APISIG_RESULT_OK) {
            char id[64];
            size_t len = 0;
            int ok = apisig_keyring_client_id(ring, who.client, (uint8_t *)id, sizeof id, &len) == APISIG_RESULT_OK &&
                     len == s->id_len && memcmp(id, s->id, len) == 0 && who.slot == s->slot &&
                     who.has_role == (s->role != NULL);
            if (ok && s->role) {
                ok = apisig_securosys_role_name(who.role, (uint8_t *)id, sizeof id, &len) == APISIG_RESULT_OK &&
                     len == s->role_len && memcmp(id, s->role, len) == 0;
            }
            check(ok, "verify principal", c->tc);
        }
    }
}

static uint8_t jwt_scratch[9000];

static void run_tokens(void) {
    size_t i;
    for (i = 0; i < COUNT(fw_jwt); i++) {
        const struct fw_jwt *c = &fw_jwt[i];
        apisig_jwt_claims claims;
        apisig_result rc = apisig_jwt_verify(c->key, c->key_len, c->token, c->token_len, &c->validation,
                                             c->now_s * 1000000000ull, jwt_scratch, sizeof jwt_scratch, &claims);
        check(rc == c->code, "jwt", c->tc);
    }
    for (i = 0; i < COUNT(fw_session); i++) {
        const struct fw_session *c = &fw_session[i];
        apisig_session session;
        apisig_result rc = apisig_session_verify(c->primary, c->primary_len, c->secondary, c->token, c->token_len,
                                                 c->now_s * 1000000000ull, &session);
        check(rc == c->code, "session", c->tc);
    }
}

static const char aevo_name[] = "aevo";
static apisig_scheme aevo;
static apisig_headers aevo_headers;
static apisig_header_in aevo_in[APISIG_MAX_HEADERS];
static apisig_request aevo_req;
static apisig_result op_rc;
static const uint64_t NOW = 1673425955575713842ull;

static void op_sign(void) {
    static const char body[] = "{\"instrument\":\"ETH-PERP\",\"amount\":\"1\",\"limit_price\":\"1800\"}";
    apisig_credentials creds = {"API_KEY", 7, (const uint8_t *)"API_SECRET", 10, NULL, 0, NULL, 0};
    apisig_stamp stamp = {NOW, 0, 0};
    size_t len = 0, i;
    aevo_req.method = "POST";
    aevo_req.method_len = 4;
    aevo_req.path = "/orders";
    aevo_req.path_len = 7;
    aevo_req.body = (const uint8_t *)body;
    aevo_req.body_len = sizeof body - 1;
    op_rc = apisig_sign(&aevo, &creds, &aevo_req, stamp, &aevo_headers, buf, sizeof buf, &len);
    for (i = 0; i < aevo_headers.len; i++) {
        aevo_in[i].name = aevo_headers.lines[i].name;
        aevo_in[i].name_len = aevo_headers.lines[i].name_len;
        aevo_in[i].value = (const uint8_t *)aevo_headers.lines[i].value;
        aevo_in[i].value_len = aevo_headers.lines[i].value_len;
    }
    aevo_req.headers = aevo_in;
    aevo_req.headers_len = aevo_headers.len;
}

static void op_verify(void) {
    apisig_principal who;
    op_rc = apisig_verifier_verify(&verifier, &aevo, &aevo_req, NOW, &who);
}

static void measure(void) {
    uint32_t client;
    size_t sign_depth, verify_depth;
    check(apisig_preset(aevo_name, 4, &aevo) == APISIG_RESULT_OK, "aevo preset", 0);
    check(apisig_verifier_init(&verifier, NULL, APISIG_WINDOW_DEFAULT_NS) == APISIG_RESULT_OK, "init", 0);
    check(apisig_keyring_add(apisig_verifier_keyring(&verifier), "API_KEY", 7, (const uint8_t *)"API_SECRET", 10,
                             &client) == APISIG_RESULT_OK,
          "add", 0);
    sign_depth = stack_depth(op_sign);
    check(op_rc == APISIG_RESULT_OK, "measured sign", 0);
    verify_depth = stack_depth(op_verify);
    check(op_rc == APISIG_RESULT_OK, "measured verify", 0);
    op_verify();
    check(op_rc == APISIG_RESULT_REPLAYED_REQUEST, "replay refused", 0);
    printf("stack: apisig_sign %u bytes, apisig_verifier_verify %u bytes (aevo, painted)\n", (unsigned)sign_depth,
           (unsigned)verify_depth);
    check(apisig_verifier_wipe(&verifier) == APISIG_RESULT_OK, "wipe", 0);
}

int main(void) {
    printf("apisig %s firmware test on %s\n", apisig_version(), FW_CORE);
    measure();
    run_hmac();
    /* Worst case over every shared vector (the harness's own frame included, ~100 bytes). */
    {
        size_t sign_worst = stack_depth(run_sign);
        size_t tokens_worst;
        run_verify();
        tokens_worst = stack_depth(run_tokens);
        printf("stack: worst case over the vectors: signing %u bytes, verifying %u bytes, verifier_init %u bytes, "
               "jwt/session verify %u bytes\n",
               (unsigned)sign_worst, (unsigned)verify_worst, (unsigned)init_depth, (unsigned)tokens_worst);
    }
    printf("firmware: %u passed, %u failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
