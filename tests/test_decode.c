/* test_decode.c - listing the input (manifest, folder, the collective share
 * of each rank), decoding every kind of bad file to its status, and the
 * verification signature of one file (dg_signature_of_file).
 *
 * The bad files are made here from a real photograph of the Debian package
 * lomiri-wallpapers-16.04 (truncated, patched headers) and with libjpeg-turbo
 * (CMYK, progressive, grayscale), and PNG and WebP copies of its decoded
 * pixels made with libspng's and libwebp's encoders (8- and 16-bit,
 * palette, alpha, lossless and lossy, animated).  Runs under mpirun with
 * 1, 2 or 4 ranks: the serial tests run on every rank in a folder of its
 * own; the listing tests are collective and agree on every check before
 * asserting it.
 */
#include "input/decode.h"
#include "input/descriptor.h"
#include "input/exif_orientation.h"
#include "input/manifest.h"
#include "input/signature.h"
#include "mpi_harness.h"

#include <errno.h>
#include <math.h>
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <webp/encode.h>
#include <webp/mux.h>

#define PHOTO "/usr/share/backgrounds/free_by_Peter_Nerlich.jpg"                /* baseline */
#define PROGRESSIVE_PHOTO "/usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg"
#define PHOTO_PACKAGE "lomiri-wallpapers-16.04"

/* ---- helpers ------------------------------------------------------------ */

typedef struct fixture {
    char dir[256];
    unsigned char *photo;
    size_t photo_len;
    dg_decoder dec;
} fixture;

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_whole(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* out (512 bytes) = dir/name */
static void join(char *out, const char *dir, const char *name)
{
    dgt_path(out, 512, dir, name);
}

static void path_in(const fixture *fx, const char *name, char *out)
{
    join(out, fx->dir, name);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx || dgt_tmpdir(fx->dir, sizeof fx->dir, "decode", MPI_COMM_SELF) != 0)
        return -1;
    fx->photo = read_whole(PHOTO, &fx->photo_len);
    if (!fx->photo) {
        fprintf(stdout, "cannot read %s: install the Debian package %s\n", PHOTO, PHOTO_PACKAGE);
        return -1;
    }
    dg_err err;
    if (dg_decoder_init(&fx->dec, 100000000, DG_DESC_SIZE, &err) != DG_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    if (dgt_rmtree(fx->dir, MPI_COMM_SELF) != 0)
        return -1;
    dg_decoder_free(&fx->dec);
    free(fx->photo);
    free(fx);
    return 0;
}

static dg_decode_result decode_bytes(fixture *fx, const unsigned char *buf, size_t len)
{
    dg_decode_result res;
    dg_decode_memory(&fx->dec, buf, len, &res);
    return res;
}

static dg_decode_result decode_path(fixture *fx, const char *path)
{
    dg_decode_result res;
    dg_decode_file(&fx->dec, path, &res);
    return res;
}

/* Byte offset of the first SOFn segment's length field. */
static size_t sof_offset(const unsigned char *b, size_t n)
{
    for (size_t i = 2; i + 4 < n;) {
        assert_int_equal(b[i], 0xFF);
        int m = b[i + 1];
        if (m >= 0xC0 && m <= 0xC3)
            return i + 2;
        i += 2 + (((size_t)b[i + 2] << 8) | b[i + 3]);
    }
    fail_msg("no SOF marker");
    return 0;
}

/* A JPEG of w x h made by libjpeg-turbo from a pixel pattern. */
static unsigned char *make_jpeg(int w, int h, int pf, int subsamp, int flags, unsigned long *len)
{
    int ps = tjPixelSize[pf];
    unsigned char *px = malloc((size_t)w * (size_t)h * (size_t)ps);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ps; c++)
                px[((size_t)y * (size_t)w + (size_t)x) * (size_t)ps + (size_t)c] =
                    (unsigned char)(x < w / 2 ? (c == 0 ? 255 : c == ps - 1 && pf == TJPF_CMYK ? 255 : 0)
                                              : (x * 7 + y * 3 + c * 50) & 255);
    tjhandle tj = tjInitCompress();
    unsigned char *jpeg = NULL;
    *len = 0;
    assert_int_equal(tjCompress2(tj, px, w, 0, h, pf, &jpeg, len, subsamp, 90, flags), 0);
    tjDestroy(tj);
    free(px);
    return jpeg;
}

/* ---- decoding: good files ----------------------------------------------------- */

static void real_photo_decodes_at_the_smallest_scale(void **state)
{
    fixture *fx = *state;
    dg_decode_result res = decode_path(fx, PHOTO);
    assert_int_equal(res.status, DG_ST_OK);
    assert_string_equal(res.msg, "");
    /* 1/8 scale is the smallest libjpeg-turbo has; the photo is far larger
     * than 8 x DG_DESC_SIZE on both sides. */
    assert_true(res.width > 8 * DG_DESC_SIZE && res.height > 8 * DG_DESC_SIZE);
    assert_int_equal(res.image.w, (res.width + 7) / 8);
    assert_int_equal(res.image.h, (res.height + 7) / 8);
    assert_true(res.seconds_read >= 0 && res.seconds_decode > 0);
}

static void small_image_is_decoded_at_a_scale_that_keeps_the_working_size(void **state)
{
    fixture *fx = *state;
    unsigned long len;
    unsigned char *jpeg = make_jpeg(200, 150, TJPF_RGB, TJSAMP_420, 0, &len);
    dg_decode_result res = decode_bytes(fx, jpeg, len);
    assert_int_equal(res.status, DG_ST_OK);
    /* 3/8 gives 75 x 57 (< 64); 1/2 gives 100 x 75, the smallest with both sides >= 64. */
    assert_int_equal(res.image.w, 100);
    assert_int_equal(res.image.h, 75);
    tjFree(jpeg);
}

static void cmyk_jpeg_decodes_to_rgb(void **state)
{
    fixture *fx = *state;
    unsigned long len;
    /* The left half is C=255, M=Y=0, K=255 in libjpeg-turbo's inverted
     * (Adobe) convention, which is pure red. */
    unsigned char *jpeg = make_jpeg(128, 96, TJPF_CMYK, TJSAMP_444, 0, &len);
    dg_decode_result res = decode_bytes(fx, jpeg, len);
    assert_int_equal(res.status, DG_ST_OK);
    assert_int_equal(res.width, 128);
    const unsigned char *p = res.image.rgb + ((size_t)(res.image.h / 2) * (size_t)res.image.w + 4) * 3;
    assert_true(p[0] > 230 && p[1] < 25 && p[2] < 25);
    tjFree(jpeg);
}

static void progressive_jpeg_decodes_like_baseline(void **state)
{
    fixture *fx = *state;
    unsigned long len_b, len_p;
    unsigned char *base = make_jpeg(320, 240, TJPF_RGB, TJSAMP_420, 0, &len_b);
    unsigned char *prog = make_jpeg(320, 240, TJPF_RGB, TJSAMP_420, TJFLAG_PROGRESSIVE, &len_p);
    assert_true(len_b != len_p || memcmp(base, prog, len_b) != 0);
    dg_decode_result rb = decode_bytes(fx, base, len_b);
    assert_int_equal(rb.status, DG_ST_OK);
    size_t n = (size_t)rb.image.w * (size_t)rb.image.h * 3;
    unsigned char *copy = malloc(n);
    memcpy(copy, rb.image.rgb, n);
    dg_decode_result rp = decode_bytes(fx, prog, len_p);
    assert_int_equal(rp.status, DG_ST_OK);
    assert_int_equal(rp.image.w, rb.image.w);
    /* Same coefficients, so the same pixels. */
    assert_memory_equal(copy, rp.image.rgb, n);
    free(copy);
    tjFree(base);
    tjFree(prog);
}

static void grayscale_jpeg_decodes_to_gray_rgb(void **state)
{
    fixture *fx = *state;
    unsigned long len;
    unsigned char *jpeg = make_jpeg(160, 120, TJPF_GRAY, TJSAMP_GRAY, 0, &len);
    dg_decode_result res = decode_bytes(fx, jpeg, len);
    assert_int_equal(res.status, DG_ST_OK);
    for (int i = 0; i < res.image.w * res.image.h; i++) {
        const unsigned char *p = res.image.rgb + (size_t)i * 3;
        assert_true(p[0] == p[1] && p[1] == p[2]);
    }
    tjFree(jpeg);
}

