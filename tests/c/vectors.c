/* vectors.c: runs the shared vectors in tests/vectors/ (JSON) (the same files the Rust and
 * Python tests read) through the C ABI, parsed with Debian's cJSON.
 *
 * usage: vectors DIR   (DIR holds hmac_sha256_rfc4231.json, sign.json, verify.json,
 *                       policy.json)
 *
 * cJSON keeps numbers as doubles, which cannot hold nanosecond timestamps exactly, so the
 * text is first rewritten to quote integer literals longer than 15 digits; u64_of() reads
 * both forms. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "load.h"

static unsigned skipped;

/* ---- loading ------------------------------------------------------------------------ */

static cJSON *load(const char *dir, const char *name) {
    char path[4096];
    char *raw, *text;
    size_t raw_len;
    cJSON *json;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    raw = (char *)read_file(path, &raw_len);
    text = quote_big_integers(raw);
    json = cJSON_Parse(text);
    free(raw);
    free(text);
    if (!json) {
        fprintf(stderr, "%s: not JSON\n", path);
        exit(2);
    }
    return json;
}

/* ---- JSON helpers ------------------------------------------------------------------- */

static const char *str_of(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int has_u64(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) || cJSON_IsString(v);
}

static uint64_t u64_of(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsString(v)) return strtoull(v->valuestring, NULL, 10);
    if (cJSON_IsNumber(v)) return (uint64_t)v->valuedouble;
    return 0;
}

static int bool_of(const cJSON *obj, const char *name) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Bytes given as text (`name`) or hex (`name_hex`); *len = 0 and NULL when absent. The
 * result is malloc'ed (callers free it) so ASan and valgrind see exact bounds. */
static uint8_t *bytes_of(const cJSON *obj, const char *name, size_t *len, int *present) {
    char hex_name[128];
    const char *s = str_of(obj, name);
    uint8_t *out;
    size_t i, n;
    *len = 0;
    if (present) *present = 0;
    if (s) {
        n = strlen(s);
        out = malloc(n ? n : 1);
        if (!out) exit(2);
        memcpy(out, s, n);
        *len = n;
        if (present) *present = 1;
        return out;
    }
    snprintf(hex_name, sizeof hex_name, "%s_hex", name);
    s = str_of(obj, hex_name);
    if (!s) return NULL;
    n = strlen(s) / 2;
    out = malloc(n ? n : 1);
    if (!out) exit(2);
    for (i = 0; i < n; i++) out[i] = (uint8_t)(hexval(s[2 * i]) * 16 + hexval(s[2 * i + 1]));
    *len = n;
    if (present) *present = 1;
    return out;
}

static uint32_t code_named(const char *name) {
    uint32_t c;
    for (c = 0; c < 256; c++) {
        if (strcmp(apisig_result_name(c), name) == 0) return c;
    }
    fprintf(stderr, "unknown error name %s\n", name);
    exit(2);
}

/* Checks `rc` against a case's result/error. Returns 1 when the case expects success. */
static int expect(const cJSON *c, apisig_result rc, const char *where) {
    const char *result = str_of(c, "result");
    const char *error = str_of(c, "error");
    int valid = result && strcmp(result, "valid") == 0;
    if (valid) {
        CHECK(rc == APISIG_RESULT_OK, "%s: got %s, want ok", where, apisig_result_name(rc));
    } else {
        CHECK(error && rc == code_named(error), "%s: got %s, want %s", where, apisig_result_name(rc),
              error ? error : "(none)");
    }
    return valid;
}

static void case_name(const cJSON *c, char *out, size_t cap, const char *file) {
    const char *comment = str_of(c, "comment");
    snprintf(out, cap, "%s tcId %llu (%s)", file, (unsigned long long)u64_of(c, "tcId"),
             comment ? comment : "");
}

/* ---- RFC 4231 ------------------------------------------------------------------------ */

static void run_hmac(const cJSON *root) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "tests")) {
        char where[512];
        size_t klen, mlen, tlen, out_len = 0;
        uint8_t tag[APISIG_TAG_BYTES];
        uint8_t *k, *m, *t;
        cJSON *tmp = cJSON_CreateObject();
        /* The file stores key/msg/tag as bare hex strings. */
        cJSON_AddStringToObject(tmp, "k_hex", str_of(c, "key"));
        cJSON_AddStringToObject(tmp, "m_hex", str_of(c, "msg"));
        cJSON_AddStringToObject(tmp, "t_hex", str_of(c, "tag"));
        k = bytes_of(tmp, "k", &klen, NULL);
        m = bytes_of(tmp, "m", &mlen, NULL);
        t = bytes_of(tmp, "t", &tlen, NULL);
        case_name(c, where, sizeof where, "hmac");
        if (expect(c, apisig_hmac_sha256_verify(k, klen, m, mlen, t, tlen), where)) {
            CHECK_RC(APISIG_RESULT_OK, apisig_hmac_sha256(k, klen, m, mlen, tag, sizeof tag, &out_len));
            CHECK(out_len == APISIG_TAG_BYTES && tlen == APISIG_TAG_BYTES && memcmp(tag, t, tlen) == 0,
                  "%s: tag differs", where);
        }
        free(k);
        free(m);
        free(t);
        cJSON_Delete(tmp);
    }
}

