/* xform.c - the benchmark's list of transforms: the table of parameter
 * ranges at each strength, the reproducible drawing of parameters from
 * (seed, photo, transform, strength), their text forms for truth.csv and
 * transforms.txt, and dg_xform_apply, which maps a drawn transform onto the
 * primitives of edits.c, compose.c and tools/raster.c (a combo applies two
 * drawn transforms in turn).  Saving the result is the caller's. */
#include "bench/xform.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/compose.h"
#include "bench/edits.h"

/* A strength's values come from one interval, or from one of two chosen by
 * a coin (e.g. "darker or brighter"); `negate` means the coin flips the sign. */
typedef struct range {
    double lo[2];
    double hi[2];
    int n_alt;
} range;

typedef struct xform_spec {
    const char *name;
    const char *what[2]; /* per strength */
    range r[2];
    int negate;
    range r2[2]; /* the second parameter, if any (its meaning is in `what`) */
} xform_spec;

/* The second parameter of a transform that has none (written out so every
 * entry initialises every field). */
#define NO_SECOND {{{0}, {0}, 0}, {{0}, {0}, 0}}

static const xform_spec specs[DG_XF_COUNT] = {
    [DG_XF_RESIZE] = {"resize", {"downscale (area-averaging), each side times",
                                 "downscale (area-averaging), each side times"},
                      {{{0.70}, {0.90}, 1}, {{0.30}, {0.50}, 1}}, 0, NO_SECOND},
    [DG_XF_JPEG] = {"jpeg", {"re-encoded at JPEG quality", "re-encoded at JPEG quality"},
                    {{{70}, {90}, 1}, {{15}, {30}, 1}}, 0, NO_SECOND},
    [DG_XF_CROP] = {"crop", {"crop keeping the aspect ratio, at a random position, removing this "
                             "fraction of the area",
                             "crop keeping the aspect ratio, at a random position, removing this "
                             "fraction of the area"},
                    {{{0.05}, {0.12}, 1}, {{0.15}, {0.25}, 1}}, 0, NO_SECOND},
    [DG_XF_HFLIP] = {"hflip", {"mirrored left-right (no parameter, so mild only)", ""},
                     {{{0}, {0}, 0}, {{0}, {0}, 0}}, 0, NO_SECOND},
    [DG_XF_BRIGHTNESS] = {"brightness", {"add to every channel (0-255 scale), sign random",
                                         "add to every channel (0-255 scale), sign random"},
                          {{{10}, {25}, 1}, {{40}, {70}, 1}}, 1, NO_SECOND},
    [DG_XF_CONTRAST] = {"contrast", {"distance from the mean luminance times",
                                     "distance from the mean luminance times"},
                        {{{0.70, 1.15}, {0.85, 1.35}, 2}, {{0.40, 1.60}, {0.55, 2.00}, 2}}, 0, NO_SECOND},
    [DG_XF_GAMMA] = {"gamma", {"v -> 255 (v/255)^gamma with gamma", "v -> 255 (v/255)^gamma with gamma"},
                     {{{0.75, 1.15}, {0.87, 1.35}, 2}, {{0.45, 1.70}, {0.60, 2.20}, 2}}, 0, NO_SECOND},
    [DG_XF_SATURATION] = {"saturation", {"distance of each channel from the luminance times",
                                         "distance of each channel from the luminance times"},
                          {{{0.60, 1.25}, {0.80, 1.50}, 2}, {{0.15, 1.80}, {0.35, 2.50}, 2}}, 0, NO_SECOND},
    [DG_XF_GRAYSCALE] = {"grayscale", {"Rec.601 luminance in all three channels (3-component JPEG)",
                                       "Rec.601 luminance saved as a 1-component grayscale JPEG"},
                         {{{0}, {0}, 0}, {{0}, {0}, 0}}, 0, NO_SECOND},
    [DG_XF_BLUR] = {"blur", {"gaussian blur, sigma in pixels of the stored size",
                             "gaussian blur, sigma in pixels of the stored size"},
                    {{{0.70}, {0.90}, 1}, {{1.80}, {2.20}, 1}}, 0, NO_SECOND},
    [DG_XF_BORDER] = {"border", {"letterbox: solid bars above and below, each this fraction of the height",
                                 "solid bars on all four sides, each this fraction of that side"},
                      {{{0.04}, {0.08}, 1}, {{0.10}, {0.15}, 1}}, 0, NO_SECOND},
    [DG_XF_ROTATE] = {"rotate", {"rotation in degrees, sign random, bilinear, cropped to the largest "
                                 "inscribed rectangle of the same aspect ratio",
                                 "rotation in degrees, sign random, bilinear, cropped to the largest "
                                 "inscribed rectangle of the same aspect ratio"},
                      {{{2}, {4}, 1}, {{6}, {10}, 1}}, 1, NO_SECOND},
    [DG_XF_TEXT] = {"text", {"solid band at the top or bottom with a caption (5x7 bitmap font), "
                             "band height as a fraction of the image height",
                             "solid band at the top or bottom with a caption (5x7 bitmap font), "
                             "band height as a fraction of the image height"},
                    {{{0.09}, {0.11}, 1}, {{0.14}, {0.16}, 1}}, 0, NO_SECOND},
    [DG_XF_TINT] = {"tint", {"colour cast: red times 1+a, blue times 1-a, green times 1+a/3, a (sign random)",
                             "colour cast: red times 1+a, blue times 1-a, green times 1+a/3, a (sign random)"},
                    {{{0.05}, {0.10}, 1}, {{0.15}, {0.25}, 1}}, 1, NO_SECOND},
    [DG_XF_LETTERBOX] = {"letterbox", {"fitted whole into a canvas of aspect ratio (w/h), solid bars",
                                       "fitted whole into a portrait canvas (phone story) of aspect ratio "
                                       "(w/h), the rest filled with a blurred darkened copy"},
                         {{{0.95}, {1.05}, 1}, {{0.50}, {0.60}, 1}}, 0, NO_SECOND},
    [DG_XF_LOGO] = {"logo", {"opaque logo box (disc icon + word) near a corner, area fraction",
                             "translucent watermark box (opacity 0.55, disc + word) near the centre, area fraction"},
                    {{{0.02}, {0.05}, 1}, {{0.10}, {0.16}, 1}}, 0, NO_SECOND},
    [DG_XF_SCREENSHOT] = {"screenshot", {"16:10 application window as wide as the photo's longer side drawn "
                                         "around it (title bar, toolbar, status bar), photo width (at most) as "
                                         "a fraction of the window",
                                         "application window with a side panel and text under the photo "
                                         "(and the bars), photo width as a fraction of the content area"},
                          {{{0.80}, {0.92}, 1}, {{0.55}, {0.70}, 1}}, 0, NO_SECOND},
    [DG_XF_ROTCROP] = {"rotcrop", {"rotation (sign random) cropped to the inscribed rectangle, then a crop at a "
                                   "random position removing 0.05..0.10 of the area more; degrees",
                                   "rotation (sign random) cropped to the inscribed rectangle, then a crop at a "
                                   "random position removing 0.10..0.20 of the area more; degrees"},
                       {{{1}, {3}, 1}, {{3}, {6}, 1}}, 1, {{{0.05}, {0.10}, 1}, {{0.10}, {0.20}, 1}}},
    [DG_XF_OFFCROP] = {"offcrop", {"crop anchored at a random corner, aspect ratio free (width fraction keep^t, "
                                   "height keep^(1-t), t 0.25..0.75), removing this fraction of the area",
                                   "crop anchored at a random corner, aspect ratio free (width fraction keep^t, "
                                   "height keep^(1-t), t 0.25..0.75), removing this fraction of the area"},
                       {{{0.10}, {0.20}, 1}, {{0.20}, {0.30}, 1}}, 0, {{{0.25}, {0.75}, 1}, {{0.25}, {0.75}, 1}}},
    [DG_XF_LOWQ] = {"lowq", {"downscale each side times this, then JPEG quality 25..30",
                             "downscale each side times this, then JPEG quality 15..22"},
                    {{{0.55}, {0.75}, 1}, {{0.30}, {0.45}, 1}}, 0, {{{25}, {30}, 1}, {{15}, {22}, 1}}},
    [DG_XF_COMBO] = {"combo", {"two transforms in turn, both mild, the pair drawn from the list below",
                               "two transforms in turn, both strong, the pair drawn from the list below"},
                     {{{0}, {0}, 0}, {{0}, {0}, 0}}, 0, NO_SECOND},
};

