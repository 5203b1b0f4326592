/* check.h: a tiny test harness shared by the C tests. */
#ifndef APISIG_TEST_CHECK_H
#define APISIG_TEST_CHECK_H

#include <stdio.h>

#include "apisig.h"

static unsigned check_passed, check_failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            check_passed++;                                                \
        } else {                                                           \
            check_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* Checks that an expression gives the result code `want`. */
#define CHECK_RC(want, expr)                                                            \
    do {                                                                                \
        apisig_result check_rc_ = (expr);                                               \
        CHECK(check_rc_ == (apisig_result)(want), "got %s (%u), want %s", apisig_result_name(check_rc_), \
              (unsigned)check_rc_, apisig_result_name(want));                           \
    } while (0)

/* The plain closing line a test runner understands: "N passed, N failed". */
static int check_report(const char *name) {
    printf("%s: %u passed, %u failed\n", name, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif
