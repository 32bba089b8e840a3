#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static int read_it(int* p) { return *p; }

int main(int argc, char** argv) {
  (void)argv;
  int* p = malloc(sizeof(int) * 4);
  p[0] = argc;
  free(p);
  printf("%d\n", read_it(p));
  return 0;
}