/* ---- decoding: damaged or foreign data ---------------------------------------- */

static void missing_end_of_image_is_ok_with_warning(void **state)
{
    fixture *fx = *state;
    dg_decode_result res = decode_bytes(fx, fx->photo, fx->photo_len - 2);
    assert_int_equal(res.status, DG_ST_OK_WITH_WARNING);
    assert_non_null(strstr(res.msg, "Premature end"));
}

static void file_truncated_to_half_is_corrupt(void **state)
{
    fixture *fx = *state;
    dg_decode_result res = decode_bytes(fx, fx->photo, fx->photo_len / 2);
    assert_int_equal(res.status, DG_ST_CORRUPT);
    assert_non_null(strstr(res.msg, "rows not decoded"));
}

/* Half a progressive file still holds every block's coarse scans: the image
 * is whole, only blurred, so it stays usable. */
static void progressive_photo_truncated_to_half_is_ok_with_warning(void **state)
{
    fixture *fx = *state;
    size_t len;
    unsigned char *buf = read_whole(PROGRESSIVE_PHOTO, &len);
    assert_non_null(buf);
    dg_decode_result res = decode_bytes(fx, buf, len / 2);
    assert_int_equal(res.status, DG_ST_OK_WITH_WARNING);
    res = decode_bytes(fx, buf, len / 50);
    assert_int_equal(res.status, DG_ST_CORRUPT);
    free(buf);
}

static void file_truncated_in_the_header_is_corrupt(void **state)
{
    fixture *fx = *state;
    size_t sof = sof_offset(fx->photo, fx->photo_len);
    dg_decode_result res = decode_bytes(fx, fx->photo, sof + 4);
    assert_int_equal(res.status, DG_ST_CORRUPT);
    assert_true(strlen(res.msg) > 0);
}

static void garbage_after_the_header_is_corrupt_or_warned(void **state)
{
    fixture *fx = *state;
    size_t n = fx->photo_len;
    unsigned char *buf = malloc(n);
    memcpy(buf, fx->photo, n);
    uint64_t h = 42;
    for (size_t i = n / 4; i < n; i++) {
        h = dg_mix64(h);
        buf[i] = (unsigned char)h;
    }
    dg_decode_result res = decode_bytes(fx, buf, n);
    assert_true(res.status == DG_ST_CORRUPT || res.status == DG_ST_OK_WITH_WARNING);
    assert_true(strlen(res.msg) > 0);
    free(buf);
}

static void decoder_recovers_after_a_fatal_error(void **state)
{
    fixture *fx = *state;
    unsigned char *buf = malloc(fx->photo_len);
    memcpy(buf, fx->photo, fx->photo_len);
    size_t sof = sof_offset(buf, fx->photo_len);
    buf[sof] = 0xFF; /* impossible segment length */
    buf[sof + 1] = 0xFF;
    dg_decode_result res = decode_bytes(fx, buf, fx->photo_len);
    assert_int_equal(res.status, DG_ST_CORRUPT);
    res = decode_bytes(fx, fx->photo, fx->photo_len);
    assert_int_equal(res.status, DG_ST_OK);
    free(buf);
}

static void zero_bytes_are_empty(void **state)
{
    fixture *fx = *state;
    char path[512];
    path_in(fx, "empty.jpg", path);
    write_whole(path, "", 0);
    assert_int_equal(decode_path(fx, path).status, DG_ST_EMPTY);
}

static void random_bytes_are_not_an_image(void **state)
{
    fixture *fx = *state;
    unsigned char buf[4096];
    uint64_t h = 7;
    for (size_t i = 0; i < sizeof buf; i++) {
        h = dg_mix64(h);
        buf[i] = (unsigned char)(h | 1); /* never 0xFF 0xD8 at the start */
    }
    buf[0] = 0x17;
    dg_decode_result res = decode_bytes(fx, buf, sizeof buf);
    assert_int_equal(res.status, DG_ST_NOT_IMAGE);
}

static void other_image_formats_are_unsupported_and_a_bare_png_header_corrupt(void **state)
{
    fixture *fx = *state;
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    char path[512];
    path_in(fx, "image.jpg", path);
    write_whole(path, png, sizeof png);
    dg_decode_result res = decode_path(fx, path);
    assert_int_equal(res.status, DG_ST_CORRUPT);
    assert_non_null(strstr(res.msg, "PNG"));
    static const char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    res = decode_bytes(fx, (const unsigned char *)gif, sizeof gif - 1);
    assert_int_equal(res.status, DG_ST_UNSUPPORTED);
    assert_non_null(strstr(res.msg, "GIF"));
    static const char riff[] = "RIFF\x10\x00\x00\x00WAVEfmt ";
    res = decode_bytes(fx, (const unsigned char *)riff, sizeof riff - 1);
    assert_int_equal(res.status, DG_ST_NOT_IMAGE);
}

static void huge_frame_header_is_too_large_before_decoding(void **state)
{
    fixture *fx = *state;
    unsigned char *buf = malloc(fx->photo_len);
    memcpy(buf, fx->photo, fx->photo_len);
    size_t sof = sof_offset(buf, fx->photo_len);
    buf[sof + 3] = 60000 >> 8; /* height */
    buf[sof + 4] = 60000 & 255;
    buf[sof + 5] = 60000 >> 8; /* width */
    buf[sof + 6] = 60000 & 255;
    dg_decode_result res = decode_bytes(fx, buf, fx->photo_len);
    assert_int_equal(res.status, DG_ST_TOO_LARGE);
    assert_int_equal(res.width, 60000);
    assert_int_equal(res.height, 60000);
    /* Refused from the header alone: no pixels were produced. */
    assert_null(res.image.rgb);
    free(buf);
}

static void twelve_bit_and_lossless_are_unsupported(void **state)
{
    fixture *fx = *state;
    unsigned char *buf = malloc(fx->photo_len);
    memcpy(buf, fx->photo, fx->photo_len);
    size_t sof = sof_offset(buf, fx->photo_len);
    buf[sof + 2] = 12; /* sample precision */
    dg_decode_result res = decode_bytes(fx, buf, fx->photo_len);
    assert_int_equal(res.status, DG_ST_UNSUPPORTED);
    assert_non_null(strstr(res.msg, "12-bit"));
    /* libjpeg-turbo 2.1 rejects this too; it would not decode it. */
    tjhandle tj = tjInitDecompress();
    int w, h, ss, cs;
    assert_int_not_equal(tjDecompressHeader3(tj, buf, fx->photo_len, &w, &h, &ss, &cs), 0);

    memcpy(buf, fx->photo, fx->photo_len);
    buf[sof - 1] = 0xC3; /* SOF3: lossless */
    res = decode_bytes(fx, buf, fx->photo_len);
    assert_int_equal(res.status, DG_ST_UNSUPPORTED);
    assert_non_null(strstr(res.msg, "lossless"));
    assert_int_not_equal(tjDecompressHeader3(tj, buf, fx->photo_len, &w, &h, &ss, &cs), 0);
    tjDestroy(tj);
    free(buf);
}

static void pixel_limit_applies_to_real_photo(void **state)
{
    (void)state;
    dg_decoder small;
    dg_err err;
    assert_int_equal(dg_decoder_init(&small, 1000000, DG_DESC_SIZE, &err), DG_OK);
    dg_decode_result res;
    dg_decode_file(&small, PHOTO, &res);
    assert_int_equal(res.status, DG_ST_TOO_LARGE);
    assert_non_null(strstr(res.msg, "max_pixels"));
    dg_decoder_free(&small);
}

/* ---- files that are not files --------------------------------------------- */

static void missing_path_is_missing(void **state)
{
    fixture *fx = *state;
    char path[512];
    path_in(fx, "no-such-file.jpg", path);
    assert_int_equal(decode_path(fx, path).status, DG_ST_MISSING);
    path_in(fx, "plain.jpg", path);
    write_whole(path, "x", 1);
    path_in(fx, "plain.jpg/below-a-file.jpg", path); /* ENOTDIR */
    assert_int_equal(decode_path(fx, path).status, DG_ST_MISSING);
}