/* ---- schemes ------------------------------------------------------------------------- */

/* A scheme from a case: a preset by name, or a custom template (arrays live in *s). */
struct scheme_store {
    apisig_scheme scheme;
    apisig_header_spec headers[APISIG_MAX_HEADERS];
    apisig_part parts[APISIG_MAX_PARTS];
};

static uint32_t field_named(const char *f) {
    if (strcmp(f, "key_id") == 0) return APISIG_FIELD_API_KEY;
    if (strcmp(f, "timestamp") == 0) return APISIG_FIELD_TIMESTAMP;
    if (strcmp(f, "nonce") == 0) return APISIG_FIELD_NONCE;
    if (strcmp(f, "user_id") == 0) return APISIG_FIELD_USER_ID;
    if (strcmp(f, "signature") == 0) return APISIG_FIELD_SIGNATURE;
    fprintf(stderr, "unknown field %s\n", f);
    exit(2);
}

static int scheme_of(const cJSON *c, struct scheme_store *s) {
    const char *name = str_of(c, "scheme");
    const cJSON *t, *p, *h, *parts, *headers;
    const char *enc, *unit, *sep;
    size_t n = 0;
    memset(s, 0, sizeof *s);
    if (strcmp(name, "custom") != 0) {
        return apisig_preset(name, strlen(name), &s->scheme) == APISIG_RESULT_OK;
    }
    t = cJSON_GetObjectItemCaseSensitive(c, "template");
    parts = cJSON_GetObjectItemCaseSensitive(t, "parts");
    headers = cJSON_GetObjectItemCaseSensitive(t, "headers");
    if (cJSON_GetArraySize(parts) > APISIG_MAX_PARTS || cJSON_GetArraySize(headers) > APISIG_MAX_HEADERS) {
        return 0;
    }
    cJSON_ArrayForEach(p, parts) {
        apisig_part *part = &s->parts[n++];
        if (cJSON_IsString(p)) {
            const char *k = p->valuestring;
            part->kind = strcmp(k, "api_key") == 0     ? APISIG_PART_KIND_API_KEY
                         : strcmp(k, "timestamp") == 0 ? APISIG_PART_KIND_TIMESTAMP
                         : strcmp(k, "nonce") == 0     ? APISIG_PART_KIND_NONCE
                         : strcmp(k, "user_id") == 0   ? APISIG_PART_KIND_USER_ID
                         : strcmp(k, "method") == 0    ? APISIG_PART_KIND_METHOD
                         : strcmp(k, "path") == 0      ? APISIG_PART_KIND_PATH
                         : strcmp(k, "body") == 0      ? APISIG_PART_KIND_BODY
                                                       : 999;
        } else if (str_of(p, "literal")) {
            part->kind = APISIG_PART_KIND_LITERAL;
            part->data = (const uint8_t *)str_of(p, "literal");
            part->len = strlen(str_of(p, "literal"));
        } else {
            part->kind = APISIG_PART_KIND_HEADER;
            part->data = (const uint8_t *)str_of(p, "header");
            part->len = strlen(str_of(p, "header"));
        }
    }
    s->scheme.parts = s->parts;
    s->scheme.parts_len = n;
    n = 0;
    cJSON_ArrayForEach(h, headers) {
        apisig_header_spec *spec = &s->headers[n++];
        const char *hn = cJSON_GetArrayItem(h, 0)->valuestring;
        spec->name = hn;
        spec->name_len = strlen(hn);
        spec->field = field_named(cJSON_GetArrayItem(h, 1)->valuestring);
    }
    s->scheme.headers = s->headers;
    s->scheme.headers_len = n;
    sep = str_of(t, "separator");
    s->scheme.separator = (const uint8_t *)sep;
    s->scheme.separator_len = sep ? strlen(sep) : 0;
    enc = str_of(t, "encoding");
    s->scheme.encoding = strcmp(enc, "base64") == 0      ? APISIG_ENCODING_BASE64
                         : strcmp(enc, "lower_hex") == 0 ? APISIG_ENCODING_LOWER_HEX
                         : strcmp(enc, "upper_hex") == 0 ? APISIG_ENCODING_UPPER_HEX
                                                         : APISIG_ENCODING_HEX;
    unit = str_of(t, "time_unit");
    s->scheme.time_unit = !unit || strcmp(unit, "s") == 0 ? APISIG_TIME_UNIT_SECONDS
                          : strcmp(unit, "ms") == 0       ? APISIG_TIME_UNIT_MILLIS
                                                          : APISIG_TIME_UNIT_NANOS;
    return 1;
}

