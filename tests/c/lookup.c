/* lookup.c: a C server that keeps its clients itself — a table of 100,000 clients with
 * hash indexes by id and by static-key digest (SHA-256 from OpenSSL, an independent oracle) —
 * plugged into the verifier through apisig_lookup callbacks. Requests signed with the C
 * signer under six dialects verify as the right client; revoked and unknown clients, wrong
 * secrets and replays are refused; a store that cannot answer gives STORE_UNAVAILABLE (503)
 * and the verifier recovers when it can again; the verifier lives in static storage.
 * Then the host builds' keyring with a capacity chosen at run time (10,000 clients). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "check.h"

#define S(lit) lit, (sizeof lit - 1)
#define N_CLIENTS 100000u
#define TABLE_BITS 18u
#define TABLE_SIZE (1u << TABLE_BITS)
/* Every this-many-th client is revoked in the server's table. */
#define REVOKED_EVERY 997u

static const uint64_t NOW = 1700000000000000000ull;
static const uint64_t WINDOW = 1000000000ull; /* 1 s: old requests leave the replay cache */

typedef struct {
    char id[16];
    char secret[32];
    char key[32];
    char user[12];
    uint8_t digest[32];
    int revoked;
    int has_mark;
    uint64_t mark;
} entry;

/* What a store mode answers, to test the verifier's handling of a bad store. */
enum mode { NORMAL, DOWN, FOUND_EMPTY, GARBAGE, WRONG_CLIENT };

typedef struct {
    entry *t;
    uint32_t *by_id;     /* open addressing: entry index + 1, 0 = empty */
    uint32_t *by_digest;
    enum mode mode;
    unsigned calls;
} server;

