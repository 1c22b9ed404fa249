/* Opening files named by users and by model files.  See file.h. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *mlc_file_kind_name(unsigned mode) {
  switch (mode & S_IFMT) {
  case S_IFREG: return "a regular file";
  case S_IFDIR: return "a directory";
  case S_IFIFO: return "a FIFO";
  case S_IFSOCK: return "a socket";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFLNK: return "a symbolic link";
  default: return "not a regular file";
  }
}

mlc_status_t *mlc_file_open_regular(int dirfd, const char *path, int flags,
                                    const char *what, int *out_fd,
                                    uint64_t *out_size) {
  *out_fd = -1;
  *out_size = 0;
  if (!what) what = path;
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
  if (fd < 0) return MLC_ERR(IO_ERROR, "%s: %s", what, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return MLC_ERR(IO_ERROR, "%s: %s", what, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return MLC_ERR(IO_ERROR, "%s: is %s, not a regular file", what,
                   mlc_file_kind_name((unsigned)sb.st_mode));
  }
  /* Blocking reads from here on (a regular file never blocks anyway). */
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  *out_fd = fd;
  *out_size = (uint64_t)sb.st_size;
  return NULL;
}

mlc_status_t *mlc_file_read_all(const char *path, uint64_t max_bytes,
                                void **out_data, size_t *out_len) {
  *out_data = NULL;
  *out_len = 0;
  int fd;
  uint64_t size;
  MLC_RETURN_IF(mlc_file_open_regular(AT_FDCWD, path, 0, NULL, &fd, &size));
  if (size > max_bytes || size >= SIZE_MAX) {
    close(fd);
    return MLC_ERR(IO_ERROR, "%s: %llu bytes, more than the %llu accepted",
                   path, (unsigned long long)size,
                   (unsigned long long)max_bytes);
  }
  char *buf = malloc((size_t)size + 1);
  if (!buf) {
    close(fd);
    return MLC_ERR(OUT_OF_MEMORY, "%s: reading %llu bytes", path,
                   (unsigned long long)size);
  }
  size_t got = 0;
  int err = 0;
  while (got < size && !err) {
    ssize_t r = read(fd, buf + got, (size_t)size - got);
    if (r > 0) got += (size_t)r;
    else if (r == 0) break; /* the file shrank */
    else if (errno != EINTR) err = errno;
  }
  close(fd);
  if (got != size) {
    free(buf);
    if (err) return MLC_ERR(IO_ERROR, "%s: %s", path, strerror(err));
    return MLC_ERR(IO_ERROR, "%s: short read (%zu of %llu bytes; did the "
                   "file change?)", path, got, (unsigned long long)size);
  }
  buf[size] = 0;
  *out_data = buf;
  *out_len = (size_t)size;
  return NULL;
}
