/* dudect-style timing check (make ct-bench; not gating). For each function that compares
 * secret material, three input classes — equal, differ at the first byte, differ at the
 * last byte — are measured interleaved in random order with rdtsc; Welch's t-test compares
 * each pair of classes. |t| < 4.5 is the usual "no leak detected" threshold. Measurements
 * above the pooled 90th percentile are cropped (dudect's first crop) to drop interrupts.
 *
 *   bench [N]   N measurements per function, spread over the three classes (default 300000)
 *
 * Equal vs differ compares an accepted with a refused input: the verdict is public and the
 * two take different (public) paths after it, so a large |t| there is expected for calls
 * that do work after accepting; first vs last is the pair that shows a data-dependent
 * comparison.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "apisig.h"

#define NOW 1700000000000000000ULL

static inline uint64_t ticks(void) {
  _mm_lfence();
  uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

struct stat { double n, mean, m2; };
static void add(struct stat *s, double x) { s->n++; double d = x - s->mean; s->mean += d / s->n; s->m2 += d * (x - s->mean); }
static double welch(const struct stat *a, const struct stat *b) {
  if (a->n < 2 || b->n < 2) return 0;
  double va = a->m2 / (a->n - 1), vb = b->m2 / (b->n - 1);
  return (a->mean - b->mean) / sqrt(va / a->n + vb / b->n);
}
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

typedef void (*run_fn)(int cls);

static double report(const char *name, run_fn run, size_t n) {
  uint64_t *t = malloc(n * sizeof *t);
  uint8_t *c = malloc(n);
  for (size_t i = 0; i < n; i++) c[i] = (uint8_t)(rand() % 3);
  for (size_t i = 0; i < 1000; i++) run(i % 3); /* warm up */
  for (size_t i = 0; i < n; i++) {
    uint64_t a = ticks();
    run(c[i]);
    t[i] = ticks() - a;
  }
  uint64_t *sorted = malloc(n * sizeof *t);
  memcpy(sorted, t, n * sizeof *t);
  qsort(sorted, n, sizeof *sorted, cmp_u64);
  uint64_t crop = sorted[n * 9 / 10];
  struct stat s[3] = {{0}};
  for (size_t i = 0; i < n; i++)
    if (t[i] <= crop) add(&s[c[i]], (double)t[i]);
  double eq_first = welch(&s[0], &s[1]), eq_last = welch(&s[0], &s[2]), first_last = welch(&s[1], &s[2]);
  double m = fmax(fabs(eq_first), fmax(fabs(eq_last), fabs(first_last)));
  printf("  %-28s %8.0f %8.0f %8.0f  %8.2f %8.2f %8.2f  %8.2f\n", name, s[0].mean, s[1].mean, s[2].mean, eq_first,
         eq_last, first_last, m);
  free(t); free(c); free(sorted);
  return fabs(first_last);
}

/* ---- the functions ---- */

static uint8_t variants[3][128];
static size_t variant_len;
static void make_variants(const uint8_t *good, size_t n, uint8_t flip) {
  variant_len = n;
  for (int k = 0; k < 3; k++) memcpy(variants[k], good, n);
  variants[1][0] ^= flip;
  variants[2][n - 1] ^= flip;
}

static const char *MSG = "what do ya want for nothing?";
static void run_hmac(int cls) {
  volatile apisig_result r = apisig_hmac_sha256_verify((const uint8_t *)"Jefe", 4, (const uint8_t *)MSG, 28, variants[cls], 32);
  (void)r;
}

static apisig_verifier v_static, v_secret, v_pin[3];
static apisig_scheme signius, aevo_secret;
static void run_static(int cls) {
  apisig_header_in h = {"X-Api-Key", 9, variants[cls], variant_len};
  apisig_request q = {"GET", 3, "/", 1, NULL, 0, &h, 1};
  apisig_principal who;
  volatile apisig_result r = apisig_verifier_verify(&v_static, &signius, &q, NOW, &who);
  (void)r;
}
static void run_secret(int cls) {
  apisig_header_in h[2] = {{"AEVO-KEY", 8, (const uint8_t *)"API_KEY", 7}, {"AEVO-SECRET", 11, variants[cls], variant_len}};
  apisig_request q = {"GET", 3, "/", 1, NULL, 0, h, 2};
  apisig_principal who;
  volatile apisig_result r = apisig_verifier_verify(&v_secret, &aevo_secret, &q, NOW, &who);
  (void)r;
}
static const char *SESSION = "apisig-session-primary-2024-Qm8vT3xK";
static void run_session(int cls) {
  apisig_session s;
  apisig_opt_bytes none = {0, NULL, 0};
  volatile apisig_result r = apisig_session_verify((const uint8_t *)SESSION, strlen(SESSION), none, variants[cls], variant_len, NOW, &s);
  (void)r;
}
static const char *JWT_KEY = "apisig-jwt-test-key/0123456789abcdef";
static void run_jwt(int cls) {
  uint8_t scratch[256];
  apisig_jwt_claims c;
  apisig_opt_str no = {0, NULL, 0};
  apisig_jwt_validation val = {0, 1, no, no, no, 8192};
  volatile apisig_result r = apisig_jwt_verify((const uint8_t *)JWT_KEY, strlen(JWT_KEY), variants[cls], variant_len, &val, NOW, scratch, sizeof scratch, &c);
  (void)r;
}
static uint8_t der[4096];
static size_t der_len;
static void run_pin(int cls) {
  apisig_principal who;
  volatile apisig_result r = apisig_verifier_verify_certificate(&v_pin[cls], der, der_len, &who);
  (void)r;
}

