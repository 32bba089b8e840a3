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

static void* Idle(void* arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static void* Crasher(void* arg) {
  (void)arg;
  process_request(41);
  return NULL;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int threads = argc > 1 ? atoi(argv[1]) : 0;
  int in_thread = argc > 2 && strcmp(argv[2], "in-thread") == 0;
  for (int i = 0; i < threads && i < 1000; ++i) {
    pthread_t t;
    pthread_create(&t, NULL, Idle, NULL);
    char name[16];
    snprintf(name, sizeof(name), "idle-%d", i);
    pthread_setname_np(t, name);
  }
  printf("segv_deep: %d threads, crashing now\n", threads);
  if (in_thread) {
    pthread_t t;
    pthread_create(&t, NULL, Crasher, NULL);
    pthread_setname_np(t, "crasher");
    pthread_join(t, NULL);
  } else {
    process_request(41);
  }
  return 0;
}
