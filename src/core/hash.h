/* hash.h - hashing bytes and strings into 64 bits, for the fingerprints and
 * input identities of resumable runs.  Built on dg_mix64 (dupgraph/common.h);
 * defined in common.c.  Private to the library. */
#ifndef DUPGRAPH_CORE_HASH_H
#define DUPGRAPH_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* h extended by n bytes of data (their length included). */
uint64_t dg_hash_bytes(uint64_t h, const void *data, size_t n);
/* h extended by the characters of s (without its terminator). */
uint64_t dg_hash_string(uint64_t h, const char *s);

#endif