static void folder_fifo_and_device_are_unreadable(void **state)
{
    fixture *fx = *state;
    dg_decode_result res = decode_path(fx, fx->dir);
    assert_int_equal(res.status, DG_ST_UNREADABLE);
    assert_non_null(strstr(res.msg, "folder"));
    char fifo[512];
    path_in(fx, "pipe.jpg", fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* Would block forever if the decoder opened it for reading. */
    res = decode_path(fx, fifo);
    assert_int_equal(res.status, DG_ST_UNREADABLE);
    assert_non_null(strstr(res.msg, "FIFO"));
    res = decode_path(fx, "/dev/zero");
    assert_int_equal(res.status, DG_ST_UNREADABLE);
    assert_non_null(strstr(res.msg, "device"));
}

static void file_above_the_size_cap_is_too_large_unread(void **state)
{
    fixture *fx = *state;
    char path[512];
    path_in(fx, "sparse.jpg", path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)DG_EMBED_MAX_FILE_BYTES + 1), 0);
    fclose(f);
    dg_decode_result res = decode_path(fx, path);
    assert_int_equal(res.status, DG_ST_TOO_LARGE);
    assert_true(fx->dec.file_cap < DG_EMBED_MAX_FILE_BYTES);
}

/* ---- the signature of a file (tools) ------------------------------------------ */

static void signature_of_file_is_decode_box_signature_or_zeros(void **state)
{
    fixture *fx = *state;
    uint8_t want[DG_SIG_BYTES], got[DG_SIG_BYTES];
    dg_decode_result res = decode_path(fx, PHOTO);
    assert_int_equal(res.status, DG_ST_OK);
    int box[DG_BOX_LEN];
    dg_content_box(&res.image, box);
    dg_signature_make(&res.image, box, want);
    assert_int_equal(dg_signature_of_file(&fx->dec, PHOTO, got, &res), DG_ST_OK);
    assert_int_equal(res.status, DG_ST_OK);
    assert_memory_equal(got, want, DG_SIG_BYTES);
    /* the decoder's max_pixels, as embed.max_pixels: too large, no signature */
    dg_decoder small;
    dg_err err;
    assert_int_equal(dg_decoder_init(&small, (int64_t)res.width * res.height - 1, DG_DESC_SIZE, &err), DG_OK);
    memset(got, 0xAA, sizeof got);
    assert_int_equal(dg_signature_of_file(&small, PHOTO, got, &res), DG_ST_TOO_LARGE);
    assert_non_null(strstr(res.msg, "embed.max_pixels"));
    assert_false(dg_signature_present(got));
    for (size_t k = 0; k < sizeof got; k++)
        assert_int_equal(got[k], 0);
    /* an unreadable file: its status, no signature */
    char path[512];
    path_in(fx, "missing.jpg", path);
    assert_false(dg_status_usable((int8_t)dg_signature_of_file(&small, path, got, &res)));
    assert_false(dg_signature_present(got));
    dg_decoder_free(&small);
}

/* ---- listing ---------------------------------------------------------------- */

static void manifest_skips_comments_blanks_and_resolves_relative_paths(void **state)
{
    fixture *fx = *state;
    char path[512];
    path_in(fx, "list.txt", path);
    const char *text = "# a comment\r\n"
                       "a.jpg\r\n"
                       "\n"
                       "  \t \n"
                       "sub/b c.jpg\n"
                       "/abs/x.jpg\n"
                       "./#hash.jpg\n"
                       "last.jpg"; /* no final newline */
    write_whole(path, text, strlen(text));
    dg_pathlist pl;
    dg_err err;
    assert_int_equal(dg_manifest_read(path, 0, -1, &pl, &err), DG_OK);
    assert_int_equal(pl.n_total, 5);
    assert_int_equal(pl.n, 5);
    char want[512];
    path_in(fx, "a.jpg", want);
    assert_string_equal(pl.path[0], want);
    path_in(fx, "sub/b c.jpg", want);
    assert_string_equal(pl.path[1], want);
    assert_string_equal(pl.path[2], "/abs/x.jpg");
    path_in(fx, "./#hash.jpg", want);
    assert_string_equal(pl.path[3], want);
    path_in(fx, "last.jpg", want);
    assert_string_equal(pl.path[4], want);
    dg_pathlist_free(&pl);

    assert_int_equal(dg_manifest_read(path, 2, 4, &pl, &err), DG_OK);
    assert_int_equal(pl.n_total, 5);
    assert_int_equal(pl.lo, 2);
    assert_int_equal(pl.n, 2);
    assert_string_equal(pl.path[0], "/abs/x.jpg");
    dg_pathlist_free(&pl);
}

static void malformed_or_missing_manifest_fails_naming_it(void **state)
{
    fixture *fx = *state;
    char path[512];
    dg_pathlist pl;
    dg_err err;
    path_in(fx, "absent.txt", path);
    assert_int_equal(dg_manifest_read(path, 0, -1, &pl, &err), DG_FAIL);
    assert_non_null(strstr(err.msg, path));
    path_in(fx, "binary.txt", path);
    write_whole(path, "ok.jpg\nbad\0.jpg\n", 16);
    assert_int_equal(dg_manifest_read(path, 0, -1, &pl, &err), DG_FAIL);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(dg_manifest_read(fx->dir, 0, -1, &pl, &err), DG_FAIL);
    assert_non_null(strstr(err.msg, "not a regular file"));
}

static void touch(const char *dir, const char *name)
{
    char path[512];
    join(path, dir, name);
    write_whole(path, "x", 1);
}

static void folder_walk_keeps_image_names_sorted_without_following_folder_links(void **state)
{
    fixture *fx = *state;
    char root[512], sub[512], link[512];
    path_in(fx, "tree", root);
    assert_int_equal(mkdir(root, 0755), 0);
    join(sub, root, "b");
    assert_int_equal(mkdir(sub, 0755), 0);
    touch(root, "z.JPG");
    touch(root, "a.jpeg");
    touch(root, "notes.txt");
    touch(root, "pic.png");
    touch(root, "anim.gif");
    touch(root, "jpg");
    touch(root, "webp");
    touch(sub, "c.jpe");
    touch(sub, "e.WebP");
    touch(sub, "d.JFIF");
    join(link, sub, "loop");
    assert_int_equal(symlink(root, link), 0); /* a folder loop: not followed */
    join(link, root, "link.jpg");
    char target[512];
    join(target, root, "a.jpeg");
    assert_int_equal(symlink(target, link), 0);
    join(link, root, "folder.jpg");
    assert_int_equal(symlink(sub, link), 0);
    join(link, root, "dangling.jpg");
    assert_int_equal(symlink("/nonexistent/x.jpg", link), 0);
    char fifo[512];
    join(fifo, root, "fifo.jpg");
    assert_int_equal(mkfifo(fifo, 0600), 0);

    dg_pathlist pl;
    dg_err err;
    assert_int_equal(dg_dir_list(root, &pl, &err), DG_OK);
    const char *want[] = {"a.jpeg", "b/c.jpe", "b/d.JFIF", "b/e.WebP", "link.jpg", "pic.png", "z.JPG"};
    assert_int_equal(pl.n, 7);
    assert_int_equal(pl.n_total, 7);
    for (int i = 0; i < 7; i++) {
        char w[512];
        join(w, root, want[i]);
        assert_string_equal(pl.path[i], w);
    }
    dg_pathlist_free(&pl);

    path_in(fx, "no-such-folder", root);
    assert_int_equal(dg_dir_list(root, &pl, &err), DG_FAIL);
    assert_non_null(strstr(err.msg, root));
}

/* ---- PNG and WebP --------------------------------------------------------------
 * Made here with libspng's and libwebp's encoders from the real photo's
 * decoded pixels (P, the JPEG at 1/8 scale), so that every copy has known
 * pixels: a lossless copy must give P exactly. */

