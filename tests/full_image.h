/* full_image.h - image files decoded at full size, for the tests that cut
 * their own pieces of a photo or render (test_content_rect, test_overlay),
 * and the renders they cut.  cmocka asserts that a file decodes. */
#ifndef DUPGRAPH_TESTS_FULL_IMAGE_H
#define DUPGRAPH_TESTS_FULL_IMAGE_H

#include "tools/raster.h"

/* path decoded as the job decodes it, no side reduced below 1 << 20, into
 * im (allocated; the caller frees it with dg_image_free). */
void load_full_image(const char *path, dg_image *im);

/* desktop-base's smooth renders (plymouth backgrounds: a gradient and a
 * few soft shapes), tune scenes of the quality benchmark
 * (jobs/quality/scenes.tsv) */
#define N_SMOOTH_RENDERS 4
extern const char *const smooth_renders[N_SMOOTH_RENDERS];

#endif
