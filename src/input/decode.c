/* decode.c - from a path or bytes to small RGB pixels, or to the reason
 * there are none.  It owns the file checks (never opening a FIFO or device),
 * the size cap, the choice of format by the first bytes (JPEG here; PNG and
 * WebP in decode_png.c and decode_webp.c, whatever the file's name), and for
 * JPEG a scan of the markers up to the frame header (so that unsupported
 * processes and oversized frames are refused before libjpeg-turbo decodes
 * anything), DCT-domain downscaling with the turbojpeg API, CMYK conversion,
 * the EXIF orientation (exif_orientation.h) and the mapping of
 * libjpeg-turbo's outcome to an item status.  It knows
 * nothing of descriptors; one dg_decoder serves one rank. */
#include "input/decode_format.h"
#include "input/exif_orientation.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

int dg_decoder_init(dg_decoder *dec, int64_t max_pixels, int min_side, dg_err *err)
{
    memset(dec, 0, sizeof *dec);
    dec->max_pixels = max_pixels;
    dec->min_side = min_side > 0 ? min_side : 1;
    dec->tj = tjInitDecompress();
    if (!dec->tj)
        return dg_fail(err, "cannot create a libjpeg-turbo decompressor: %s", tjGetErrorStr2(NULL));
    return DG_OK;
}

size_t dg_decoder_bytes(void)
{
    return sizeof(dg_decoder);
}

size_t dg_decode_result_bytes(void)
{
    return sizeof(dg_decode_result);
}

void dg_decoder_free(dg_decoder *dec)
{
    if (dec->tj)
        tjDestroy(dec->tj);
    free(dec->file);
    free(dec->pix);
    free(dec->turned);
    memset(dec, 0, sizeof *dec);
}

/* ---- reading the file ---------------------------------------------------- */

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a folder";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

static dg_status check_stat(const struct stat *st, dg_decode_result *res)
{
    if (!S_ISREG(st->st_mode))
        return dg_decode_set(res, DG_ST_UNREADABLE, "%s", file_kind(st->st_mode));
    if (st->st_size == 0)
        return dg_decode_set(res, DG_ST_EMPTY, "0 bytes");
    if ((uint64_t)st->st_size > DG_EMBED_MAX_FILE_BYTES)
        return dg_decode_set(res, DG_ST_TOO_LARGE, "%lld bytes, more than the %zu MiB limit", (long long)st->st_size,
                   DG_EMBED_MAX_FILE_BYTES >> 20);
    return DG_ST_OK;
}

static dg_status open_error(int e, dg_decode_result *res)
{
    if (e == ENOENT || e == ENOTDIR)
        return dg_decode_set(res, DG_ST_MISSING, "%s", strerror(e));
    return dg_decode_set(res, DG_ST_UNREADABLE, "%s", strerror(e));
}

static dg_status read_all(dg_decoder *dec, int fd, size_t size, size_t *len, dg_decode_result *res)
{
    if (dg_decode_grow_buffer(&dec->file, &dec->file_cap, size) != DG_OK)
        return dg_decode_set(res, DG_ST_TOO_LARGE, "out of memory reading %zu bytes", size);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, dec->file + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return dg_decode_set(res, DG_ST_UNREADABLE, "read error: %s", strerror(errno));
        if (r == 0)
            break; /* shrank since fstat */
        got += (size_t)r;
    }
    *len = got;
    if (got == 0)
        return dg_decode_set(res, DG_ST_EMPTY, "0 bytes");
    return DG_ST_OK;
}

static dg_status read_file(dg_decoder *dec, const char *path, size_t *len, dg_decode_result *res)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return open_error(errno, res);
    if (check_stat(&st, res) != DG_ST_OK)
        return res->status;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return open_error(errno, res);
    dg_status s = fstat(fd, &st) != 0 ? dg_decode_set(res, DG_ST_UNREADABLE, "%s", strerror(errno)) : check_stat(&st, res);
    if (s == DG_ST_OK)
        s = read_all(dec, fd, (size_t)st.st_size, len, res);
    close(fd);
    return s;
}

/* ---- markers up to the frame header ---------------------------------------- */

typedef struct frame_info {
    int found;
    int marker, precision, width, height, components;
    int orientation; /* of the first EXIF APP1 segment before the frame; 0 without one */
} frame_info;

