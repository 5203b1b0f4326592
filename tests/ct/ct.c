/* Constant-time check (issue 7): every path that compares secret material runs under
 * valgrind memcheck with the secrets marked undefined. Memcheck then reports any branch or
 * memory index that depends on them ("Conditional jump or move depends on uninitialised
 * value(s)", "Use of uninitialised value"). scripts/ct-test.sh runs this program and
 * tests/ct/check.py fails on any report outside the declassification points listed in
 * tests/ct/declassify.txt.
 *
 * What is marked undefined (VALGRIND_MAKE_MEM_UNDEFINED):
 *   - registered static keys, API secrets, HMAC secrets, JWT and session secrets and
 *     certificate pins, before they are hashed into the keyring;
 *   - presented credentials that are themselves secrets: static keys and API secrets.
 * Presented HMAC signatures and the signature part of JWTs and session tokens stay defined
 * by default: the secret they are compared with (the MAC computed from an undefined key)
 * is undefined, so the comparison is still checked. `ct sigs` also marks them undefined;
 * that run reports the decoders' validity checks and the token scanners, see
 * tests/ct/README.md.
 * Results are declassified (VALGRIND_MAKE_MEM_DEFINED) here before this program branches on
 * them. The library's own declassification points (where the core turns a constant-time
 * verdict into Ok/Err, and uses the matched client afterwards) cannot be marked from C —
 * the core is no_std and forbids unsafe code — so they are listed in declassify.txt.
 *
 *   ct            run every path (must be clean)
 *   ct sigs       also mark presented signatures undefined (informational)
 *   ct control    a naive memcmp and an early-exit loop over a secret: MUST be flagged
 *
 * Expected values (signatures, tokens) are computed from separate, defined copies of the
 * secrets, so signing is not under test here (its output is sent in clear anyway).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "apisig.h"

#define NOW 1700000000000000000ULL
#define N_CLIENTS 4

static int failures;
static int mark_presented_signatures;
static int checks;

static void secret(const void *p, size_t n) { (void)VALGRIND_MAKE_MEM_UNDEFINED(p, n); }
static void declassify(const void *p, size_t n) { (void)VALGRIND_MAKE_MEM_DEFINED(p, n); }

static void expect(const char *what, apisig_result got, apisig_result want) {
  declassify(&got, sizeof got);
  checks++;
  if (got != want) {
    failures++;
    printf("FAIL %s: %s, want %s (check %d)\n", what, apisig_result_name(got), apisig_result_name(want), checks);
  }
}

static void expect_who(const char *what, apisig_principal *who, uint32_t client, uint32_t slot) {
  declassify(who, sizeof *who);
  checks++;
  if (who->client != client || who->slot != slot) {
    failures++;
    printf("FAIL %s: client %u slot %u, want %u %u\n", what, who->client, who->slot, client, slot);
  }
}

/* A copy of `s` in a buffer of its own, marked undefined. */
static uint8_t *secret_copy(uint8_t *buf, const char *s, size_t *len) {
  *len = strlen(s);
  memcpy(buf, s, *len);
  secret(buf, *len);
  return buf;
}

static apisig_scheme preset(const char *name) {
  apisig_scheme s;
  if (apisig_preset(name, strlen(name), &s) != APISIG_RESULT_OK) {
    printf("no preset %s\n", name);
    exit(2);
  }
  return s;
}

static apisig_result verify1(apisig_verifier *v, const apisig_scheme *s, const char *method, const char *path,
                             const apisig_header_in *h, size_t n, uint64_t now, apisig_principal *who) {
  apisig_request req = {method, strlen(method), path, strlen(path), NULL, 0, h, n};
  return apisig_verifier_verify(v, s, &req, now, who);
}

/* ---- static keys: every key of every client, both slots ---------------------------- */

static const char *STATIC_KEYS[N_CLIENTS][2] = {
    {"3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le", "q8ZtR2vLx0NcB7mW4kYp1HsJ9dFg3AeU6oIi5TrEwQyXzVb2CnMlKjHg8FdSa0Pq"},
    {"ci-6Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le", "ci-2-Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7L"},
    {"zs-primary-0123456789abcdef0123456789abcdef", "zs-secondary-0123456789abcdef0123456789abcd"},
    {"securosys-key-management-token-000000000000", "securosys-key-management-token-secondary-01"},
};

