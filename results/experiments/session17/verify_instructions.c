/* verify_instructions.c - dg_verify_score on the pairs of a list, the
 * signatures made first as dg-verify-pairs makes them: prints the count
 * and a checksum of every score, detail difference and placement.  Run
 * under callgrind with --toggle-collect=dg_verify_score (instructions.sh).
 *   verify_instructions MANIFEST PAIRS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/verify.h"
#include "input/decode.h"
#include "input/descriptor.h"
#include "input/signature.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: verify_instructions MANIFEST PAIRS\n");
        return 2;
    }
    char line[4096], **paths = NULL;
    int n = 0, cap = 0;
    FILE *f = fopen(argv[1], "r");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (n == cap && !(paths = realloc(paths, (size_t)(cap = cap ? 2 * cap : 1024) * sizeof *paths)))
            return 1;
        paths[n++] = strdup(line);
    }
    if (f)
        fclose(f);
    long *pairs = NULL, np = 0, pcap = 0, a, b;
    f = fopen(argv[2], "r");
    while (f && fscanf(f, "%ld %ld", &a, &b) == 2 && a >= 0 && b >= 0 && a < n && b < n) {
        if (np == pcap && !(pairs = realloc(pairs, (size_t)(pcap = pcap ? 2 * pcap : 1024) * 2 * sizeof *pairs)))
            return 1;
        pairs[2 * np] = a;
        pairs[2 * np + 1] = b;
        np++;
    }
    if (f)
        fclose(f);
    uint8_t *sig = calloc((size_t)n + 1, DG_SIG_BYTES);
    dg_decoder dec;
    dg_err err;
    if (!sig || dg_decoder_init(&dec, 0, DG_DESC_SIZE, &err) != DG_OK)
        return 1;
    for (long k = 0; k < 2 * np; k++) {
        dg_decode_result res;
        uint8_t *s = sig + (size_t)pairs[k] * DG_SIG_BYTES;
        if (!dg_signature_present(s))
            dg_signature_of_file(&dec, paths[pairs[k]], s, &res);
    }
    double sum = 0;
    for (long k = 0; k < np; k++) {
        dg_verify_match m;
        float s = dg_verify_score(sig + (size_t)pairs[2 * k] * DG_SIG_BYTES, sig + (size_t)pairs[2 * k + 1] * DG_SIG_BYTES,
                                  &m);
        sum += s + m.detail_diff + m.scale + m.degrees + m.tx + m.ty + m.mirror + m.probe_is_b;
    }
    printf("%ld pairs, score checksum %.9g\n", np, sum);
    dg_decoder_free(&dec);
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    free(pairs);
    free(sig);
    return 0;
}
