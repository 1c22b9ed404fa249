/* Files and processes for the LLVM backend: a private temporary folder,
 * writing blobs, and running the C compiler driver (to assemble the
 * weights and to link) with its stderr captured into the error. */
#ifndef MLC_CODEGEN_LLVM_TOOLS_H
#define MLC_CODEGEN_LLVM_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"

/* Creates a fresh folder under $TMPDIR (or /tmp); `out` gets its path. */
mlc_status_t *mlc_cg_tmpdir_create(char *out, size_t len);
/* Removes every file in the folder, then the folder. */
void mlc_cg_tmpdir_remove(const char *dir);
mlc_status_t *mlc_cg_write_file(const char *path, const void *data, size_t n);
/* Writes a then b. */
mlc_status_t *mlc_cg_write_file2(const char *path, const void *a, size_t na,
                                 const void *b, size_t nb);
/* Fills out with n random bytes (getrandom; a time/pid mix without it). */
void mlc_cg_random(void *out, size_t n);
/* Creates an empty file with a fresh name beside `path` in its folder
 * (".<name>.tmp-<random>"), to write there and rename over `path`: the
 * rename is atomic and leaves the old file's inode to whoever maps it. */
mlc_status_t *mlc_cg_tmp_sibling(const char *path, char *out, size_t len);
/* rename(2) with an error naming `to`. */
mlc_status_t *mlc_cg_rename(const char *from, const char *to);
/* Runs `cc` (split on spaces; NULL: $CC or "cc") with the extra arguments
 * (NULL-terminated).  Its stderr goes to `log_path`; on failure the error
 * carries the command and that log. */
mlc_status_t *mlc_cg_run_cc(const char *cc, const char *const *args,
                            const char *log_path);

#endif