static void static_keys(void) {
  static apisig_verifier v;
  static uint8_t keys[N_CLIENTS][2][80];
  char label[16];
  expect("verifier init", apisig_verifier_init(&v, NULL, APISIG_WINDOW_DEFAULT_NS), APISIG_RESULT_OK);
  apisig_keyring *ring = apisig_verifier_keyring(&v);
  for (uint32_t c = 0; c < N_CLIENTS; c++) {
    size_t n0, n1;
    uint32_t id;
    snprintf(label, sizeof label, "client-%u", c);
    uint8_t *k0 = secret_copy(keys[c][0], STATIC_KEYS[c][0], &n0);
    uint8_t *k1 = secret_copy(keys[c][1], STATIC_KEYS[c][1], &n1);
    expect("static add", apisig_keyring_add(ring, label, strlen(label), k0, n0, &id), APISIG_RESULT_OK);
    expect("static secondary", apisig_keyring_set_secret(ring, id, APISIG_SLOT_SECONDARY, k1, n1), APISIG_RESULT_OK);
  }
  /* A duplicate key is refused (the duplicate check compares secrets, too). */
  uint32_t dup;
  size_t nd;
  uint8_t again[80];
  secret_copy(again, STATIC_KEYS[2][1], &nd);
  expect("static duplicate", apisig_keyring_add(ring, "dup", 3, again, nd, &dup), APISIG_RESULT_DUPLICATE_KEY_ID);

  const char *schemes[] = {"signius", "securosys", "zignsec", "zignsec-legacy"};
  const char *names[] = {"X-Api-Key", "X-API-KEY", "Zs-Product-Key", "Authorization"};
  for (size_t s = 0; s < 4; s++) {
    apisig_scheme scheme = preset(schemes[s]);
    for (uint32_t c = 0; c < N_CLIENTS; c++) {
      for (uint32_t slot = 0; slot < 2; slot++) {
        uint8_t presented[80];
        size_t n;
        secret_copy(presented, STATIC_KEYS[c][slot], &n);
        apisig_header_in h = {names[s], strlen(names[s]), presented, n};
        apisig_principal who;
        expect("static match", verify1(&v, &scheme, "GET", "/v1/sign", &h, 1, NOW, &who), APISIG_RESULT_OK);
        expect_who("static principal", &who, c, slot);
        /* Wrong keys: differing in the first byte, in the last byte. */
        for (int where = 0; where < 2; where++) {
          secret_copy(presented, STATIC_KEYS[c][slot], &n);
          presented[where ? n - 1 : 0] ^= 0x01;
          expect("static mismatch", verify1(&v, &scheme, "GET", "/", &h, 1, NOW, &who), APISIG_RESULT_UNKNOWN_KEY);
        }
      }
    }
  }
  expect("wipe", apisig_verifier_wipe(&v), APISIG_RESULT_OK);
}

/* ---- Aevo key + secret in clear ----------------------------------------------------- */

static void key_and_secret(void) {
  static apisig_verifier v;
  static const char *secrets[N_CLIENTS][2] = {
      {"API_SECRET", "API_SECRET_NEXT"}, {"aevo-secret-1", "aevo-secret-1b"},
      {"aevo-secret-2", "aevo-secret-2b"}, {"aevo-secret-3", "aevo-secret-3b"}};
  static uint8_t bufs[N_CLIENTS][2][32];
  const char *ids[N_CLIENTS] = {"API_KEY", "key-1", "key-2", "key-3"};
  expect("verifier init", apisig_verifier_init(&v, NULL, APISIG_WINDOW_DEFAULT_NS), APISIG_RESULT_OK);
  apisig_keyring *ring = apisig_verifier_keyring(&v);
  for (uint32_t c = 0; c < N_CLIENTS; c++) {
    size_t n0, n1;
    uint32_t id;
    secret_copy(bufs[c][0], secrets[c][0], &n0);
    secret_copy(bufs[c][1], secrets[c][1], &n1);
    expect("secret add", apisig_keyring_add(ring, ids[c], strlen(ids[c]), bufs[c][0], n0, &id), APISIG_RESULT_OK);
    expect("secret secondary", apisig_keyring_set_secret(ring, id, APISIG_SLOT_SECONDARY, bufs[c][1], n1),
           APISIG_RESULT_OK);
  }
  apisig_scheme scheme = preset("aevo-secret");
  for (uint32_t c = 0; c < N_CLIENTS; c++) {
    for (uint32_t slot = 0; slot < 2; slot++) {
      uint8_t presented[32];
      size_t n;
      secret_copy(presented, secrets[c][slot], &n);
      apisig_header_in h[2] = {{"AEVO-KEY", 8, (const uint8_t *)ids[c], strlen(ids[c])}, {"AEVO-SECRET", 11, presented, n}};
      apisig_principal who;
      expect("secret match", verify1(&v, &scheme, "GET", "/account", h, 2, NOW, &who), APISIG_RESULT_OK);
      expect_who("secret principal", &who, c, slot);
      for (int where = 0; where < 2; where++) {
        secret_copy(presented, secrets[c][slot], &n);
        presented[where ? n - 1 : 0] ^= 0x20;
        expect("secret mismatch", verify1(&v, &scheme, "GET", "/account", h, 2, NOW, &who),
               APISIG_RESULT_SECRET_MISMATCH);
      }
    }
  }
  expect("wipe", apisig_verifier_wipe(&v), APISIG_RESULT_OK);
}

