/* `mlc compile`: parses the options, creates the output's folder when it
 * is missing, and calls the driver. */
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

/* mkdir -p of the folder part of `path` (nothing for "-" or a bare name). */
static mlc_status_t *make_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  if (strcmp(path, "-") == 0 || !slash || slash == path) return NULL;
  char *dir = strndup(path, (size_t)(slash - path));
  if (!dir) return MLC_ERR(OUT_OF_MEMORY, "output folder");
  mlc_status_t *st = mlc_cli_make_dir(dir);
  free(dir);
  return st;
}

int mlc_cmd_compile(int argc, char **argv) {
  mlc_cli_compile_t o;
  int r = mlc_cli_parse_compile(argc, argv, stdout, stderr, &o);
  if (r == MLC_CLI_CONTINUE) {
    mlc_status_t *st = make_parent(o.opts.output_path);
    r = mlc_cli_report(st ? st : mlc_compile(&o.opts), true);
  }
  mlc_cli_compile_free(&o);
  return r;
}
