/* mkbench_photos.h - private interface between dg-mkbench's CLI (mkbench_main.c)
 * and its photo list (mkbench_photos.c).  Not part of libdupgraph. */
#ifndef DUPGRAPH_MKBENCH_H
#define DUPGRAPH_MKBENCH_H

#include <stdint.h>
#include <stdio.h>

#include "dupgraph/common.h"
#include "tools/raster.h"

typedef struct mk_photo {
    char *path;
    char key[256];  /* the photo's identity under the duplicate-photo rule */
    int w, h;       /* from the JPEG header */
    int unreadable; /* header could not be read: skipped */
    int64_t kept_as; /* index of the file kept for this key (itself if kept), -1 if skipped */
    char cut[32];   /* from a manifest line "PATH<TAB>cut=SPEC": "tiles:CxR", "pan:N" or "" */
} mk_photo;

typedef struct mk_photos {
    mk_photo *v;
    size_t n, cap;
} mk_photos;

/* Lists src: a folder (walked recursively, *.jpg / *.jpeg, sorted by path)
 * or a manifest (one path per line, relative to the manifest's folder; a
 * line may end with a tab and "cut=tiles:CxR" or "cut=pan:N", which
 * dg-mkbench turns into several distinct images of that photo). */
int mk_photos_list(const char *src, mk_photos *ph, dg_err *err);
void mk_photos_free(mk_photos *ph);

/* The duplicate-photo key of a path: the file name without extension and
 * without a trailing resolution ("_3840x2160", "-1920x1080"), lower case; a
 * name left empty or generic (screenshot, preview, thumbnail) is replaced by
 * the nearest folder name that is not a layout folder ("contents",
 * "images*", a resolution).  Files with equal keys are one photo. */
void mk_photo_key(const char *path, char *key, size_t len);

/* Reads every header, computes the keys and keeps the largest file of each
 * key (first in list order on ties); unreadable files are skipped with a
 * line on `warn`.  Fails if nothing is left. */
int mk_photos_dedupe(mk_photos *ph, dg_jpeg_codec *codec, FILE *warn, dg_err *err);

#endif
