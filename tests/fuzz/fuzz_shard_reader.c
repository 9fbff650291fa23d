/* fuzz_shard_reader.c - libFuzzer harness for reading a WebDataset tar shard
 * from memory (input/shards.h): libarchive's tar reader behind dg_shard_open,
 * the walk over members, their kinds and keys, reading their data under a
 * cap, and the KEY.json sidecar parser (jansson).
 *
 * Input: the shard's bytes.  Checked: the listing (headers only, data
 * skipped) counts the same image and other members as a walk that reads
 * every member's data, up to where the walk's reads break the archive; a
 * member read is exactly its size; keys are prefixes of their names; a
 * sidecar's url and caption are terminated within their buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/shards.h"

#define CAP ((int64_t)1 << 20)

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_shard_reader: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_shard_listing listed, walked;
    dg_shard_list(NULL, data, size, &listed);
    dg_shard_walk *w;
    dg_shard_open(NULL, data, size, &w, &walked);
    check(w || (listed.status != DG_ST_OK && listed.images + listed.others == 0), "a shard that does not open lists");
    unsigned char *buf = NULL;
    size_t cap = 0;
    int broke = 0;
    dg_member m;
    while (w && dg_shard_next(w, &m, &walked) > 0) {
        char key[256], url[64], caption[64], msg[128];
        dg_shard_key(m.name, key, sizeof key);
        check(strncmp(key, m.name, strlen(key)) == 0, "the key is not a prefix of the name");
        check(m.kind == dg_shard_member_kind(m.name) || m.kind == DG_MEMBER_OTHER, "member kind");
        if (m.size < 0 || m.size > CAP)
            continue; /* too_large: never read */
        if (dg_shard_read(w, m.size, &buf, &cap, msg, sizeof msg) != DG_OK) {
            broke = 1;
            break;
        }
        check(cap > (size_t)m.size && buf[m.size] == '\0', "read data not terminated");
        if (m.kind == DG_MEMBER_JSON) {
            dg_shard_sidecar((const char *)buf, (size_t)m.size, url, caption, sizeof url);
            check(strlen(url) < sizeof url && strlen(caption) < sizeof caption, "sidecar overflow");
        }
    }
    if (w && !broke) /* reading data must not change which headers are seen */
        check(walked.images == listed.images && walked.others == listed.others, "list and walk counts differ");
    free(buf);
    dg_shard_close(w);
    return 0;
}