typedef struct photo_px {
    int w, h;
    unsigned char *rgb; /* w x h x 3 */
} photo_px;

static photo_px photo_pixels(fixture *fx)
{
    dg_decode_result res = decode_bytes(fx, fx->photo, fx->photo_len);
    assert_int_equal(res.status, DG_ST_OK);
    photo_px p = {res.image.w, res.image.h, malloc((size_t)res.image.w * (size_t)res.image.h * 3)};
    assert_non_null(p.rgb);
    memcpy(p.rgb, res.image.rgb, (size_t)p.w * (size_t)p.h * 3);
    return p;
}

/* A decoder that never reduces: min_side larger than any test image. */
static dg_decoder full_size_decoder(int64_t max_pixels)
{
    dg_decoder dec;
    dg_err err;
    assert_int_equal(dg_decoder_init(&dec, max_pixels, 1 << 20, &err), DG_OK);
    return dec;
}

static unsigned char *encode_png(int w, int h, int depth, int color, const void *data, size_t len,
                                 struct spng_plte *plte, struct spng_unknown_chunk *chunks, uint32_t n_chunks,
                                 size_t *out_len)
{
    spng_ctx *enc = spng_ctx_new(SPNG_CTX_ENCODER);
    assert_non_null(enc);
    struct spng_ihdr ihdr = {.width = (uint32_t)w, .height = (uint32_t)h, .bit_depth = (uint8_t)depth,
                             .color_type = (uint8_t)color};
    assert_int_equal(spng_set_option(enc, SPNG_ENCODE_TO_BUFFER, 1), 0);
    assert_int_equal(spng_set_ihdr(enc, &ihdr), 0);
    if (plte)
        assert_int_equal(spng_set_plte(enc, plte), 0);
    if (n_chunks)
        assert_int_equal(spng_set_unknown_chunks(enc, chunks, n_chunks), 0);
    assert_int_equal(spng_encode_image(enc, data, len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE), 0);
    int error = 0;
    unsigned char *png = spng_get_png_buffer(enc, out_len, &error);
    assert_int_equal(error, 0);
    assert_non_null(png);
    spng_ctx_free(enc);
    return png;
}

static unsigned char *png_rgb8(const photo_px *p, size_t *len)
{
    return encode_png(p->w, p->h, 8, SPNG_COLOR_TYPE_TRUECOLOR, p->rgb, (size_t)p->w * (size_t)p->h * 3, NULL,
                      NULL, 0, len);
}

/* The pixels decoded at full size are exactly want (w x h). */
static void assert_decodes_to(const unsigned char *buf, size_t len, const unsigned char *want, int w, int h,
                              dg_status st)
{
    dg_decoder dec = full_size_decoder(0);
    dg_decode_result res;
    dg_decode_memory(&dec, buf, len, &res);
    assert_int_equal(res.status, st);
    assert_int_equal(res.width, w);
    assert_int_equal(res.height, h);
    assert_int_equal(res.image.w, w);
    assert_int_equal(res.image.h, h);
    assert_memory_equal(res.image.rgb, want, (size_t)w * (size_t)h * 3);
    dg_decoder_free(&dec);
}

static double cosine(const float *a, const float *b)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < DG_DESC_DIM; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

/* The descriptor as the embedder computes it: the content box first. */
static void describe(const dg_pixels *px, int flip, float *out)
{
    int box[DG_BOX_LEN];
    dg_content_box(px, box);
    dg_descriptor(px, box, flip, out);
}

static void lossless_png_and_webp_give_the_jpeg_pixels_and_descriptor(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    dg_pixels jp = {p.w, p.h, p.rgb};
    float want[DG_DESC_DIM], got[DG_DESC_DIM];
    describe(&jp, 0, want);

    size_t png_len, webp_len;
    unsigned char *png = png_rgb8(&p, &png_len);
    uint8_t *webp = NULL;
    webp_len = WebPEncodeLosslessRGB(p.rgb, p.w, p.h, p.w * 3, &webp);
    assert_true(webp_len > 0);
    const unsigned char *copies[] = {png, webp};
    size_t lens[] = {png_len, webp_len};
    for (int i = 0; i < 2; i++) {
        assert_decodes_to(copies[i], lens[i], p.rgb, p.w, p.h, DG_ST_OK);
        dg_decoder dec = full_size_decoder(0);
        dg_decode_result res;
        dg_decode_memory(&dec, copies[i], lens[i], &res);
        describe(&res.image, 0, got);
        assert_memory_equal(got, want, sizeof want);
        dg_decoder_free(&dec);
        /* At the embedder's working size: the JPEG path's size for these
         * pixels (the smallest scale M/8 with both sides >= DG_DESC_SIZE:
         * 2/8 of 360 x 270), and the descriptor hardly moves. */
        res = decode_bytes(fx, copies[i], lens[i]);
        assert_int_equal(res.status, DG_ST_OK);
        assert_int_equal(res.image.w, (p.w * 2 + 7) / 8);
        assert_int_equal(res.image.h, (p.h * 2 + 7) / 8);
        assert_true(res.image.h >= DG_DESC_SIZE && (p.h + 7) / 8 < DG_DESC_SIZE);
        describe(&res.image, 0, got);
        double cos = cosine(got, want);
        if (cos < 0.99)
            fail_msg("copy %d at the working size: descriptor cosine %.5f", i, cos);
    }
    free(png);
    WebPFree(webp);
    free(p.rgb);
}

static void sixteen_bit_png_is_scaled_to_eight_bits(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    size_t n = (size_t)p.w * (size_t)p.h * 3;
    uint16_t *wide = malloc(n * 2);
    for (size_t i = 0; i < n; i++)
        wide[i] = (uint16_t)(p.rgb[i] * 256 + (i % 7) * 37); /* low bytes that must not matter */
    size_t len;
    unsigned char *png = encode_png(p.w, p.h, 16, SPNG_COLOR_TYPE_TRUECOLOR, wide, n * 2, NULL, NULL, 0, &len);
    assert_decodes_to(png, len, p.rgb, p.w, p.h, DG_ST_OK);
    free(png);
    free(wide);
    free(p.rgb);
}

static void palette_png_gives_its_palette_colours(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    size_t pixels = (size_t)p.w * (size_t)p.h;
    struct spng_plte plte = {.n_entries = 256};
    for (int i = 0; i < 256; i++) { /* 3-3-2 bits of R, G, B */
        plte.entries[i].red = (uint8_t)((i >> 5) * 255 / 7);
        plte.entries[i].green = (uint8_t)(((i >> 2) & 7) * 255 / 7);
        plte.entries[i].blue = (uint8_t)((i & 3) * 255 / 3);
    }
    unsigned char *idx = malloc(pixels), *want = malloc(pixels * 3);
    for (size_t i = 0; i < pixels; i++) {
        const unsigned char *c = p.rgb + 3 * i;
        idx[i] = (unsigned char)((c[0] >> 5) << 5 | (c[1] >> 5) << 2 | c[2] >> 6);
        want[3 * i] = plte.entries[idx[i]].red;
        want[3 * i + 1] = plte.entries[idx[i]].green;
        want[3 * i + 2] = plte.entries[idx[i]].blue;
    }
    size_t len;
    unsigned char *png = encode_png(p.w, p.h, 8, SPNG_COLOR_TYPE_INDEXED, idx, pixels, &plte, NULL, 0, &len);
    assert_decodes_to(png, len, want, p.w, p.h, DG_ST_OK);
    free(png);
    free(idx);
    free(want);
    free(p.rgb);
}

/* A PNG whose compressed ICC profile inflates to more than the whole
 * file, as desktop-base's moonlight background (13 KB, a 9 KB profile): it
 * was refused as corrupt while libspng's chunk limit was the file's size. */
