/* ocsp.c: the shared OCSP vectors (tests/vectors/ocsp.json) through the C ABI, the way a C
 * server does it: OpenSSL parses each response and its certificates, this file fills an
 * apisig_ocsp_response with what OpenSSL found, and apisig_ocsp_verdict must reach the verdict
 * the vector declares (the Python face reaches the same ones with `cryptography`).
 *
 * usage: ocsp DIR   (DIR holds ocsp.json and ocsp/, the DER files)
 *
 * cJSON keeps numbers as doubles, which cannot hold nanosecond timestamps exactly, so the
 * text is first rewritten to quote integer literals longer than 15 digits. */
#define _DEFAULT_SOURCE /* timegm */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "load.h"

#define NS 1000000000ull

/* ---- loading ------------------------------------------------------------------------ */

static uint64_t u64_of(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsString(v)) return strtoull(v->valuestring, NULL, 10);
    if (cJSON_IsNumber(v)) return (uint64_t)v->valuedouble;
    return 0;
}

static const char *str_of(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Hex text to malloc'ed bytes (at least one byte allocated). */
static uint8_t *unhex(const char *hex, size_t *len) {
    size_t n = strlen(hex) / 2, i;
    uint8_t *out = malloc(n + 1);
    if (!out) exit(2);
    for (i = 0; i < n; i++) out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    *len = n;
    return out;
}

/* The apisig code of an error name (the C ABI's own table). */
static uint32_t code_of(const char *name) {
    uint32_t c;
    for (c = 2; c < 1000; c++)
        if (strcmp(apisig_result_name(c), name) == 0) return c;
    fprintf(stderr, "unknown error name %s\n", name);
    exit(2);
}

static X509 *load_cert(const char *dir, const char *name) {
    char path[4096];
    size_t len;
    uint8_t *der;
    const unsigned char *p;
    X509 *cert;
    snprintf(path, sizeof path, "%s/ocsp/%s", dir, name);
    der = read_file(path, &len);
    p = der;
    cert = d2i_X509(NULL, &p, (long)len);
    free(der);
    if (!cert) {
        fprintf(stderr, "%s: not a certificate\n", path);
        exit(2);
    }
    return cert;
}

/* ---- what OpenSSL finds in a response --------------------------------------------- */

static uint64_t ns_of(const ASN1_TIME *t) {
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm)) return 0;
    return (uint64_t)timegm(&tm) * NS;
}

/* SHA-256/384/512 with ECDSA or RSA, or Ed25519/Ed448: what apisig accepts (not SHA-1). */
static int accepted_algorithm(const OCSP_BASICRESP *bs) {
    int md = NID_undef, pk = NID_undef;
    const ASN1_OBJECT *oid;
    X509_ALGOR_get0(&oid, NULL, NULL, OCSP_resp_get0_tbs_sigalg(bs));
    if (!OBJ_find_sigid_algs(OBJ_obj2nid(oid), &md, &pk)) return 0;
    if (pk == NID_ED25519 || pk == NID_ED448) return 1;
    return md == NID_sha256 || md == NID_sha384 || md == NID_sha512;
}

/* Reads `der` for `cert` (issued by `issuer`) into *r; returns 0, or the failure code that
 * kept it from reading one. `nonce` is what the request carried (NULL: none). */