/* ---- requests ------------------------------------------------------------------------ */

struct request_store {
    apisig_request req;
    apisig_header_in headers[16];
    uint8_t *body;
};

static void request_of(const cJSON *r, struct request_store *s) {
    const cJSON *h;
    size_t n = 0;
    memset(s, 0, sizeof *s);
    s->req.method = str_of(r, "method");
    s->req.method_len = strlen(s->req.method);
    s->req.path = str_of(r, "path");
    s->req.path_len = strlen(s->req.path);
    s->body = bytes_of(r, "body", &s->req.body_len, NULL);
    s->req.body = s->body;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(r, "headers")) {
        const char *name = cJSON_GetArrayItem(h, 0)->valuestring;
        const char *value = cJSON_GetArrayItem(h, 1)->valuestring;
        if (n == sizeof s->headers / sizeof s->headers[0]) break;
        s->headers[n].name = name;
        s->headers[n].name_len = strlen(name);
        s->headers[n].value = (const uint8_t *)value;
        s->headers[n].value_len = strlen(value);
        n++;
    }
    s->req.headers = n ? s->headers : NULL;
    s->req.headers_len = n;
}

/* ---- sign ---------------------------------------------------------------------------- */

static void text_of(const cJSON *obj, const char *name, const char **ptr, size_t *len) {
    const char *s = str_of(obj, name);
    *ptr = s;
    *len = s ? strlen(s) : 0;
}

static void run_sign(const cJSON *root) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "tests")) {
        char where[512];
        struct scheme_store scheme;
        struct request_store req;
        const cJSON *cr = cJSON_GetObjectItemCaseSensitive(c, "credentials");
        apisig_credentials creds;
        apisig_stamp stamp;
        apisig_headers headers;
        uint8_t *secret, *buf = NULL;
        size_t buf_len = 0, need = 0;
        apisig_result rc;
        int valid;

        case_name(c, where, sizeof where, "sign");
        if (!scheme_of(c, &scheme)) {
            CHECK(0, "%s: scheme", where);
            continue;
        }
        memset(&creds, 0, sizeof creds);
        text_of(cr, "key_id", &creds.api_key, &creds.api_key_len);
        text_of(cr, "user_id", &creds.user_id, &creds.user_id_len);
        text_of(cr, "token", &creds.token, &creds.token_len);
        secret = bytes_of(cr, "secret", &creds.secret_len, NULL);
        creds.secret = secret;
        request_of(cJSON_GetObjectItemCaseSensitive(c, "request"), &req);
        stamp.now_ns = u64_of(c, "now_ns");
        stamp.has_nonce = has_u64(c, "nonce");
        stamp.nonce = u64_of(c, "nonce");

        /* Ask for the size first: (NULL, 0) gives BUFFER_TOO_SMALL and the size needed. */
        rc = apisig_sign(&scheme.scheme, &creds, &req.req, stamp, &headers, NULL, 0, &need);
        if (rc == APISIG_RESULT_BUFFER_TOO_SMALL) {
            buf = malloc(need);
            rc = apisig_sign(&scheme.scheme, &creds, &req.req, stamp, &headers, buf, need, &buf_len);
            CHECK(rc != APISIG_RESULT_OK || buf_len == need, "%s: size query said %zu, used %zu", where, need,
                  buf_len);
        }
        valid = expect(c, rc, where);
        if (valid && rc == APISIG_RESULT_OK) {
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "headers");
            const cJSON *w;
            size_t i = 0;
            CHECK(headers.len == (size_t)cJSON_GetArraySize(want), "%s: %zu headers", where, headers.len);
            cJSON_ArrayForEach(w, want) {
                const char *wn = cJSON_GetArrayItem(w, 0)->valuestring;
                const char *wv = cJSON_GetArrayItem(w, 1)->valuestring;
                if (i >= headers.len) break;
                CHECK(headers.lines[i].name_len == strlen(wn) && memcmp(headers.lines[i].name, wn, strlen(wn)) == 0,
                      "%s: header %zu name %.*s, want %s", where, i, (int)headers.lines[i].name_len,
                      headers.lines[i].name, wn);
                CHECK(headers.lines[i].value_len == strlen(wv) &&
                          memcmp(headers.lines[i].value, wv, strlen(wv)) == 0,
                      "%s: header %s value %.*s, want %s", where, wn, (int)headers.lines[i].value_len,
                      headers.lines[i].value, wv);
                i++;
            }
            /* The exact message, when the case gives it. */
            {
                size_t mlen, got_len = 0, need_len = 0;
                int present;
                uint8_t *msg = bytes_of(c, "message", &mlen, &present);
                if (present) {
                    uint8_t *out;
                    CHECK_RC(APISIG_RESULT_BUFFER_TOO_SMALL,
                             apisig_message(&scheme.scheme, &creds, &req.req, stamp, NULL, 0, &need_len));
                    CHECK(need_len == mlen, "%s: message size %zu, want %zu", where, need_len, mlen);
                    out = malloc(mlen ? mlen : 1);
                    CHECK_RC(APISIG_RESULT_OK,
                             apisig_message(&scheme.scheme, &creds, &req.req, stamp, out, mlen, &got_len));
                    CHECK(got_len == mlen && memcmp(out, msg, mlen) == 0, "%s: message differs", where);
                    free(out);
                }
                free(msg);
            }
            /* APEX AuthenticateUser body. */
            {
                const char *body = str_of(c, "authenticate_body");
                if (body) {
                    size_t n = strlen(body), got = 0, need_json = 0;
                    char *out = malloc(n);
                    CHECK_RC(APISIG_RESULT_BUFFER_TOO_SMALL,
                             apisig_sign_json(&scheme.scheme, &creds, &req.req, stamp, NULL, 0, &need_json));
                    CHECK(need_json == n, "%s: json size %zu, want %zu", where, need_json, n);
                    CHECK_RC(APISIG_RESULT_OK, apisig_sign_json(&scheme.scheme, &creds, &req.req, stamp,
                                                                (uint8_t *)out, n, &got));
                    CHECK(got == n && memcmp(out, body, n) == 0, "%s: json differs", where);
                    free(out);
                }
            }
        }
        free(buf);
        free(secret);
        free(req.body);
    }
}

