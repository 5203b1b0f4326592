/* Loading the shared vectors from C tests: a whole file, and the JSON text made safe for
 * cJSON (which keeps numbers as doubles). Shared by vectors.c and ocsp.c. */
#ifndef APISIG_TESTS_LOAD_H
#define APISIG_TESTS_LOAD_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file at `path`, NUL-terminated (its length without the NUL in `*len`); exits on
 * any error. */
static uint8_t *read_file(const char *path, size_t *len) {
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
    data = malloc((size_t)n + 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }
    data[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* Quotes integer literals of more than 15 digits (outside strings), so cJSON keeps them. */
static char *quote_big_integers(const char *in) {
    size_t n = strlen(in), i = 0, o = 0;
    char *out = malloc(n * 2 + 1);
    int in_string = 0;
    if (!out) exit(2);
    while (i < n) {
        char c = in[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < n) {
                out[o++] = in[++i];
            } else if (c == '"') {
                in_string = 0;
            }
            i++;
        } else if (c == '"') {
            in_string = 1;
            out[o++] = in[i++];
        } else if (c >= '0' && c <= '9') {
            size_t j = i;
            while (j < n && in[j] >= '0' && in[j] <= '9') j++;
            if (j - i > 15 && (j >= n || (in[j] != '.' && in[j] != 'e' && in[j] != 'E'))) {
                out[o++] = '"';
                memcpy(out + o, in + i, j - i);
                o += j - i;
                out[o++] = '"';
            } else {
                memcpy(out + o, in + i, j - i);
                o += j - i;
            }
            i = j;
        } else {
            out[o++] = in[i++];
        }
    }
    out[o] = '\0';
    return out;
}

#endif

