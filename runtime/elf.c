/* Checking a model library's file before dlopen (see internal.h).
 *
 * glibc's loader trusts the file: it maps each PT_LOAD segment as the
 * program headers describe it, so a truncated or corrupted library kills
 * the process with SIGBUS the first time the loader touches a page past the
 * end of the file.  Reading the ELF header and the program headers here,
 * and requiring every range they name to lie inside the file, turns those
 * cases into a status.  The checks are the structural ones only (class,
 * byte order, type, machine, table bounds); a file that passes is still
 * trusted, as any shared library is: its constructors run inside dlopen.
 *
 * The file is opened with O_NONBLOCK so that a FIFO cannot block the
 * caller; only regular files are accepted.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define HOST_MACHINE EM_PPC64
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#else
#define HOST_MACHINE EM_NONE /* not checked */
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

const char *mlcrt_elf_machine_name(unsigned machine) {
  switch (machine) {
  case EM_386: return "i386";
  case EM_X86_64: return "x86_64";
  case EM_AARCH64: return "aarch64";
  case EM_ARM: return "arm";
  case EM_RISCV: return "riscv";
  case EM_PPC: return "powerpc";
  case EM_PPC64: return "powerpc64";
  case EM_S390: return "s390";
  case EM_MIPS: return "mips";
  case EM_LOONGARCH: return "loongarch";
  default: return NULL;
  }
}

/* "x86_64" or "ELF machine 1234". */
static void elf_machine_text(unsigned machine, char *buf, size_t len) {
  const char *n = mlcrt_elf_machine_name(machine);
  if (n) snprintf(buf, len, "%s", n);
  else snprintf(buf, len, "ELF machine %u", machine);
}

static mlcrt_status_t *elf_bad(const char *what) {
  return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                           "not a valid shared library: %s", what);
}

/* off + n <= size without overflow. */
static bool elf_fits(uint64_t off, uint64_t n, uint64_t size) {
  return off <= size && n <= size - off;
}

static mlcrt_status_t *elf_check_ident(const unsigned char *id, size_t got) {
  if (got < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) != 0)
    return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                             "not a shared library (no ELF header)");
  if (id[EI_CLASS] != ELFCLASS64)
    return mlcrt_status_make(
        MLCRT_INCOMPATIBLE, "a %s-bit ELF file; this runtime loads 64-bit "
        "libraries", id[EI_CLASS] == ELFCLASS32 ? "32" : "bad class,");
  if (id[EI_DATA] != HOST_DATA)
    return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                             "ELF file of the other byte order");
  if (id[EI_VERSION] != EV_CURRENT) return elf_bad("ELF version is not 1");
  return NULL;
}

static mlcrt_status_t *elf_check_header(const Elf64_Ehdr *h, uint64_t size) {
  if (h->e_type != ET_DYN)
    return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                             "an ELF file of type %u, not a shared library "
                             "(an object file? link it, or compile with "
                             "--emit so)", (unsigned)h->e_type);
  if (HOST_MACHINE != EM_NONE && h->e_machine != HOST_MACHINE) {
    char lib[64], host[64];
    elf_machine_text(h->e_machine, lib, sizeof lib);
    elf_machine_text(HOST_MACHINE, host, sizeof host);
    return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                             "built for %s, this is %s", lib, host);
  }
  if (h->e_ehsize < sizeof(Elf64_Ehdr)) return elf_bad("ELF header too small");
  if (h->e_phnum == 0 || h->e_phentsize != sizeof(Elf64_Phdr))
    return elf_bad("no program headers");
  if (!elf_fits(h->e_phoff, (uint64_t)h->e_phnum * sizeof(Elf64_Phdr), size))
    return elf_bad("program headers past the end of the file (truncated?)");
  if (h->e_shoff && (h->e_shentsize != sizeof(Elf64_Shdr) ||
                     !elf_fits(h->e_shoff, (uint64_t)h->e_shnum * sizeof(Elf64_Shdr),
                           size)))
    return elf_bad("section headers past the end of the file (truncated?)");
  return NULL;
}

static mlcrt_status_t *elf_check_segments(int fd, const Elf64_Ehdr *h,
                                      uint64_t size) {
  size_t n = h->e_phnum;
  Elf64_Phdr *ph = malloc(n * sizeof *ph);
  if (!ph) return mlcrt_status_oom();
  mlcrt_status_t *st = NULL;
  ssize_t got = pread(fd, ph, n * sizeof *ph, (off_t)h->e_phoff);
  if (got != (ssize_t)(n * sizeof *ph)) {
    st = elf_bad("cannot read the program headers");
  } else {
    bool load = false;
    for (size_t i = 0; i < n && !st; i++) {
      load |= ph[i].p_type == PT_LOAD;
      if (!elf_fits(ph[i].p_offset, ph[i].p_filesz, size))
        st = mlcrt_status_make(
            MLCRT_INCOMPATIBLE,
            "not a valid shared library: segment %zu needs bytes up to %llu, "
            "the file has %llu (truncated?)", i,
            (unsigned long long)ph[i].p_offset +
                (unsigned long long)ph[i].p_filesz,
            (unsigned long long)size);
      else if (ph[i].p_type == PT_LOAD && ph[i].p_memsz < ph[i].p_filesz)
        st = elf_bad("a segment is smaller in memory than in the file");
    }
    if (!st && !load) st = elf_bad("no loadable segment");
  }
  free(ph);
  return st;
}

mlcrt_status_t *mlcrt_elf_check_fd(int fd) {
  struct stat sb;
  if (fstat(fd, &sb) != 0)
    return mlcrt_status_make(MLCRT_IO_ERROR, "%s", strerror(errno));
  if (S_ISDIR(sb.st_mode))
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT, "is a directory");
  if (!S_ISREG(sb.st_mode))
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "not a regular file (a FIFO or device?)");
  uint64_t size = (uint64_t)sb.st_size;
  Elf64_Ehdr h;
  memset(&h, 0, sizeof h);
  ssize_t got = pread(fd, &h, sizeof h, 0);
  if (got < 0) return mlcrt_status_make(MLCRT_IO_ERROR, "%s", strerror(errno));
  mlcrt_status_t *st = elf_check_ident(h.e_ident, (size_t)got);
  if (st) return st;
  if ((size_t)got < sizeof h) return elf_bad("file shorter than an ELF header");
  if ((st = elf_check_header(&h, size))) return st;
  return elf_check_segments(fd, &h, size);
}

mlcrt_status_t *mlcrt_elf_check_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return mlcrt_status_make(errno == ENOENT ? MLCRT_NOT_FOUND : MLCRT_IO_ERROR,
                             "%s", strerror(errno));
  mlcrt_status_t *st = mlcrt_elf_check_fd(fd);
  close(fd);
  return st;
}