/* ---- verify -------------------------------------------------------------------------- */

static void run_verify(const cJSON *root) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "tests")) {
        char where[512];
        struct scheme_store scheme;
        apisig_keyring ring;
        apisig_verifier *v;
        const cJSON *e, *step;
        unsigned n = 0;

        case_name(c, where, sizeof where, "verify");
        if (has_u64(c, "replay_capacity") && u64_of(c, "replay_capacity") != APISIG_REPLAY_CAPACITY) {
            /* The C ABI's replay cache has a fixed capacity. */
            skipped++;
            continue;
        }
        if (!scheme_of(c, &scheme)) {
            CHECK(0, "%s: scheme", where);
            continue;
        }
        CHECK_RC(APISIG_RESULT_OK, apisig_keyring_init(&ring));
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "keyring")) {
            size_t plen, slen;
            int has_secondary;
            uint8_t *primary = bytes_of(e, "key", &plen, NULL);
            uint8_t *secondary = bytes_of(e, "secondary_key", &slen, &has_secondary);
            const char *id = str_of(e, "id"), *role = str_of(e, "role"), *user = str_of(e, "user_id");
            uint32_t client = 0;
            if (!primary) primary = bytes_of(e, "secret", &plen, NULL);
            if (!has_secondary) {
                free(secondary);
                secondary = bytes_of(e, "secondary_secret", &slen, &has_secondary);
            }
            CHECK_RC(APISIG_RESULT_OK, apisig_keyring_add(&ring, id, strlen(id), primary, plen, &client));
            if (has_secondary) {
                CHECK_RC(APISIG_RESULT_OK,
                         apisig_keyring_set_secret(&ring, client, APISIG_SLOT_SECONDARY, secondary, slen));
            }
            if (role) {
                uint8_t r = 0;
                CHECK_RC(APISIG_RESULT_OK, apisig_securosys_role(role, strlen(role), &r));
                CHECK_RC(APISIG_RESULT_OK, apisig_keyring_set_role(&ring, client, r));
            }
            if (user) CHECK_RC(APISIG_RESULT_OK, apisig_keyring_bind_user_id(&ring, client, user, strlen(user)));
            /* The lifecycle fields: status, and per slot revoked / expires_ns. */
            {
                const char *status = str_of(e, "status");
                static const char *const slots[2] = {"primary", "secondary"};
                unsigned s;
                if (status) {
                    uint32_t code = strcmp(status, "revoked") == 0    ? APISIG_CLIENT_STATUS_REVOKED
                                    : strcmp(status, "disabled") == 0 ? APISIG_CLIENT_STATUS_DISABLED
                                                                      : APISIG_CLIENT_STATUS_ACTIVE;
                    CHECK_RC(APISIG_RESULT_OK, apisig_keyring_set_status(&ring, client, code));
                }
                for (s = 0; s < 2; s++) {
                    char field[32];
                    uint32_t slot = s == 0 ? APISIG_SLOT_PRIMARY : APISIG_SLOT_SECONDARY;
                    snprintf(field, sizeof field, "%s_revoked", slots[s]);
                    if (bool_of(e, field)) CHECK_RC(APISIG_RESULT_OK, apisig_keyring_set_key_revoked(&ring, client, slot, 1));
                    snprintf(field, sizeof field, "%s_expires_ns", slots[s]);
                    if (has_u64(e, field))
                        CHECK_RC(APISIG_RESULT_OK, apisig_keyring_set_expiry(&ring, client, slot, u64_of(e, field)));
                }
            }
            free(primary);
            free(secondary);
        }
        /* Host build: a heap verifier; the keyring moves in and `ring` is left empty. */
        v = apisig_verifier_new(&ring, (has_u64(c, "window_s") ? u64_of(c, "window_s") : 300) * 1000000000ull);
        CHECK(v != NULL, "%s: verifier", where);
        CHECK(apisig_keyring_len(&ring) == 0, "%s: keyring moved", where);
        cJSON_ArrayForEach(step, cJSON_GetObjectItemCaseSensitive(c, "steps")) {
            char at[600];
            struct request_store req;
            apisig_principal who;
            apisig_result rc;
            snprintf(at, sizeof at, "%s step %u", where, n++);
            request_of(cJSON_GetObjectItemCaseSensitive(step, "request"), &req);
            rc = apisig_verifier_verify(v, &scheme.scheme, &req.req, u64_of(step, "now_ns"), &who);
            if (rc == APISIG_RESULT_OK && bool_of(step, "authorize")) {
                rc = who.has_role ? apisig_securosys_authorize(who.role, req.req.path, req.req.path_len)
                                  : APISIG_RESULT_FORBIDDEN;
            }
            if (expect(step, rc, at) && rc == APISIG_RESULT_OK) {
                const cJSON *p = cJSON_GetObjectItemCaseSensitive(step, "principal");
                const char *want_id = str_of(p, "id"), *want_slot = str_of(p, "slot"), *want_role = str_of(p, "role");
                char id[64], role[64];
                size_t id_len = 0, role_len = 0;
                CHECK_RC(APISIG_RESULT_OK,
                         apisig_keyring_client_id(apisig_verifier_keyring(v), who.client, (uint8_t *)id, sizeof id, &id_len));
                CHECK(id_len == strlen(want_id) && memcmp(id, want_id, id_len) == 0, "%s: client %.*s, want %s", at,
                      (int)id_len, id, want_id);
                CHECK(who.id_len == strlen(want_id) && memcmp(who.id, want_id, who.id_len) == 0, "%s: principal id", at);
                CHECK(who.slot == (strcmp(want_slot, "primary") == 0 ? APISIG_SLOT_PRIMARY : APISIG_SLOT_SECONDARY),
                      "%s: slot %u, want %s", at, who.slot, want_slot);
                CHECK(who.has_role == (want_role != NULL), "%s: has_role", at);
                if (want_role && who.has_role) {
                    CHECK_RC(APISIG_RESULT_OK, apisig_securosys_role_name(who.role, (uint8_t *)role, sizeof role, &role_len));
                    CHECK(role_len == strlen(want_role) && memcmp(role, want_role, role_len) == 0, "%s: role", at);
                }
            }
            free(req.body);
        }
        apisig_verifier_free(v);
        CHECK_RC(APISIG_RESULT_OK, apisig_keyring_wipe(&ring));
    }
}

