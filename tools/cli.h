/* The `mlc` command line: option parsing for each subcommand, the
 * subcommands themselves and helpers they share.  Private to tools/.
 *
 * Parsing is separate from running so tests can check the usage paths
 * in-process: each mlc_cli_parse_* fills an options struct and returns
 * MLC_CLI_CONTINUE, or MLC_CLI_EXIT_OK after printing --help/--version to
 * `out`, or MLC_CLI_EXIT_USAGE after printing a message and a usage line
 * to `err`.  Commands return the process exit code: 0 success, 1 a bad
 * model or input file or a failed run, 2 bad usage.  Option structs point
 * into argv; only the arrays they hold are heap memory (free with
 * mlc_cli_*_free). */
#ifndef MLC_TOOLS_CLI_H
#define MLC_TOOLS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "tools/driver.h"

enum { MLC_EXIT_OK = 0, MLC_EXIT_FAIL = 1, MLC_EXIT_USAGE = 2 };

typedef enum mlc_cli_parse_result {
  MLC_CLI_CONTINUE = -1,
  MLC_CLI_EXIT_OK = MLC_EXIT_OK,
  MLC_CLI_EXIT_USAGE = MLC_EXIT_USAGE,
} mlc_cli_parse_result_t;

typedef enum { MLC_OUT_NPY, MLC_OUT_PB } mlc_out_format_t;

typedef struct mlc_cli_compile {
  mlc_compile_options_t opts;
  mlc_dim_binding_t *dims; /* heap; opts.dims points here */
  mlc_const_binding_t *consts; /* heap; opts.consts points here */
  mlc_shape_binding_t *shapes; /* heap; opts.shapes points here */
} mlc_cli_compile_t;

typedef struct mlc_cli_run {
  const char *model;
  const char **inputs; /* heap: "NAME=FILE" or "FILE" specs, in order */
  int ninputs;
  const char *output_dir; /* NULL: print a summary of each output */
  mlc_out_format_t format;
  int threads;         /* 0: one per CPU */
  /* bench only */
  int warmup, iters;
  bool json;
  const char *profile; /* --profile FILE: Chrome trace of the timed runs */
  int profile_runs;    /* --profile-runs N: only the last N (0: all) */
} mlc_cli_run_t;

typedef struct mlc_cli_inspect {
  const char *path;
  bool dot;
  mlc_dim_binding_t *dims; /* heap */
  int ndims;
  mlc_shape_binding_t *shapes; /* heap */
  int nshapes;
} mlc_cli_inspect_t;

int mlc_cli_parse_compile(int argc, char **argv, FILE *out, FILE *err,
                          mlc_cli_compile_t *o);
int mlc_cli_parse_run(int argc, char **argv, FILE *out, FILE *err,
                      mlc_cli_run_t *o);
int mlc_cli_parse_bench(int argc, char **argv, FILE *out, FILE *err,
                        mlc_cli_run_t *o);
int mlc_cli_parse_inspect(int argc, char **argv, FILE *out, FILE *err,
                          mlc_cli_inspect_t *o);
void mlc_cli_compile_free(mlc_cli_compile_t *o);
void mlc_cli_run_free(mlc_cli_run_t *o);
void mlc_cli_inspect_free(mlc_cli_inspect_t *o);

/* Limits of the integer options: --threads as the runtime's
 * (mlcrt_session_create), --iters, --warmup and --profile-runs. */
#define MLC_CLI_MAX_THREADS 1024
#define MLC_CLI_MAX_ITERS 1000000000
#define MLC_CLI_MAX_RANK 32

/* Parses "NAME=N" (N a positive integer) into *b; false if malformed. */
bool mlc_cli_parse_dim(const char *s, mlc_dim_binding_t *b);
/* Parses "NAME=AxBx..." (sizes >= 1, at most MLC_CLI_MAX_RANK of them)
 * into *b: b->name points at s (the name is the part before the last '='),
 * b->dims at b's own storage below.  False if malformed. */
typedef struct mlc_cli_shape {
  const char *name;
  int rank;
  int64_t dims[MLC_CLI_MAX_RANK];
} mlc_cli_shape_t;
bool mlc_cli_parse_shape(const char *s, mlc_cli_shape_t *b);
/* Parses a byte count with an optional k/K, m/M, g/G suffix (powers of
 * 1024); false if malformed or negative. */