/* ---- HMAC-signed requests: aevo (lower hex), apex (either-case hex), custom base64 --------- */

static const apisig_header_spec CUSTOM_HEADERS[] = {
    {"CB-ACCESS-KEY", 13, NULL, 0, APISIG_FIELD_API_KEY},
    {"CB-ACCESS-SIGN", 14, NULL, 0, APISIG_FIELD_SIGNATURE},
    {"CB-ACCESS-TIMESTAMP", 19, NULL, 0, APISIG_FIELD_TIMESTAMP},
};
static const apisig_part CUSTOM_PARTS[] = {
    {APISIG_PART_KIND_TIMESTAMP, NULL, 0}, {APISIG_PART_KIND_METHOD, NULL, 0},
    {APISIG_PART_KIND_PATH, NULL, 0},      {APISIG_PART_KIND_BODY, NULL, 0}};

struct dialect {
  const char *name;
  apisig_scheme scheme;
  const char *sig_header;
  int nonce; /* APEX: a rising nonce instead of a timestamp */
};

static void signed_requests(void) {
  static apisig_verifier v;
  static const char *secrets[N_CLIENTS][2] = {
      {"hmac-secret-0", "hmac-secret-0-next"}, {"hmac-secret-1", "hmac-secret-1-next"},
      {"hmac-secret-2", "hmac-secret-2-next"}, {"hmac-secret-3", "hmac-secret-3-next"}};
  static uint8_t bufs[N_CLIENTS][2][32];
  const char *ids[N_CLIENTS] = {"API_KEY", "f3a9c2e5", "key-2", "key-3"};
  const char *users[N_CLIENTS] = {"10", "12", "14", "16"};
  struct dialect dialects[3] = {
      {"aevo", preset("aevo"), "AEVO-SIGNATURE", 0},
      {"apex", preset("apex"), "Signature", 1},
      {"custom-base64",
       {0, CUSTOM_HEADERS, 3, CUSTOM_PARTS, 4, NULL, 0, APISIG_ENCODING_BASE64, APISIG_TIME_UNIT_SECONDS, 0},
       "CB-ACCESS-SIGN", 0},
  };
  expect("custom scheme", apisig_scheme_check(&dialects[2].scheme), APISIG_RESULT_OK);
  expect("verifier init", apisig_verifier_init(&v, NULL, APISIG_WINDOW_DEFAULT_NS), APISIG_RESULT_OK);
  apisig_keyring *ring = apisig_verifier_keyring(&v);
  for (uint32_t c = 0; c < N_CLIENTS; c++) {
    size_t n0, n1;
    uint32_t id;
    secret_copy(bufs[c][0], secrets[c][0], &n0);
    secret_copy(bufs[c][1], secrets[c][1], &n1);
    expect("hmac add", apisig_keyring_add(ring, ids[c], strlen(ids[c]), bufs[c][0], n0, &id), APISIG_RESULT_OK);
    expect("hmac secondary", apisig_keyring_set_secret(ring, id, APISIG_SLOT_SECONDARY, bufs[c][1], n1),
           APISIG_RESULT_OK);
    expect("bind user", apisig_keyring_bind_user_id(ring, id, users[c], strlen(users[c])), APISIG_RESULT_OK);
  }
  uint64_t nonce = 1000;
  uint64_t now = NOW;
  for (size_t d = 0; d < 3; d++) {
    for (uint32_t c = 0; c < N_CLIENTS; c++) {
      for (uint32_t slot = 0; slot < 2; slot++) {
        for (int variant = 0; variant < 3; variant++) { /* good, bad first char, bad last char */
          /* Sign with a defined copy of the secret. */
          apisig_credentials creds = {ids[c], strlen(ids[c]), (const uint8_t *)secrets[c][slot],
                                      strlen(secrets[c][slot]), users[c], strlen(users[c]), NULL, 0};
          apisig_request req = {"GET", 3, "/orders?limit=5", 15, NULL, 0, NULL, 0};
          apisig_stamp stamp = {++now, ++nonce, dialects[d].nonce != 0};
          apisig_headers out;
          static uint8_t buf[512];
          size_t used;
          expect("sign", apisig_sign(&dialects[d].scheme, &creds, &req, stamp, &out, buf, sizeof buf, &used),
                 APISIG_RESULT_OK);
          apisig_header_in in[APISIG_MAX_HEADERS];
          static uint8_t sig[APISIG_MAX_HEADERS][128];
          for (size_t i = 0; i < out.len; i++) {
            in[i].name = out.lines[i].name;
            in[i].name_len = out.lines[i].name_len;
            in[i].value = (const uint8_t *)out.lines[i].value;
            in[i].value_len = out.lines[i].value_len;
            if (out.lines[i].name_len == strlen(dialects[d].sig_header) &&
                memcmp(out.lines[i].name, dialects[d].sig_header, out.lines[i].name_len) == 0) {
              memcpy(sig[i], out.lines[i].value, out.lines[i].value_len);
              size_t n = out.lines[i].value_len;
              /* Change the first or last character into another valid one of the same
               * alphabet (for base64, one that keeps the unused low bits zero). */
              int b64 = dialects[d].scheme.preset == 0;
              if (variant == 1) sig[i][0] = b64 ? (sig[i][0] == 'A' ? 'B' : 'A') : (sig[i][0] == '0' ? '1' : '0');
              if (variant == 2) {
                size_t k = b64 ? n - 2 : n - 1;
                sig[i][k] = b64 ? (sig[i][k] == 'A' ? 'Q' : 'A') : (sig[i][k] == '0' ? '1' : '0');
              }
              if (d == 1 && variant == 0 && slot == 1) /* APEX accepts either case */
                for (size_t k = 0; k < n; k++) if (sig[i][k] >= 'a' && sig[i][k] <= 'f') sig[i][k] -= 32;
              if (mark_presented_signatures) secret(sig[i], n);
              in[i].value = sig[i];
            }
          }
          apisig_principal who;
          apisig_result want = variant == 0 ? APISIG_RESULT_OK : APISIG_RESULT_SIGNATURE_MISMATCH;
          expect(dialects[d].name, verify1(&v, &dialects[d].scheme, "GET", "/orders?limit=5", in, out.len, now, &who),
                 want);
          if (variant == 0) {
            expect_who(dialects[d].name, &who, c, slot);
            /* The same request again is a replay. */
            expect("replay", verify1(&v, &dialects[d].scheme, "GET", "/orders?limit=5", in, out.len, now, &who),
                   APISIG_RESULT_REPLAYED_REQUEST);
          }
        }
      }
    }
  }
  expect("wipe", apisig_verifier_wipe(&v), APISIG_RESULT_OK);
}

