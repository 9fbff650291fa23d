/* decode_webp.c - one WebP in memory to reduced RGB with libwebp: the
 * header (WebPGetFeatures) gives the size checked before decoding, and a
 * still image is decoded straight into the decoder's buffer at the reduced
 * size by libwebp's own scaler (WebPDecoderConfig.options.use_scaling), RGB
 * or, with alpha, RGBA then over white.  An animation's first frame comes
 * whole from libwebpdemux's WebPAnimDecoder (frames may cover only part of
 * the canvas), is reduced afterwards and marked ok_with_warning.  An
 * extended file's EXIF chunk (libwebpdemux) may ask for a turn. */
#include "input/decode_format.h"
#include "input/exif_orientation.h"

#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>

static const char *vp8_reason(VP8StatusCode st)
{
    switch (st) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated (not enough data)";
    default: return "unknown error";
    }
}

static dg_status fail(VP8StatusCode st, const char *where, dg_decode_result *res)
{
    dg_status s = st == VP8_STATUS_UNSUPPORTED_FEATURE ? DG_ST_UNSUPPORTED
                  : st == VP8_STATUS_OUT_OF_MEMORY     ? DG_ST_TOO_LARGE
                                                       : DG_ST_CORRUPT;
    return dg_decode_set(res, s, "WebP %s: %s", where, vp8_reason(st));
}

static dg_status decode_still(dg_decoder *dec, WebPDecoderConfig *cfg, const unsigned char *buf, size_t len,
                              dg_decode_result *res)
{
    int w = cfg->input.width, h = cfg->input.height, alpha = cfg->input.has_alpha;
    int ow, oh;
    dg_decode_target(w, h, dec->min_side, &ow, &oh);
    int bpp = alpha ? 4 : 3;
    size_t bytes = (size_t)ow * (size_t)oh * (size_t)bpp;
    if (dg_decode_grow(dec, bytes) != DG_OK)
        return dg_decode_set(res, DG_ST_TOO_LARGE, "out of memory for %d x %d pixels", ow, oh);
    if (ow != w || oh != h) {
        cfg->options.use_scaling = 1;
        cfg->options.scaled_width = ow;
        cfg->options.scaled_height = oh;
    }
    cfg->output.colorspace = alpha ? MODE_RGBA : MODE_RGB;
    cfg->output.is_external_memory = 1;
    cfg->output.u.RGBA.rgba = dec->pix;
    cfg->output.u.RGBA.stride = ow * bpp;
    cfg->output.u.RGBA.size = bytes;
    VP8StatusCode st = WebPDecode(buf, len, cfg);
    WebPFreeDecBuffer(&cfg->output);
    if (st != VP8_STATUS_OK)
        return fail(st, "data", res);
    if (alpha)
        dg_decode_flatten(dec->pix, (size_t)ow * (size_t)oh);
    dg_decode_take(dec, ow, oh, res);
    return dg_decode_set(res, DG_ST_OK, "%s", "");
}

static dg_status first_frame(dg_decoder *dec, WebPAnimDecoder *ad, dg_decode_result *res)
{
    WebPAnimInfo info;
    uint8_t *rgba = NULL;
    int ts = 0;
    if (!WebPAnimDecoderGetInfo(ad, &info) || !WebPAnimDecoderGetNext(ad, &rgba, &ts))
        return dg_decode_set(res, DG_ST_CORRUPT, "animated WebP: the first frame cannot be decoded");
    int w = (int)info.canvas_width, h = (int)info.canvas_height;
    size_t pixels = (size_t)w * (size_t)h;
    if (dg_decode_grow(dec, 4 * pixels) != DG_OK)
        return dg_decode_set(res, DG_ST_TOO_LARGE, "out of memory for %d x %d pixels", w, h);
    memcpy(dec->pix, rgba, 4 * pixels);
    dg_decode_flatten(dec->pix, pixels);
    dg_decode_shrink(dec, w, h, res);
    return dg_decode_set(res, DG_ST_OK_WITH_WARNING, "animated WebP (%u frames): first frame only",
                         info.frame_count);
}

static dg_status decode_animation(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res)
{
    WebPAnimDecoderOptions opt;
    if (!WebPAnimDecoderOptionsInit(&opt))
        return dg_decode_set(res, DG_ST_UNREADABLE, "libwebpdemux version mismatch");
    opt.color_mode = MODE_RGBA;
    opt.use_threads = 0;
    WebPData data = {buf, len};
    WebPAnimDecoder *ad = WebPAnimDecoderNew(&data, &opt);
    if (!ad)
        return dg_decode_set(res, DG_ST_CORRUPT, "animated WebP: malformed container");
    dg_status st = first_frame(dec, ad, res);
    WebPAnimDecoderDelete(ad);
    return st;
}

/* The orientation of an extended file's EXIF chunk; 1 without one (a
 * simple file, VP8 or VP8L right after the header, is not parsed again). */
static int orientation(const unsigned char *buf, size_t len)
{
    if (len < 16 || memcmp(buf + 12, "VP8X", 4) != 0)
        return 1;
    WebPData data = {buf, len};
    WebPDemuxer *demux = WebPDemux(&data);
    if (!demux)
        return 1;
    int o = 1;
    WebPChunkIterator it;
    if ((WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS) & EXIF_FLAG) && WebPDemuxGetChunk(demux, "EXIF", 1, &it)) {
        o = dg_exif_orientation(it.chunk.bytes, it.chunk.size);
        WebPDemuxReleaseChunkIterator(&it);
    }
    WebPDemuxDelete(demux);
    return o;
}

dg_status dg_decode_webp(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res)
{
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg))
        return dg_decode_set(res, DG_ST_UNREADABLE, "libwebp version mismatch");
    VP8StatusCode st = WebPGetFeatures(buf, len, &cfg.input);
    if (st != VP8_STATUS_OK)
        return fail(st, "header", res);
    if (cfg.input.width <= 0 || cfg.input.height <= 0)
        return dg_decode_set(res, DG_ST_CORRUPT, "WebP of %d x %d pixels", cfg.input.width, cfg.input.height);
    if (dg_decode_check_size(dec, cfg.input.width, cfg.input.height, res) != DG_ST_OK)
        return res->status;
    if (cfg.input.has_animation)
        decode_animation(dec, buf, len, res);
    else
        decode_still(dec, &cfg, buf, len, res);
    return dg_decode_turn(dec, orientation(buf, len), res);
}
