// `memory_hog MIB`: allocates and touches MIB mebibytes, 1 MiB at a time,
// then exits 0 -- unless a memory limit has the kernel kill it first.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long mib = argc > 1 ? atol(argv[1]) : 256;
  printf("memory_hog: allocating %ld MiB\n", mib);
  for (long i = 0; i < mib; ++i) {
    char* block = malloc(1 << 20);
    if (block == NULL) return 1;
    memset(block, (int)(i & 0xff) | 1, 1 << 20);
    if (i % 16 == 0) printf("memory_hog: %ld MiB\n", i);
  }
  printf("memory_hog: done\n");
  return 0;
}