/* ---- policy -------------------------------------------------------------------------- */

static void run_policy(const cJSON *root) {
    const cJSON *c, *role;
    uint8_t i = 0;
    /* The role table is the seed's, in order. */
    cJSON_ArrayForEach(role, cJSON_GetObjectItemCaseSensitive(root, "roles")) {
        char name[64];
        size_t len = 0;
        CHECK_RC(APISIG_RESULT_OK, apisig_securosys_role_name(i, (uint8_t *)name, sizeof name, &len));
        CHECK(len == strlen(role->string) && memcmp(name, role->string, len) == 0, "role %u is %.*s, want %s",
              (unsigned)i, (int)len, name, role->string);
        i++;
    }
    {
        size_t len = 0;
        CHECK_RC(APISIG_RESULT_FORBIDDEN, apisig_securosys_role_name(i, NULL, 0, &len));
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "tests")) {
        char where[512];
        const char *name = str_of(c, "role"), *path = str_of(c, "path");
        uint8_t r = 0;
        case_name(c, where, sizeof where, "policy");
        CHECK_RC(APISIG_RESULT_OK, apisig_securosys_role(name, strlen(name), &r));
        expect(c, apisig_securosys_authorize(r, path, strlen(path)), where);
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "pattern_tests")) {
        char where[512];
        const char *pattern = str_of(c, "pattern"), *path = str_of(c, "path");
        case_name(c, where, sizeof where, "pattern");
        expect(c, apisig_pattern_match(pattern, strlen(pattern), path, strlen(path)), where);
    }
}

