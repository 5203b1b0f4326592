/* store.c: a C server whose clients' keys live in a key store (apisig-store: SQLite, or
 * PostgreSQL), managed by the `apisig keys` command line in other processes and by the
 * server's own calls. Requests signed by the C signer with issued keys verify as their
 * clients; a key revoked with `apisig keys revoke` is refused once the cache's time-to-live
 * has passed (and served from the cache before); a wrong or missing master key is refused
 * at open; allowed address ranges admit their peers only (also behind a trusted proxy); a
 * typo'd key is refused by its checksum; scopes set with `apisig keys create --scope` and
 * `apisig keys scopes` reach the principal as bits of the server's scope names, and
 * apisig_scopes_authorize decides with them; a stopped PostgreSQL gives STORE_UNAVAILABLE
 * and the verifier recovers when it is back.
 *
 *   store CLI URL [STOP-CMD START-CMD]
 * CLI: the `apisig` command; URL: the store (a new one); STOP-CMD / START-CMD: shell commands
 * that stop and start the database server (PostgreSQL). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define S(lit) lit, (sizeof lit - 1)

static const char MASTER[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char OTHER_MASTER[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
static const uint64_t WINDOW = 5000000000ull; /* ±5 s */
#define TTL_MS 2000u

static const char *cli, *url;

static uint64_t wall_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t mono_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms) {
    struct timespec t;
    t.tv_sec = ms / 1000u;
    t.tv_nsec = (long)(ms % 1000u) * 1000000L;
    nanosleep(&t, NULL);
}

/* Runs `CLI keys ARGS --store URL`, keeps the first line of its output in `out` (the issued
 * key, for `create --issue` and `issue`); the exit status. */
static int keys(char *out, size_t cap, const char *args) {
    char cmd[2048], line[256];
    FILE *p;
    int status;
    snprintf(cmd, sizeof cmd, "%s keys %s --store '%s'", cli, args, url);
    p = popen(cmd, "r");
    if (!p) return -1;
    if (out) out[0] = '\0';
    if (fgets(line, sizeof line, p) && out) {
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(out, cap, "%s", line);
    }
    while (fgets(line, sizeof line, p)) {
    }
    status = pclose(p);
    CHECK(status == 0, "`%s` exited with %d", cmd, status);
    return status;
}

typedef struct {
    apisig_headers h;
    apisig_header_in in[APISIG_MAX_HEADERS];
    uint8_t buf[512];
    apisig_request r;
} signed_request;