static void png_with_an_icc_profile_larger_than_the_file_decodes(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    enum { PROFILE = 1 << 16 };
    unsigned char *profile = malloc(PROFILE);
    assert_non_null(profile);
    for (int i = 0; i < PROFILE; i++)
        profile[i] = (unsigned char)(i % 7);
    spng_ctx *enc = spng_ctx_new(SPNG_CTX_ENCODER);
    assert_non_null(enc);
    struct spng_ihdr ihdr = {.width = (uint32_t)p.w, .height = (uint32_t)p.h, .bit_depth = 8,
                             .color_type = SPNG_COLOR_TYPE_TRUECOLOR};
    struct spng_iccp iccp = {.profile_name = "test profile", .profile_len = PROFILE, .profile = (char *)profile};
    assert_int_equal(spng_set_option(enc, SPNG_ENCODE_TO_BUFFER, 1), 0);
    assert_int_equal(spng_set_ihdr(enc, &ihdr), 0);
    assert_int_equal(spng_set_iccp(enc, &iccp), 0);
    assert_int_equal(spng_encode_image(enc, p.rgb, (size_t)p.w * (size_t)p.h * 3, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE),
                     0);
    int error = 0;
    size_t len = 0;
    unsigned char *png = spng_get_png_buffer(enc, &len, &error);
    assert_int_equal(error, 0);
    spng_ctx_free(enc);
    assert_true(len < PROFILE);
    assert_decodes_to(png, len, p.rgb, p.w, p.h, DG_ST_OK);
    free(png);
    free(profile);
    free(p.rgb);

    dg_decoder dec = full_size_decoder(0);
    dg_decode_result res;
    dg_decode_file(&dec, "/usr/share/plymouth/themes/moonlight/background.png", &res);
    assert_int_equal(res.status, DG_ST_OK);
    assert_int_equal(res.image.w, 1920);
    assert_int_equal(res.image.h, 1080);
    dg_decoder_free(&dec);
}

/* ---- EXIF orientation ----------------------------------------------------- */

/* An APP1 payload ("Exif\0\0" + TIFF) with one IFD0 entry: tag, type, count
 * and a SHORT value, in either byte order; 28 bytes (no next-IFD offset:
 * the reader needs none). */
static size_t exif_payload(unsigned char *p, int big, unsigned tag, unsigned type, unsigned count, unsigned value)
{
    static const unsigned char le[] = {'I', 'I', 42, 0, 8, 0, 0, 0}, be[] = {'M', 'M', 0, 42, 0, 0, 0, 8};
    memcpy(p, "Exif\0\0", 6);
    memcpy(p + 6, big ? be : le, 8);
    unsigned char *e = p + 14;
    const unsigned f16[3] = {1, tag, type};
    for (int i = 0; i < 3; i++) { /* entry count, tag, type */
        e[2 * i] = (unsigned char)(big ? f16[i] >> 8 : f16[i]);
        e[2 * i + 1] = (unsigned char)(big ? f16[i] : f16[i] >> 8);
    }
    for (int i = 0; i < 4; i++)
        e[6 + i] = (unsigned char)(count >> (big ? 24 - 8 * i : 8 * i));
    memset(e + 10, 0, 4);
    e[10] = (unsigned char)(big ? value >> 8 : value);
    e[11] = (unsigned char)(big ? value : value >> 8);
    return 28;
}

static void exif_orientation_is_read_in_either_byte_order_and_damage_gives_1(void **state)
{
    (void)state;
    unsigned char p[64];
    for (int big = 0; big < 2; big++)
        for (unsigned o = 1; o <= 8; o++) {
            size_t n = exif_payload(p, big, 0x0112, 3, 1, o);
            assert_int_equal(dg_exif_orientation(p, n), (int)o);
            assert_int_equal(dg_exif_orientation(p + 6, n - 6), (int)o); /* a bare TIFF block (PNG eXIf) */
            for (size_t cut = 0; cut < n; cut++) /* truncated anywhere: never read past, 1 */
                assert_int_equal(dg_exif_orientation(p, cut), 1);
        }
    size_t n = exif_payload(p, 0, 0x0112, 3, 1, 9); /* out of range */
    assert_int_equal(dg_exif_orientation(p, n), 1);
    n = exif_payload(p, 1, 0x0112, 3, 1, 0);
    assert_int_equal(dg_exif_orientation(p, n), 1);
    n = exif_payload(p, 0, 0x0112, 4, 1, 6); /* LONG, not SHORT */
    assert_int_equal(dg_exif_orientation(p, n), 1);
    n = exif_payload(p, 0, 0x0112, 3, 2, 6); /* two values */
    assert_int_equal(dg_exif_orientation(p, n), 1);
    n = exif_payload(p, 1, 0x0110, 2, 1, 6); /* another tag (Model) */
    assert_int_equal(dg_exif_orientation(p, n), 1);
    n = exif_payload(p, 0, 0x0112, 3, 1, 6);
    p[10] = 0xF0; /* IFD0 offset beyond the segment */
    assert_int_equal(dg_exif_orientation(p, n), 1);
    n = exif_payload(p, 0, 0x0112, 3, 1, 6);
    p[14] = 0xFF; /* 255 entries announced, one there */
    p[15] = 0;
    assert_int_equal(dg_exif_orientation(p, n), 6); /* the first is read before the count runs out */
    p[16] = 0x10; /* ... and without the tag in it, the walk stops at the segment's end */
    assert_int_equal(dg_exif_orientation(p, n), 1);
    memcpy(p, "Exif\0\1", 6);
    assert_int_equal(dg_exif_orientation(p, n), 1);
}

/* Where the stored first row and column end: the corners the stored top
 * left and top right pixels are shown at, for each orientation (EXIF 2.3,
 * tag 0x0112: 1 top left, 2 top right, 3 bottom right, 4 bottom left, 5 left
 * top, 6 right top, 7 right bottom, 8 left bottom). */
static void exif_turn_shows_the_first_row_and_column_where_the_tag_says(void **state)
{
    (void)state;
    enum { W = 5, H = 3 };
    unsigned char src[W * H * 3], dst[W * H * 3];
    for (int i = 0; i < W * H; i++) {
        src[3 * i] = (unsigned char)i; /* each pixel its index */
        src[3 * i + 1] = (unsigned char)(i * 7);
        src[3 * i + 2] = (unsigned char)(255 - i);
    }
    /* corners as 0 top left, 1 top right, 2 bottom right, 3 bottom left of the shown image */
    static const int first_at[9] = {0, 0, 1, 2, 3, 0, 1, 2, 3};     /* stored (0, 0) */
    static const int row_end_at[9] = {0, 1, 0, 3, 2, 3, 2, 1, 0};   /* stored (W - 1, 0) */
    for (int o = 1; o <= 8; o++) {
        int ow, oh;
        dg_exif_turn(src, W, H, o, dst, &ow, &oh);
        assert_int_equal(ow, o >= 5 ? H : W);
        assert_int_equal(oh, o >= 5 ? W : H);
        const int cx[4] = {0, ow - 1, ow - 1, 0}, cy[4] = {0, 0, oh - 1, oh - 1};
        const unsigned char *a = dst + ((size_t)cy[first_at[o]] * (size_t)ow + (size_t)cx[first_at[o]]) * 3;
        const unsigned char *b = dst + ((size_t)cy[row_end_at[o]] * (size_t)ow + (size_t)cx[row_end_at[o]]) * 3;
        assert_memory_equal(a, src, 3);
        assert_memory_equal(b, src + (W - 1) * 3, 3);
        unsigned sum = 0; /* a permutation: every pixel once */
        for (int i = 0; i < W * H; i++)
            sum += dst[3 * i];
        assert_int_equal(sum, W * H * (W * H - 1) / 2);
    }
}

/* rgb (w x h) as a JPEG (quality 95, no chroma subsampling), with an EXIF
 * APP1 segment of orientation o right after SOI when o > 0. */
static unsigned char *jpeg_with_orientation(const unsigned char *rgb, int w, int h, int o, size_t *len)
{
    tjhandle tj = tjInitCompress();
    assert_non_null(tj);
    unsigned char *jpeg = NULL;
    unsigned long jlen = 0;
    assert_int_equal(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpeg, &jlen, TJSAMP_444, 95, 0), 0);
    tjDestroy(tj);
    unsigned char app1[4 + 32];
    size_t n = o > 0 ? exif_payload(app1 + 4, 0, 0x0112, 3, 1, (unsigned)o) : 0;
    size_t seg = o > 0 ? 4 + n : 0;
    app1[0] = 0xFF;
    app1[1] = 0xE1;
    app1[2] = (unsigned char)((n + 2) >> 8);
    app1[3] = (unsigned char)(n + 2);
    unsigned char *out = malloc(jlen + seg);
    assert_non_null(out);
    memcpy(out, jpeg, 2);
    memcpy(out + 2, app1, seg);
    memcpy(out + 2 + seg, jpeg + 2, jlen - 2);
    tjFree(jpeg);
    *len = jlen + seg;
    return out;
}

