// A parent that forks a worker which dies of SIGSEGV (segv_deep's code path
// in a child process), then exits 3 itself: the worker's crash is what the
// report must show. `fork_segv stay` keeps the parent running for 6 s after
// the worker died, as a pre-forking server would, then exits 0.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int* volatile g_target = NULL;

__attribute__((noinline)) void worker_store(int value) {
  int* p = g_target;
  *p = value;  // FAULT-LINE
}

__attribute__((noinline)) void worker_main(int value) {
  worker_store(value * 2);
  __asm__ volatile("" ::: "memory");
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int stay = argc > 1 && strcmp(argv[1], "stay") == 0;
  pid_t worker = fork();
  if (worker == 0) {
    worker_main(21);
    _exit(0);
  }
  int status = 0;
  waitpid(worker, &status, 0);
  printf("fork_segv: worker %s by signal %d\n",
         WIFSIGNALED(status) ? "killed" : "exited",
         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  if (stay) {
    sleep(6);
    return 0;
  }
  return 3;
}
