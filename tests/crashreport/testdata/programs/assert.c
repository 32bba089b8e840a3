#include <assert.h>
#include <stdio.h>

static int check(int n) {
  assert(n == 1 && "exactly one argument");
  return n;
}

int main(int argc, char** argv) {
  (void)argv;
  printf("%d\n", check(argc + 1));
  return 0;
}