/* ---- JWT ----------------------------------------------------------------------------- */

static apisig_opt_str opt_str(const cJSON *obj, const char *name) {
    apisig_opt_str o;
    const char *v = str_of(obj, name);
    o.present = v != NULL;
    o.ptr = v;
    o.len = v ? strlen(v) : 0;
    return o;
}

static int same_opt(apisig_opt_str got, const cJSON *want) {
    if (!cJSON_IsString(want)) return !got.present;
    return got.present && got.len == strlen(want->valuestring) && memcmp(got.ptr, want->valuestring, got.len) == 0;
}

static int same_u64(apisig_opt_u64 got, const cJSON *obj, const char *name) {
    if (!has_u64(obj, name)) return !got.present;
    return got.present && got.value == u64_of(obj, name);
}

static void run_jwt(const cJSON *root) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "tests")) {
        char where[512];
        size_t klen, tlen = strlen(str_of(c, "token"));
        uint8_t *key = bytes_of(c, "key", &klen, NULL);
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(c, "validation");
        apisig_jwt_validation v;
        apisig_jwt_claims claims;
        uint8_t *scratch = malloc(tlen ? tlen : 1);
        case_name(c, where, sizeof where, "jwt");
        v.leeway_s = u64_of(val, "leeway_s");
        v.require_exp = bool_of(val, "require_exp");
        v.issuer = opt_str(val, "iss");
        v.audience = opt_str(val, "aud");
        v.subject = opt_str(val, "sub");
        v.max_len = (size_t)u64_of(val, "max_len");
        if (expect(c, apisig_jwt_verify(key, klen, (const uint8_t *)str_of(c, "token"), tlen, &v,
                                        u64_of(c, "now") * 1000000000ull, scratch, tlen, &claims),
                   where)) {
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "claims"), *a;
            size_t i = 0;
            CHECK(same_opt(claims.iss, cJSON_GetObjectItemCaseSensitive(w, "iss")), "%s: iss", where);
            CHECK(same_opt(claims.sub, cJSON_GetObjectItemCaseSensitive(w, "sub")), "%s: sub", where);
            CHECK(same_u64(claims.exp, w, "exp") && same_u64(claims.nbf, w, "nbf") && same_u64(claims.iat, w, "iat"),
                  "%s: times", where);
            CHECK(claims.aud_len == (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(w, "aud")), "%s: aud",
                  where);
            cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(w, "aud")) {
                if (i < claims.aud_len) CHECK(same_opt(claims.aud[i], a), "%s: aud %zu", where, i);
                i++;
            }
        }
        free(scratch);
        free(key);
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "encode")) {
        char where[512];
        size_t klen, need = 0, got = 0;
        uint8_t *key = bytes_of(c, "key", &klen, NULL);
        const char *h = str_of(c, "header"), *cl = str_of(c, "claims"), *want = str_of(c, "token");
        apisig_result rc;
        case_name(c, where, sizeof where, "jwt encode");
        rc = apisig_jwt_encode(key, klen, (const uint8_t *)h, strlen(h), (const uint8_t *)cl, strlen(cl), NULL, 0, &need);
        if (rc == APISIG_RESULT_BUFFER_TOO_SMALL) {
            uint8_t *out = malloc(need);
            rc = apisig_jwt_encode(key, klen, (const uint8_t *)h, strlen(h), (const uint8_t *)cl, strlen(cl), out, need,
                                   &got);
            if (expect(c, rc, where)) {
                CHECK(got == need && got == strlen(want) && memcmp(out, want, got) == 0, "%s: token", where);
            }
            free(out);
        } else {
            expect(c, rc, where);
        }
        free(key);
    }
}

/* ---- OpenID access tokens (jws.json) ---------------------------------------------------- */

/* Whether this build has every feature the case needs (the C library: ES256 and EdDSA, no RSA). */
static int jws_enabled(const cJSON *c) {
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(c, "features")) {
        if (strcmp(f->valuestring, "rsa") == 0) return 0;
    }
    return 1;
}

static uint32_t jws_alg_bits(const cJSON *algs) {
    const cJSON *a;
    uint32_t bits = 0;
    cJSON_ArrayForEach(a, algs) {
        const char *n = a->valuestring;
        if (strcmp(n, "RS256") == 0) bits |= APISIG_JWS_RS256;
        if (strcmp(n, "PS256") == 0) bits |= APISIG_JWS_PS256;
        if (strcmp(n, "ES256") == 0) bits |= APISIG_JWS_ES256;
        if (strcmp(n, "EdDSA") == 0) bits |= APISIG_JWS_EDDSA;
    }
    return bits;
}