/* The pairs a combo draws from: edits web copies often get together. */
static const dg_xform_kind combo_pairs[][2] = {
    {DG_XF_CROP, DG_XF_TEXT},       {DG_XF_HFLIP, DG_XF_JPEG},       {DG_XF_GRAYSCALE, DG_XF_BORDER},
    {DG_XF_LOGO, DG_XF_RESIZE},     {DG_XF_LETTERBOX, DG_XF_BRIGHTNESS}, {DG_XF_TEXT, DG_XF_TINT},
    {DG_XF_OFFCROP, DG_XF_SATURATION}, {DG_XF_BLUR, DG_XF_LOGO},     {DG_XF_HFLIP, DG_XF_CROP},
    {DG_XF_GAMMA, DG_XF_TEXT},      {DG_XF_SCREENSHOT, DG_XF_JPEG},  {DG_XF_ROTATE, DG_XF_CONTRAST},
};
#define N_COMBO_PAIRS (sizeof combo_pairs / sizeof combo_pairs[0])

/* Logo words (the font's characters only). */
static const char *const logo_words[] = {"NEWS24", "PHOTOHUB", "STOCK", "VIRAL", "MYBLOG", "SHOTS"};
#define N_LOGO_WORDS (sizeof logo_words / sizeof logo_words[0])