static uint32_t fnv(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void put(uint32_t *index, uint32_t h, uint32_t at) {
    uint32_t i = h & (TABLE_SIZE - 1);
    while (index[i]) i = (i + 1) & (TABLE_SIZE - 1);
    index[i] = at + 1;
}

static entry *find_id(server *s, const uint8_t *id, size_t len) {
    uint32_t i = fnv(id, len) & (TABLE_SIZE - 1);
    for (; s->by_id[i]; i = (i + 1) & (TABLE_SIZE - 1)) {
        entry *e = &s->t[s->by_id[i] - 1];
        if (strlen(e->id) == len && memcmp(e->id, id, len) == 0) return e;
    }
    return NULL;
}

static entry *find_digest(server *s, const uint8_t *d) {
    uint32_t i = fnv(d, 32) & (TABLE_SIZE - 1);
    for (; s->by_digest[i]; i = (i + 1) & (TABLE_SIZE - 1)) {
        entry *e = &s->t[s->by_digest[i] - 1];
        if (memcmp(e->digest, d, 32) == 0) return e;
    }
    return NULL;
}

static uint32_t bad_mode(server *s, apisig_keyring *out) {
    uint32_t n;
    switch (s->mode) {
    case DOWN: return APISIG_LOOKUP_UNAVAILABLE;
    case FOUND_EMPTY: return APISIG_LOOKUP_FOUND;
    case GARBAGE: return 77;
    case WRONG_CLIENT:
        apisig_keyring_add(out, S("someone-else"), (const uint8_t *)"x", 1, &n);
        return APISIG_LOOKUP_FOUND;
    default: return APISIG_LOOKUP_NOT_FOUND;
    }
}

/* Fills the one found client through the keyring builder calls. */
static uint32_t fill(server *s, entry *e, apisig_keyring *out, int static_key) {
    uint32_t c;
    apisig_result rc;
    if (!static_key) {
        rc = apisig_keyring_add(out, e->id, strlen(e->id), (const uint8_t *)e->secret, strlen(e->secret), &c);
        if (rc == APISIG_RESULT_OK) rc = apisig_keyring_bind_user_id(out, c, e->user, strlen(e->user));
    } else if ((e - s->t) % 2 == 0) {
        /* Half the static-key clients are stored with the key, half with its digest only. */
        rc = apisig_keyring_add(out, e->id, strlen(e->id), (const uint8_t *)e->key, strlen(e->key), &c);
    } else {
        rc = apisig_keyring_add_client(out, e->id, strlen(e->id), &c);
        if (rc == APISIG_RESULT_OK) rc = apisig_keyring_set_key_digest(out, c, APISIG_SLOT_PRIMARY, e->digest);
    }
    if (rc == APISIG_RESULT_OK && e->revoked) rc = apisig_keyring_set_status(out, c, APISIG_CLIENT_STATUS_REVOKED);
    return rc == APISIG_RESULT_OK ? APISIG_LOOKUP_FOUND : APISIG_LOOKUP_UNAVAILABLE;
}

static uint32_t by_id(void *context, const uint8_t *id, size_t id_len, apisig_keyring *out) {
    server *s = context;
    entry *e;
    s->calls++;
    if (s->mode != NORMAL) return bad_mode(s, out);
    e = find_id(s, id, id_len);
    return e ? fill(s, e, out, 0) : APISIG_LOOKUP_NOT_FOUND;
}

static uint32_t by_static_key(void *context, const uint8_t *key, size_t key_len, const uint8_t *digest,
                              apisig_keyring *out) {
    server *s = context;
    entry *e;
    (void)key;
    (void)key_len;
    s->calls++;
    if (s->mode != NORMAL) return bad_mode(s, out);
    e = find_digest(s, digest);
    return e ? fill(s, e, out, 1) : APISIG_LOOKUP_NOT_FOUND;
}

static uint32_t advance_nonce(void *context, const uint8_t *id, size_t id_len, uint64_t nonce) {
    server *s = context;
    entry *e = find_id(s, id, id_len);
    if (s->mode == DOWN) return APISIG_LOOKUP_UNAVAILABLE;
    if (!e) return APISIG_LOOKUP_NOT_FOUND;
    if (e->has_mark && nonce <= e->mark) return APISIG_LOOKUP_REPLAYED;
    e->has_mark = 1;
    e->mark = nonce;
    return APISIG_LOOKUP_FOUND;
}

static void build(server *s) {
    uint32_t i, x = 2463534242u;
    s->t = calloc(N_CLIENTS, sizeof *s->t);
    s->by_id = calloc(TABLE_SIZE, sizeof *s->by_id);
    s->by_digest = calloc(TABLE_SIZE, sizeof *s->by_digest);
    if (!s->t || !s->by_id || !s->by_digest) exit(2);
    for (i = 0; i < N_CLIENTS; i++) {
        entry *e = &s->t[i];
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        snprintf(e->id, sizeof e->id, "client-%06u", (unsigned)i);
        snprintf(e->secret, sizeof e->secret, "secret-%06u-%08x", (unsigned)i, (unsigned)x);
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        snprintf(e->key, sizeof e->key, "sk-%06u-%08x", (unsigned)i, (unsigned)x);
        snprintf(e->user, sizeof e->user, "%u", (unsigned)(1000 + i));
        SHA256((const unsigned char *)e->key, strlen(e->key), e->digest);
        e->revoked = i % REVOKED_EVERY == REVOKED_EVERY - 1;
        put(s->by_id, fnv((const uint8_t *)e->id, strlen(e->id)), i);
        put(s->by_digest, fnv(e->digest, 32), i);
    }
}

static apisig_scheme preset(const char *name) {
    apisig_scheme s;
    CHECK_RC(APISIG_RESULT_OK, apisig_preset(name, strlen(name), &s));
    return s;
}

typedef struct {
    apisig_headers h;
    apisig_header_in in[APISIG_MAX_HEADERS];
    uint8_t buf[512];
    apisig_request r;
} signed_request;

/* Signs POST /orders under `scheme` with `key` (key id or static key), `secret`, `user`. */
static apisig_result sign(signed_request *q, const apisig_scheme *scheme, const char *key, const char *secret,
                          const char *user, uint64_t now, uint64_t nonce) {
    apisig_credentials c;
    apisig_stamp st;
    size_t len, i;
    apisig_result rc;
    memset(&c, 0, sizeof c);
    memset(&q->r, 0, sizeof q->r);
    c.api_key = key;
    c.api_key_len = strlen(key);
    c.secret = (const uint8_t *)secret;
    c.secret_len = secret ? strlen(secret) : 0;
    c.user_id = user;
    c.user_id_len = user ? strlen(user) : 0;
    q->r.method = "POST";
    q->r.method_len = 4;
    q->r.path = "/orders";
    q->r.path_len = 7;
    q->r.body = (const uint8_t *)"{\"qty\":1}";
    q->r.body_len = 9;
    st.now_ns = now;
    st.nonce = nonce;
    st.has_nonce = nonce != 0;
    rc = apisig_sign(scheme, &c, &q->r, st, &q->h, q->buf, sizeof q->buf, &len);
    for (i = 0; i < q->h.len; i++) {
        q->in[i].name = q->h.lines[i].name;
        q->in[i].name_len = q->h.lines[i].name_len;
        q->in[i].value = (const uint8_t *)q->h.lines[i].value;
        q->in[i].value_len = q->h.lines[i].value_len;
    }
    q->r.headers = q->in;
    q->r.headers_len = q->h.len;
    return rc;
}

static int is(const apisig_principal *who, const char *id) {
    return who->id_len == strlen(id) && memcmp(who->id, id, who->id_len) == 0 && who->client == APISIG_CLIENT_NONE;
}

static apisig_verifier verifier; /* static storage: no malloc for the verifier */

#define N_HEAP 10000u

/* A keyring on the heap with a run-time capacity, moved into a verifier. */
static void test_capacity(void) {
    apisig_keyring *ring = apisig_keyring_new_with_capacity(N_HEAP), *vr;
    apisig_verifier *v;
    apisig_scheme aevo = preset("aevo"), signius = preset("signius"), apex = preset("apex");
    signed_request q;
    apisig_principal who;
    char id[16], secret[32], got[APISIG_KEY_ID_MAX];
    uint32_t i, client;
    size_t len;
    uint64_t now = NOW;

    CHECK(ring != NULL, "heap keyring");
    for (i = 0; i < N_HEAP; i++) {
        snprintf(id, sizeof id, "cap-%05u", (unsigned)i);
        snprintf(secret, sizeof secret, "cap-secret-%05u", (unsigned)i);
        CHECK_RC(APISIG_RESULT_OK, apisig_keyring_add(ring, id, strlen(id), (const uint8_t *)secret, strlen(secret), &client));
        CHECK(client == i, "client number %u", (unsigned)client);
    }
    CHECK_RC(APISIG_RESULT_KEYRING_FULL, apisig_keyring_add(ring, S("one-more"), (const uint8_t *)"s", 1, &client));
    CHECK_RC(APISIG_RESULT_DUPLICATE_KEY_ID, apisig_keyring_add(ring, S("cap-00007"), (const uint8_t *)"s", 1, &client));
    CHECK_RC(APISIG_RESULT_DUPLICATE_KEY_ID,
             apisig_keyring_set_secret(ring, 8, APISIG_SLOT_SECONDARY, (const uint8_t *)"cap-secret-00007", 16));
    CHECK(apisig_keyring_len(ring) == N_HEAP, "len");
    CHECK_RC(APISIG_RESULT_OK, apisig_keyring_find(ring, S("cap-04321"), &client));
    CHECK(client == 4321, "find");
    CHECK_RC(APISIG_RESULT_OK, apisig_keyring_client_id(ring, 9876, (uint8_t *)got, sizeof got, &len));
    CHECK(len == 9 && memcmp(got, "cap-09876", 9) == 0, "client id");
    CHECK_RC(APISIG_RESULT_OK, apisig_keyring_bind_user_id(ring, 55, S("55")));

    v = apisig_verifier_new(ring, WINDOW);
    CHECK(v != NULL && apisig_keyring_len(ring) == 0, "the clients moved into the verifier");
    vr = apisig_verifier_keyring(v);
    CHECK(apisig_keyring_len(vr) == N_HEAP, "verifier's keyring");
    for (i = 0; i < N_HEAP; i += 997) {
        snprintf(id, sizeof id, "cap-%05u", (unsigned)i);
        snprintf(secret, sizeof secret, "cap-secret-%05u", (unsigned)i);
        now += 2 * WINDOW;
        CHECK_RC(APISIG_RESULT_OK, sign(&q, &aevo, id, secret, NULL, now, 0));
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_verify(v, &aevo, &q.r, now, &who));
        CHECK(who.client == i && who.id_len == 9 && memcmp(who.id, id, 9) == 0, "aevo principal %u", (unsigned)i);
        /* The secret as a static key (SIGNIUS): found by its digest. */
        CHECK_RC(APISIG_RESULT_OK, sign(&q, &signius, secret, NULL, NULL, now, 0));
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_verify(v, &signius, &q.r, now, &who));
        CHECK(who.client == i, "signius principal %u", (unsigned)i);
    }
    /* APEX: the nonce mark per client. */
    CHECK_RC(APISIG_RESULT_OK, sign(&q, &apex, "cap-00055", "cap-secret-00055", "55", now, 9));
    CHECK_RC(APISIG_RESULT_OK, apisig_verifier_verify(v, &apex, &q.r, now, &who));
    now += 2 * WINDOW;
    CHECK_RC(APISIG_RESULT_REPLAYED_REQUEST, apisig_verifier_verify(v, &apex, &q.r, now, &who));
    /* Revoked through the verifier's keyring. */
    CHECK_RC(APISIG_RESULT_OK, apisig_keyring_set_status(vr, 42, APISIG_CLIENT_STATUS_REVOKED));
    CHECK_RC(APISIG_RESULT_OK, sign(&q, &aevo, "cap-00042", "cap-secret-00042", NULL, now, 0));
    CHECK_RC(APISIG_RESULT_CLIENT_REVOKED, apisig_verifier_verify(v, &aevo, &q.r, now, &who));
    /* Wiping through the handle empties it; the verifier stays. */
    CHECK_RC(APISIG_RESULT_OK, apisig_keyring_wipe(vr));
    CHECK(apisig_keyring_len(vr) == 0, "emptied");
    now += 2 * WINDOW;
    CHECK_RC(APISIG_RESULT_OK, sign(&q, &aevo, "cap-00043", "cap-secret-00043", NULL, now, 0));
    CHECK_RC(APISIG_RESULT_UNKNOWN_KEY, apisig_verifier_verify(v, &aevo, &q.r, now, &who));
    apisig_verifier_free(v);
    apisig_keyring_free(ring);

    v = apisig_verifier_new_with_capacity(3, WINDOW);
    vr = apisig_verifier_keyring(v);
    for (i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "c%u", (unsigned)i);
        CHECK_RC(APISIG_RESULT_OK, apisig_keyring_add(vr, id, strlen(id), (const uint8_t *)id, strlen(id), &client));
    }
    CHECK_RC(APISIG_RESULT_KEYRING_FULL, apisig_keyring_add(vr, S("c3"), (const uint8_t *)"c3", 2, &client));
    apisig_verifier_free(v);
}

