/* exif_orientation.c - reads the Orientation tag of an image's EXIF data
 * (bounds checked at every step: the bytes are the file's) and turns the
 * decoded pixels as it says (exif_orientation.h). */
#include "input/exif_orientation.h"

#include <stdint.h>
#include <string.h>

#define TIFF_START 6   /* after the "Exif\0\0" of a JPEG APP1 segment */
#define IFD_ENTRY 12   /* tag, type, count, value or offset */
#define TAG_ORIENTATION 0x0112
#define TYPE_SHORT 3

static unsigned get16(const unsigned char *b, int big)
{
    return big ? (unsigned)b[0] << 8 | b[1] : (unsigned)b[1] << 8 | b[0];
}

static uint32_t get32(const unsigned char *b, int big)
{
    return big ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
               : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

int dg_exif_orientation(const unsigned char *p, size_t n)
{
    size_t skip = n >= TIFF_START && memcmp(p, "Exif\0\0", TIFF_START) == 0 ? TIFF_START : 0;
    const unsigned char *t = p + skip;
    size_t tn = n - skip;
    if (tn < 8)
        return 1;
    int big;
    if (memcmp(t, "II", 2) == 0)
        big = 0;
    else if (memcmp(t, "MM", 2) == 0)
        big = 1;
    else
        return 1;
    if (get16(t + 2, big) != 42)
        return 1;
    uint32_t ifd = get32(t + 4, big);
    if (ifd > tn || tn - ifd < 2)
        return 1;
    unsigned entries = get16(t + ifd, big);
    for (unsigned i = 0; i < entries; i++) {
        size_t at = (size_t)ifd + 2 + (size_t)i * IFD_ENTRY;
        if (at + IFD_ENTRY > tn)
            return 1;
        if (get16(t + at, big) != TAG_ORIENTATION)
            continue;
        unsigned o = get16(t + at + 8, big);
        return get16(t + at + 2, big) == TYPE_SHORT && get32(t + at + 4, big) == 1 && o >= 1 && o <= 8 ? (int)o : 1;
    }
    return 1;
}

void dg_exif_turn(const unsigned char *src, int w, int h, int o, unsigned char *dst, int *ow, int *oh)
{
    int swap = o >= 5 && o <= 8;
    *ow = swap ? h : w;
    *oh = swap ? w : h;
    for (int y = 0; y < *oh; y++)
        for (int x = 0; x < *ow; x++) {
            int sx, sy; /* the stored pixel shown at (x, y) */
            switch (o) {
            case 2: sx = w - 1 - x; sy = y; break;
            case 3: sx = w - 1 - x; sy = h - 1 - y; break;
            case 4: sx = x; sy = h - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = h - 1 - x; break;
            case 7: sx = w - 1 - y; sy = h - 1 - x; break;
            case 8: sx = w - 1 - y; sy = x; break;
            default: sx = x; sy = y; break;
            }
            memcpy(dst + ((size_t)y * (size_t)*ow + (size_t)x) * 3, src + ((size_t)sy * (size_t)w + (size_t)sx) * 3, 3);
        }
}
