/* Temporary folders, files and the cc driver for the LLVM backend; see
 * tools.h.  fork/execvp, no shell, so paths need no quoting. */
#include "codegen/llvm/tools.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
