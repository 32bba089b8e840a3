// Handles a storm of SIGUSR1 (`signal_storm [PER_SECOND [SECONDS]]`, default
// 10,000/s for 1 s) sent by a forked sender, one every 1/PER_SECOND s, keeps
// working meanwhile, and exits 0 if its work came out right and the handler
// ran (signals sent faster than they are handled merge: a pending signal is
// one bit). Prints the work rate, which bench/trace_overhead.sh compares.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long rate = argc > 1 ? atol(argv[1]) : 10000;
  double seconds = argc > 2 ? atof(argv[2]) : 1.0;
  struct sigaction sa = {0};
  sa.sa_handler = OnUsr1;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  pid_t parent = getpid();
  long total = (long)(rate * seconds);
  pid_t sender = fork();
  if (sender == 0) {
    // One signal at a time: sleeps while well ahead, spins the rest.
    double start = Now();
    for (long sent = 0; sent < total; ++sent) {
      kill(parent, SIGUSR1);
      double due = start + (double)(sent + 1) / rate;
      for (double now = Now(); now < due; now = Now()) {
        if (due - now > 200e-6) {
          struct timespec ts = {0, 50 * 1000};
          nanosleep(&ts, NULL);
        }
      }
    }
    _exit(0);
  }
  // The work: a sum that must come out right while signals arrive.
  double start = Now();
  unsigned long long sum = 0, n = 0;
  int status = 0;
  while (waitpid(sender, &status, WNOHANG) == 0) {
    for (int i = 0; i < 100000; ++i) sum += (unsigned long long)(n++ % 7);
  }
  double elapsed = Now() - start;
  unsigned long long expect = 0;
  for (unsigned long long i = 0; i < n; ++i) expect += i % 7;
  printf("signal_storm: %ld sent, %d handled, %.2f s, work %s, %.1f M/s\n",
         total, (int)g_received, elapsed, sum == expect ? "ok" : "WRONG",
         (double)n / elapsed / 1e6);
  return (sum == expect && g_received > 0) ? 0 : 1;
}