static uint32_t read_response(const uint8_t *der, size_t len, X509 *cert, X509 *issuer, const uint8_t *nonce,
                              size_t nonce_len, apisig_ocsp_response *r) {
    const unsigned char *p = der;
    OCSP_RESPONSE *resp;
    OCSP_BASICRESP *bs = NULL;
    OCSP_SINGLERESP *single = NULL;
    X509 *signer = NULL;
    STACK_OF(X509) *with_issuer = NULL, *just_signer = NULL;
    uint32_t failure = 0;
    int i, status, reason;
    ASN1_GENERALIZEDTIME *revtime, *thisupd, *nextupd;

    memset(r, 0, sizeof *r);
    if (len > APISIG_OCSP_RESPONSE_MAX_BYTES) return APISIG_RESULT_OCSP_RESPONSE_TOO_LARGE;
    resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    if (!resp || p != der + len) {
        OCSP_RESPONSE_free(resp);
        return APISIG_RESULT_OCSP_MALFORMED;
    }
    if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        OCSP_RESPONSE_free(resp);
        return APISIG_RESULT_OCSP_RESPONDER_ERROR;
    }
    bs = OCSP_response_get1_basic(resp);
    if (!bs || OCSP_resp_count(bs) < 1) {
        failure = APISIG_RESULT_OCSP_MALFORMED;
        goto done;
    }

    /* Who signed: the responder id names the issuer, a certificate in the response, or nobody. */
    with_issuer = sk_X509_new_null();
    just_signer = sk_X509_new_null();
    if (!with_issuer || !just_signer || !sk_X509_push(with_issuer, issuer)) exit(2);
    if (OCSP_resp_get0_signer(bs, &signer, with_issuer) != 1) {
        r->signer = APISIG_OCSP_SIGNER_UNRELATED;
    } else if (X509_cmp(signer, issuer) == 0) {
        r->signer = APISIG_OCSP_SIGNER_ISSUER;
    } else {
        r->signer = APISIG_OCSP_SIGNER_DELEGATED;
        r->responder_issued_by_issuer = X509_check_issued(issuer, signer) == X509_V_OK &&
                                        X509_verify(signer, X509_get0_pubkey(issuer)) == 1;
        r->responder_ocsp_signing = (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) &&
                                    (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN);
        r->responder_not_before = ns_of(X509_get0_notBefore(signer));
        r->responder_not_after = ns_of(X509_get0_notAfter(signer));
    }
    if (signer) {
        /* The signature alone: OCSP_NOVERIFY leaves the signer's authority to the core. */
        if (!sk_X509_push(just_signer, signer)) exit(2);
        r->signature_valid =
            accepted_algorithm(bs) && OCSP_basic_verify(bs, just_signer, NULL, OCSP_NOVERIFY | OCSP_NOINTERN) == 1;
    }

    /* The single response about this certificate, in the hash its CertID uses. */
    for (i = 0; i < OCSP_resp_count(bs) && !r->cert_id_matches; i++) {
        const OCSP_CERTID *theirs = OCSP_SINGLERESP_get0_id(OCSP_resp_get0(bs, i));
        ASN1_OBJECT *md_oid = NULL;
        OCSP_CERTID *mine;
        const EVP_MD *md;
        OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)theirs);
        md = md_oid ? EVP_get_digestbyobj(md_oid) : NULL;
        mine = md ? OCSP_cert_to_id(md, cert, issuer) : NULL;
        if (mine && OCSP_id_cmp(mine, theirs) == 0) {
            r->cert_id_matches = 1;
            single = OCSP_resp_get0(bs, i);
        }
        OCSP_CERTID_free(mine);
    }
    if (!single) single = OCSP_resp_get0(bs, 0);

    if (!nonce) {
        r->nonce = APISIG_OCSP_NONCE_NOT_SENT;
    } else {
        OCSP_REQUEST *req = OCSP_REQUEST_new();
        int check;
        if (!req || !OCSP_request_add1_nonce(req, (unsigned char *)nonce, (int)nonce_len)) exit(2);
        check = OCSP_check_nonce(req, bs);
        r->nonce = check == 1 ? APISIG_OCSP_NONCE_ECHOED : check == -1 ? APISIG_OCSP_NONCE_MISSING
                                                                       : APISIG_OCSP_NONCE_DIFFERENT;
        OCSP_REQUEST_free(req);
    }

    status = OCSP_single_get0_status(single, &reason, &revtime, &thisupd, &nextupd);
    if (status < 0 || !thisupd) {
        failure = APISIG_RESULT_OCSP_MALFORMED;
        goto done;
    }
    r->status = (uint8_t)status; /* V_OCSP_CERTSTATUS_* == APISIG_OCSP_STATUS_* */
    r->this_update = ns_of(thisupd);
    r->has_next_update = nextupd != NULL;
    r->next_update = ns_of(nextupd);

done:
    sk_X509_free(with_issuer);
    sk_X509_free(just_signer);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return failure;
}

/* ---- the vectors ------------------------------------------------------------------- */

