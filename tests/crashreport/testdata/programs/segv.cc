#include <cstdio>
__attribute__((noinline)) static void Write(volatile int* p) { *p = 42; }
int main(int argc, char**) {
  volatile int* p = argc > 5 ? new int : nullptr;
  Write(p);
  std::puts("unreachable");
}
