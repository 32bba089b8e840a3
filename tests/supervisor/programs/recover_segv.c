// Takes a SIGSEGV in its own handler, recovers with siglongjmp, and exits 0:
// a handled fault is not a crash.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static sigjmp_buf g_recover;
int* volatile g_target = NULL;

static void OnSegv(int sig) {
  (void)sig;
  siglongjmp(g_recover, 1);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa = {0};
  sa.sa_handler = OnSegv;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  volatile int recovered = 0;
  for (volatile int i = 0; i < 3; ++i) {
    if (sigsetjmp(g_recover, 1) == 0) {
      int* p = g_target;
      *p = 1;
    } else {
      ++recovered;
    }
  }
  printf("recover_segv: recovered %d times\n", recovered);
  return recovered == 3 ? 0 : 1;
}