/* Image formats known by their first bytes that are not read. */
static const char *other_image(const unsigned char *b, size_t n)
{
    static const struct { const char *sig; size_t len; const char *name; } known[] = {
        {"GIF8", 4, "GIF"}, {"BM", 2, "BMP"}, {"II*\0", 4, "TIFF"}, {"MM\0*", 4, "TIFF"},
        {"\0\0\0\x0cjP  ", 8, "JPEG 2000"}, {"\xff\x0a", 2, "JPEG XL"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (n >= known[i].len && memcmp(b, known[i].sig, known[i].len) == 0)
            return known[i].name;
    return NULL;
}

/* What the bytes look like when they are no image at all, for the reason. */
static const char *guess_other(const unsigned char *b, size_t n)
{
    if (n >= 4 && memcmp(b, "RIFF", 4) == 0)
        return "RIFF, not WebP";
    if (n >= 4 && memcmp(b, "%PDF", 4) == 0)
        return "PDF";
    if (n >= 1 && b[0] == '<')
        return "text/HTML";
    return "unknown";
}

static int is_sof(int m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* Walks the marker segments after SOI until the first SOFn, noting the
 * EXIF orientation on the way.  A malformed stream simply ends the walk:
 * libjpeg-turbo then gives the reason. */
static void scan_frame(const unsigned char *b, size_t n, frame_info *fi)
{
    memset(fi, 0, sizeof *fi);
    size_t pos = 2;
    while (pos + 4 <= n) {
        if (b[pos] != 0xFF)
            return;
        while (pos < n && b[pos] == 0xFF)
            pos++;
        if (pos + 3 > n)
            return;
        int m = b[pos++];
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue;
        if (m == 0xD8 || m == 0xD9 || m == 0xDA)
            return;
        size_t len = ((size_t)b[pos] << 8) | b[pos + 1];
        if (len < 2 || pos + len > n)
            return;
        if (m == 0xE1 && !fi->orientation && len - 2 >= 6 && memcmp(b + pos + 2, "Exif\0\0", 6) == 0)
            fi->orientation = dg_exif_orientation(b + pos + 2, len - 2);
        if (is_sof(m) && len >= 8) {
            fi->found = 1;
            fi->marker = m;
            fi->precision = b[pos + 2];
            fi->height = (b[pos + 3] << 8) | b[pos + 4];
            fi->width = (b[pos + 5] << 8) | b[pos + 6];
            fi->components = b[pos + 7];
            return;
        }
        pos += len;
    }
}

static dg_status check_frame(const dg_decoder *dec, const frame_info *fi, dg_decode_result *res)
{
    if (!fi->found)
        return DG_ST_OK;
    res->width = fi->width;
    res->height = fi->height;
    int m = fi->marker;
    if (m == 0xC3 || m == 0xC7 || m == 0xCB || m == 0xCF)
        return dg_decode_set(res, DG_ST_UNSUPPORTED, "lossless JPEG (SOF%d)", m - 0xC0);
    if (m == 0xC5 || m == 0xC6 || m == 0xCD || m == 0xCE)
        return dg_decode_set(res, DG_ST_UNSUPPORTED, "hierarchical JPEG (SOF%d)", m - 0xC0);
    if (fi->precision != 8)
        return dg_decode_set(res, DG_ST_UNSUPPORTED, "%d-bit samples", fi->precision);
    if (fi->components != 1 && fi->components != 3 && fi->components != 4)
        return dg_decode_set(res, DG_ST_UNSUPPORTED, "%d colour components", fi->components);
    if (fi->height == 0)
        return dg_decode_set(res, DG_ST_UNSUPPORTED, "height defined by a DNL marker");
    return dg_decode_check_size(dec, fi->width, fi->height, res);
}

/* ---- decoding ------------------------------------------------------------- */

/* libjpeg-turbo 2.1 leaves a handle mid-header after a fatal error in
 * tjDecompressHeader3 (no jpeg_abort), and then fails every later file; a
 * fresh handle after each fatal error is cheap, as errors are rare. */
static dg_status fatal(dg_decoder *dec, dg_status st, dg_decode_result *res)
{
    dg_decode_set(res, st, "%s", tjGetErrorStr2(dec->tj));
    tjDestroy(dec->tj);
    dec->tj = tjInitDecompress();
    return st;
}

/* The smallest libjpeg-turbo scale (at most 1/1) with both sides >= min_side. */
static tjscalingfactor pick_scale(int w, int h, int min_side)
{
    tjscalingfactor best = {1, 1};
    int n = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&n);
    for (int i = 0; sf && i < n; i++) {
        if (sf[i].num > sf[i].denom)
            continue;
        if (TJSCALED(w, sf[i]) < min_side || TJSCALED(h, sf[i]) < min_side)
            continue;
        if ((int64_t)sf[i].num * best.denom < (int64_t)best.num * sf[i].denom)
            best = sf[i];
    }
    return best;
}

/* libjpeg-turbo's convention (as in its cjpeg/djpeg): stored CMYK is
 * inverted, Adobe style, so R = C * K / 255.  Converts in place. */
static void cmyk_to_rgb(unsigned char *p, size_t pixels)
{
    for (size_t i = 0; i < pixels; i++) {
        unsigned c = p[4 * i], m = p[4 * i + 1], y = p[4 * i + 2], k = p[4 * i + 3];
        p[3 * i] = (unsigned char)((c * k + 127) / 255);
        p[3 * i + 1] = (unsigned char)((m * k + 127) / 255);
        p[3 * i + 2] = (unsigned char)((y * k + 127) / 255);
    }
}

/* Rows at the bottom that are exactly mid-gray: what libjpeg-turbo leaves
 * where the data ended before the image did. */
static int missing_rows(const unsigned char *rgb, int w, int h)
{
    int rows = 0;
    for (int y = h - 1; y >= 0; y--) {
        const unsigned char *row = rgb + (size_t)y * (size_t)w * 3;
        for (size_t x = 0; x < (size_t)w * 3; x++)
            if (row[x] != 128)
                return rows;
        rows++;
    }
    return rows;
}

static dg_status judge_warning(dg_decoder *dec, int w, int h, dg_decode_result *res)
{
    const char *why = tjGetErrorStr2(dec->tj);
    int lost = missing_rows(dec->pix, w, h);
    if ((double)lost > DG_EMBED_MAX_MISSING_ROWS * h)
        return dg_decode_set(res, DG_ST_CORRUPT, "%d of %d rows not decoded (%s)", lost, h, why);
    return dg_decode_set(res, DG_ST_OK_WITH_WARNING, "%s", why);
}

static dg_status decompress(dg_decoder *dec, const unsigned char *buf, size_t len, int comps,
                            dg_decode_result *res)
{
    tjscalingfactor sf = pick_scale(res->width, res->height, dec->min_side);
    int w = TJSCALED(res->width, sf), h = TJSCALED(res->height, sf);
    int pf = comps == 4 ? TJPF_CMYK : TJPF_RGB;
    size_t bytes = (size_t)w * (size_t)h * (size_t)tjPixelSize[pf];
    if (dg_decode_grow(dec, bytes) != DG_OK)
        return dg_decode_set(res, DG_ST_TOO_LARGE, "out of memory for %d x %d pixels", w, h);
    int rc = tjDecompress2(dec->tj, buf, (unsigned long)len, dec->pix, w, 0, h, pf,
                           TJFLAG_FASTUPSAMPLE | TJFLAG_LIMITSCANS);
    if (rc != 0 && tjGetErrorCode(dec->tj) != TJERR_WARNING)
        return fatal(dec, DG_ST_CORRUPT, res);
    if (pf == TJPF_CMYK)
        cmyk_to_rgb(dec->pix, (size_t)w * (size_t)h);
    dg_decode_take(dec, w, h, res);
    if (rc != 0)
        return judge_warning(dec, w, h, res);
    return dg_decode_set(res, DG_ST_OK, "%s", "");
}

static dg_status decode_jpeg(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res)
{
    if (!dec->tj && !(dec->tj = tjInitDecompress()))
        return dg_decode_set(res, DG_ST_UNREADABLE, "cannot create a libjpeg-turbo decompressor (out of memory?)");
    frame_info fi;
    scan_frame(buf, len, &fi);
    if (check_frame(dec, &fi, res) != DG_ST_OK)
        return res->status;
    int w = 0, h = 0, subsamp = 0, cs = 0;
    if (tjDecompressHeader3(dec->tj, buf, (unsigned long)len, &w, &h, &subsamp, &cs) != 0)
        return fatal(dec, DG_ST_CORRUPT, res);
    if (w <= 0 || h <= 0)
        return dg_decode_set(res, DG_ST_CORRUPT, "no image in the JPEG data");
    if (dg_decode_check_size(dec, w, h, res) != DG_ST_OK)
        return res->status;
    int comps = cs == TJCS_CMYK || cs == TJCS_YCCK ? 4 : 3;
    decompress(dec, buf, len, comps, res);
    return dg_decode_turn(dec, fi.orientation, res);
}

/* By content: a misnamed file is read as what it is. */
static dg_status decode(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res)
{
    if (len == 0)
        return dg_decode_set(res, DG_ST_EMPTY, "0 bytes");
    if (len >= 2 && buf[0] == 0xFF && buf[1] == 0xD8)
        return decode_jpeg(dec, buf, len, res);
    if (dg_decode_is_png(buf, len))
        return dg_decode_png(dec, buf, len, res);
    if (dg_decode_is_webp(buf, len))
        return dg_decode_webp(dec, buf, len, res);
    const char *other = other_image(buf, len);
    if (other)
        return dg_decode_set(res, DG_ST_UNSUPPORTED, "%s images are not read (JPEG, PNG and WebP are)", other);
    return dg_decode_set(res, DG_ST_NOT_IMAGE, "no JPEG, PNG or WebP signature (looks like %s)",
                         guess_other(buf, len));
}

static void reset(dg_decode_result *res)
{
    memset(res, 0, sizeof *res);
}

void dg_decode_memory(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res)
{
    reset(res);
    double t = dg_now();
    decode(dec, buf, len, res);
    res->seconds_decode = dg_now() - t;
}

void dg_decode_file(dg_decoder *dec, const char *path, dg_decode_result *res)
{
    reset(res);
    double t0 = dg_now();
    size_t len = 0;
    dg_status st = read_file(dec, path, &len, res);
    double t1 = dg_now();
    res->seconds_read = t1 - t0;
    if (st != DG_ST_OK)
        return;
    decode(dec, dec->file, len, res);
    res->seconds_decode = dg_now() - t1;
}
