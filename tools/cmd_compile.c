/* `mlc compile`: parses the options and calls the driver. */
#include "tools/cli.h"

int mlc_cmd_compile(int argc, char **argv) {
  mlc_cli_compile_t o;
  int r = mlc_cli_parse_compile(argc, argv, stdout, stderr, &o);
  if (r == MLC_CLI_CONTINUE) r = mlc_cli_report(mlc_compile(&o.opts), true);
  mlc_cli_compile_free(&o);
  return r;
}