static double mean_abs_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d += abs((int)a[i] - (int)b[i]);
    return d / (double)n;
}

/* A camera's sideways pixels with the tag that turns them, for each
 * orientation: decoded, they are the upright photo's (as a viewer shows
 * them, and as a copy re-encoded upright stores them), up to the JPEG's own
 * rounding; without the tag they are not. */
static void jpeg_exif_orientation_turns_the_pixels_as_shown(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    static const int inverse[9] = {0, 1, 2, 3, 4, 5, 8, 7, 6};
    size_t n = (size_t)p.w * (size_t)p.h * 3, up_len;
    unsigned char *upright = jpeg_with_orientation(p.rgb, p.w, p.h, 0, &up_len);
    dg_decoder dec = full_size_decoder(0);
    dg_decode_result res;
    dg_decode_memory(&dec, upright, up_len, &res);
    assert_int_equal(res.status, DG_ST_OK);
    unsigned char *want = malloc(n), *stored = malloc(n);
    assert_non_null(want);
    assert_non_null(stored);
    memcpy(want, res.image.rgb, n);
    for (int o = 1; o <= 8; o++) {
        int sw, sh;
        dg_exif_turn(p.rgb, p.w, p.h, inverse[o], stored, &sw, &sh); /* what the camera stored */
        size_t len;
        unsigned char *tagged = jpeg_with_orientation(stored, sw, sh, o, &len);
        dg_decode_memory(&dec, tagged, len, &res);
        assert_int_equal(res.status, DG_ST_OK);
        assert_int_equal(res.width, p.w);
        assert_int_equal(res.height, p.h);
        assert_int_equal(res.image.w, p.w);
        assert_int_equal(res.image.h, p.h);
        double turned = mean_abs_diff(res.image.rgb, want, n);
        free(tagged);
        unsigned char *plain = jpeg_with_orientation(stored, sw, sh, 0, &len);
        dg_decode_memory(&dec, plain, len, &res);
        assert_int_equal(res.status, DG_ST_OK);
        int same_shape = res.image.w == p.w && res.image.h == p.h;
        double unturned = same_shape ? mean_abs_diff(res.image.rgb, want, n) : 255.0;
        free(plain);
        print_message("orientation %d: mean |difference| to the upright decode %.3f turned, %.3f without the tag\n",
                      o, turned, unturned);
        assert_true(turned < 1.0);
        if (o > 1)
            assert_true(unturned > 10.0);
    }
    dg_decoder_free(&dec);
    free(want);
    free(stored);
    free(upright);
    free(p.rgb);
}

/* Colour c at alpha a over the white background. */
static unsigned char over_white(unsigned c, unsigned a)
{
    return (unsigned char)((c * a + 255 * (255 - a) + 127) / 255);
}

static void alpha_is_composited_over_white_in_png_and_webp(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    size_t pixels = (size_t)p.w * (size_t)p.h;
    unsigned char *rgba = malloc(pixels * 4), *ga = malloc(pixels * 2);
    unsigned char *want = malloc(pixels * 3), *want_gray = malloc(pixels * 3);
    for (size_t i = 0; i < pixels; i++) {
        unsigned a = (unsigned)((i % (size_t)p.w) * 255 / (size_t)(p.w - 1)); /* transparent left, opaque right */
        unsigned g = p.rgb[3 * i + 1];
        for (int c = 0; c < 3; c++) {
            rgba[4 * i + c] = p.rgb[3 * i + c];
            want[3 * i + c] = over_white(p.rgb[3 * i + c], a);
            want_gray[3 * i + c] = over_white(g, a);
        }
        rgba[4 * i + 3] = (unsigned char)a;
        ga[2 * i] = (unsigned char)g;
        ga[2 * i + 1] = (unsigned char)a;
    }
    assert_int_equal(want[0], 255); /* alpha 0 is the background itself */
    size_t len;
    unsigned char *png = encode_png(p.w, p.h, 8, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, rgba, pixels * 4, NULL, NULL, 0,
                                    &len);
    assert_decodes_to(png, len, want, p.w, p.h, DG_ST_OK);
    free(png);
    png = encode_png(p.w, p.h, 8, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, ga, pixels * 2, NULL, NULL, 0, &len);
    assert_decodes_to(png, len, want_gray, p.w, p.h, DG_ST_OK);
    free(png);
    uint8_t *webp = NULL;
    len = WebPEncodeLosslessRGBA(rgba, p.w, p.h, p.w * 4, &webp);
    assert_true(len > 0);
    assert_decodes_to(webp, len, want, p.w, p.h, DG_ST_OK);
    WebPFree(webp);
    free(rgba);
    free(ga);
    free(want);
    free(want_gray);
    free(p.rgb);
}

static void lossy_webp_decodes_close_to_its_source(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    uint8_t *webp = NULL;
    size_t len = WebPEncodeRGB(p.rgb, p.w, p.h, p.w * 3, 90, &webp);
    assert_true(len > 0);
    dg_decoder dec = full_size_decoder(0);
    dg_decode_result res;
    dg_decode_memory(&dec, webp, len, &res);
    assert_int_equal(res.status, DG_ST_OK);
    assert_int_equal(res.image.w, p.w);
    assert_int_equal(res.image.h, p.h);
    double diff = 0;
    size_t n = (size_t)p.w * (size_t)p.h * 3;
    for (size_t i = 0; i < n; i++)
        diff += abs((int)res.image.rgb[i] - (int)p.rgb[i]);
    assert_true(diff / (double)n < 4.0);
    assert_true(memcmp(res.image.rgb, p.rgb, n) != 0); /* lossy: the test would see a lossless path */
    /* libwebp's own scaler at the working size */
    res = decode_bytes(fx, webp, len);
    assert_int_equal(res.status, DG_ST_OK);
    assert_int_equal(res.image.h, (p.h + 3) / 4);
    dg_decoder_free(&dec);
    WebPFree(webp);
    free(p.rgb);
}

static void formats_are_read_by_content_whatever_the_name(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    size_t png_len, webp_len;
    unsigned char *png = png_rgb8(&p, &png_len);
    uint8_t *webp = NULL;
    webp_len = WebPEncodeLosslessRGB(p.rgb, p.w, p.h, p.w * 3, &webp);
    char a[512], b[512], c[512];
    path_in(fx, "really_png.jpg", a);
    path_in(fx, "really_webp.png", b);
    path_in(fx, "really_jpeg.webp", c);
    write_whole(a, png, png_len);
    write_whole(b, webp, webp_len);
    write_whole(c, fx->photo, fx->photo_len);
    dg_decoder dec = full_size_decoder(0);
    const char *paths[] = {a, b};
    for (int i = 0; i < 2; i++) {
        dg_decode_result res;
        dg_decode_file(&dec, paths[i], &res);
        assert_int_equal(res.status, DG_ST_OK);
        assert_int_equal(res.image.w, p.w);
        assert_memory_equal(res.image.rgb, p.rgb, (size_t)p.w * (size_t)p.h * 3);
    }
    dg_decode_result res = decode_path(fx, c);
    assert_int_equal(res.status, DG_ST_OK);
    assert_memory_equal(res.image.rgb, p.rgb, (size_t)p.w * (size_t)p.h * 3);
    dg_decoder_free(&dec);
    free(png);
    WebPFree(webp);
    free(p.rgb);
}

