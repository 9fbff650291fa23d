/* test_shards.c - the pure parts of input.shards (input/shards.h): naming
 * shards (numeric ranges, top-level commas, globs, sorted and unique), the
 * byte-balanced split of the listing, member kinds and WebDataset keys, the
 * KEY.json sidecar, the member cap, and listing real tar bytes (the fuzz
 * seeds) including a truncated one and one that is not a tar. */
#include "mpi_harness.h"

#include <stdlib.h>
#include <string.h>

#include "input/decode.h"
#include "input/shard_input.h"
#include "input/shards.h"

static void ranges_expand_with_zero_padding(void **state)
{
    (void)state;
    dg_err err = {0};
    dg_pathlist l = {0};
    assert_int_equal(dg_shards_expand_ranges("d/{00008..00011}.tar", &l, 100, &err), DG_OK);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.path[0], "d/00008.tar");
    assert_string_equal(l.path[3], "d/00011.tar");
    dg_pathlist_free(&l);
    assert_int_equal(dg_shards_expand_ranges("a{1..3}b{0..1}", &l, 100, &err), DG_OK);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.path[1], "a1b1");
    dg_pathlist_free(&l);
    assert_int_equal(dg_shards_expand_ranges("{3..1}", &l, 100, &err), DG_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.path[0], "3");
    dg_pathlist_free(&l);
    assert_int_equal(dg_shards_expand_ranges("{0..99999}", &l, 1000, &err), DG_FAIL);
    dg_pathlist_free(&l);
}