/* Captions for the text band: only characters the built-in font has, no commas. */
static const char *const captions[] = {
    "SUMMER SALE - 50% OFF!", "HOLIDAYS 2019", "PHOTO: A. SMITH", "WWW.EXAMPLE.COM",
    "BEST OF 2021", "DAY 3: THE MOUNTAINS", "LIMITED EDITION", "WEEKEND TRIP 07-2018",
};

const char *dg_xform_name(dg_xform_kind kind)
{
    return (int)kind >= 0 && kind < DG_XF_COUNT ? specs[kind].name : "invalid";
}

const char *dg_strength_name(dg_strength s)
{
    return s == DG_MILD ? "mild" : "strong";
}

int dg_xform_exists(dg_xform_kind kind, dg_strength s)
{
    return (int)kind >= 0 && kind < DG_XF_COUNT && (kind != DG_XF_HFLIP || s == DG_MILD);
}

int dg_xform_by_name(const char *name)
{
    for (int k = 0; k < DG_XF_COUNT; k++)
        if (!strcmp(name, specs[k].name))
            return k;
    return -1;
}

void dg_xform_doc(dg_xform_kind kind, dg_strength s, char *buf, size_t len)
{
    const xform_spec *sp = &specs[kind];
    const range *r = &sp->r[s];
    int n = snprintf(buf, len, "%s", sp->what[s]);
    for (int a = 0; a < r->n_alt && n >= 0 && (size_t)n < len; a++)
        n += snprintf(buf + n, len - (size_t)n, "%s %s%g..%g", a ? " or" : "",
                      sp->negate ? "+/-" : "", r->lo[a], r->hi[a]);
    for (size_t i = 0; kind == DG_XF_COMBO && i < N_COMBO_PAIRS && n >= 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s %s+%s", i ? "," : ":", specs[combo_pairs[i][0]].name,
                      specs[combo_pairs[i][1]].name);
}

/* A counter-free stream: each draw hashes the previous state. */
typedef struct stream {
    uint64_t state;
} stream;

static double next_unit(stream *st)
{
    st->state = dg_mix64(st->state);
    return dg_unit(st->state);
}

/* negate: the coin also flips the sign (the main parameter of a spec with
 * `negate`; never a second parameter). */
static double draw_range(const range *r, int negate, stream *st)
{
    if (r->n_alt == 0)
        return 0.0;
    int coin = next_unit(st) < 0.5;
    int a = r->n_alt == 2 ? coin : 0;
    double v = r->lo[a] + next_unit(st) * (r->hi[a] - r->lo[a]);
    return negate && coin ? -v : v;
}

static double draw_amount(const xform_spec *sp, dg_strength s, stream *st)
{
    return draw_range(&sp->r[s], sp->negate, st);
}

/* The combo's pair and its parts' stream; the parts' other fields come
 * from drawing each part kind with that seed (combo_part). */
static void draw_combo(dg_xform *xf, stream *st);

static void draw_colors(dg_xform *xf, stream *st)
{
    static const uint8_t fixed[3][3] = {{0, 0, 0}, {255, 255, 255}, {128, 128, 128}};
    int pick = (int)(next_unit(st) * 4.0);
    int dark = next_unit(st) < 0.5;
    for (int c = 0; c < 3; c++) {
        uint8_t rnd = (uint8_t)(next_unit(st) * 256.0);
        xf->color[c] = pick < 3 ? fixed[pick][c] : rnd;
    }
    if (xf->kind == DG_XF_TEXT || xf->kind == DG_XF_LOGO)
        for (int c = 0; c < 3; c++) {
            double u = next_unit(st);
            xf->color[c] = (uint8_t)(dark ? u * 70.0 : 190.0 + u * 65.0);
            xf->ink[c] = dark ? 255 : 0;
        }
}

