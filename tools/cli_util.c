/* Small helpers shared by the subcommands: error reporting with the exit
 * code a status maps to, and the file-name sanitizer for output names. */
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

int mlc_cli_report(mlc_status_t *st, bool invalid_argument_is_usage) {
  if (!st) return MLC_EXIT_OK;
  fprintf(stderr, "mlc: error: %s\n", mlc_status_message(st));
  int code = invalid_argument_is_usage &&
                     mlc_status_code(st) == MLC_INVALID_ARGUMENT
                 ? MLC_EXIT_USAGE
                 : MLC_EXIT_FAIL;
  mlc_status_free(st);
  return code;
}

static bool safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool mlc_cli_sanitize_name(const char *name, int index, char *out, size_t cap) {
  if (cap == 0) return false;
  if (!name || !*name) {
    int n = snprintf(out, cap, "output_%d", index);
    return n >= 0 && (size_t)n < cap;
  }
  size_t len = strlen(name);
  if (len >= cap) return false;
  for (size_t i = 0; i < len; i++) out[i] = safe_char(name[i]) ? name[i] : '_';
  out[len] = '\0';
  return true;
}
