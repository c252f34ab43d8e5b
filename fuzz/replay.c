/*
 * fuzz/replay.c - runs a fuzz driver over files (its seed corpus) without
 * libFuzzer, so the ordinary test suite replays every corpus entry.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
  int n = 0;
  for (int a = 1; a < argc; a++) {
    DIR *d = opendir(argv[a]);
    struct dirent *e;
    if (!d) {
      fprintf(stderr, "replay: cannot open %s\n", argv[a]);
      return 1;
    }
    while ((e = readdir(d)) != NULL) {
      char path[4096];
      if (e->d_name[0] == '.')
        continue;
      snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
      FILE *f = fopen(path, "rb");
      if (!f)
        continue;
      static unsigned char buf[1 << 20];
      size_t len = fread(buf, 1, sizeof buf, f);
      fclose(f);
      LLVMFuzzerTestOneInput(buf, len);
      n++;
    }
    closedir(d);
  }
  printf("replayed %d inputs\n", n);
  return n > 0 ? 0 : 1;
}
