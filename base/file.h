/* Opening files named by users and by model files.
 *
 * Only regular files are read: a FIFO, a socket, a device or a directory
 * is refused with a status that says what it is, instead of blocking in
 * open() or read() (a FIFO with no writer) or reading without end
 * (/dev/zero).  Files are opened with O_NONBLOCK, so opening a FIFO
 * returns at once, and read up to the size fstat() gave at open time.
 */
#ifndef MLC_BASE_FILE_H
#define MLC_BASE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/* Opens `path` (relative to `dirfd`, or AT_FDCWD) read-only with `flags`
 * added (e.g. O_NOFOLLOW), and checks that it is a regular file.  `what`
 * names the file in messages (defaults to path).  On success *out_fd is
 * an open descriptor the caller closes and *out_size the file's size. */
mlc_status_t *mlc_file_open_regular(int dirfd, const char *path, int flags,
                                    const char *what, int *out_fd,
                                    uint64_t *out_size) MLC_MUST_USE;

/* Reads the whole regular file at `path` into a malloc'ed buffer (one
 * spare byte, zeroed, after *out_len), refusing files over `max_bytes`. */
mlc_status_t *mlc_file_read_all(const char *path, uint64_t max_bytes,
                                void **out_data, size_t *out_len) MLC_MUST_USE;

/* "a FIFO", "a directory", ... for an st_mode that is not a regular file. */
const char *mlc_file_kind_name(unsigned mode);

#endif
