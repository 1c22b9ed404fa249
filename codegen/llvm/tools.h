/* Files and processes for the LLVM backend: a private temporary folder,
 * writing blobs, and running the C compiler driver (to assemble the
 * weights and to link) with its stderr captured into the error. */
#ifndef MLC_CODEGEN_LLVM_TOOLS_H
#define MLC_CODEGEN_LLVM_TOOLS_H

#include <stddef.h>

#include "base/status.h"

/* Creates a fresh folder under $TMPDIR (or /tmp); `out` gets its path. */
mlc_status_t *mlc_cg_tmpdir_create(char *out, size_t len);
/* Removes every file in the folder, then the folder. */
void mlc_cg_tmpdir_remove(const char *dir);
mlc_status_t *mlc_cg_write_file(const char *path, const void *data, size_t n);
/* Runs `cc` (split on spaces; NULL: $CC or "cc") with the extra arguments
 * (NULL-terminated).  Its stderr goes to `log_path`; on failure the error
 * carries the command and that log. */
mlc_status_t *mlc_cg_run_cc(const char *cc, const char *const *args,
                            const char *log_path);

#endif