void dg_xform_draw(dg_xform *xf, dg_xform_kind kind, dg_strength s, uint64_t seed, uint64_t photo)
{
    stream st = {dg_mix64(dg_mix64(dg_mix64(seed) ^ photo) ^ (uint64_t)(2 * kind + s))};
    memset(xf, 0, sizeof *xf);
    xf->kind = kind;
    xf->strength = s;
    xf->amount = draw_amount(&specs[kind], s, &st);
    xf->pos_x = next_unit(&st);
    xf->pos_y = next_unit(&st);
    draw_colors(xf, &st);
    size_t n_captions = sizeof captions / sizeof captions[0];
    snprintf(xf->text, sizeof xf->text, "%s", captions[(size_t)(next_unit(&st) * (double)n_captions)]);
    xf->quality = DG_XFORM_SAVE_QUALITY;
    if (kind == DG_XF_JPEG)
        xf->quality = (int)lround(xf->amount);
    xf->gray_jpeg = kind == DG_XF_GRAYSCALE && s == DG_STRONG;
    /* Drawn after everything above, so the first 13 kinds keep the
     * parameters they had before these fields existed. */
    const xform_spec *sp = &specs[kind];
    xf->amount2 = sp->r2[s].n_alt ? draw_range(&sp->r2[s], 0, &st) : 0.0;
    xf->coin = next_unit(&st) < 0.5;
    xf->photo = photo;
    if (kind == DG_XF_LOWQ)
        xf->quality = (int)lround(xf->amount2);
    if (kind == DG_XF_LOGO) /* a short brand word fits the box */
        snprintf(xf->text, sizeof xf->text, "%s", logo_words[(size_t)(next_unit(&st) * N_LOGO_WORDS)]);
    if (kind == DG_XF_COMBO)
        draw_combo(xf, &st);
}

static void combo_part(const dg_xform *xf, int i, dg_xform *part)
{
    dg_xform_draw(part, xf->part[i], xf->strength, xf->part_seed + (uint64_t)i, xf->photo);
}

static void draw_combo(dg_xform *xf, stream *st)
{
    size_t pick = (size_t)(next_unit(st) * (double)N_COMBO_PAIRS);
    xf->part[0] = combo_pairs[pick][0];
    xf->part[1] = combo_pairs[pick][1];
    xf->part_seed = dg_mix64(st->state ^ 0x636f6d626fULL);
    for (int i = 0; i < 2; i++) {
        dg_xform p;
        combo_part(xf, i, &p);
        xf->quality = p.quality < xf->quality ? p.quality : xf->quality;
        xf->gray_jpeg |= p.gray_jpeg;
    }
}

/* A part's params with every key prefixed by "name.", ';'-separated. */
static int prefixed_params(const dg_xform *part, char *buf, size_t len)
{
    char sub[256], *save = NULL;
    int n = 0;
    dg_xform_params(part, sub, sizeof sub);
    for (char *tok = strtok_r(sub, ";", &save); tok && n >= 0 && (size_t)n < len; tok = strtok_r(NULL, ";", &save))
        n += snprintf(buf + n, len - (size_t)n, ";%s.%s", specs[part->kind].name, tok);
    return n;
}

static void combo_params(const dg_xform *xf, char *buf, size_t len)
{
    int n = snprintf(buf, len, "parts=%s+%s", specs[xf->part[0]].name, specs[xf->part[1]].name);
    for (int i = 0; i < 2 && n >= 0 && (size_t)n < len; i++) {
        dg_xform p;
        combo_part(xf, i, &p);
        n += prefixed_params(&p, buf + n, len - (size_t)n);
    }
}

