/* overlay_probe.c - per image file of a list: its size at the embedders'
 * decode scale, content box and watermark box (dg_content_box), as
 * "path w h x0 y0 x1 y1 found ox0 oy0 ox1 oy1".  Built and run by
 * overlay_detection.sh. */
#include <stdio.h>
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
        fprintf(stderr, "usage: overlay_probe LIST\n");
        return 2;
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        dg_decode_result res;
        int box[DG_BOX_LEN] = {0};
        dg_decode_file(&dec, line, &res);
        if (dg_status_usable((int8_t)res.status))
            dg_content_box(&res.image, box);
        printf("%s %d %d %d %d %d %d %d %d %d %d %d\n", line, res.image.w, res.image.h, box[0], box[1], box[2], box[3],
               dg_box_has_overlay(box), box[4], box[5], box[6], box[7]);
    }
    fclose(f);
    dg_decoder_free(&dec);
    return 0;
}