static void truncated_or_damaged_png_and_webp_are_corrupt(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    size_t png_len;
    unsigned char *png = png_rgb8(&p, &png_len);
    uint8_t *lossless = NULL, *lossy = NULL;
    size_t ll_len = WebPEncodeLosslessRGB(p.rgb, p.w, p.h, p.w * 3, &lossless);
    size_t ly_len = WebPEncodeRGB(p.rgb, p.w, p.h, p.w * 3, 80, &lossy);
    const unsigned char *bufs[] = {png, lossless, lossy};
    size_t lens[] = {png_len, ll_len, ly_len};
    for (int i = 0; i < 3; i++) {
        /* WebP's RIFF size tells a missing last byte; PNG's image data ends
         * 12 (IEND) + 4 (CRC) bytes before the end: cut into its checksum */
        size_t cuts[] = {lens[i] / 2, 40, i == 0 ? lens[i] - 17 : lens[i] - 1};
        for (int k = 0; k < 3; k++) {
            dg_decode_result res = decode_bytes(fx, bufs[i], cuts[k]);
            if (res.status != DG_ST_CORRUPT)
                fail_msg("copy %d cut to %zu of %zu bytes: %s (%s)", i, cuts[k], lens[i], dg_status_name(res.status),
                         res.msg);
            assert_true(res.msg[0] != '\0');
        }
    }
    /* A PNG whose image data is whole but whose IEND chunk is missing is
     * what a JPEG without EOI is: a warning. */
    dg_decode_result res = decode_bytes(fx, png, png_len - 12);
    assert_int_equal(res.status, DG_ST_OK_WITH_WARNING);
    assert_non_null(strstr(res.msg, "after the image"));
    /* One byte changed in the middle of the PNG's image data: its CRC fails. */
    unsigned char *bad = malloc(png_len);
    memcpy(bad, png, png_len);
    bad[png_len / 2] ^= 0x55;
    assert_int_equal(decode_bytes(fx, bad, png_len).status, DG_ST_CORRUPT);
    /* The lossless WebP's bitstream header (VP8L signature) broken. */
    unsigned char *bad_webp = malloc(ll_len);
    memcpy(bad_webp, lossless, ll_len);
    assert_memory_equal(bad_webp + 12, "VP8L", 4);
    bad_webp[20] ^= 0xFF;
    assert_int_equal(decode_bytes(fx, bad_webp, ll_len).status, DG_ST_CORRUPT);
    /* and the decoder still reads a good file afterwards */
    assert_int_equal(decode_bytes(fx, png, png_len).status, DG_ST_OK);
    free(bad);
    free(bad_webp);
    free(png);
    WebPFree(lossless);
    WebPFree(lossy);
    free(p.rgb);
}

static void size_limit_is_checked_from_the_png_and_webp_headers(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    size_t png_len;
    unsigned char *png = png_rgb8(&p, &png_len);
    uint8_t *webp = NULL;
    size_t webp_len = WebPEncodeLosslessRGB(p.rgb, p.w, p.h, p.w * 3, &webp);
    assert_true(png_len > 64 && webp_len > 64);
    dg_decoder dec = full_size_decoder((int64_t)p.w * p.h - 1);
    /* only the headers (the first 64 bytes) are there: too_large, not corrupt */
    const unsigned char *bufs[] = {png, webp};
    for (int i = 0; i < 2; i++) {
        dg_decode_result res;
        dg_decode_memory(&dec, bufs[i], 64, &res);
        assert_int_equal(res.status, DG_ST_TOO_LARGE);
        assert_int_equal(res.width, p.w);
        assert_int_equal(res.height, p.h);
        assert_non_null(strstr(res.msg, "embed.max_pixels"));
    }
    dg_decoder_free(&dec);
    free(png);
    WebPFree(webp);
    free(p.rgb);
}

/* A chunk for spng_set_unknown_chunks; data of n bytes. */
static struct spng_unknown_chunk chunk(const char *type, void *data, size_t n, enum spng_location where)
{
    struct spng_unknown_chunk c = {.length = n, .data = data, .location = where};
    memcpy(c.type, type, 4);
    return c;
}

static void put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* The first IDAT chunk's data of a PNG (the test's own encoder writes one). */
static const unsigned char *idat(const unsigned char *png, size_t len, size_t *n)
{
    for (size_t pos = 8; pos + 8 <= len;) {
        size_t clen = ((size_t)png[pos] << 24) | ((size_t)png[pos + 1] << 16) | ((size_t)png[pos + 2] << 8) | png[pos + 3];
        if (memcmp(png + pos + 4, "IDAT", 4) == 0) {
            *n = clen;
            return png + pos + 8;
        }
        pos += clen + 12;
    }
    fail_msg("no IDAT");
    return NULL;
}

static void animated_png_and_webp_give_the_first_frame_with_a_warning(void **state)
{
    fixture *fx = *state;
    photo_px p = photo_pixels(fx);
    size_t n = (size_t)p.w * (size_t)p.h * 3;
    unsigned char *second = malloc(n);
    for (size_t i = 0; i < n; i++)
        second[i] = (unsigned char)(255 - p.rgb[i]);

    /* APNG: acTL and the first fcTL before IDAT (the default image is frame
     * 1), then frame 2 as fcTL + fdAT carrying the second image's data. */
    size_t len2, data2_len = 0;
    unsigned char *png2 = encode_png(p.w, p.h, 8, SPNG_COLOR_TYPE_TRUECOLOR, second, n, NULL, NULL, 0, &len2);
    const unsigned char *data2 = idat(png2, len2, &data2_len);
    unsigned char actl[8], fctl1[26] = {0}, fctl2[26] = {0}, *fdat = malloc(4 + data2_len);
    put32(actl, 2);
    put32(actl + 4, 0);
    unsigned char *fc[] = {fctl1, fctl2};
    for (int k = 0; k < 2; k++) {
        put32(fc[k], k == 0 ? 0 : 1);
        put32(fc[k] + 4, (uint32_t)p.w);
        put32(fc[k] + 8, (uint32_t)p.h);
        fc[k][21] = 1; /* delay 1/1 s (delay_num at 20..21, delay_den at 22..23) */
        fc[k][23] = 1;
    }
    put32(fdat, 2);
    memcpy(fdat + 4, data2, data2_len);
    struct spng_unknown_chunk chunks[] = {
        chunk("acTL", actl, sizeof actl, SPNG_AFTER_IHDR), chunk("fcTL", fctl1, sizeof fctl1, SPNG_AFTER_IHDR),
        chunk("fcTL", fctl2, sizeof fctl2, SPNG_AFTER_IDAT), chunk("fdAT", fdat, 4 + data2_len, SPNG_AFTER_IDAT)};
    size_t apng_len;
    unsigned char *apng = encode_png(p.w, p.h, 8, SPNG_COLOR_TYPE_TRUECOLOR, p.rgb, n, NULL, chunks, 4, &apng_len);
    assert_decodes_to(apng, apng_len, p.rgb, p.w, p.h, DG_ST_OK_WITH_WARNING);
    dg_decode_result res = decode_bytes(fx, apng, apng_len);
    assert_int_equal(res.status, DG_ST_OK_WITH_WARNING);
    assert_non_null(strstr(res.msg, "first frame"));

    /* Animated WebP, lossless frames, with libwebpmux's encoder. */
    WebPAnimEncoderOptions opt;
    assert_true(WebPAnimEncoderOptionsInit(&opt));
    WebPAnimEncoder *enc = WebPAnimEncoderNew(p.w, p.h, &opt);
    WebPConfig cfg;
    assert_true(WebPConfigInit(&cfg));
    cfg.lossless = 1;
    const unsigned char *frames[] = {p.rgb, second};
    for (int k = 0; k < 2; k++) {
        WebPPicture pic;
        assert_true(WebPPictureInit(&pic));
        pic.use_argb = 1;
        pic.width = p.w;
        pic.height = p.h;
        assert_true(WebPPictureImportRGB(&pic, frames[k], p.w * 3));
        assert_true(WebPAnimEncoderAdd(enc, &pic, k * 100, &cfg));
        WebPPictureFree(&pic);
    }
    assert_true(WebPAnimEncoderAdd(enc, NULL, 200, NULL));
    WebPData anim;
    WebPDataInit(&anim);
    assert_true(WebPAnimEncoderAssemble(enc, &anim));
    WebPAnimEncoderDelete(enc);
    assert_decodes_to(anim.bytes, anim.size, p.rgb, p.w, p.h, DG_ST_OK_WITH_WARNING);
    res = decode_bytes(fx, anim.bytes, anim.size);
    assert_int_equal(res.status, DG_ST_OK_WITH_WARNING);
    assert_non_null(strstr(res.msg, "2 frames"));
    assert_int_equal(res.image.h, (p.h + 3) / 4);
    WebPDataClear(&anim);
    free(apng);
    free(png2);
    free(fdat);
    free(second);
    free(p.rgb);
}

