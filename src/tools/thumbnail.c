/* thumbnail.c - the small JPEG previews of the report: the original image
 * (a file, or a member of a tar shard read through input/shards.c) decoded
 * by the job's decoder (input/decode.c: JPEG with DCT-domain scaling, PNG,
 * WebP), resampled to fit and encoded again through the raster module
 * (raster.c).  Which images get a thumbnail and where they are linked is
 * report.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input/shards.h"
#include "tools/thumbnail.h"

int dg_thumbnailer_init(dg_thumbnailer *t, int size, int quality, dg_err *err)
{
    memset(t, 0, sizeof *t);
    if (size < 8 || size > 4096 || quality < 1 || quality > 100)
        return dg_fail(err, "thumbnail size %d or quality %d out of range", size, quality);
    t->size = size;
    t->quality = quality;
    if (dg_decoder_init(&t->dec, DG_RASTER_MAX_PIXELS, size, err) != DG_OK)
        return DG_FAIL;
    return dg_jpeg_codec_init(&t->codec, err);
}

void dg_thumbnailer_free(dg_thumbnailer *t)
{
    dg_decoder_free(&t->dec);
    dg_jpeg_codec_free(&t->codec);
    free(t->member);
    t->member = NULL;
}

/* The decoded image (res) fitted, encoded and written to dst. */
static int save(dg_thumbnailer *t, const char *src, const dg_decode_result *res, const char *dst, int *w, int *h,
                dg_err *err)
{
    if (!dg_status_usable(res->status))
        return dg_fail(err, "%s: %s (%s)", src, dg_status_name(res->status), res->msg);
    const dg_image decoded = {res->image.w, res->image.h, (uint8_t *)res->image.rgb};
    int fw, fh;
    dg_fit_size(decoded.w, decoded.h, t->size, t->size, &fw, &fh);
    dg_image im;
    if (dg_image_resize(&decoded, fw, fh, &im, err) != DG_OK)
        return DG_FAIL;
    int rc = dg_jpeg_save(&t->codec, &im, t->quality, 0, dst, err);
    if (rc == DG_OK) {
        *w = im.w;
        *h = im.h;
    } else {
        unlink(dst);
    }
    dg_image_free(&im);
    return rc;
}

int dg_thumbnail_write(dg_thumbnailer *t, const char *src, const char *dst, int *w, int *h, dg_err *err)
{
    dg_decode_result res;
    *w = *h = 0;
    dg_decode_file(&t->dec, src, &res);
    return save(t, src, &res, dst, w, h, err);
}

static void set_why(dg_member_thumb *want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_why(dg_member_thumb *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want->why, sizeof want->why, fmt, ap);
    va_end(ap);
}

/* The current member (size bytes) of an open shard, as `want` asks. */
static void member_thumb(dg_thumbnailer *t, dg_shard_walk *walk, const char *shard, int64_t size,
                         dg_member_thumb *want)
{
    dg_err e = {0};
    dg_decode_result res;
    if ((uint64_t)size > DG_EMBED_MAX_FILE_BYTES) {
        set_why(want, "%s:%s: %lld bytes, more than the %zu MiB limit", shard, want->member,
                 (long long)size, DG_EMBED_MAX_FILE_BYTES >> 20);
        return;
    }
    if (dg_shard_read(walk, size, &t->member, &t->member_cap, e.msg, sizeof e.msg) != DG_OK) {
        set_why(want, "%s:%s: %s", shard, want->member, e.msg);
        return;
    }
    char src[DG_PATH_MAX + 64];
    snprintf(src, sizeof src, "%s:%s", shard, want->member);
    dg_decode_memory(&t->dec, t->member, (size_t)size, &res);
    want->ok = save(t, src, &res, want->dst, &want->w, &want->h, &e) == DG_OK;
    if (!want->ok)
        set_why(want, "%s", e.msg);
}

void dg_thumbnail_shard(dg_thumbnailer *t, const char *shard, dg_member_thumb *want, int n)
{
    dg_shard_walk *walk = NULL;
    dg_shard_listing lst;
    int left = n;
    for (int i = 0; i < n; i++) {
        want[i].ok = want[i].w = want[i].h = 0;
        want[i].why[0] = '\0';
    }
    dg_shard_open(shard, NULL, 0, &walk, &lst);
    dg_member m;
    int more = walk ? 1 : -1;
    while (left > 0 && more == 1 && (more = dg_shard_next(walk, &m, &lst)) == 1) {
        for (int i = 0; i < n; i++) { /* a report shows a few hundred items: a scan is enough */
            if (want[i].ok || want[i].why[0] || strcmp(want[i].member, m.name) != 0)
                continue;
            member_thumb(t, walk, shard, m.size, &want[i]);
            left--;
            break;
        }
    }
    if (walk)
        dg_shard_close(walk);
    for (int i = 0; i < n; i++)
        if (!want[i].ok && !want[i].why[0])
            set_why(&want[i], "%s:%s: %s", shard, want[i].member,
                     more < 0 ? lst.msg : "no such member in the shard");
}
