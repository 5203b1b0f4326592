/* bench.c: the C face's benchmark, through the public header against the release static
 * library. Each figure has a baseline measured in this same process:
 *   - small Aevo sign (apisig_signer_sign; apisig_sign, which checks the scheme and hashes the
 *     secret on every call, as information) and verify (apisig_verifier_verify), 200-byte body, against
 *     OpenSSL HMAC-SHA256 over the same message (key state precomputed and copied, as the Rust
 *     baseline) and apisig's own raw export apisig_hmac_sha256 (new key each call);
 *   - the same small sign and verify written by hand with OpenSSL (snprintf, HMAC, hex, strtoull, a
 *     table of seen signatures), the "faster than by hand" comparison;
 *   - 1 MiB and 64 MiB bodies: sign and verify against OpenSSL SHA256() of the same body.
 * Prints one JSON object per line: {"name": ..., "ns": ..., "bytes": ...} (ns per operation,
 * median of several rounds). scripts/bench-table.py reads them.
 *
 *   bench [scale]   scale 1 = full run (make bench); scale 0 = a smoke run of a few
 *                   iterations that checks the results (make test).
 */
#define _POSIX_C_SOURCE 200112L
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apisig.h"

static const char KEY[] = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le";
static const char SECRET[] = "7f3a9c2e51d84b06a1e5c9d27b3f480e6a2d1c9b8e7f5a3c0d4b6e2f1a9c8d7e";
static const uint64_t NOW = 1673425955575713842ULL;
#define ROUNDS 7

static volatile uint8_t sink;
static int smoke;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double ns, size_t bytes) {
    printf("{\"name\": \"%s\", \"ns\": %.3f, \"bytes\": %zu}\n", name, ns, bytes);
    fflush(stdout);
}

static void die(const char *what, apisig_result rc) {
    fprintf(stderr, "bench: %s: %s\n", what, apisig_strerror(rc));
    exit(1);
}

/* The 200-byte JSON body of the Rust and Python benchmarks. */
static size_t small_body(uint8_t *b) {
    const char *head = "{\"instrument\":\"ETH-PERP\",\"maker\":\"0x5a3f\",\"is_buy\":true,\"amount\":\"1000000\","
                       "\"limit_price\":\"2450500000\",\"salt\":\"91382\",\"signature\":\"0x";
    size_t n = strlen(head);
    memcpy(b, head, n);
    memset(b + n, 'a', 199 - n);
    b[199] = '}';
    return 200;
}

typedef struct {
    apisig_scheme scheme;
    apisig_credentials creds;
    apisig_request req;
    apisig_headers headers;
    uint8_t buf[512];
    size_t buf_len;
} signing;

static void sign_setup(signing *s, const uint8_t *body, size_t body_len) {
    memset(s, 0, sizeof *s);
    if (apisig_preset("aevo", 4, &s->scheme) != APISIG_RESULT_OK) die("preset", APISIG_RESULT_INVALID_TEMPLATE);
    s->creds.api_key = KEY;
    s->creds.api_key_len = strlen(KEY);
    s->creds.secret = (const uint8_t *)SECRET;
    s->creds.secret_len = strlen(SECRET);
    s->req.method = "POST";
    s->req.method_len = 4;
    s->req.path = "/orders";
    s->req.path_len = 7;
    s->req.body = body;
    s->req.body_len = body_len;
}

static void sign_once(signing *s, uint64_t ts) {
    apisig_stamp stamp = {ts, 0, 0};
    apisig_result rc = apisig_sign(&s->scheme, &s->creds, &s->req, stamp, &s->headers, s->buf, sizeof s->buf, &s->buf_len);
    if (rc != APISIG_RESULT_OK) die("sign", rc);
}