/* ---- the collective listing ------------------------------------------------ */

/* Rank 0 writes a manifest of n entries (with comments between them) in its
 * folder; every rank gets the path. */
static void shared_manifest(const fixture *fx, int64_t n, char *path)
{
    if (dgt_world_rank() == 0) {
        snprintf(path, 512, "%s/big.txt", fx->dir);
        FILE *f = fopen(path, "w");
        for (int64_t i = 0; i < n; i++)
            fprintf(f, "%s/img%07lld.jpg\n%s", i % 3 ? "d" : "/abs", (long long)i, i % 5 ? "" : "# note\n\n");
        fclose(f);
    }
    MPI_Bcast(path, 512, MPI_CHAR, 0, MPI_COMM_WORLD);
}

static void each_rank_lists_its_share_of_a_manifest(void **state)
{
    fixture *fx = *state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    int ok = 1;
    /* 9993 entries: ranks start at different index marks. */
    static const int64_t sizes[] = {0, 3, 9993};
    for (int t = 0; t < 3; t++) {
        int64_t n = sizes[t];
        char path[512];
        shared_manifest(fx, n, path);
        dg_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.input_kind = DG_INPUT_MANIFEST;
        snprintf(cfg.input_path, sizeof cfg.input_path, "%s", path);
        dg_pathlist mine, all;
        dg_err err;
        ok &= dg_list_input(&ctx, &cfg, &mine, &err) == DG_OK;
        ok &= dg_manifest_read(path, 0, -1, &all, &err) == DG_OK;
        ok &= all.n == n && mine.n_total == n;
        ok &= mine.lo == dg_range_lo(n, ctx.size, ctx.rank);
        ok &= mine.n == dg_range_lo(n, ctx.size, ctx.rank + 1) - mine.lo;
        for (int64_t i = 0; ok && i < mine.n; i++)
            ok &= strcmp(mine.path[i], all.path[mine.lo + i]) == 0;
        dg_pathlist_free(&mine);
        dg_pathlist_free(&all);
        MPI_Barrier(MPI_COMM_WORLD);
    }
    assert_true(dgt_all_ranks(ok));
}

static void each_rank_lists_its_share_of_a_folder(void **state)
{
    fixture *fx = *state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    char root[512];
    snprintf(root, sizeof root, "%s/share", fx->dir);
    if (ctx.rank == 0) {
        mkdir(root, 0755);
        for (int i = 0; i < 23; i++) {
            char name[64];
            snprintf(name, sizeof name, "p%02d.jpg", (i * 17) % 23);
            touch(root, name);
        }
    }
    MPI_Bcast(root, sizeof root, MPI_CHAR, 0, MPI_COMM_WORLD);
    dg_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input_kind = DG_INPUT_DIR;
    snprintf(cfg.input_path, sizeof cfg.input_path, "%s", root);
    dg_pathlist mine;
    dg_err err;
    int ok = dg_list_input(&ctx, &cfg, &mine, &err) == DG_OK;
    ok &= mine.n_total == 23 && mine.lo == dg_range_lo(23, ctx.size, ctx.rank);
    for (int64_t i = 0; ok && i < mine.n; i++) {
        char want[512], name[32];
        snprintf(name, sizeof name, "p%02lld.jpg", (long long)(mine.lo + i));
        join(want, root, name);
        ok &= strcmp(mine.path[i], want) == 0;
    }
    dg_pathlist_free(&mine);
    assert_true(dgt_all_ranks(ok));
}

static void unreadable_input_fails_on_every_rank(void **state)
{
    fixture *fx = *state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input_kind = DG_INPUT_MANIFEST;
    snprintf(cfg.input_path, sizeof cfg.input_path, "/nonexistent/manifest.txt");
    dg_pathlist pl;
    dg_err err;
    int ok = dg_list_input(&ctx, &cfg, &pl, &err) == DG_FAIL && strstr(err.msg, "/nonexistent/manifest.txt");
    cfg.input_kind = DG_INPUT_DIR;
    snprintf(cfg.input_path, sizeof cfg.input_path, "%s/nonexistent-folder", fx->dir);
    ok &= dg_list_input(&ctx, &cfg, &pl, &err) == DG_FAIL && strstr(err.msg, "nonexistent-folder");
    assert_true(dgt_all_ranks(ok));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_photo_decodes_at_the_smallest_scale),
        cmocka_unit_test(small_image_is_decoded_at_a_scale_that_keeps_the_working_size),
        cmocka_unit_test(cmyk_jpeg_decodes_to_rgb),
        cmocka_unit_test(progressive_jpeg_decodes_like_baseline),
        cmocka_unit_test(grayscale_jpeg_decodes_to_gray_rgb),
        cmocka_unit_test(missing_end_of_image_is_ok_with_warning),
        cmocka_unit_test(file_truncated_to_half_is_corrupt),
        cmocka_unit_test(progressive_photo_truncated_to_half_is_ok_with_warning),
        cmocka_unit_test(file_truncated_in_the_header_is_corrupt),
        cmocka_unit_test(garbage_after_the_header_is_corrupt_or_warned),
        cmocka_unit_test(decoder_recovers_after_a_fatal_error),
        cmocka_unit_test(zero_bytes_are_empty),
        cmocka_unit_test(random_bytes_are_not_an_image),
        cmocka_unit_test(other_image_formats_are_unsupported_and_a_bare_png_header_corrupt),
        cmocka_unit_test(huge_frame_header_is_too_large_before_decoding),
        cmocka_unit_test(lossless_png_and_webp_give_the_jpeg_pixels_and_descriptor),
        cmocka_unit_test(sixteen_bit_png_is_scaled_to_eight_bits),
        cmocka_unit_test(palette_png_gives_its_palette_colours),
        cmocka_unit_test(png_with_an_icc_profile_larger_than_the_file_decodes),
        cmocka_unit_test(exif_orientation_is_read_in_either_byte_order_and_damage_gives_1),
        cmocka_unit_test(exif_turn_shows_the_first_row_and_column_where_the_tag_says),
        cmocka_unit_test(jpeg_exif_orientation_turns_the_pixels_as_shown),
        cmocka_unit_test(alpha_is_composited_over_white_in_png_and_webp),
        cmocka_unit_test(lossy_webp_decodes_close_to_its_source),
        cmocka_unit_test(formats_are_read_by_content_whatever_the_name),
        cmocka_unit_test(truncated_or_damaged_png_and_webp_are_corrupt),
        cmocka_unit_test(size_limit_is_checked_from_the_png_and_webp_headers),
        cmocka_unit_test(animated_png_and_webp_give_the_first_frame_with_a_warning),
        cmocka_unit_test(twelve_bit_and_lossless_are_unsupported),
        cmocka_unit_test(pixel_limit_applies_to_real_photo),
        cmocka_unit_test(missing_path_is_missing),
        cmocka_unit_test(folder_fifo_and_device_are_unreadable),
        cmocka_unit_test(file_above_the_size_cap_is_too_large_unread),
        cmocka_unit_test(signature_of_file_is_decode_box_signature_or_zeros),
        cmocka_unit_test(manifest_skips_comments_blanks_and_resolves_relative_paths),
        cmocka_unit_test(malformed_or_missing_manifest_fails_naming_it),
        cmocka_unit_test(folder_walk_keeps_image_names_sorted_without_following_folder_links),
        cmocka_unit_test(each_rank_lists_its_share_of_a_manifest),
        cmocka_unit_test(each_rank_lists_its_share_of_a_folder),
        cmocka_unit_test(unreadable_input_fails_on_every_rank),
    };
    return DGT_RUN(argc, argv, tests, setup, teardown);
}