static void run_case(const char *dir, const cJSON *c) {
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(c, "response");
    const char *nonce_hex = str_of(c, "nonce"), *result = str_of(c, "result");
    const char *want_error = str_of(c, "error"), *want_warning = str_of(c, "warning");
    long id = (long)cJSON_GetObjectItemCaseSensitive(c, "tcId")->valuedouble;
    X509 *cert = load_cert(dir, str_of(c, "cert")), *issuer = load_cert(dir, str_of(c, "issuer"));
    uint8_t *der = NULL, *nonce = NULL;
    size_t der_len = 0, nonce_len = 0;
    uint32_t failure, warning = 12345;
    apisig_ocsp_response r;
    apisig_ocsp_policy policy;
    apisig_result rc;

    if (str_of(spec, "failure")) {
        failure = code_of(str_of(spec, "failure"));
        memset(&r, 0, sizeof r);
    } else {
        if (str_of(spec, "file")) {
            char path[4096];
            const cJSON *cut = cJSON_GetObjectItemCaseSensitive(spec, "truncate");
            snprintf(path, sizeof path, "%s/ocsp/%s", dir, str_of(spec, "file"));
            der = read_file(path, &der_len);
            if (cJSON_IsNumber(cut) && (size_t)cut->valuedouble < der_len) der_len = (size_t)cut->valuedouble;
        } else if (str_of(spec, "hex")) {
            der = unhex(str_of(spec, "hex"), &der_len);
        } else {
            der_len = (size_t)u64_of(spec, "zeros");
            der = calloc(der_len + 1, 1);
            if (!der) exit(2);
        }
        if (nonce_hex) nonce = unhex(nonce_hex, &nonce_len);
        failure = read_response(der, der_len, cert, issuer, nonce, nonce_len, &r);
    }
    policy.skew_ns = u64_of(c, "skew") * NS;
    policy.max_age_ns = u64_of(c, "max_age") * NS;
    policy.fail_soft = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "fail_soft"));
    rc = apisig_ocsp_verdict(failure ? NULL : &r, failure, u64_of(c, "now"), &policy, &warning);
    if (strcmp(result, "valid") == 0) {
        uint32_t want = want_warning ? code_of(want_warning) : 0;
        CHECK(rc == APISIG_RESULT_OK && warning == want, "tcId %ld (%s): got %s, warning %s", id,
              str_of(c, "comment"), apisig_result_name(rc), warning ? apisig_result_name(warning) : "none");
    } else {
        CHECK(rc == code_of(want_error) && warning == 12345, "tcId %ld (%s): got %s, want %s", id,
              str_of(c, "comment"), apisig_result_name(rc), want_error);
    }
    free(der);
    free(nonce);
    X509_free(cert);
    X509_free(issuer);
}