/* ---- bearer JWTs and session tokens -------------------------------------------------------- */

/* Marks the part of a token after its last '.' (the signature) undefined. */
static void secret_signature(uint8_t *token, size_t n) {
  if (!mark_presented_signatures) return;
  size_t dot = n;
  while (dot > 0 && token[dot - 1] != '.') dot--;
  secret(token + dot, n - dot);
}

static void tokens(void) {
  static apisig_verifier v;
  static const char *JWT_SECRET = "apisig-jwt-test-key/0123456789abcdef";
  static const char *SESSION[2] = {"apisig-session-primary-2024-Qm8vT3xK", "apisig-session-secondary-2023-Lr5wN9pD"};
  uint8_t jwt_key[64], s0[64], s1[64];
  size_t nj, n0, n1;
  uint32_t id;
  expect("verifier init", apisig_verifier_init(&v, NULL, APISIG_WINDOW_DEFAULT_NS), APISIG_RESULT_OK);
  apisig_keyring *ring = apisig_verifier_keyring(&v);
  expect("add", apisig_keyring_add(ring, "client-7", 8, (const uint8_t *)"unused-secret-7", 15, &id), APISIG_RESULT_OK);
  expect("add", apisig_keyring_add(ring, "d6b1bf0e", 8, (const uint8_t *)"unused-secret-8", 15, &id), APISIG_RESULT_OK);
  expect("bind", apisig_keyring_bind_user_id(ring, id, "12345", 5), APISIG_RESULT_OK);
  apisig_opt_str none = {0, NULL, 0};
  secret_copy(jwt_key, JWT_SECRET, &nj);
  expect("set jwt", apisig_verifier_set_jwt(&v, jwt_key, nj, 0, 1, none, none), APISIG_RESULT_OK);
  secret_copy(s0, SESSION[0], &n0);
  secret_copy(s1, SESSION[1], &n1);
  apisig_opt_bytes second = {1, s1, n1};
  expect("set session", apisig_verifier_set_session_keys(&v, s0, n0, second), APISIG_RESULT_OK);

  apisig_scheme jwt_scheme = preset("securosys-jwt");
  const char *claims = "{\"sub\":\"client-7\",\"exp\":1700003600}";
  for (int variant = 0; variant < 3; variant++) {
    uint8_t token[512];
    size_t n;
    memcpy(token, "Bearer ", 7);
    expect("jwt encode", apisig_jwt_encode((const uint8_t *)JWT_SECRET, strlen(JWT_SECRET), NULL, 0,
                                           (const uint8_t *)claims, strlen(claims), token + 7, sizeof token - 7, &n),
           APISIG_RESULT_OK);
    n += 7;
    if (variant == 1) { size_t k = n - 43; token[k] = token[k] == 'A' ? 'B' : 'A'; }
    if (variant == 2) token[n - 1] = token[n - 1] == 'A' ? 'Q' : 'A'; /* keeps the unused bits zero */
    secret_signature(token, n);
    apisig_header_in h = {"Authorization", 13, token, n};
    apisig_principal who;
    expect("jwt", verify1(&v, &jwt_scheme, "GET", "/v1/key", &h, 1, NOW, &who),
           variant == 0 ? APISIG_RESULT_OK : APISIG_RESULT_SIGNATURE_MISMATCH);
    if (variant == 0) expect_who("jwt principal", &who, 0, APISIG_SLOT_PRIMARY);
  }

  apisig_scheme session_scheme = preset("apex-session");
  for (uint32_t slot = 0; slot < 2; slot++) {
    for (int variant = 0; variant < 3; variant++) {
      uint8_t token[APISIG_SESSION_TOKEN_MAX];
      size_t n;
      expect("session issue", apisig_session_issue((const uint8_t *)SESSION[slot], strlen(SESSION[slot]), "12345", 5,
                                                   "d6b1bf0e", 8, 1700003600, token, sizeof token, &n),
             APISIG_RESULT_OK);
      if (variant == 1) { size_t k = n - 43; token[k] = token[k] == 'A' ? 'B' : 'A'; }
      if (variant == 2) token[n - 1] = token[n - 1] == 'A' ? 'Q' : 'A';
      secret_signature(token, n);
      apisig_header_in h = {"aptoken", 7, token, n};
      apisig_principal who;
      expect("session", verify1(&v, &session_scheme, "GET", "/", &h, 1, NOW, &who),
             variant == 0 ? APISIG_RESULT_OK : APISIG_RESULT_SIGNATURE_MISMATCH);
      if (variant == 0) expect_who("session principal", &who, 1, slot);
    }
  }
  expect("wipe", apisig_verifier_wipe(&v), APISIG_RESULT_OK);
}