/* Median over ROUNDS of the time per call of `iters` calls. */
#define MEASURE(result, iters, body)                                                                                   \
    do {                                                                                                               \
        double samples_[ROUNDS];                                                                                       \
        for (int r_ = 0; r_ < ROUNDS; r_++) {                                                                          \
            double t0_ = now_ns();                                                                                     \
            for (long i = 0; i < (iters); i++) {                                                                       \
                body;                                                                                                  \
            }                                                                                                          \
            samples_[r_] = (now_ns() - t0_) / (double)(iters);                                                         \
        }                                                                                                              \
        qsort(samples_, ROUNDS, sizeof samples_[0], cmp_double);                                                       \
        (result) = samples_[ROUNDS / 2];                                                                               \
    } while (0)

/* The message apisig signs, rendered by the library itself (so the baselines hash exactly the
 * same bytes), and checked against OpenSSL's HMAC of it. */
static size_t message(signing *s, uint64_t ts, uint8_t *out, size_t cap) {
    size_t len = 0;
    apisig_stamp stamp = {ts, 0, 0};
    apisig_result rc = apisig_message(&s->scheme, &s->creds, &s->req, stamp, out, cap, &len);
    if (rc != APISIG_RESULT_OK) die("message", rc);
    return len;
}

static void check_signature(signing *s, const uint8_t *msg, size_t len) {
    uint8_t mac[32];
    unsigned int mac_len = 0;
    char hex[65];
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), msg, len, mac, &mac_len);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    for (size_t i = 0; i < s->headers.len; i++) {
        apisig_header h = s->headers.lines[i];
        if (h.name_len == 14 && memcmp(h.name, "AEVO-SIGNATURE", 14) == 0) {
            if (h.value_len != 64 || memcmp(h.value, hex, 64) != 0) {
                fprintf(stderr, "bench: apisig's signature differs from OpenSSL's HMAC\n");
                exit(1);
            }
            return;
        }
    }
    fprintf(stderr, "bench: no AEVO-SIGNATURE header\n");
    exit(1);
}

/* Verification: a verifier with one client and a 1 µs window; each request is signed 1 µs
 * after the previous one, so the replay cache (64 entries in the C face) recycles expired
 * slots instead of filling. Requests are signed ahead, outside the timed part, in chunks of
 * CHUNK, and each chunk is verified in one timed loop (as the Rust benchmark does): a clock
 * read around every call would add its own ~50 ns to each. */
#define CHUNK 256

typedef struct {
    apisig_verifier *v;
    apisig_request req[CHUNK];
    uint64_t ts[CHUNK];
    apisig_header_in in[CHUNK][APISIG_MAX_HEADERS];
    uint8_t store[CHUNK][APISIG_MAX_HEADERS][128];
} verifying;

static void verify_setup(verifying *w) {
    w->v = apisig_verifier_new(NULL, 1000);
    if (!w->v) die("verifier", APISIG_RESULT_NULL_PARAMETER);
    uint32_t id;
    apisig_result rc = apisig_keyring_add(apisig_verifier_keyring(w->v), KEY, strlen(KEY), (const uint8_t *)SECRET,
                                          strlen(SECRET), &id);
    if (rc != APISIG_RESULT_OK) die("keyring add", rc);
}

/* Signs request `j` of the chunk at `ts`, its headers copied as a server would hold them. */
static void signed_request(signing *s, verifying *w, size_t j, uint64_t ts) {
    sign_once(s, ts);
    for (size_t i = 0; i < s->headers.len; i++) {
        apisig_header h = s->headers.lines[i];
        memcpy(w->store[j][i], h.value, h.value_len);
        w->in[j][i] = (apisig_header_in){h.name, h.name_len, w->store[j][i], h.value_len};
    }
    w->req[j] = s->req;
    w->req[j].headers = w->in[j];
    w->req[j].headers_len = s->headers.len;
    w->ts[j] = ts;
}

/* The verifying side a C server author would pair with it: the three headers found by name,
 * the timestamp by strtoull and windowed, hex decoded, the MAC recomputed and compared with
 * CRYPTO_memcmp, the signature recorded in an open-addressing table of 4096 slots (linear
 * probing from its first bytes, expired slots reused). Returns 1 to accept. */
#define HAND_SLOTS 4096
typedef struct {
    HMAC_CTX *keyed, *work;
    uint64_t window;
    uint8_t seen[HAND_SLOTS][32];
    uint64_t expires[HAND_SLOTS];
} hand_verifier;

static const apisig_header_in *hand_header(const apisig_request *req, const char *name) {
    size_t len = strlen(name);
    for (size_t i = 0; i < req->headers_len; i++) {
        const apisig_header_in *h = &req->headers[i];
        if (h->name_len == len && strncasecmp(h->name, name, len) == 0) return h;
    }
    return NULL;
}

static int hand_nibble(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int hand_verify(hand_verifier *h, const apisig_request *req, uint64_t now) {
    const apisig_header_in *key = hand_header(req, "AEVO-KEY"), *ts = hand_header(req, "AEVO-TIMESTAMP"),
                           *sig = hand_header(req, "AEVO-SIGNATURE");
    if (!key || !ts || !sig || sig->value_len != 64 || ts->value_len == 0 || ts->value_len > 20) return 0;
    if (key->value_len != strlen(KEY) || memcmp(key->value, KEY, key->value_len) != 0) return 0;
    char digits[21], *end;
    memcpy(digits, ts->value, ts->value_len);
    digits[ts->value_len] = 0;
    unsigned long long sent = strtoull(digits, &end, 10);
    if (*end || (sent > now ? sent - now : now - sent) > h->window) return 0;
    uint8_t want[32], mac[32];
    for (int i = 0; i < 32; i++) {
        int hi = hand_nibble(sig->value[2 * i]), lo = hand_nibble(sig->value[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        want[i] = (uint8_t)(hi << 4 | lo);
    }
    char head[256];
    int n = snprintf(head, sizeof head, "%.*s,%s,%.*s,%.*s,", (int)key->value_len, (const char *)key->value, digits,
                     (int)req->method_len, req->method, (int)req->path_len, req->path);
    unsigned int mac_len;
    HMAC_CTX_copy(h->work, h->keyed);
    HMAC_Update(h->work, (const uint8_t *)head, (size_t)n);
    HMAC_Update(h->work, req->body, req->body_len);
    HMAC_Final(h->work, mac, &mac_len);
    if (CRYPTO_memcmp(mac, want, 32) != 0) return 0;
    uint64_t first;
    memcpy(&first, mac, sizeof first);
    size_t free_slot = HAND_SLOTS;
    for (size_t k = 0; k < 32; k++) {
        size_t i = (first + k) % HAND_SLOTS;
        if (h->expires[i] >= now) {
            if (memcmp(h->seen[i], mac, 32) == 0) return 0;
        } else if (free_slot == HAND_SLOTS) {
            free_slot = i;
        }
    }
    if (free_slot == HAND_SLOTS) return 0;
    memcpy(h->seen[free_slot], mac, 32);
    h->expires[free_slot] = sent + h->window;
    return 1;
}

/* apisig's verifier, or `hand`'s when it is not NULL. */
static double verify_ns(signing *s, verifying *w, long iters, uint64_t *ts, hand_verifier *hand) {
    double samples[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double total = 0;
        for (long done = 0; done < iters;) {
            size_t n = iters - done < CHUNK ? (size_t)(iters - done) : CHUNK;
            for (size_t j = 0; j < n; j++) signed_request(s, w, j, *ts += 1000);
            apisig_result rc = APISIG_RESULT_OK;
            double t0 = now_ns();
            for (size_t j = 0; j < n && rc == APISIG_RESULT_OK; j++) {
                apisig_principal who;
                if (hand)
                    rc = hand_verify(hand, &w->req[j], w->ts[j]) ? APISIG_RESULT_OK : APISIG_RESULT_SIGNATURE_MISMATCH;
                else
                    rc = apisig_verifier_verify(w->v, &s->scheme, &w->req[j], w->ts[j], &who);
            }
            total += now_ns() - t0;
            if (rc != APISIG_RESULT_OK) die("verify", rc);
            done += (long)n;
        }
        samples[r] = total / (double)iters;
    }
    qsort(samples, ROUNDS, sizeof samples[0], cmp_double);
    return samples[ROUNDS / 2];
}

/* What a C author would write by hand from the Aevo document, with OpenSSL: the timestamp and
 * the message head by snprintf, HMAC with the key state precomputed and copied, hex by table.
 * The "faster than by hand" baseline; small() checks it makes apisig's headers. */
typedef struct {
    char ts[21];
    char sig[65];
} by_hand;

static void by_hand_sign(HMAC_CTX *keyed, HMAC_CTX *work, uint64_t now, const apisig_request *req, by_hand *out) {
    static const char digits[] = "0123456789abcdef";
    char head[256];
    uint8_t mac[32];
    unsigned int mac_len;
    snprintf(out->ts, sizeof out->ts, "%llu", (unsigned long long)now);
    int n = snprintf(head, sizeof head, "%s,%s,%.*s,%.*s,", KEY, out->ts, (int)req->method_len, req->method,
                     (int)req->path_len, req->path);
    HMAC_CTX_copy(work, keyed);
    HMAC_Update(work, (const uint8_t *)head, (size_t)n);
    HMAC_Update(work, req->body, req->body_len);
    HMAC_Final(work, mac, &mac_len);
    for (int i = 0; i < 32; i++) {
        out->sig[2 * i] = digits[mac[i] >> 4];
        out->sig[2 * i + 1] = digits[mac[i] & 15];
    }
    out->sig[64] = 0;
}

/* The value of header `name` in apisig's output, or exit. */
static void expect_header(const apisig_headers *h, const char *name, const char *value) {
    for (size_t i = 0; i < h->len; i++) {
        apisig_header l = h->lines[i];
        if (l.name_len == strlen(name) && memcmp(l.name, name, l.name_len) == 0 && l.value_len == strlen(value) &&
            memcmp(l.value, value, l.value_len) == 0)
            return;
    }
    fprintf(stderr, "bench: the by-hand signer's %s differs from apisig's\n", name);
    exit(1);
}

static void small(void) {
    static uint8_t body[200], msg[512];
    static verifying w;
    signing s;
    size_t body_len = small_body(body);
    sign_setup(&s, body, body_len);
    size_t msg_len = message(&s, NOW, msg, sizeof msg);
    sign_once(&s, NOW);
    check_signature(&s, msg, msg_len);
    long n = smoke ? 10 : 200000;
    double ns;

    /* OpenSSL HMAC with the key state precomputed once and copied per message. */
    HMAC_CTX *keyed = HMAC_CTX_new(), *work = HMAC_CTX_new();
    HMAC_Init_ex(keyed, SECRET, (int)strlen(SECRET), EVP_sha256(), NULL);
    MEASURE(ns, n, {
        uint8_t mac[32];
        unsigned int len;
        HMAC_CTX_copy(work, keyed);
        HMAC_Update(work, msg, msg_len);
        HMAC_Final(work, mac, &len);
        sink ^= mac[0];
    });
    report("aevo-200B/baseline/openssl-hmac-precomputed", ns, body_len);
    by_hand hand;
    by_hand_sign(keyed, work, NOW, &s.req, &hand);
    expect_header(&s.headers, "AEVO-TIMESTAMP", hand.ts);
    expect_header(&s.headers, "AEVO-SIGNATURE", hand.sig);
    MEASURE(ns, n, {
        by_hand_sign(keyed, work, NOW, &s.req, &hand);
        sink ^= (uint8_t)hand.sig[0];
    });
    report("aevo-200B/by-hand/sign", ns, body_len);
    MEASURE(ns, n, {
        uint8_t mac[32];
        size_t len;
        apisig_hmac_sha256((const uint8_t *)SECRET, strlen(SECRET), msg, msg_len, mac, sizeof mac, &len);
        sink ^= mac[0];
    });
    report("aevo-200B/baseline/apisig-raw-hmac-new-key", ns, body_len);
    MEASURE(ns, n, sign_once(&s, NOW));
    report("aevo-200B/apisig/sign-stateless", ns, body_len);

    /* A signer kept across requests (scheme and credentials checked, key state precomputed). */
    apisig_signer signer;
    apisig_result rc = apisig_signer_init(&signer, &s.scheme, &s.creds);
    if (rc != APISIG_RESULT_OK) die("signer init", rc);
    apisig_stamp stamp = {NOW, 0, 0};
    apisig_headers kept;
    uint8_t kept_buf[512];
    size_t kept_len = 0;
    rc = apisig_signer_sign(&signer, &s.req, stamp, &kept, kept_buf, sizeof kept_buf, &kept_len);
    if (rc != APISIG_RESULT_OK) die("signer sign", rc);
    if (kept_len != s.buf_len || memcmp(kept_buf, s.buf, kept_len) != 0) {
        fprintf(stderr, "bench: apisig_signer_sign differs from apisig_sign\n");
        exit(1);
    }
    MEASURE(ns, n, {
        rc = apisig_signer_sign(&signer, &s.req, stamp, &kept, kept_buf, sizeof kept_buf, &kept_len);
        if (rc != APISIG_RESULT_OK) die("signer sign", rc);
    });
    report("aevo-200B/apisig/sign", ns, body_len);
    if (apisig_signer_wipe(&signer) != APISIG_RESULT_OK) die("signer wipe", APISIG_RESULT_NULL_PARAMETER);

    verify_setup(&w);
    uint64_t ts = NOW;
    ns = verify_ns(&s, &w, smoke ? 10 : 100000, &ts, NULL);
    report("aevo-200B/apisig/verify", ns, body_len);

    /* The by-hand verifier takes what apisig signs, once, and refuses a changed body. */
    static hand_verifier hv;
    hv.keyed = keyed;
    hv.work = work;
    hv.window = 1000;
    signed_request(&s, &w, 0, ts += 1000);
    apisig_request changed = w.req[0];
    changed.body = (const uint8_t *)"{}";
    changed.body_len = 2;
    if (hand_verify(&hv, &changed, w.ts[0]) || !hand_verify(&hv, &w.req[0], w.ts[0]) ||
        hand_verify(&hv, &w.req[0], w.ts[0])) {
        fprintf(stderr, "bench: the by-hand verifier does not verify as apisig does\n");
        exit(1);
    }
    ns = verify_ns(&s, &w, smoke ? 10 : 100000, &ts, &hv);
    report("aevo-200B/by-hand/verify", ns, body_len);
    apisig_verifier_free(w.v);
    HMAC_CTX_free(keyed);
    HMAC_CTX_free(work);
}

static void large(const char *group, size_t len) {
    uint8_t *body = malloc(len);
    if (!body) exit(1);
    memset(body, 'x', len);
    static verifying w;
    signing s;
    sign_setup(&s, body, len);
    long n = smoke ? 1 : (long)((1u << 28) / len) + 2; /* ~256 MiB a round */
    double ns;
    char name[96];
    MEASURE(ns, n, {
        uint8_t d[32];
        SHA256(body, len, d);
        sink ^= d[0];
    });
    snprintf(name, sizeof name, "%s/baseline/openssl-sha256", group);
    report(name, ns, len);
    MEASURE(ns, n, sign_once(&s, NOW));
    snprintf(name, sizeof name, "%s/apisig/sign", group);
    report(name, ns, len);
    verify_setup(&w);
    uint64_t ts = NOW;
    ns = verify_ns(&s, &w, n, &ts, NULL);
    snprintf(name, sizeof name, "%s/apisig/verify", group);
    report(name, ns, len);
    apisig_verifier_free(w.v);
    free(body);
}

int main(int argc, char **argv) {
    smoke = argc > 1 && strcmp(argv[1], "0") == 0;
    if (strcmp(apisig_version(), APISIG_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", APISIG_VERSION_STRING, apisig_version());
        return 1;
    }
    small();
    large("aevo-1MiB", (size_t)1 << 20);
    large("aevo-64MiB", (size_t)64 << 20);
    if (smoke) fprintf(stderr, "bench.c: smoke run ok (signature equals OpenSSL's HMAC)\n");
    return 0;
}