static void touch(const char *dir, const char *name)
{
    char path[512];
    dgt_path(path, sizeof path, dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static void names_are_sorted_unique_from_lists_ranges_and_globs(void **state)
{
    (void)state;
    char dir[256], spec[1024], want[512];
    assert_int_equal(dgt_tmpdir(dir, sizeof dir, "shards", MPI_COMM_SELF), 0);
    touch(dir, "x1.tar");
    touch(dir, "x2.tar");
    touch(dir, "y.tar");
    dg_err err = {0};
    dg_pathlist l = {0};
    snprintf(spec, sizeof spec, "%s/y.tar, %s/{x1,x2}.tar,%s/x{1..1}.tar", dir, dir, dir);
    assert_int_equal(dg_shards_names(spec, &l, &err), DG_OK);
    assert_int_equal(l.n, 3);
    dgt_path(want, sizeof want, dir, "x1.tar");
    assert_string_equal(l.path[0], want);
    dgt_path(want, sizeof want, dir, "y.tar");
    assert_string_equal(l.path[2], want);
    dg_pathlist_free(&l);
    snprintf(spec, sizeof spec, "%s/*.tar", dir);
    assert_int_equal(dg_shards_names(spec, &l, &err), DG_OK);
    assert_int_equal(l.n, 3);
    dg_pathlist_free(&l);
    /* a plain name that does not exist is kept (recorded as missing later) */
    snprintf(spec, sizeof spec, "%s/absent.tar", dir);
    assert_int_equal(dg_shards_names(spec, &l, &err), DG_OK);
    assert_int_equal(l.n, 1);
    dg_pathlist_free(&l);
    /* a pattern that matches nothing is an error */
    snprintf(spec, sizeof spec, "%s/none*.tar", dir);
    assert_int_equal(dg_shards_names(spec, &l, &err), DG_FAIL);
    assert_int_equal(err.code, DG_E_INPUT);
    assert_non_null(strstr(err.msg, "matches no file"));
    assert_int_equal(dg_shards_names(" , ", &l, &err), DG_FAIL);
    dgt_rmtree(dir, MPI_COMM_SELF);
}

static void split_is_contiguous_and_balanced_by_bytes(void **state)
{
    (void)state;
    int first[5];
    int64_t even[4] = {100, 100, 100, 100};
    dg_shards_split(even, 4, 2, first);
    assert_int_equal(first[0], 0);
    assert_int_equal(first[1], 2);
    assert_int_equal(first[2], 4);
    int64_t skew[4] = {1000, 1, 1, 1};
    dg_shards_split(skew, 4, 2, first);
    assert_int_equal(first[1], 1);
    assert_int_equal(first[2], 4);
    int64_t few[2] = {5, 5};
    dg_shards_split(few, 2, 4, first);
    for (int p = 0; p < 4; p++)
        assert_true(first[p] <= first[p + 1]);
    assert_int_equal(first[4], 2);
    int64_t missing[3] = {-1, -1, -1}; /* unstat-able shards still spread */
    dg_shards_split(missing, 3, 3, first);
    assert_int_equal(first[1], 1);
    assert_int_equal(first[2], 2);
}

static void member_kinds_and_webdataset_keys(void **state)
{
    (void)state;
    char key[64];
    assert_int_equal(dg_shard_member_kind("a/000.jpg"), DG_MEMBER_IMAGE);
    assert_int_equal(dg_shard_member_kind("x.JPEG"), DG_MEMBER_IMAGE);
    assert_int_equal(dg_shard_member_kind("x.webp"), DG_MEMBER_IMAGE);
    assert_int_equal(dg_shard_member_kind("x.png"), DG_MEMBER_IMAGE);
    assert_int_equal(dg_shard_member_kind("k.json"), DG_MEMBER_JSON);
    assert_int_equal(dg_shard_member_kind("k.txt"), DG_MEMBER_OTHER);
    assert_int_equal(dg_shard_member_kind("a/.hidden.jpg"), DG_MEMBER_OTHER);
    assert_int_equal(dg_shard_member_kind("dir/"), DG_MEMBER_OTHER);
    dg_shard_key("a.d/000123.jpg", key, sizeof key);
    assert_string_equal(key, "a.d/000123");
    dg_shard_key("000123.seg.jpg", key, sizeof key); /* WebDataset: up to the first dot */
    assert_string_equal(key, "000123");
    dg_shard_key("0123456789", key, 5);
    assert_string_equal(key, "0123");
}

static void sidecar_gives_url_and_caption(void **state)
{
    (void)state;
    char url[16], caption[16];
    const char *j = "{\"url\": \"http://a/b\", \"caption\": \"a cat\", \"key\": \"0\", \"status\": \"success\"}";
    dg_shard_sidecar(j, strlen(j), url, caption, sizeof url);
    assert_string_equal(url, "http://a/b");
    assert_string_equal(caption, "a cat");
    const char *long_caption = "{\"caption\": \"0123456789abcdefXYZ\", \"url\": 5}";
    dg_shard_sidecar(long_caption, strlen(long_caption), url, caption, sizeof url);
    assert_string_equal(url, "");
    assert_string_equal(caption, "0123456789abcde");
    dg_shard_sidecar("{not json", 9, url, caption, sizeof url);
    assert_string_equal(url, "");
    assert_string_equal(caption, "");
}

static void member_cap_follows_max_pixels(void **state)
{
    (void)state;
    assert_int_equal(dg_shard_member_cap(100000), 8 * 100000 + (1 << 20));
    assert_int_equal(dg_shard_member_cap(0), (int64_t)DG_EMBED_MAX_FILE_BYTES);
    assert_int_equal(dg_shard_member_cap(100000000), (int64_t)DG_EMBED_MAX_FILE_BYTES);
}

static void list_seed(const char *name, dg_shard_listing *lst)
{
    char path[1024];
    const char *root = getenv("DG_SOURCE_ROOT");
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/shard_reader/%s", root ? root : ".", name);
    dg_shard_list(path, NULL, 0, lst);
}

static void listing_counts_members_and_names_damage(void **state)
{
    (void)state;
    dg_shard_listing lst;
    list_seed("gnu", &lst);
    assert_int_equal(lst.status, DG_ST_OK);
    assert_int_equal(lst.images, 2); /* .jpg and dir/.png */
    assert_int_equal(lst.others, 2); /* .json and .txt */
    list_seed("pax", &lst);
    assert_int_equal(lst.status, DG_ST_OK);
    assert_int_equal(lst.images, 2);
    list_seed("gnu_truncated", &lst);
    assert_int_equal(lst.status, DG_ST_CORRUPT);
    assert_true(lst.images >= 1);
    list_seed("not_tar", &lst);
    assert_int_equal(lst.status, DG_ST_UNSUPPORTED);
    assert_int_equal(lst.images, 0);
    list_seed("absent", &lst);
    assert_int_equal(lst.status, DG_ST_MISSING);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranges_expand_with_zero_padding),
        cmocka_unit_test(names_are_sorted_unique_from_lists_ranges_and_globs),
        cmocka_unit_test(split_is_contiguous_and_balanced_by_bytes),
        cmocka_unit_test(member_kinds_and_webdataset_keys),
        cmocka_unit_test(sidecar_gives_url_and_caption),
        cmocka_unit_test(member_cap_follows_max_pixels),
        cmocka_unit_test(listing_counts_members_and_names_damage),
    };
    return DGT_RUN(argc, argv, tests, NULL, NULL);
}
