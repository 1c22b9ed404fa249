/* Temporary folders, files and the cc driver for the LLVM backend; see
 * tools.h.  fork/execvp, no shell, so paths need no quoting. */
#include "codegen/llvm/tools.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

mlc_status_t *mlc_cg_tmpdir_create(char *out, size_t len) {
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = "/tmp";
  snprintf(out, len, "%s/mlc-cg-XXXXXX", base);
  if (!mkdtemp(out))
    return MLC_ERR(IO_ERROR, "creating a temporary folder in %s: %s", base,
                   strerror(errno));
  return NULL;
}

/* Unlinking while reading a directory may skip entries on some file
 * systems, so each pass reads, then unlinks; passes repeat until none is
 * left (or nothing more can be removed). */
static int remove_pass(const char *dir) {
  char names[32][256];
  int n = 0, removed = 0;
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 32) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(names[n++], sizeof names[0], "%s", e->d_name);
  }
  closedir(d);
  char path[8192 + 512];
  for (int i = 0; i < n; i++) {
    if (snprintf(path, sizeof path, "%.8000s/%s", dir, names[i]) >= (int)sizeof path) continue;
    removed += unlink(path) == 0;
  }
  return removed;
}

void mlc_cg_tmpdir_remove(const char *dir) {
  while (remove_pass(dir) > 0) {
  }
  rmdir(dir);
}

mlc_status_t *mlc_cg_write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return MLC_ERR(IO_ERROR, "%s: %s", path, strerror(errno));
  size_t w = n ? fwrite(data, 1, n, f) : 0;
  int rc = fclose(f);
  if (w != n || rc != 0)
    return MLC_ERR(IO_ERROR, "writing %s: %s", path, strerror(errno));
  return NULL;
}

mlc_status_t *mlc_cg_write_file2(const char *path, const void *a, size_t na,
                                 const void *b, size_t nb) {
  FILE *f = fopen(path, "wb");
  if (!f) return MLC_ERR(IO_ERROR, "%s: %s", path, strerror(errno));
  bool ok = (!na || fwrite(a, 1, na, f) == na) && (!nb || fwrite(b, 1, nb, f) == nb);
  int rc = fclose(f);
  if (!ok || rc != 0)
    return MLC_ERR(IO_ERROR, "writing %s: %s", path, strerror(errno));
  return NULL;
}

void mlc_cg_random(void *out, size_t n) {
  unsigned char *p = out;
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(p + got, n - got, 0);
    if (r > 0) got += (size_t)r;
    else if (r < 0 && errno == EINTR) continue;
    else break;
  }
  if (got == n) return;
  /* No getrandom (an old kernel or a sandbox): mix what differs between
   * compiles; the id only has to tell builds apart. */
  static unsigned counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)ts.tv_nsec ^
               ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40) ^
               (uint64_t)(uintptr_t)out ^ counter++;
  for (size_t i = got; i < n; i++) {
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    p[i] = (unsigned char)h;
  }
}

mlc_status_t *mlc_cg_tmp_sibling(const char *path, char *out, size_t len) {
  const char *slash = strrchr(path, '/');
  int dir_len = slash ? (int)(slash - path + 1) : 0;
  const char *base = slash ? slash + 1 : path;
  for (int tries = 0; tries < 64; tries++) {
    unsigned char r[6];
    mlc_cg_random(r, sizeof r);
    int n = snprintf(out, len, "%.*s.%s.tmp-%02x%02x%02x%02x%02x%02x", dir_len,
                     path, base, r[0], r[1], r[2], r[3], r[4], r[5]);
    if (n < 0 || (size_t)n >= len) return MLC_ERR(IO_ERROR, "%s: path too long", path);
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      close(fd);
      return NULL;
    }
    if (errno != EEXIST)
      return MLC_ERR(IO_ERROR, "creating a temporary file beside %s: %s", path,
                     strerror(errno));
  }
  return MLC_ERR(IO_ERROR, "creating a temporary file beside %s: every name taken",
                 path);
}

mlc_status_t *mlc_cg_rename(const char *from, const char *to) {
  if (rename(from, to) == 0) return NULL;
  return MLC_ERR(IO_ERROR, "replacing %s: %s", to, strerror(errno));
}

static char *read_log(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(4097);
  size_t n = buf ? fread(buf, 1, 4096, f) : 0;
  fclose(f);
  if (buf) buf[n] = 0;
  return buf;
}

/* argv = words of cc, then args; `words` holds the split copy of cc. */
static char **build_argv(const char *cc, const char *const *args, char **words) {
  if (!cc || !*cc) cc = getenv("CC");
  if (!cc || !*cc) cc = "cc";
  *words = strdup(cc);
  size_t na = 0;
  while (args[na]) na++;
  char **argv = calloc(strlen(cc) / 2 + na + 3, sizeof *argv);
  if (!*words || !argv) {
    free(argv);
    return NULL;
  }
  size_t n = 0;
  char *save = NULL;
  for (char *w = strtok_r(*words, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
    argv[n++] = w;
  for (size_t i = 0; i < na; i++) argv[n++] = (char *)args[i];
  return argv;
}

static char *join_argv(char **argv) {
  size_t len = 1;
  for (size_t i = 0; argv[i]; i++) len += strlen(argv[i]) + 1;
  char *s = malloc(len);
  if (!s) return NULL;
  s[0] = 0;
  for (size_t i = 0; argv[i]; i++) {
    if (i) strcat(s, " ");
    strcat(s, argv[i]);
  }
  return s;
}

static int spawn(char **argv, const char *log_path) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);
      close(fd);
    }
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

mlc_status_t *mlc_cg_run_cc(const char *cc, const char *const *args,
                            const char *log_path) {
  char *words = NULL;
  char **argv = build_argv(cc, args, &words);
  if (!argv) {
    free(words);
    return MLC_ERR(OUT_OF_MEMORY, "running cc");
  }
  int rc = spawn(argv, log_path);
  mlc_status_t *err = NULL;
  if (rc != 0) {
    char *cmd = join_argv(argv), *log = read_log(log_path);
    err = MLC_ERR(IO_ERROR, "'%s' failed (exit %d): %s", cmd ? cmd : argv[0], rc,
                  log && *log ? log : "(no output)");
    free(cmd);
    free(log);
  }
  free(argv);
  free(words);
  return err;
}
