#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void make(size_t n) {
  char* p = malloc(n);
  memset(p, 1, n);
}

int main(int argc, char** argv) {
  (void)argv;
  make(16 + argc);
  return 0;
}