void dg_xform_params(const dg_xform *xf, char *buf, size_t len)
{
    const uint8_t *k = xf->color;
    switch (xf->kind) {
    case DG_XF_RESIZE: snprintf(buf, len, "scale=%.3f", xf->amount); break;
    case DG_XF_JPEG: snprintf(buf, len, "quality=%d", xf->quality); break;
    case DG_XF_CROP:
        snprintf(buf, len, "area_removed=%.3f;x=%.3f;y=%.3f", xf->amount, xf->pos_x, xf->pos_y);
        break;
    case DG_XF_BRIGHTNESS: snprintf(buf, len, "delta=%ld", lround(xf->amount)); break;
    case DG_XF_CONTRAST:
    case DG_XF_SATURATION: snprintf(buf, len, "factor=%.3f", xf->amount); break;
    case DG_XF_GAMMA: snprintf(buf, len, "gamma=%.3f", xf->amount); break;
    case DG_XF_GRAYSCALE: snprintf(buf, len, "components=%d", xf->gray_jpeg ? 1 : 3); break;
    case DG_XF_BLUR: snprintf(buf, len, "sigma=%.3f", xf->amount); break;
    case DG_XF_BORDER:
        snprintf(buf, len, "fraction=%.3f;rgb=%u:%u:%u", xf->amount, k[0], k[1], k[2]);
        break;
    case DG_XF_ROTATE: snprintf(buf, len, "degrees=%.2f", xf->amount); break;
    case DG_XF_TEXT:
        snprintf(buf, len, "band=%.3f;at=%s;text=%s", xf->amount, xf->pos_y < 0.5 ? "top" : "bottom",
                 xf->text);
        break;
    case DG_XF_TINT: snprintf(buf, len, "a=%.3f", xf->amount); break;
    case DG_XF_LETTERBOX:
        snprintf(buf, len, "aspect=%.3f;fill=%s;rgb=%u:%u:%u", xf->amount,
                 xf->strength == DG_STRONG ? "blurred" : "solid", k[0], k[1], k[2]);
        break;
    case DG_XF_LOGO:
        snprintf(buf, len, "area=%.3f;x=%.3f;y=%.3f;text=%s", xf->amount, xf->pos_x, xf->pos_y, xf->text);
        break;
    case DG_XF_SCREENSHOT:
        snprintf(buf, len, "photo_width=%.3f;panel=%d;theme=%s", xf->amount, xf->strength == DG_STRONG,
                 xf->coin ? "dark" : "light");
        break;
    case DG_XF_ROTCROP:
        snprintf(buf, len, "degrees=%.2f;area_removed=%.3f;x=%.3f;y=%.3f", xf->amount, xf->amount2, xf->pos_x,
                 xf->pos_y);
        break;
    case DG_XF_OFFCROP:
        snprintf(buf, len, "area_removed=%.3f;t=%.3f;corner=%s%s", xf->amount, xf->amount2,
                 xf->pos_y < 0.5 ? "top" : "bottom", xf->pos_x < 0.5 ? "left" : "right");
        break;
    case DG_XF_LOWQ: snprintf(buf, len, "scale=%.3f;quality=%d", xf->amount, xf->quality); break;
    case DG_XF_COMBO: combo_params(xf, buf, len); break;
    default: snprintf(buf, len, "%s", ""); break;
    }
}

static int apply_crop(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    double keep = sqrt(1.0 - xf->amount);
    int w = (int)fmax(1.0, floor(in->w * keep + 0.5));
    int h = (int)fmax(1.0, floor(in->h * keep + 0.5));
    int x = (int)floor(xf->pos_x * (in->w - w + 1));
    int y = (int)floor(xf->pos_y * (in->h - h + 1));
    return dg_img_crop(in, x, y, w, h, out, err);
}

static int apply_border(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    int tb = (int)lround(in->h * xf->amount);
    int lr = xf->strength == DG_STRONG ? (int)lround(in->w * xf->amount) : 0;
    return dg_img_border(in, tb, tb, lr, lr, xf->color, out, err);
}

/* The photometric transforms and the text band edit a copy in place. */
static int apply_in_place(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    if (dg_image_copy(in, out, err) != DG_OK)
        return DG_FAIL;
    switch (xf->kind) {
    case DG_XF_BRIGHTNESS: dg_img_brightness(out, (int)lround(xf->amount)); break;
    case DG_XF_CONTRAST: dg_img_contrast(out, xf->amount); break;
    case DG_XF_GAMMA: dg_img_gamma(out, xf->amount); break;
    case DG_XF_SATURATION: dg_img_saturation(out, xf->amount); break;
    case DG_XF_GRAYSCALE: dg_img_grayscale(out); break;
    case DG_XF_TINT: {
        const double gain[3] = {1.0 + xf->amount, 1.0 + xf->amount / 3.0, 1.0 - xf->amount};
        dg_img_channel_gains(out, gain);
        break;
    }
    case DG_XF_TEXT: {
        int band = (int)fmax(8.0, floor(in->h * xf->amount + 0.5));
        int y0 = xf->pos_y < 0.5 ? 0 : in->h - band;
        dg_img_text_band(out, y0, band, xf->color, xf->ink, xf->text);
        break;
    }
    default: break; /* jpeg: the pixels stay, only the saved quality differs */
    }
    return DG_OK;
}

