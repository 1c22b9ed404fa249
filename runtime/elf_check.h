/* The check libmlcrt makes on a model library's file before dlopen
 * (elf.c).  Private to the runtime and the `mlc` tool, which links the
 * static runtime and makes the same check before `mlc inspect` opens a
 * library; not part of the public API. */
#ifndef MLCRT_ELF_CHECK_H
#define MLCRT_ELF_CHECK_H

#include "mlc/mlcrt.h"

/* Checks that the file at `path` (or open on `fd`) is a regular file
 * holding a 64-bit ELF shared library for this machine whose program and
 * section header tables and every segment lie inside the file, so that
 * dlopen cannot fault on it.  Opens with O_NONBLOCK (a FIFO is refused, not
 * waited on).  Messages do not name the file. */
mlcrt_status_t *mlcrt_elf_check_file(const char *path);
mlcrt_status_t *mlcrt_elf_check_fd(int fd);
/* "x86_64", "aarch64", ... for an ELF e_machine; NULL if unknown. */
const char *mlcrt_elf_machine_name(unsigned machine);

#endif
