/*
 * io/file.c - reading a tenant file whole and replacing one atomically, shared by
 * load.c (urbac_tenant_load_file), save.c and doc.c (the comment-keeping save,
 * which reads the file it rewrites). A read is bounded by URBAC_MAX_FILE_BYTES; a
 * write goes to a temporary file beside the target, is fsynced and renamed over
 * it, so a failed write leaves the old file as it was.
 *
 * Depends on: util, the C library and POSIX.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/tree.h"

urbac_err urbac__file_read(const char *path, char **out, size_t *len, urbac_diag *d)
{
  struct stat st;
  char *buf = NULL;
  urbac_err err = URBAC_EIO;
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO is refused below, not waited on */
  if (fd < 0)
    return urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
  if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
    urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "not a regular file");
    goto out;
  }
  if ((uint64_t)st.st_size > URBAC_MAX_FILE_BYTES) {
    err =
        urbac__diag_add(d, URBAC_ELIMIT, path, 0, 0, NULL, "file larger than %u bytes", URBAC_MAX_FILE_BYTES);
    goto out;
  }
  size_t size = (size_t)st.st_size, got = 0;
  if (!(buf = urbac__malloc(size + 1))) {
    err = urbac__diag_code(d, URBAC_ENOMEM, path);
    goto out;
  }
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "read failed: %s", r ? strerror(errno) : "file shrank");
      goto out;
    }
    got += (size_t)r;
  }
  buf[size] = '\0';
  *out = buf;
  *len = size;
  buf = NULL;
  err = URBAC_OK;
out:
  urbac__free(buf);
  close(fd);
  return err;
}

urbac_err urbac__file_replace(const char *path, const char *buf, size_t len, urbac_diag *d)
{
  char *tmp = NULL;
  int fd = -1;
  urbac_err err = URBAC_EIO;
  urbac__buf tb = {0};
  urbac__buf_printf(&tb, "%s.tmp.%ld", path, (long)getpid());
  if (!(tmp = urbac__buf_take(&tb, NULL))) {
    err = urbac__diag_code(d, URBAC_ENOMEM, path);
    goto out;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "cannot write: %s", strerror(errno));
    goto out;
  }
  for (size_t done = 0; done < len;) {
    ssize_t w = write(fd, buf + done, len - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "write failed: %s", strerror(errno));
      goto out;
    }
    done += (size_t)w;
  }
  if (fsync(fd) || close(fd)) {
    fd = -1;
    urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "write failed: %s", strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path)) {
    urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "cannot replace the file: %s", strerror(errno));
    goto out;
  }
  err = URBAC_OK;
out:
  if (fd >= 0)
    close(fd);
  if (err && tmp)
    unlink(tmp);
  urbac__free(tmp);
  return err;
}