/* ---- HMAC one-shot verify --------------------------------------------------------------- */

static void hmac_verify(void) {
  uint8_t key[16], tag[APISIG_TAG_BYTES], good[APISIG_TAG_BYTES];
  size_t n, len;
  const char *msg = "what do ya want for nothing?";
  expect("hmac", apisig_hmac_sha256((const uint8_t *)"Jefe", 4, (const uint8_t *)msg, strlen(msg), good, sizeof good, &len),
         APISIG_RESULT_OK);
  for (int variant = 0; variant < 3; variant++) {
    secret_copy(key, "Jefe", &n);
    memcpy(tag, good, sizeof tag);
    if (variant == 1) tag[0] ^= 1;
    if (variant == 2) tag[sizeof tag - 1] ^= 0x80;
    if (mark_presented_signatures) secret(tag, sizeof tag);
    expect("hmac verify", apisig_hmac_sha256_verify(key, n, (const uint8_t *)msg, strlen(msg), tag, sizeof tag),
           variant == 0 ? APISIG_RESULT_OK : APISIG_RESULT_SIGNATURE_MISMATCH);
  }
}

/* ---- certificate pins ----------------------------------------------------------------- */

static size_t read_file(const char *path, uint8_t *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) { printf("cannot read %s\n", path); exit(2); }
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static void pins(const char *vectors) {
  static apisig_verifier v;
  static const char *certs[] = {"ec-p256-leaf.der", "rsa2048-leaf.der", "ec-p256-v1-leaf.der", "client-ec-p256.der"};
  static uint8_t der[4][4096];
  size_t len[4];
  char path[512];
  expect("verifier init", apisig_verifier_init(&v, NULL, APISIG_WINDOW_DEFAULT_NS), APISIG_RESULT_OK);
  apisig_keyring *ring = apisig_verifier_keyring(&v);
  for (uint32_t c = 0; c < 4; c++) {
    char label[16];
    uint8_t k[16];
    uint32_t id;
    snprintf(path, sizeof path, "%s/certs/%s", vectors, certs[c]);
    len[c] = read_file(path, der[c], sizeof der[c]);
    snprintf(label, sizeof label, "device-%u", c);
    snprintf((char *)k, sizeof k, "unused-%u", c);
    expect("add", apisig_keyring_add(ring, label, strlen(label), k, strlen((char *)k), &id), APISIG_RESULT_OK);
    /* Certificate pin in one slot, public-key pin in the other: both kinds, both slots. */
    uint32_t kind = c % 2 ? APISIG_PIN_KIND_PUBLIC_KEY : APISIG_PIN_KIND_CERTIFICATE;
    uint8_t fp[APISIG_PIN_BYTES];
    size_t n;
    expect("fingerprint", apisig_certificate_fingerprint(der[c], len[c], kind, fp, sizeof fp, &n), APISIG_RESULT_OK);
    secret(fp, sizeof fp);
    expect("pin", apisig_keyring_set_pin(ring, id, c % 2, kind, fp, sizeof fp), APISIG_RESULT_OK);
  }
  for (uint32_t c = 0; c < 4; c++) {
    apisig_principal who;
    expect("pin match", apisig_verifier_verify_certificate(&v, der[c], len[c], 0, &who), APISIG_RESULT_OK);
    expect_who("pin principal", &who, c, c % 2);
  }
  snprintf(path, sizeof path, "%s/certs/ca-ec-p256.der", vectors);
  size_t n = read_file(path, der[0], sizeof der[0]);
  apisig_principal who;
  expect("pin unpinned", apisig_verifier_verify_certificate(&v, der[0], n, 0, &who), APISIG_RESULT_UNPINNED_CERTIFICATE);
  expect("wipe", apisig_verifier_wipe(&v), APISIG_RESULT_OK);
}

