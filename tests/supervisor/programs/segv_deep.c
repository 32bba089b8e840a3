// A C program without the crashctl SDK that dies of SIGSEGV two calls deep
// (main -> process_request -> store_value). `segv_deep [N [in-thread]]`
// starts N idle threads first (named idle-<i>); with "in-thread" the crash
// happens in another thread, named "crasher".
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Loaded from a volatile: the compiler cannot know it is null and drop the
// store (`*(volatile int*)0 = 1` is undefined behaviour it may remove).
int* volatile g_target = NULL;

__attribute__((noinline)) void store_value(int value) {
  int* p = g_target;
  *p = value;  // FAULT-LINE
}

__attribute__((noinline)) void process_request(int value) {
  store_value(value + 1);
  __asm__ volatile("" ::: "memory");  // no tail call: keep this frame
}

static pthread_barrier_t g_started;

// Names itself (so that the name is there before anything can crash) and
// waits for the others.
static void* Idle(void* arg) {
  char name[16];
  snprintf(name, sizeof(name), "idle-%d", (int)(long)arg);
  pthread_setname_np(pthread_self(), name);
  pthread_barrier_wait(&g_started);
  for (;;) pause();
  return NULL;
}

static void* Crasher(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "crasher");
  process_request(41);
  return NULL;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int threads = argc > 1 ? atoi(argv[1]) : 0;
  int in_thread = argc > 2 && strcmp(argv[2], "in-thread") == 0;
  if (threads > 1000) threads = 1000;
  pthread_barrier_init(&g_started, NULL, (unsigned)threads + 1);
  for (int i = 0; i < threads; ++i) {
    pthread_t t;
    pthread_create(&t, NULL, Idle, (void*)(long)i);
  }
  // Every idle thread has named itself and is about to pause().
  pthread_barrier_wait(&g_started);
  printf("segv_deep: %d threads, crashing now\n", threads);
  if (in_thread) {
    pthread_t t;
    pthread_create(&t, NULL, Crasher, NULL);
    pthread_join(t, NULL);
  } else {
    process_request(41);
  }
  return 0;
}
