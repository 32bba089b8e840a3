// The children bench/trace_overhead.py runs under `crashctl run`, traced and
// with --no-trace:
//   trace_subject cpu N          N x 10^8 iterations of arithmetic
//   trace_subject signals RATE N the same work while a POSIX timer sends it
//                                RATE SIGUSR1 a second (handled)
//   trace_subject fork N         N short processes (fork + exec /bin/true)
// Prints one line with what it did; exits 0.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_received = 0;

static void OnUsr1(int sig) {
  (void)sig;
  ++g_received;
}

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long Work(long hundred_millions) {
  volatile unsigned long long sink = 0;
  unsigned long long sum = 0;
  for (long r = 0; r < hundred_millions; ++r) {
    for (unsigned long long i = 0; i < 100000000ULL; ++i) sum += i % 7;
    sink = sum;
  }
  return sink;
}

// A timer that has the kernel send SIGUSR1 `rate` times a second.
static timer_t StartTimer(long rate) {
  timer_t timer;
  struct sigevent sev;
  memset(&sev, 0, sizeof(sev));
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) exit(1);
  long ns = 1000000000L / (rate > 0 ? rate : 1);
  struct itimerspec its = {{ns / 1000000000L, ns % 1000000000L},
                           {ns / 1000000000L, ns % 1000000000L}};
  timer_settime(timer, 0, &its, NULL);
  return timer;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 3) {
    fprintf(stderr, "usage: trace_subject cpu N | signals RATE N | fork N\n");
    return 2;
  }
  if (strcmp(argv[1], "cpu") == 0) {
    printf("cpu %llu\n", Work(atol(argv[2])));
  } else if (strcmp(argv[1], "signals") == 0 && argc > 3) {
    struct sigaction sa = {0};
    sa.sa_handler = OnUsr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    double start = Now();
    timer_t timer = StartTimer(atol(argv[2]));
    unsigned long long r = Work(atol(argv[3]));
    timer_delete(timer);
    printf("signals %llu handled %d (%.0f/s)\n", r, (int)g_received,
           g_received / (Now() - start));
  } else if (strcmp(argv[1], "fork") == 0) {
    long n = atol(argv[2]);
    for (long i = 0; i < n; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        execl("/bin/true", "true", (char*)NULL);
        _exit(127);
      }
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    }
    printf("fork %ld\n", n);
  } else {
    return 2;
  }
  return 0;
}
