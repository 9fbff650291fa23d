/* verify_reference.h - the plain verifier test_verify compares
 * dg_verify_score with (verify_reference.c). */
#ifndef DUPGRAPH_TESTS_VERIFY_REFERENCE_H
#define DUPGRAPH_TESTS_VERIFY_REFERENCE_H

#include <stdint.h>

#include "graph/verify.h"

float verify_reference_score(const uint8_t *a, const uint8_t *b, dg_verify_match *match);

#endif