bool mlc_cli_parse_bytes(const char *s, int64_t *out);

/* The subcommands: argv[0] is the subcommand's name. */
int mlc_cmd_compile(int argc, char **argv);
int mlc_cmd_run(int argc, char **argv);
int mlc_cmd_bench(int argc, char **argv);
int mlc_cmd_inspect(int argc, char **argv);

/* The whole command: argv[0] is the program name. */
int mlc_main(int argc, char **argv);

/* Prints "mlc: error: <message>" to stderr, frees `st` and returns the exit
 * code for it: 0 for NULL, 2 for MLC_INVALID_ARGUMENT when
 * `invalid_argument_is_usage` (a bad --dim, --target or --print-after),
 * else 1. */
int mlc_cli_report(mlc_status_t *st, bool invalid_argument_is_usage);

/* Copies `name` into `out` (cap bytes) with every character outside
 * [A-Za-z0-9._-] replaced by '_'; an empty name
 * becomes "output_<index>".  Returns false if it did not fit. */
bool mlc_cli_sanitize_name(const char *name, int index, char *out, size_t cap);

/* ---- running compiled models (tools/run_common.c) ---- */

struct mlcrt_model;
struct mlc_host_tensor;

/* Reads a tensor file chosen by extension: .npy or .pb (TensorProto). */
mlc_status_t *mlc_cli_read_tensor(const char *path,
                                  struct mlc_host_tensor *out);
/* Writes DIR/<sanitized name>.npy or .pb. */
mlc_status_t *mlc_cli_write_tensor(const char *dir, const char *file_stem,
                                   const char *name, mlc_out_format_t format,
                                   const struct mlc_host_tensor *t);
/* mkdir -p. */
mlc_status_t *mlc_cli_make_dir(const char *path);

/* Loads a compiled model with libmlcrt. */
mlc_status_t *mlc_cli_load_model(const char *path, struct mlcrt_model **out);

/* Resolves the --input specs against the model's inputs: "NAME=FILE"
 * where NAME is an input's name, else "FILE" for the next input (in model
 * order) not named explicitly.  Fills inputs[i] (the model's input count
 * long, zeroed by the caller) and checks dtype and shape of each. */
mlc_status_t *mlc_cli_load_inputs(const struct mlcrt_model *m,
                                  const char *const *specs, int nspecs,
                                  struct mlc_host_tensor *inputs);
/* Fills every input still without data with deterministic random data
 * (floats in [-1, 1), ints in 0..9, bools 0/1). */
mlc_status_t *mlc_cli_random_inputs(const struct mlcrt_model *m,
                                    struct mlc_host_tensor *inputs);
/* Allocates each output's buffer per the model's output info. */
mlc_status_t *mlc_cli_alloc_outputs(const struct mlcrt_model *m,
                                    struct mlc_host_tensor *outputs);
/* Creates a session with `threads` and binds inputs and outputs. */
struct mlcrt_session;
mlc_status_t *mlc_cli_bind_session(const struct mlcrt_model *m, int threads,
                                   const struct mlc_host_tensor *inputs,
                                   struct mlc_host_tensor *outputs,
                                   struct mlcrt_session **out);
/* A loaded model, its session, and host buffers for its inputs and outputs
 * (bound to the session). */
typedef struct mlc_cli_session {
  struct mlcrt_model *model;
  struct mlcrt_session *session;
  struct mlc_host_tensor *inputs, *outputs;
  int32_t nin, nout;
} mlc_cli_session_t;

/* Loads o->model, reads o->inputs, fills the rest with random data when
 * `random_fill` (else they are an error), allocates outputs and binds a
 * session with o->threads.  Close *s also after an error. */
mlc_status_t *mlc_cli_session_open(const mlc_cli_run_t *o, bool random_fill,
                                   mlc_cli_session_t *s);
void mlc_cli_session_close(mlc_cli_session_t *s);

/* Turns a runtime status into ours (MLC_INVALID_MODEL or MLC_IO_ERROR),
 * freeing it; NULL stays NULL. */
mlc_status_t *mlc_cli_from_rt(void *rt_status);

#endif