static void run_jws(const cJSON *root) {
    const cJSON *c;
    const char *jwks = str_of(root, "jwks");
    uint64_t now = u64_of(root, "now") * 1000000000ull;
    unsigned ran = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "tests")) {
        char where[512];
        const char *kind = str_of(c, "kind");
        apisig_access_token claims;
        if (!jws_enabled(c)) continue;
        case_name(c, where, sizeof where, "jws");
        if (strcmp(kind, "token") == 0) {
            const cJSON *iss = cJSON_GetObjectItemCaseSensitive(c, "issuer");
            const char *token = str_of(c, "token");
            size_t tlen = strlen(token);
            uint8_t *scratch = malloc(tlen ? tlen : 1);
            apisig_jws_issuer i;
            i.issuer = str_of(iss, "issuer");
            i.issuer_len = strlen(i.issuer);
            i.audience = str_of(iss, "audience");
            i.audience_len = strlen(i.audience);
            i.algorithms = jws_alg_bits(cJSON_GetObjectItemCaseSensitive(iss, "algorithms"));
            i.leeway_s = u64_of(iss, "leeway_s");
            i.strict = (uint8_t)bool_of(iss, "strict");
            i.max_len = (size_t)u64_of(iss, "max_len");
            if (expect(c, apisig_jws_verify((const uint8_t *)jwks, strlen(jwks), (const uint8_t *)token, tlen, &i, now,
                                            scratch, tlen, &claims),
                       where)) {
                const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "claims");
                CHECK(same_opt(claims.sub, cJSON_GetObjectItemCaseSensitive(w, "sub")), "%s: sub", where);
                CHECK(same_opt(claims.client_id, cJSON_GetObjectItemCaseSensitive(w, "client_id")), "%s: client_id",
                      where);
                CHECK(same_opt(claims.scope, cJSON_GetObjectItemCaseSensitive(w, "scope")), "%s: scope", where);
            }
            free(scratch);
            ran++;
        } else if (strcmp(kind, "jwks") == 0) {
            /* The set is parsed before the token is looked at: a good set then refuses "x". */
            const char *set = str_of(c, "jwks");
            uint8_t scratch[8];
            apisig_jws_issuer i = {"i", 1, "a", 1, APISIG_JWS_ES256, 0, 0, 8};
            apisig_result rc = apisig_jws_verify((const uint8_t *)set, strlen(set), (const uint8_t *)"x", 1, &i, now,
                                                 scratch, sizeof scratch, &claims);
            if (strcmp(str_of(c, "result"), "valid") == 0) {
                CHECK(rc == APISIG_RESULT_TOKEN_MALFORMED, "%s: got %s", where, apisig_result_name(rc));
            } else {
                expect(c, rc, where);
            }
            ran++;
        }
    }
    CHECK(ran >= 40, "jws: only %u cases ran", ran);
}

/* ---- session tokens ------------------------------------------------------------------ */

static void run_session(const cJSON *root) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "tests")) {
        char where[512];
        const char *p = str_of(c, "primary"), *s = str_of(c, "secondary"), *t = str_of(c, "token");
        apisig_session out;
        apisig_opt_bytes secondary;
        secondary.present = s != NULL;
        secondary.ptr = (const uint8_t *)s;
        secondary.len = s ? strlen(s) : 0;
        case_name(c, where, sizeof where, "session");
        if (expect(c, apisig_session_verify((const uint8_t *)p, p ? strlen(p) : 0, secondary,
                                            (const uint8_t *)t, strlen(t), u64_of(c, "now") * 1000000000ull, &out),
                   where)) {
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "session");
            const char *u = str_of(w, "user_id"), *k = str_of(w, "key_id"), *slot = str_of(w, "slot");
            CHECK(out.user_id_len == strlen(u) && memcmp(out.user_id, u, out.user_id_len) == 0, "%s: user", where);
            CHECK(out.key_id_len == strlen(k) && memcmp(out.key_id, k, out.key_id_len) == 0, "%s: key", where);
            CHECK(out.expires == u64_of(w, "expires"), "%s: expires", where);
            CHECK(out.slot == (strcmp(slot, "primary") == 0 ? APISIG_SLOT_PRIMARY : APISIG_SLOT_SECONDARY), "%s: slot",
                  where);
        }
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "issue")) {
        char where[512];
        const char *p = str_of(c, "primary"), *u = str_of(c, "user_id"), *k = str_of(c, "key_id");
        uint8_t out[APISIG_SESSION_TOKEN_MAX];
        size_t len = 0;
        case_name(c, where, sizeof where, "session issue");
        if (expect(c, apisig_session_issue((const uint8_t *)p, strlen(p), u, strlen(u), k, strlen(k), u64_of(c, "expires"),
                                           out, sizeof out, &len),
                   where)) {
            const char *want = str_of(c, "token");
            CHECK(len == strlen(want) && memcmp(out, want, len) == 0, "%s: token", where);
        }
    }
}

