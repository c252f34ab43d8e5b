/*
 * cli/files.c - the tenant files that `validate` and `fmt` take: files,
 * directories (every *.yaml, *.yml and *.json in them and below, in name order,
 * dot-files skipped) and "-" for standard input; reading one whole; and the
 * unified diff `fmt --check` prints, made by diff(1) from diffutils (Essential in
 * Debian, so on every machine that has urbac) in its `diff -u` format; and
 * replacing a file atomically (`fmt`, `plan -out`).
 *
 * Limits: CLI_INPUTS_MAX files, CLI_DIR_DEPTH levels of directories, and a file
 * of at most 256 MiB, as the library reads.
 *
 * Depends on: the public API, cli/main.c, POSIX (dirent, posix_spawn), diff(1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define CLI_INPUTS_MAX 100000
#define CLI_DIR_DEPTH 32
#define CLI_FILE_MAX (256u * 1024u * 1024u)

extern char **environ;

static bool add(cli_inputs *in, const char *name)
{
  if (in->n >= CLI_INPUTS_MAX) {
    cli_error("more than %d tenant files", CLI_INPUTS_MAX);
    return false;
  }
  if (in->n == in->cap) {
    size_t cap = in->cap ? in->cap * 2 : 16;
    char **v = realloc(in->names, cap * sizeof *v);
    if (!v) {
      cli_error("out of memory");
      return false;
    }
    in->names = v;
    in->cap = cap;
  }
  if (!(in->names[in->n] = strdup(name))) {
    cli_error("out of memory");
    return false;
  }
  in->n++;
  return true;
}

static bool tenant_name(const char *name)
{
  const char *dot = strrchr(name, '.');
  return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds the tenant files under directory `dir`, in name order. */
static bool walk(cli_inputs *in, const char *dir, int depth)
{
  DIR *dp = NULL;
  cli_inputs here = {0};
  bool ok = false;
  if (depth > CLI_DIR_DEPTH) {
    cli_error("%s: directories nested deeper than %d levels", dir, CLI_DIR_DEPTH);
    goto out;
  }
  if (!(dp = opendir(dir))) {
    cli_error("%s: cannot read the directory: %s", dir, strerror(errno));
    goto out;
  }
  for (struct dirent *e; (e = readdir(dp)) != NULL;)
    if (e->d_name[0] != '.' && !add(&here, e->d_name))
      goto out;
  if (here.n)
    qsort(here.names, here.n, sizeof *here.names, by_name);
  for (size_t i = 0; i < here.n; i++) {
    struct stat st;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, here.names[i]) >= sizeof path) {
      cli_error("%s/%s: path too long", dir, here.names[i]);
      goto out;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? !walk(in, path, depth + 1)
                                                    : tenant_name(path) && !add(in, path))
      goto out;
  }
  ok = true;
out:
  if (dp)
    closedir(dp);
  cli_inputs_free(&here);
  return ok;
}

bool cli_inputs_collect(cli_inputs *in, const cli_args *a, const char *cmd)
{
  bool stdin_seen = false;
  if (a->n == 0) {
    cli_error("%s takes tenant files, directories or - (standard input) (see --help)", cmd);
    return false;
  }
  for (int i = 0; i < a->n; i++) {
    struct stat st;
    const char *w = a->v[i];
    size_t len = strlen(w);
    bool dir = strcmp(w, "-") != 0 && stat(w, &st) == 0 && S_ISDIR(st.st_mode);
    if (!strcmp(w, "-") && stdin_seen) {
      cli_error("%s: standard input (-) given twice", cmd);
      return false;
    }
    stdin_seen = stdin_seen || !strcmp(w, "-");
    while (dir && len > 1 && w[len - 1] == '/')
      len--;
    char trimmed[4096];
    snprintf(trimmed, sizeof trimmed, "%.*s", (int)len, w);
    if (dir ? !walk(in, trimmed, 1) : !add(in, w))
      return false;
  }
  return true;
}

void cli_inputs_free(cli_inputs *in)
{
  for (size_t i = 0; i < in->n; i++)
    free(in->names[i]);
  free(in->names);
  memset(in, 0, sizeof *in);
}

