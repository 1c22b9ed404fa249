/* The generated C header of a compiled model, and the naming helpers that
 * the header and the LLVM backend share (no LLVM here). */
#ifndef MLC_CODEGEN_HEADER_H
#define MLC_CODEGEN_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"
#include "ir/program.h"

/* Copies `name` into `out` (size `len`) as a C identifier: characters other
 * than [A-Za-z0-9_] become '_', a leading digit gets a '_' prefix, an empty
 * or NULL name becomes "model". */
void mlc_codegen_c_ident(const char *name, char *out, size_t len);

/* The C element type used for a dtype in generated headers ("float",
 * "int64_t", "uint8_t" for bool, "uint16_t" for f16/bf16). */
const char *mlc_codegen_c_type(mlc_dtype_t dt);

/* Whether the model gets the typed entry <name>_run(workspace, weights,
 * in0.., out0..): only while that is at most 127 parameters, the most a
 * C function is sure to take (C11 5.2.4.1); a model with more inputs and
 * outputs is run through <name>_model_get() and mlcrt (and LLVM needed
 * minutes for a function of 10,000 parameters). */
#define MLC_CODEGEN_MAX_TYPED_PARAMS 127
bool mlc_codegen_has_typed_run(const mlc_graph_t *g);

/* Writes `<path>`: include guards, the model_get and typed run
 * declarations, size macros and per-tensor shape/dtype macros. */
mlc_status_t *mlc_codegen_write_header(const mlc_program_t *p,
                                       const char *model_name,
                                       const char *path);

#endif