/* The ABI's own edges: NULL pointers, out-of-range flags and codes, the cache bound. */
static void abi_edges(void) {
    apisig_ocsp_response r;
    apisig_ocsp_policy policy = {300 * NS, 3600 * NS, 0}, soft = {300 * NS, 3600 * NS, 1};
    uint32_t warning = 7;
    memset(&r, 0, sizeof r);
    r.signer = APISIG_OCSP_SIGNER_ISSUER;
    r.signature_valid = 1;
    r.cert_id_matches = 1;
    r.this_update = 1000 * NS;
    CHECK_RC(APISIG_RESULT_OK, apisig_ocsp_verdict(&r, 0, 1000 * NS, &policy, &warning));
    CHECK(warning == 0, "good has no warning");
    CHECK_RC(APISIG_RESULT_NULL_PARAMETER, apisig_ocsp_verdict(NULL, 0, 0, &policy, &warning));
    CHECK_RC(APISIG_RESULT_NULL_PARAMETER, apisig_ocsp_verdict(&r, 0, 0, NULL, &warning));
    CHECK_RC(APISIG_RESULT_NULL_PARAMETER, apisig_ocsp_verdict(&r, 0, 0, &policy, NULL));
    r.signature_valid = 2; /* not a flag: refused, even fail-soft */
    CHECK_RC(APISIG_RESULT_OCSP_MALFORMED, apisig_ocsp_verdict(&r, 0, 1000 * NS, &soft, &warning));
    r.signature_valid = 1;
    r.status = 3;
    CHECK_RC(APISIG_RESULT_OCSP_MALFORMED, apisig_ocsp_verdict(&r, 0, 1000 * NS, &soft, &warning));
    CHECK_RC(APISIG_RESULT_OCSP_MALFORMED, apisig_ocsp_verdict(NULL, 98, 0, &soft, &warning));
    policy.fail_soft = 2;
    CHECK_RC(APISIG_RESULT_OCSP_MALFORMED, apisig_ocsp_verdict(NULL, APISIG_RESULT_OCSP_UNAVAILABLE, 0, &policy,
                                                               &warning));
    CHECK(warning == 0, "outputs untouched on error");
    /* until = min(nextUpdate, now + max_age); 0 when already past. */
    CHECK(apisig_ocsp_cache_until(100, 1, 500, 200, 1000) == 500, "nextUpdate bounds");
    CHECK(apisig_ocsp_cache_until(100, 1, 5000, 200, 1000) == 1200, "max_age bounds");
    CHECK(apisig_ocsp_cache_until(100, 0, 0, 200, 1000) == 1100, "no nextUpdate: thisUpdate + max_age");
    CHECK(apisig_ocsp_cache_until(100, 1, 200, 200, 1000) == 0, "past: not cached");
}

/* Hostile input: the vector responses with bytes flipped, cut or inserted (a fixed seed).
 * OpenSSL reads each or refuses it; the verdict is OK or a known code; nothing crashes or
 * leaks (valgrind, ASan). */
static void mutations(const char *dir) {
    static const char *files[] = {"good-by-delegate.der", "good-by-issuer.der", "revoked.der",
                                  "good-by-other-ca-responder.der", "good-by-delegate-key-id.der"};
    apisig_ocsp_policy policy = {0, 0, 0};
    X509 *cert = load_cert(dir, "client-good.der"), *issuer = load_cert(dir, "ca-a.der");
    uint32_t seed = 21, malformed = 0;
    int i, k;
    for (i = 0; i < 400; i++) {
        char path[4096];
        size_t len, at;
        uint8_t *der;
        apisig_ocsp_response r;
        uint32_t failure, warning = 0;
        apisig_result rc;
        seed = seed * 1103515245u + 12345u;
        snprintf(path, sizeof path, "%s/ocsp/%s", dir, files[(seed >> 16) % 5]);
        der = read_file(path, &len);
        for (k = 0; k < 3 && len > 0; k++) {
            seed = seed * 1103515245u + 12345u;
            at = (seed >> 8) % len;
            switch ((seed >> 4) % 3) {
            case 0: der[at] ^= (uint8_t)(1u << ((seed >> 12) % 8)); break;
            case 1: len = at; break;
            default: der[at] = (uint8_t)(seed >> 20); break;
            }
        }
        failure = read_response(der, len, cert, issuer, NULL, 0, &r);
        malformed += failure == APISIG_RESULT_OCSP_MALFORMED;
        rc = apisig_ocsp_verdict(failure ? NULL : &r, failure, r.this_update, &policy, &warning);
        CHECK(rc == APISIG_RESULT_OK || strcmp(apisig_result_name(rc), "unknown") != 0, "mutation %d: %u", i, rc);
        free(der);
    }
    CHECK(malformed > 0, "some mutations are malformed");
    X509_free(cert);
    X509_free(issuer);
}

int main(int argc, char **argv) {
    char path[4096];
    size_t len;
    char *raw, *text;
    cJSON *doc;
    const cJSON *c;
    int n = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    snprintf(path, sizeof path, "%s/ocsp.json", argv[1]);
    raw = (char *)read_file(path, &len);
    text = quote_big_integers(raw);
    doc = cJSON_Parse(text);
    free(raw);
    free(text);
    if (!doc) return 2;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "tests")) {
        run_case(argv[1], c);
        n++;
    }
    cJSON_Delete(doc);
    CHECK(n >= 30, "ran %d cases", n);
    abi_edges();
    mutations(argv[1]);
    return check_report("ocsp");
}
