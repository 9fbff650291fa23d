/* box_instructions.c - dg_content_box over the images of a list, decoded
 * first as the embedders decode them: prints the count and a checksum of
 * every box (the same checksum: the same boxes).  Run under callgrind with
 * --toggle-collect=dg_content_box to count its instructions (instructions.sh).
 *   box_instructions LIST */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/decode.h"
#include "input/descriptor.h"

int main(int argc, char **argv)
{
    dg_decoder dec;
    dg_err err;
    char line[4096];
    FILE *f = argc == 2 ? fopen(argv[1], "r") : NULL;
    if (!f || dg_decoder_init(&dec, 0, DG_DESC_SIZE, &err) != DG_OK) {
        fprintf(stderr, "usage: box_instructions LIST\n");
        return 2;
    }
    unsigned long sum = 0;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        dg_decode_result res;
        dg_decode_file(&dec, line, &res);
        if (!dg_status_usable((int8_t)res.status))
            continue;
        int box[DG_BOX_LEN];
        dg_content_box(&res.image, box);
        for (int k = 0; k < DG_BOX_LEN; k++)
            sum = sum * 31 + (unsigned)box[k];
        n++;
    }
    fclose(f);
    dg_decoder_free(&dec);
    printf("%d images, box checksum %lu\n", n, sum);
    return 0;
}
