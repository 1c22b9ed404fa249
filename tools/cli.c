/* The `mlc` command's top level: dispatches to the subcommands and handles
 * the top-level --help and --version.  mlc_main is a library function so
 * tests can run the whole command in-process; main.c only calls it. */
#include <string.h>

#include "tools/cli.h"

static const char top_usage[] =
    "usage: mlc <command> [options]\n";
static const char top_help[] =
    "mlc: an ahead-of-time compiler from ONNX to native code.\n\n"
    "commands:\n"
    "  compile MODEL.onnx -o OUT   compile a model to a shared library\n"
    "  run MODEL.so ...            run a compiled model on .npy/.pb inputs\n"
    "  bench MODEL.so              measure a compiled model's latency\n"
    "  inspect FILE                describe an ONNX model or compiled model\n\n"
    "Run 'mlc <command> --help' for the options of a command.\n"
    "Exit codes: 0 success, 1 bad model, input or failed run, 2 bad usage.\n";

static const struct {
  const char *name;
  int (*fn)(int, char **);
} commands[] = {
    {"compile", mlc_cmd_compile},
    {"run", mlc_cmd_run},
    {"bench", mlc_cmd_bench},
    {"inspect", mlc_cmd_inspect},
};

int mlc_main(int argc, char **argv) {
  if (argc < 2) {
    fputs(top_usage, stderr);
    fputs("Try 'mlc --help'.\n", stderr);
    return MLC_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0) {
    fputs(top_usage, stdout);
    fputs(top_help, stdout);
    return MLC_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("mlc %s\n", MLC_VERSION_STRING);
    return MLC_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (strcmp(cmd, commands[i].name) == 0)
      return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "mlc: unknown command '%s'\n", cmd);
  fputs(top_usage, stderr);
  fputs("Try 'mlc --help'.\n", stderr);
  return MLC_EXIT_USAGE;
}
