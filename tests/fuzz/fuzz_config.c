/* fuzz_config.c - libFuzzer harness for the configuration parser
 * (dg_config_load_text: libinih, the key table, the value parsers and the
 * validation) and the canonical text written to the output's `config`
 * attribute.
 *
 * Input: INI text, optionally followed by a NUL byte and `--set` overrides
 * separated by newlines.  Beyond "no crash, no UB, no leak" it checks the
 * properties the job relies on: a failure has a non-empty reason, and an
 * accepted configuration's canonical text loads again to the very same
 * text (the config attribute and the checkpoint fingerprints depend on it),
 * unless a value given with --set makes one of its lines longer than an
 * INI file may hold.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dupgraph/config.h"

#define MAX_SETS 8

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_config: %s\n%s\n", what, detail);
        abort();
    }
}

/* Splits the bytes after the first NUL into at most MAX_SETS overrides. */
static int split_sets(char *rest, char *end, const char **sets)
{
    int n = 0;
    while (rest < end && n < MAX_SETS) {
        sets[n++] = rest;
        char *nl = memchr(rest, '\n', (size_t)(end - rest));
        if (!nl)
            break;
        *nl = '\0';
        rest = nl + 1;
    }
    return n;
}

/* Values set with --set may be longer than an INI line can be (198
 * characters, config.c); such a text is refused when loaded, by design. */
static int has_long_line(const char *text)
{
    for (const char *p = text; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] == '\n'))
        if (strcspn(p, "\n") > 198)
            return 1;
    return 0;
}

static void check_round_trip(const dg_config *cfg)
{
    char *text = dg_config_to_text(cfg);
    check(text != NULL, "dg_config_to_text returned NULL", "");
    if (has_long_line(text)) {
        free(text);
        return;
    }
    dg_config again;
    dg_err err;
    err.msg[0] = '\0';
    check(dg_config_load_text(&again, text, NULL, 0, &err) == DG_OK, "canonical text does not load again", text);
    char *text2 = dg_config_to_text(&again);
    check(text2 != NULL && strcmp(text, text2) == 0, "canonical text changes when loaded again", text);
    free(text2);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *sets[MAX_SETS];
    size_t text_len = strlen(buf);
    int n_sets = text_len < size ? split_sets(buf + text_len + 1, buf + size, sets) : 0;

    dg_config cfg;
    dg_err err;
    err.msg[0] = '\0';
    if (dg_config_load_text(&cfg, buf, sets, n_sets, &err) == DG_OK)
        check_round_trip(&cfg);
    else
        check(err.msg[0] != '\0' && memchr(err.msg, '\0', sizeof err.msg) != NULL, "failure without a reason", buf);
    free(buf);
    return 0;
}