char *cli_read_input(const char *name, size_t *len)
{
  bool std = !strcmp(name, "-");
  const char *shown = std ? "standard input" : name;
  /* O_NONBLOCK: a FIFO named as a file is refused below, not waited on */
  int fd = std ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  char *buf = NULL;
  size_t cap = 0;
  bool ok = false;
  *len = 0;
  if (fd < 0) {
    cli_error("%s: cannot open: %s", name, strerror(errno));
    return NULL;
  }
  if (!std && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
    cli_error("%s: not a regular file", name);
    goto out;
  }
  for (;;) {
    char *b = *len + 1 < cap ? buf : realloc(buf, cap = cap ? cap * 2 : 65536);
    if (!b) {
      cli_error("%s: out of memory", shown);
      goto out;
    }
    buf = b;
    ssize_t r = read(fd, buf + *len, cap - 1 - *len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      cli_error("%s: read failed: %s", shown, strerror(errno));
      goto out;
    }
    if (r == 0)
      break;
    if ((*len += (size_t)r) > CLI_FILE_MAX) {
      cli_error("%s: larger than %u bytes", shown, CLI_FILE_MAX);
      goto out;
    }
  }
  buf[*len] = '\0';
  ok = true;
out:
  if (!std)
    close(fd);
  if (!ok) {
    free(buf);
    buf = NULL;
  }
  return buf;
}

/* A new file named `prefix` and six random characters, holding `len` bytes of
 * `s`, with `mode`, synced; its name in `path` ("" when none was made). */
static bool temp_with(char *path, size_t size, const char *prefix, mode_t mode, const char *s, size_t len)
{
  bool ok = (size_t)snprintf(path, size, "%s.XXXXXX", prefix) < size;
  int fd = ok ? mkstemp(path) : -1;
  if (fd < 0) {
    cli_error("%s: cannot make a file beside it: %s", prefix, ok ? strerror(errno) : "name too long");
    path[0] = '\0';
    return false;
  }
  for (size_t done = 0; ok && done < len;) {
    ssize_t w = write(fd, s + done, len - done);
    ok = w > 0 || (w < 0 && errno == EINTR);
    done += w > 0 ? (size_t)w : 0;
  }
  ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0;
  if (close(fd) != 0 || !ok) {
    cli_error("%s: write failed: %s", path, strerror(errno));
    ok = false;
  }
  return ok;
}

bool cli_replace_file(const char *path, const char *s, size_t len)
{
  struct stat st;
  char tmp[4200];
  mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
  bool ok = temp_with(tmp, sizeof tmp, path, mode, s, len);
  if (ok && rename(tmp, path) != 0) {
    cli_error("%s: cannot replace the file: %s", path, strerror(errno));
    ok = false;
  }
  if (!ok && tmp[0])
    unlink(tmp);
  return ok;
}

bool cli_diff(const char *name, const char *a, size_t alen, const char *b, size_t blen)
{
  char old[4096] = "", now[4096] = "", la[4200], lb[4200], diff[] = "diff", u[] = "-u", label[] = "--label";
  bool ok = false;
  pid_t pid;
  int status = 0;
  snprintf(la, sizeof la, "%s.orig", name);
  snprintf(lb, sizeof lb, "%s", name);
  char *argv[] = {diff, u, label, la, label, lb, old, now, NULL};
  const char *dir = getenv("TMPDIR");
  char prefix[4096];
  snprintf(prefix, sizeof prefix, "%s/urbac-fmt", dir && *dir ? dir : "/tmp");
  if (!temp_with(old, sizeof old, prefix, 0600, a, alen) ||
      !temp_with(now, sizeof now, prefix, 0600, b, blen))
    goto out;
  fflush(stdout);
  int e = posix_spawnp(&pid, "diff", NULL, NULL, argv, environ);
  if (e) {
    cli_error("cannot run diff(1) (Debian's diffutils) for the difference: %s", strerror(e));
    goto out;
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  ok = WIFEXITED(status) && WEXITSTATUS(status) <= 1;
  if (!ok)
    cli_error("diff(1) failed on %s", name);
out:
  if (old[0])
    unlink(old);
  if (now[0])
    unlink(now);
  return ok;
}