/* ---- the control: comparisons that are NOT constant time, which memcheck must flag ------- */

static __attribute__((noinline)) int naive_memcmp(const uint8_t *a, const uint8_t *b, size_t n) {
  return memcmp(a, b, n) == 0;
}

static __attribute__((noinline)) int naive_loop(const uint8_t *a, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return 0; /* early exit: the classic timing leak */
  return 1;
}

static int control(void) {
  uint8_t key[64], presented[64];
  size_t n, m;
  secret_copy(key, STATIC_KEYS[0][0], &n);
  memcpy(presented, STATIC_KEYS[0][0], n);
  m = n;
  presented[m - 1] ^= 1;
  int a = naive_memcmp(key, presented, n);
  int b = naive_loop(key, presented, n);
  declassify(&a, sizeof a);
  declassify(&b, sizeof b);
  printf("control: memcmp says %d, loop says %d (both must be flagged by memcheck)\n", a, b);
  return 0;
}

int main(int argc, char **argv) {
  const char *vectors = getenv("APISIG_VECTORS") ? getenv("APISIG_VECTORS") : "tests/vectors";
  if (argc > 1 && strcmp(argv[1], "control") == 0) return control();
  if (argc > 1 && strcmp(argv[1], "sigs") == 0) mark_presented_signatures = 1;
  if (!RUNNING_ON_VALGRIND) printf("ct: not under valgrind: checking results only\n");
  static_keys();
  key_and_secret();
  signed_requests();
  tokens();
  hmac_verify();
  pins(vectors);
  printf("ct: %d checks, %d failed\n", checks, failures);
  return failures != 0;
}
