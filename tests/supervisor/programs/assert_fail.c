// A C program without the crashctl SDK whose assert() fails: SIGABRT from
// abort(), raised by the C library (si_code SI_TKILL).
#undef NDEBUG
#include <assert.h>
#include <stdio.h>

volatile int g_items = 0;

__attribute__((noinline)) void check_items(int items) {
  assert(items > 0 && "need at least one item");  // FAULT-LINE
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("assert_fail: checking\n");
  check_items(g_items);
  __asm__ volatile("" ::: "memory");
  return 0;
}