static int apply_rotcrop(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    dg_image rot = {0};
    if (dg_img_rotate(in, xf->amount, &rot, err) != DG_OK)
        return DG_FAIL;
    double keep = sqrt(1.0 - xf->amount2);
    int rc = dg_img_crop_frac(&rot, keep, keep, xf->pos_x, xf->pos_y, out, err);
    dg_image_free(&rot);
    return rc;
}

static int apply_offcrop(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    double keep = 1.0 - xf->amount;
    return dg_img_crop_frac(in, pow(keep, xf->amount2), pow(keep, 1.0 - xf->amount2), xf->pos_x < 0.5 ? 0.0 : 1.0,
                            xf->pos_y < 0.5 ? 0.0 : 1.0, out, err);
}

static int apply_letterbox(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    return dg_compose_letterbox(in, xf->amount, xf->strength == DG_STRONG, xf->color, out, err);
}

static int apply_logo(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    const uint8_t white[3] = {255, 255, 255};
    if (xf->strength == DG_MILD) /* a corner: the quadrant of (pos_x, pos_y) */
        return dg_compose_logo(in, xf->amount, xf->pos_x < 0.5 ? 0.12 : 0.88, xf->pos_y < 0.5 ? 0.10 : 0.90,
                               xf->color, xf->ink, 1.0, xf->text, out, err);
    return dg_compose_logo(in, xf->amount, 0.35 + 0.3 * xf->pos_x, 0.35 + 0.3 * xf->pos_y, white, xf->ink,
                           0.55, xf->text, out, err);
}

static int apply_screenshot(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    static const char *const titles[] = {"IMAGE VIEWER", "GALLERY - BROWSER", "WALLPAPERS", "PHOTOS"};
    const char *title = titles[(size_t)(xf->pos_y * 1e6) % (sizeof titles / sizeof titles[0])];
    return dg_compose_screenshot(in, xf->amount, xf->strength == DG_STRONG, xf->coin, title, out, err);
}

static int apply_combo(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    dg_xform a, b;
    dg_image mid = {0};
    combo_part(xf, 0, &a);
    combo_part(xf, 1, &b);
    if (dg_xform_apply(&a, in, &mid, err) != DG_OK)
        return DG_FAIL;
    int rc = dg_xform_apply(&b, &mid, out, err);
    dg_image_free(&mid);
    return rc;
}

int dg_xform_apply(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err)
{
    switch (xf->kind) {
    case DG_XF_LOWQ:
    case DG_XF_RESIZE:
        return dg_image_resize(in, (int)fmax(1.0, floor(in->w * xf->amount + 0.5)),
                               (int)fmax(1.0, floor(in->h * xf->amount + 0.5)), out, err);
    case DG_XF_CROP: return apply_crop(xf, in, out, err);
    case DG_XF_HFLIP: return dg_img_hflip(in, out, err);
    case DG_XF_BLUR: return dg_img_blur(in, xf->amount, out, err);
    case DG_XF_BORDER: return apply_border(xf, in, out, err);
    case DG_XF_ROTATE: return dg_img_rotate(in, xf->amount, out, err);
    case DG_XF_ROTCROP: return apply_rotcrop(xf, in, out, err);
    case DG_XF_OFFCROP: return apply_offcrop(xf, in, out, err);
    case DG_XF_LETTERBOX: return apply_letterbox(xf, in, out, err);
    case DG_XF_LOGO: return apply_logo(xf, in, out, err);
    case DG_XF_SCREENSHOT: return apply_screenshot(xf, in, out, err);
    case DG_XF_COMBO: return apply_combo(xf, in, out, err);
    case DG_XF_TINT:
    case DG_XF_JPEG:
    case DG_XF_BRIGHTNESS:
    case DG_XF_CONTRAST:
    case DG_XF_GAMMA:
    case DG_XF_SATURATION:
    case DG_XF_GRAYSCALE:
    case DG_XF_TEXT: return apply_in_place(xf, in, out, err);
    default: return dg_fail(err, "unknown transform %d", (int)xf->kind);
    }
}