/* Changes one base64url character of a token's signature, keeping it canonical. */
static void token_variants(const uint8_t *tok, size_t n) {
  make_variants(tok, n, 0);
  size_t first = n - 43;
  variants[1][first] = variants[1][first] == 'A' ? 'B' : 'A';
  variants[2][n - 1] = variants[2][n - 1] == 'A' ? 'Q' : 'A';
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 300000;
  const char *vectors = getenv("APISIG_VECTORS") ? getenv("APISIG_VECTORS") : "tests/vectors";
  srand(1);
  printf("ct-bench: %zu measurements per function (rdtsc cycles; classes interleaved at random)\n", n);
  printf("  %-28s %8s %8s %8s  %8s %8s %8s  %8s\n", "function", "equal", "first", "last", "t(eq,1st)", "t(eq,lst)",
         "t(1st,lst)", "max|t|");
  double worst = 0;

  uint8_t tag[32];
  size_t len;
  if (apisig_hmac_sha256((const uint8_t *)"Jefe", 4, (const uint8_t *)MSG, 28, tag, 32, &len)) return 2;
  make_variants(tag, 32, 1);
  worst = fmax(worst, report("hmac_sha256_verify", run_hmac, n));

  const char *key = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le";
  uint32_t id;
  if (apisig_verifier_init(&v_static, NULL, APISIG_WINDOW_DEFAULT_NS)) return 2;
  for (int c = 0; c < APISIG_KEYRING_CAPACITY; c++) { /* a full keyring, both slots */
    char k0[80], k1[80], label[16];
    snprintf(k0, sizeof k0, "%s-%d", key, c);
    snprintf(k1, sizeof k1, "%s-%d-next", key, c);
    snprintf(label, sizeof label, "c%d", c);
    if (apisig_keyring_add(apisig_verifier_keyring(&v_static), label, strlen(label), (const uint8_t *)k0, strlen(k0), &id)) return 2;
    if (apisig_keyring_set_secret(apisig_verifier_keyring(&v_static), id, 1, (const uint8_t *)k1, strlen(k1))) return 2;
  }
  char probe[80];
  snprintf(probe, sizeof probe, "%s-%d-next", key, 3);
  make_variants((const uint8_t *)probe, strlen(probe), 1);
  if (apisig_preset("signius", 7, &signius)) return 2;
  worst = fmax(worst, report("static key (8 clients x 2)", run_static, n));

  if (apisig_verifier_init(&v_secret, NULL, APISIG_WINDOW_DEFAULT_NS)) return 2;
  if (apisig_keyring_add(apisig_verifier_keyring(&v_secret), "API_KEY", 7, (const uint8_t *)"API_SECRET", 10, &id)) return 2;
  if (apisig_keyring_set_secret(apisig_verifier_keyring(&v_secret), id, 1, (const uint8_t *)"API_SECRET_NEXT", 15)) return 2;
  make_variants((const uint8_t *)"API_SECRET_NEXT", 15, 1);
  if (apisig_preset("aevo-secret", 11, &aevo_secret)) return 2;
  worst = fmax(worst, report("key + secret (aevo-secret)", run_secret, n));

  uint8_t tok[512];
  if (apisig_session_issue((const uint8_t *)SESSION, strlen(SESSION), "12345", 5, "d6b1bf0e", 8, 1700003600, tok, sizeof tok, &len)) return 2;
  token_variants(tok, len);
  worst = fmax(worst, report("session token signature", run_session, n));

  const char *claims = "{\"sub\":\"client-7\",\"exp\":1700003600}";
  if (apisig_jwt_encode((const uint8_t *)JWT_KEY, strlen(JWT_KEY), NULL, 0, (const uint8_t *)claims, strlen(claims), tok, sizeof tok, &len)) return 2;
  token_variants(tok, len);
  worst = fmax(worst, report("JWT signature", run_jwt, n));

  char path[512];
  snprintf(path, sizeof path, "%s/certs/ec-p256-leaf.der", vectors);
  FILE *f = fopen(path, "rb");
  if (!f) return 2;
  der_len = fread(der, 1, sizeof der, f);
  fclose(f);
  uint8_t fp[32];
  if (apisig_certificate_fingerprint(der, der_len, APISIG_PIN_KIND_CERTIFICATE, fp, 32, &len)) return 2;
  for (int cls = 0; cls < 3; cls++) { /* the registered pin: equal, differs first, differs last */
    uint8_t p[32];
    memcpy(p, fp, 32);
    if (cls == 1) p[0] ^= 1;
    if (cls == 2) p[31] ^= 1;
    if (apisig_verifier_init(&v_pin[cls], NULL, APISIG_WINDOW_DEFAULT_NS)) return 2;
    for (int c = 0; c < 4; c++) {
      char label[16];
      snprintf(label, sizeof label, "d%d", c);
      if (apisig_keyring_add(apisig_verifier_keyring(&v_pin[cls]), label, strlen(label), (const uint8_t *)label, strlen(label), &id)) return 2;
      uint8_t other[32];
      memset(other, c + 1, 32);
      if (apisig_keyring_set_pin(apisig_verifier_keyring(&v_pin[cls]), id, 0, 0, c == 2 ? p : other, 32)) return 2;
    }
  }
  worst = fmax(worst, report("certificate pin (4 clients)", run_pin, n));
  printf("ct-bench: max |t(first, last)| = %.2f (threshold 4.5; equal-vs-differ includes the public accept path)\n", worst);
  return 0;
}