/* ---- certificate pins ---------------------------------------------------------------- */

static uint8_t *read_bin(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long n;
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc(n ? (size_t)n : 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) exit(2);
    fclose(f);
    *len = (size_t)n;
    return data;
}

static void run_pins(const cJSON *root, const char *dir) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "tests")) {
        char where[512], path[4096];
        const char *file = str_of(c, "cert");
        uint32_t kind = strcmp(str_of(c, "kind"), "spki") == 0 ? APISIG_PIN_KIND_PUBLIC_KEY : APISIG_PIN_KIND_CERTIFICATE;
        size_t der_len, i;
        uint8_t *der;
        apisig_verifier *v = apisig_verifier_new(NULL, APISIG_WINDOW_DEFAULT_NS);
        apisig_keyring *ring = apisig_verifier_keyring(v);
        const cJSON *pin;
        apisig_principal who;
        case_name(c, where, sizeof where, "pins");
        if (file) {
            snprintf(path, sizeof path, "%s/%s", dir, file);
            der = read_bin(path, &der_len);
        } else {
            der = bytes_of(c, "cert", &der_len, NULL);
        }
        cJSON_ArrayForEach(pin, cJSON_GetObjectItemCaseSensitive(c, "pins")) {
            const char *client = str_of(pin, "client"), *fp_hex = str_of(pin, "fingerprint");
            uint32_t slot = strcmp(str_of(pin, "slot"), "primary") == 0 ? APISIG_SLOT_PRIMARY : APISIG_SLOT_SECONDARY;
            uint8_t fp[APISIG_PIN_BYTES];
            char secret[128];
            uint32_t id;
            for (i = 0; i < APISIG_PIN_BYTES; i++) fp[i] = (uint8_t)(hexval(fp_hex[2 * i]) * 16 + hexval(fp_hex[2 * i + 1]));
            if (apisig_keyring_find(ring, client, strlen(client), &id) != APISIG_RESULT_OK) {
                snprintf(secret, sizeof secret, "static-key-of-%s", client);
                CHECK_RC(APISIG_RESULT_OK, apisig_keyring_add(ring, client, strlen(client), (const uint8_t *)secret,
                                                               strlen(secret), &id));
            }
            CHECK_RC(APISIG_RESULT_OK, apisig_keyring_set_pin(ring, id, slot, kind, fp, sizeof fp));
        }
        if (expect(c, apisig_verifier_verify_certificate(v, der, der_len, 0, &who), where)) {
            const char *want = str_of(c, "client");
            char id[64];
            size_t len = 0;
            CHECK_RC(APISIG_RESULT_OK, apisig_keyring_client_id(ring, who.client, (uint8_t *)id, sizeof id, &len));
            CHECK(len == strlen(want) && memcmp(id, want, len) == 0, "%s: client %.*s", where, (int)len, id);
            CHECK(who.slot == (strcmp(str_of(c, "slot"), "primary") == 0 ? APISIG_SLOT_PRIMARY : APISIG_SLOT_SECONDARY),
                  "%s: slot", where);
        }
        {
            uint8_t fp[APISIG_PIN_BYTES];
            size_t len = 0;
            apisig_result rc = apisig_certificate_fingerprint(der, der_len, kind, fp, sizeof fp, &len);
            CHECK(rc == APISIG_RESULT_OK || rc == APISIG_RESULT_INVALID_CERTIFICATE, "%s: fingerprint %s", where,
                  apisig_result_name(rc));
        }
        apisig_verifier_free(v);
        free(der);
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/vectors";
    cJSON *hmac = load(dir, "hmac_sha256_rfc4231.json");
    cJSON *sign = load(dir, "sign.json");
    cJSON *verify = load(dir, "verify.json");
    cJSON *policy = load(dir, "policy.json");
    run_hmac(hmac);
    run_sign(sign);
    run_verify(verify);
    run_policy(policy);
    {
        cJSON *jwt = load(dir, "jwt.json"), *session = load(dir, "session.json"), *pins = load(dir, "pins.json");
        cJSON *jws = load(dir, "jws.json");
        run_jwt(jwt);
        run_session(session);
        run_pins(pins, dir);
        run_jws(jws);
        cJSON_Delete(jws);
        cJSON_Delete(jwt);
        cJSON_Delete(session);
        cJSON_Delete(pins);
    }
    cJSON_Delete(hmac);
    cJSON_Delete(sign);
    cJSON_Delete(verify);
    cJSON_Delete(policy);
    if (skipped) printf("vectors: %u verify cases skipped (replay_capacity != %d)\n", skipped, APISIG_REPLAY_CAPACITY);
    return check_report("vectors");
}
