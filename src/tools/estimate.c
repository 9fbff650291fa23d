/* estimate.c - `dupgraph estimate`.  See estimate.h. */
#include "tools/estimate.h"

#include <jansson.h>

#include "core/job_memory.h"
#include "core/job_summary.h"
#include "input/embedder.h"

static json_t *estimate_json(const dg_memory_inputs *in, const dg_config *cfg, const dg_memory_model *mm)
{
    return json_pack("{s:s,s:i,s:s,s:I,s:i,s:i,s:I,s:I,s:i,s:i,s:o}", "format", "dupgraph-estimate",
                     "format_version", 1, "program_version", DG_VERSION, "items", (json_int_t)in->n_total, "dim",
                     in->d, "ranks", in->ranks, "k", (json_int_t)in->k, "sample", (json_int_t)in->sample,
                     "clusterings", cfg->clusterings, "probes", cfg->probes, "memory", dg_memory_estimate_json(mm));
}

int dg_estimate_print(const dg_config *cfg, int64_t n_items, int d, int ranks, FILE *out, dg_err *err)
{
    if (DG_INPUT_IS_IMAGES(cfg->input_kind))
        return dg_failc(err, DG_E_USAGE, "estimate models an embeddings input of --items x --dim vectors; image input "
                                         "adds its listing, descriptors and decoder (the job prints that estimate "
                                         "before the first image is decoded)");
    dg_memory_inputs in;
    dg_memory_inputs_for(cfg, 0, ranks, n_items, d, &in);
    dg_embedder reader; /* the embeddings file's: its share is set as the job sets it */
    dg_embedder_embeddings(&reader);
    reader.memory(&reader, cfg, &in.input);
    dg_memory_model mm;
    dg_memory_estimate(&in, &mm);
    json_t *root = estimate_json(&in, cfg, &mm);
    int bad = !root || json_dumpf(root, out, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0 || fputc('\n', out) == EOF ||
              fflush(out) != 0;
    json_decref(root);
    return bad ? dg_failc(err, DG_E_OUTPUT, "estimate: cannot write the JSON") : DG_OK;
}
