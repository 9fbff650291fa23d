/* test_decode.c - listing the input (manifest, folder, the collective share
 * of each rank) and decoding every kind of bad file to its status.
 *
 * The bad files are made here from a real photograph of the Debian package
 * lomiri-wallpapers-16.04 (truncated, patched headers) and with libjpeg-turbo
 * (CMYK, progressive, grayscale).  Runs under mpirun with 1, 2 or 4 ranks:
 * the serial tests run on every rank in a folder of its own; the listing
 * tests are collective and agree on every check before asserting it.
 */
#include "input/decode.h"
#include "input/descriptor.h"
#include "input/manifest.h"
#include "mpi_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

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

static void random_bytes_are_not_jpeg(void **state)
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
    assert_int_equal(res.status, DG_ST_NOT_JPEG);
}

static void png_is_not_jpeg(void **state)
{
    fixture *fx = *state;
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    char path[512];
    path_in(fx, "image.jpg", path);
    write_whole(path, png, sizeof png);
    dg_decode_result res = decode_path(fx, path);
    assert_int_equal(res.status, DG_ST_NOT_JPEG);
    assert_non_null(strstr(res.msg, "PNG"));
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

static void folder_walk_keeps_jpeg_names_sorted_without_following_folder_links(void **state)
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
    touch(root, "jpg");
    touch(sub, "c.jpe");
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
    const char *want[] = {"a.jpeg", "b/c.jpe", "b/d.JFIF", "link.jpg", "z.JPG"};
    assert_int_equal(pl.n, 5);
    assert_int_equal(pl.n_total, 5);
    for (int i = 0; i < 5; i++) {
        char w[512];
        join(w, root, want[i]);
        assert_string_equal(pl.path[i], w);
    }
    dg_pathlist_free(&pl);

    path_in(fx, "no-such-folder", root);
    assert_int_equal(dg_dir_list(root, &pl, &err), DG_FAIL);
    assert_non_null(strstr(err.msg, root));
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
        cmocka_unit_test(random_bytes_are_not_jpeg),
        cmocka_unit_test(png_is_not_jpeg),
        cmocka_unit_test(huge_frame_header_is_too_large_before_decoding),
        cmocka_unit_test(twelve_bit_and_lossless_are_unsupported),
        cmocka_unit_test(pixel_limit_applies_to_real_photo),
        cmocka_unit_test(missing_path_is_missing),
        cmocka_unit_test(folder_fifo_and_device_are_unreadable),
        cmocka_unit_test(file_above_the_size_cap_is_too_large_unread),
        cmocka_unit_test(manifest_skips_comments_blanks_and_resolves_relative_paths),
        cmocka_unit_test(malformed_or_missing_manifest_fails_naming_it),
        cmocka_unit_test(folder_walk_keeps_jpeg_names_sorted_without_following_folder_links),
        cmocka_unit_test(each_rank_lists_its_share_of_a_manifest),
        cmocka_unit_test(each_rank_lists_its_share_of_a_folder),
        cmocka_unit_test(unreadable_input_fails_on_every_rank),
    };
    return DGT_RUN(argc, argv, tests, setup, teardown);
}
