/* smoke.c: signs RFC 4231 test case 2 ("Jefe") through the C ABI, like libsodium's auth.c.
 * Built with -Wall -Wextra -Werror -pedantic and run under valgrind and AddressSanitizer. */
#include <stdio.h>
#include <string.h>

#include "apisig.h"

int main(void) {
    static const uint8_t key[] = "Jefe";
    static const uint8_t msg[] = "what do ya want for nothing?";
    static const uint8_t want[APISIG_TAG_BYTES] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
        0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    uint8_t tag[APISIG_TAG_BYTES];
    size_t tag_len = 0;
    apisig_result rc;

    if (strcmp(apisig_version(), APISIG_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", APISIG_VERSION_STRING, apisig_version());
        return 1;
    }
    rc = apisig_hmac_sha256(key, sizeof key - 1, msg, sizeof msg - 1, tag, sizeof tag, &tag_len);
    if (rc != APISIG_RESULT_OK || tag_len != APISIG_TAG_BYTES || memcmp(tag, want, sizeof want) != 0) {
        fprintf(stderr, "sign: %s\n", apisig_strerror(rc));
        return 1;
    }
    rc = apisig_hmac_sha256_verify(key, sizeof key - 1, msg, sizeof msg - 1, tag, tag_len);
    if (rc != APISIG_RESULT_OK) {
        fprintf(stderr, "verify: %s\n", apisig_strerror(rc));
        return 1;
    }
    tag[0] ^= 1;
    if (apisig_hmac_sha256_verify(key, sizeof key - 1, msg, sizeof msg - 1, tag, tag_len) !=
        APISIG_RESULT_SIGNATURE_MISMATCH) {
        fprintf(stderr, "a flipped bit verified\n");
        return 1;
    }
    printf("smoke: RFC 4231 case 2 ok (apisig %s)\n", apisig_version());
    return 0;
}