int main(void) {
    static const char *const dialects[] = {"aevo", "aevo-secret", "apex", "signius", "securosys", "zignsec"};
    const unsigned samples = 200;
    server srv;
    apisig_lookup lookup;
    apisig_principal who;
    signed_request q;
    uint64_t now = NOW;
    unsigned d, k, ok = 0, revoked = 0;

    memset(&srv, 0, sizeof srv);
    build(&srv);
    memset(&lookup, 0, sizeof lookup);
    lookup.context = &srv;
    lookup.by_id = by_id;
    lookup.by_static_key = by_static_key;
    lookup.advance_nonce = advance_nonce;

    CHECK_RC(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_init_with_lookup(&verifier, NULL, WINDOW));
    CHECK_RC(APISIG_RESULT_NULL_PARAMETER, apisig_verifier_init_with_lookup(NULL, &lookup, WINDOW));
    CHECK_RC(APISIG_RESULT_OK, apisig_verifier_init_with_lookup(&verifier, &lookup, WINDOW));
    CHECK(apisig_verifier_keyring(&verifier) == NULL, "a lookup verifier has no keyring");

    /* Clients spread over the whole table, under every dialect. */
    for (d = 0; d < sizeof dialects / sizeof dialects[0]; d++) {
        apisig_scheme scheme = preset(dialects[d]);
        int is_static = d >= 3, is_apex = strcmp(dialects[d], "apex") == 0;
        for (k = 0; k < samples; k++) {
            entry *e = &srv.t[(k * 166667u + d * 7919u) % N_CLIENTS];
            apisig_result rc;
            now += 2 * WINDOW;
            CHECK_RC(APISIG_RESULT_OK, sign(&q, &scheme, is_static ? e->key : e->id, is_static ? NULL : e->secret,
                                            is_apex ? e->user : NULL, now, is_apex ? now / 1000 : 0));
            rc = apisig_verifier_verify(&verifier, &scheme, &q.r, now, &who);
            if (e->revoked) {
                CHECK_RC(APISIG_RESULT_CLIENT_REVOKED, rc);
                revoked++;
                continue;
            }
            CHECK_RC(APISIG_RESULT_OK, rc);
            CHECK(rc != APISIG_RESULT_OK || is(&who, e->id), "%s: principal of %s", dialects[d], e->id);
            ok += rc == APISIG_RESULT_OK;
            /* The same signed request again: a replay (replay cache, or APEX's nonce mark). */
            if (d == 0 || is_apex) CHECK_RC(APISIG_RESULT_REPLAYED_REQUEST, apisig_verifier_verify(&verifier, &scheme, &q.r, now, &who));
        }
        /* A wrong secret or key, an unknown client. */
        {
            entry *e = &srv.t[12345];
            apisig_result want = strcmp(dialects[d], "aevo-secret") == 0 ? APISIG_RESULT_SECRET_MISMATCH
                                 : is_static                          ? APISIG_RESULT_UNKNOWN_KEY
                                                                      : APISIG_RESULT_SIGNATURE_MISMATCH;
            now += 2 * WINDOW;
            CHECK_RC(APISIG_RESULT_OK, sign(&q, &scheme, is_static ? "sk-012345-00000000" : e->id,
                                            is_static ? NULL : "not-the-secret", is_apex ? e->user : NULL, now,
                                            is_apex ? now / 1000 : 0));
            CHECK_RC(want, apisig_verifier_verify(&verifier, &scheme, &q.r, now, &who));
            CHECK_RC(APISIG_RESULT_OK, sign(&q, &scheme, is_static ? "sk-unknown" : "client-999999",
                                            is_static ? NULL : "secret", is_apex ? "1" : NULL, now,
                                            is_apex ? now / 1000 : 0));
            CHECK_RC(APISIG_RESULT_UNKNOWN_KEY, apisig_verifier_verify(&verifier, &scheme, &q.r, now, &who));
        }
    }
    CHECK(ok > 1000 && revoked > 0, "%u verified, %u revoked", ok, revoked);

    /* A store that cannot answer fails closed with STORE_UNAVAILABLE (503); so does one that
     * answers nonsense; the verifier recovers when the store does. */
    {
        apisig_scheme aevo = preset("aevo"), signius = preset("signius");
        entry *e = &srv.t[4242];
        enum mode m;
        for (m = DOWN; m <= WRONG_CLIENT; m++) {
            now += 2 * WINDOW;
            srv.mode = m;
            CHECK_RC(APISIG_RESULT_OK, sign(&q, &aevo, e->id, e->secret, NULL, now, 0));
            CHECK_RC(m == WRONG_CLIENT ? APISIG_RESULT_UNKNOWN_KEY : APISIG_RESULT_STORE_UNAVAILABLE,
                     apisig_verifier_verify(&verifier, &aevo, &q.r, now, &who));
            CHECK_RC(APISIG_RESULT_OK, sign(&q, &signius, e->key, NULL, NULL, now, 0));
            /* A static-key lookup returning another client: its key does not match. */
            CHECK_RC(m == WRONG_CLIENT ? APISIG_RESULT_UNKNOWN_KEY : APISIG_RESULT_STORE_UNAVAILABLE,
                     apisig_verifier_verify(&verifier, &signius, &q.r, now, &who));
        }
        CHECK(apisig_result_http_status(APISIG_RESULT_STORE_UNAVAILABLE) == 503, "503");
        srv.mode = NORMAL;
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_verify(&verifier, &signius, &q.r, now, &who));
        CHECK(is(&who, e->id), "recovered");
        CHECK_RC(APISIG_RESULT_OK, sign(&q, &aevo, e->id, e->secret, NULL, now, 0));
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_verify(&verifier, &aevo, &q.r, now, &who));
    }

    /* Without the callbacks: nothing is found; nonce-only schemes are unsupported. */
    {
        apisig_scheme aevo = preset("aevo"), apex = preset("apex");
        entry *e = &srv.t[7];
        lookup.by_id = NULL;
        lookup.advance_nonce = NULL;
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_wipe(&verifier));
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_init_with_lookup(&verifier, &lookup, WINDOW));
        now += 2 * WINDOW;
        CHECK_RC(APISIG_RESULT_OK, sign(&q, &aevo, e->id, e->secret, NULL, now, 0));
        CHECK_RC(APISIG_RESULT_UNKNOWN_KEY, apisig_verifier_verify(&verifier, &aevo, &q.r, now, &who));
        lookup.by_id = by_id;
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_wipe(&verifier));
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_init_with_lookup(&verifier, &lookup, WINDOW));
        CHECK_RC(APISIG_RESULT_OK, sign(&q, &apex, e->id, e->secret, e->user, now, 5));
        CHECK_RC(APISIG_RESULT_UNSUPPORTED_CREDENTIAL, apisig_verifier_verify(&verifier, &apex, &q.r, now, &who));
    }

    CHECK_RC(APISIG_RESULT_OK, apisig_verifier_wipe(&verifier));
    {
        apisig_scheme aevo = preset("aevo");
        CHECK_RC(APISIG_RESULT_INVALID_OBJECT, apisig_verifier_verify(&verifier, &aevo, &q.r, now, &who));
    }
    test_capacity();
    free(srv.t);
    free(srv.by_id);
    free(srv.by_digest);
    printf("lookup: %u clients, %u verified, %u revoked refused, %u lookups\n", N_CLIENTS, ok, revoked, srv.calls);
    return check_report("lookup");
}
