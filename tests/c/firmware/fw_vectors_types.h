/* Types of the generated firmware vectors (vectors.h). */
#ifndef APISIG_FW_VECTORS_TYPES_H
#define APISIG_FW_VECTORS_TYPES_H
#include <stddef.h>
#include <stdint.h>

#include "apisig.h"

struct fw_hmac {
    int tc;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *msg;
    size_t msg_len;
    const uint8_t *tag;
    size_t tag_len;
    uint32_t code;
};

struct fw_text {
    const char *s;
    size_t len;
};

struct fw_sign {
    int tc;
    const char *preset; /* NULL: `scheme` is described */
    apisig_scheme scheme;
    apisig_credentials creds;
    apisig_request req;
    apisig_stamp stamp;
    uint32_t code;
    const struct fw_text *headers; /* name, value, name, value, ... */
    size_t n_headers;
    const uint8_t *message;
    size_t message_len;
};

struct fw_client {
    const char *id;
    size_t id_len;
    const uint8_t *primary;
    size_t primary_len;
    const uint8_t *secondary;
    size_t secondary_len;
    const char *role;
    size_t role_len;
    const char *user;
    size_t user_len;
    /* The lifecycle: an apisig_client_status; per slot (primary, secondary) a revoked key
     * and an expiry. */
    uint32_t status;
    uint8_t revoked[2];
    uint8_t has_expiry[2];
    uint64_t expires_ns[2];
};

struct fw_step {
    uint64_t now_ns;
    apisig_request req;
    int authorize;
    uint32_t code;
    const char *id;
    size_t id_len;
    uint32_t slot;
    const char *role;
    size_t role_len;
};

struct fw_verify {
    int tc;
    const char *preset;
    apisig_scheme scheme;
    const struct fw_client *ring;
    size_t n_ring;
    uint64_t window_s;
    const struct fw_step *steps;
    size_t n_steps;
};

struct fw_jwt {
    int tc;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *token;
    size_t token_len;
    apisig_jwt_validation validation;
    uint64_t now_s;
    uint32_t code;
};

struct fw_session {
    int tc;
    const uint8_t *primary;
    size_t primary_len;
    apisig_opt_bytes secondary;
    const uint8_t *token;
    size_t token_len;
    uint64_t now_s;
    uint32_t code;
};

#endif
