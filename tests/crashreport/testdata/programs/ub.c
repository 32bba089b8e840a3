#include <limits.h>
#include <stdio.h>

__attribute__((noinline)) static int add(int a, int b) { return a + b; }

int main(int argc, char** argv) {
  (void)argv;
  printf("%d\n", add(INT_MAX, argc));
  return 0;
}