/* Signs POST /orders under `scheme` with `key` (key id or static key) and `secret`. */
static apisig_result sign(signed_request *q, const apisig_scheme *scheme, const char *key, const char *secret,
                          uint64_t now) {
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
    q->r.method = "POST";
    q->r.method_len = 4;
    q->r.path = "/orders";
    q->r.path_len = 7;
    q->r.body = (const uint8_t *)"{\"qty\":1}";
    q->r.body_len = 9;
    st.now_ns = now;
    st.nonce = 0;
    st.has_nonce = 0;
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

static apisig_scheme signius, aevo;

/* Signs a fresh request for `key`/`secret` and verifies it from `peer` (NULL: unknown). */
static apisig_result verify(apisig_verifier *v, const apisig_scheme *scheme, const char *key, const char *secret,
                            const char *peer, apisig_principal *who) {
    static uint64_t last;
    signed_request q;
    apisig_ip ip;
    uint64_t now = wall_ns();
    if (now <= last) now = last + 1; /* a distinct request each time (replay cache) */
    last = now;
    CHECK_RC(APISIG_RESULT_OK, sign(&q, scheme, key, secret, now));
    if (!peer) return apisig_verifier_verify(v, scheme, &q.r, now, who);
    CHECK_RC(APISIG_RESULT_OK, apisig_ip_parse(peer, strlen(peer), &ip));
    return apisig_verifier_verify_from(v, scheme, &q.r, &ip, now, who);
}

static int is(const apisig_principal *who, const char *id) {
    return who->id_len == strlen(id) && memcmp(who->id, id, who->id_len) == 0 && who->client == APISIG_CLIENT_NONE;
}

static apisig_store *open_store(const char *master, apisig_result want) {
    apisig_store *store = NULL;
    apisig_store_config config;
    memset(&config, 0, sizeof config);
    config.cache_ttl_ms = TTL_MS;
    config.roles = "reader,admin";
    config.roles_len = strlen(config.roles);
    config.scopes = "read, orders:write,withdraw";
    config.scopes_len = strlen(config.scopes);
    CHECK_RC(want, apisig_store_open(url, strlen(url), (const uint8_t *)master, master ? strlen(master) : 0, &config,
                                     &store));
    CHECK((store != NULL) == (want == APISIG_RESULT_OK), "*out written only on OK");
    return store;
}

int main(int argc, char **argv) {
    char alice[128], bob[128], carol[128], erin[128], gina[128], typo[128], dave[APISIG_ISSUED_KEY_MAX];
    char master_nl[80];
    apisig_store *store, *other;
    apisig_verifier *v;
    apisig_principal who;
    apisig_ip direct, client;
    size_t len = 0;
    uint64_t filled;
    const char *stop = argc > 4 ? argv[3] : NULL, *start = argc > 4 ? argv[4] : NULL;

    if (argc < 3) {
        fprintf(stderr, "usage: store CLI URL [STOP-CMD START-CMD]\n");
        return 2;
    }
    cli = argv[1];
    url = argv[2];
    CHECK_RC(APISIG_RESULT_OK, apisig_preset(S("signius"), &signius));
    CHECK_RC(APISIG_RESULT_OK, apisig_preset(S("aevo"), &aevo));

    /* The command line creates the store and its clients, under the master key the
     * environment gives it (as a deployment's would). */
    setenv("APISIG_MASTER_KEY", MASTER, 1);
    keys(NULL, 0, "init");
    keys(alice, sizeof alice, "create alice --issue static");
    keys(bob, sizeof bob, "create bob --issue hmac");
    keys(carol, sizeof carol, "create carol --issue static --allow 192.0.2.0/24 --allow 2001:db8::/32");
    keys(erin, sizeof erin, "create erin --issue static --role admin");
    CHECK(strncmp(alice, "apisig_sk_", 10) == 0 && strncmp(bob, "apisig_hs_", 10) == 0, "issued keys: %s", alice);

    /* The master key: another one, none, not a key. */
    open_store(OTHER_MASTER, APISIG_RESULT_WRONG_MASTER_KEY);
    open_store("not-a-master-key", APISIG_RESULT_INVALID_MASTER_KEY);
    other = open_store(NULL, APISIG_RESULT_OK); /* from APISIG_MASTER_KEY, as the CLI */
    apisig_store_free(other);
    unsetenv("APISIG_MASTER_KEY");
    open_store(NULL, APISIG_RESULT_INVALID_MASTER_KEY);
    setenv("APISIG_MASTER_KEY", MASTER, 1);
    snprintf(master_nl, sizeof master_nl, "%s\n", MASTER); /* as a key file holds it */
    store = open_store(master_nl, APISIG_RESULT_OK);
    if (!store) return check_report("store");
    CHECK(apisig_verifier_new_with_store(NULL, WINDOW) == NULL, "no store, no verifier");
    v = apisig_verifier_new_with_store(store, WINDOW);
    CHECK(v != NULL && apisig_verifier_keyring(v) == NULL, "a verifier over the store has no keyring");

    /* Issued keys verify as their clients: a static key, an HMAC secret (key id = client). */
    CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, alice, NULL, "203.0.113.9", &who));
    CHECK(is(&who, "alice") && who.slot == APISIG_SLOT_PRIMARY && !who.has_role && who.scopes == 0, "alice");
    filled = mono_ms();
    CHECK_RC(APISIG_RESULT_OK, verify(v, &aevo, "bob", bob, NULL, &who));
    CHECK(is(&who, "bob"), "bob");
    CHECK_RC(APISIG_RESULT_SIGNATURE_MISMATCH, verify(v, &aevo, "bob", "apisig_hs_not-the-secret", NULL, &who));
    CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, erin, NULL, NULL, &who));
    CHECK(is(&who, "erin") && who.has_role && who.role == 1, "erin's role is the config's second name");
    /* A typo (one character of the random part) fails the checksum: refused before a lookup. */
    snprintf(typo, sizeof typo, "%s", alice);
    typo[12] = typo[12] == 'a' ? 'b' : 'a';
    CHECK_RC(APISIG_RESULT_INVALID_KEY_FORMAT, verify(v, &signius, typo, NULL, NULL, &who));
    CHECK_RC(APISIG_RESULT_UNKNOWN_KEY, verify(v, &aevo, "nobody", "apisig_hs_x", NULL, &who));

    /* Allowed ranges: the peer the server passes, IPv4, IPv6, IPv4-mapped, behind a proxy. */
    CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, carol, NULL, "192.0.2.7", &who));
    CHECK(is(&who, "carol"), "carol");
    CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, carol, NULL, "2001:db8::42", &who));
    CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, carol, NULL, "::ffff:192.0.2.7", &who));
    CHECK_RC(APISIG_RESULT_ADDRESS_NOT_ALLOWED, verify(v, &signius, carol, NULL, "198.51.100.1", &who));
    CHECK_RC(APISIG_RESULT_ADDRESS_NOT_ALLOWED, verify(v, &signius, carol, NULL, "2001:db9::1", &who));
    CHECK_RC(APISIG_RESULT_ADDRESS_NOT_ALLOWED, verify(v, &signius, carol, NULL, NULL, &who));
    CHECK_RC(APISIG_RESULT_OK, apisig_ip_parse(S("10.0.0.1"), &direct));
    CHECK_RC(APISIG_RESULT_OK, apisig_peer_behind_proxies(&direct, S("198.51.100.1, 192.0.2.8"), S("10.0.0.0/8"), &client));
    CHECK(client.family == APISIG_IP_V4 && memcmp(client.bytes, "\xc0\x00\x02\x08", 4) == 0, "the client behind the proxy");
    {
        signed_request q;
        uint64_t now = wall_ns();
        CHECK_RC(APISIG_RESULT_OK, sign(&q, &signius, carol, NULL, now));
        CHECK_RC(APISIG_RESULT_OK, apisig_verifier_verify_from(v, &signius, &q.r, &client, now, &who));
        /* The same header from a peer that is no trusted proxy: the peer itself counts. */
        CHECK_RC(APISIG_RESULT_OK, apisig_ip_parse(S("198.51.100.1"), &direct));
        CHECK_RC(APISIG_RESULT_OK,
                 apisig_peer_behind_proxies(&direct, S("192.0.2.8"), S("10.0.0.0/8"), &client));
        CHECK_RC(APISIG_RESULT_OK, sign(&q, &signius, carol, NULL, now + 1));
        CHECK_RC(APISIG_RESULT_ADDRESS_NOT_ALLOWED, apisig_verifier_verify_from(v, &signius, &q.r, &client, now + 1, &who));
    }

    /* Revoked by the command line, another process: served from the cache until its
     * time-to-live has passed, refused after. */
    keys(NULL, 0, "revoke alice --slot primary");
    if (mono_ms() - filled < TTL_MS - 200)
        CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, alice, NULL, NULL, &who));
    while (mono_ms() - filled <= TTL_MS + 50) sleep_ms(50);
    CHECK_RC(APISIG_RESULT_KEY_REVOKED, verify(v, &signius, alice, NULL, NULL, &who));
    /* Disabled by the command line, seen at once after an invalidation. */
    keys(NULL, 0, "disable erin");
    CHECK_RC(APISIG_RESULT_OK, apisig_store_invalidate(store, S("erin")));
    CHECK_RC(APISIG_RESULT_CLIENT_DISABLED, verify(v, &signius, erin, NULL, NULL, &who));

    /* Scopes given by the command line: bit i is the config's i-th name; a stored scope the
     * server does not name (audit) gives nothing. Replaced with `keys scopes`, seen after an
     * invalidation; the server checks a request's with the core's rule. */
    keys(gina, sizeof gina, "create gina --issue static --scope orders:write --scope audit --scope read");
    CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, gina, NULL, NULL, &who));
    CHECK(is(&who, "gina") && who.scopes == 0x3, "gina's scopes: %llx", (unsigned long long)who.scopes);
    CHECK_RC(APISIG_RESULT_OK, apisig_scopes_authorize(who.scopes, 0x2));
    CHECK_RC(APISIG_RESULT_OK, apisig_scopes_authorize(who.scopes, 0x3));
    CHECK_RC(APISIG_RESULT_FORBIDDEN, apisig_scopes_authorize(who.scopes, 0x4));
    CHECK_RC(APISIG_RESULT_FORBIDDEN, apisig_scopes_authorize(who.scopes, 0x6));
    keys(NULL, 0, "scopes gina withdraw");
    CHECK_RC(APISIG_RESULT_OK, apisig_store_invalidate(store, S("gina")));
    CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, gina, NULL, NULL, &who));
    CHECK(who.scopes == 0x4, "gina's scopes replaced: %llx", (unsigned long long)who.scopes);
    CHECK_RC(APISIG_RESULT_FORBIDDEN, apisig_scopes_authorize(who.scopes, 0x2));
    CHECK_RC(APISIG_RESULT_OK, apisig_scopes_authorize(who.scopes, 0x4));
    keys(NULL, 0, "scopes gina --none");
    CHECK_RC(APISIG_RESULT_OK, apisig_store_invalidate(store, S("gina")));
    CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, gina, NULL, NULL, &who));
    CHECK(who.scopes == 0, "gina's scopes removed");

    /* The server's own lifecycle calls; each is seen by its verifiers at once. */
    CHECK_RC(APISIG_RESULT_OK, apisig_store_revoke_client(store, S("bob")));
    CHECK_RC(APISIG_RESULT_CLIENT_REVOKED, verify(v, &aevo, "bob", bob, NULL, &who));
    CHECK_RC(APISIG_RESULT_OK, apisig_store_create_client(store, S("dave")));
    CHECK_RC(APISIG_RESULT_DUPLICATE_KEY_ID, apisig_store_create_client(store, S("dave")));
    CHECK_RC(APISIG_RESULT_INVALID_HEADER_VALUE, apisig_store_create_client(store, S("da ve")));
    CHECK_RC(APISIG_RESULT_BUFFER_TOO_SMALL,
             apisig_store_issue(store, S("dave"), APISIG_SLOT_PRIMARY, APISIG_KEY_HMAC, dave, 10, &len));
    CHECK(len == 59, "the size an apisig_hs_ key needs: %zu", len);
    /* Nothing was issued: the slot is still free. */
    CHECK_RC(APISIG_RESULT_OK,
             apisig_store_issue(store, S("dave"), APISIG_SLOT_PRIMARY, APISIG_KEY_HMAC, dave, sizeof dave - 1, &len));
    dave[len] = '\0';
    CHECK(len == 59 && strncmp(dave, "apisig_hs_", 10) == 0, "dave's key");
    CHECK_RC(APISIG_RESULT_DUPLICATE_KEY_ID,
             apisig_store_issue(store, S("dave"), APISIG_SLOT_PRIMARY, APISIG_KEY_STATIC, dave, sizeof dave, &len));
    CHECK_RC(APISIG_RESULT_UNKNOWN_KEY,
             apisig_store_issue(store, S("nobody"), APISIG_SLOT_PRIMARY, APISIG_KEY_STATIC, dave, sizeof dave, &len));
    CHECK_RC(APISIG_RESULT_INVALID_TEMPLATE, apisig_store_issue(store, S("dave"), APISIG_SLOT_SECONDARY, 7, dave, sizeof dave, &len));
    CHECK_RC(APISIG_RESULT_OK, verify(v, &aevo, "dave", dave, NULL, &who));
    CHECK(is(&who, "dave"), "dave");
    CHECK_RC(APISIG_RESULT_UNKNOWN_KEY, apisig_store_revoke_key(store, S("dave"), APISIG_SLOT_SECONDARY));
    CHECK_RC(APISIG_RESULT_OK, apisig_store_revoke_key(store, S("dave"), APISIG_SLOT_PRIMARY));
    CHECK_RC(APISIG_RESULT_KEY_REVOKED, verify(v, &aevo, "dave", dave, NULL, &who));
    CHECK_RC(APISIG_RESULT_UNKNOWN_KEY, apisig_store_revoke_client(store, S("nobody")));
    CHECK_RC(APISIG_RESULT_OK, apisig_store_invalidate_all(store));

    /* The database stopped: stale entries fail closed (503), and the verifier recovers; a
     * store opened with serve_stale_ms serves them for that long instead. */
    if (stop && start) {
        apisig_store_config lenient;
        apisig_verifier *lv;
        memset(&lenient, 0, sizeof lenient);
        lenient.cache_ttl_ms = TTL_MS;
        lenient.serve_stale_ms = 600000;
        CHECK_RC(APISIG_RESULT_OK, apisig_store_open(url, strlen(url), (const uint8_t *)MASTER, 64, &lenient, &other));
        lv = apisig_verifier_new_with_store(other, WINDOW);
        CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, carol, NULL, "192.0.2.7", &who));
        CHECK_RC(APISIG_RESULT_OK, verify(lv, &signius, carol, NULL, "192.0.2.7", &who));
        CHECK(system(stop) == 0, "%s", stop);
        sleep_ms(TTL_MS + 100);
        CHECK_RC(APISIG_RESULT_STORE_UNAVAILABLE, verify(v, &signius, carol, NULL, "192.0.2.7", &who));
        CHECK_RC(APISIG_RESULT_STORE_UNAVAILABLE, apisig_store_create_client(store, S("frank")));
        CHECK_RC(APISIG_RESULT_OK, verify(lv, &signius, carol, NULL, "192.0.2.7", &who));
        CHECK(is(&who, "carol"), "carol, served stale");
        CHECK(system(start) == 0, "%s", start);
        CHECK_RC(APISIG_RESULT_OK, verify(v, &signius, carol, NULL, "192.0.2.7", &who));
        CHECK(is(&who, "carol"), "carol again");
        apisig_verifier_free(lv);
        apisig_store_free(other);
    }

    apisig_verifier_free(v);
    apisig_store_free(store);
    return check_report("store");
}
