// A program that tests/sdk/CMakeLists.txt builds with clang, whatever
// compiler builds the rest, for SymbolizerTest: it prints its load bias and
// the address of ProbeFunction, in hex, and exits. Clang emits no
// .debug_aranges by default, which is what the test is about.
#include <link.h>

#include <cstdint>
#include <cstdio>

namespace {

int MainExecutableBias(dl_phdr_info* info, size_t, void* out) {
  *static_cast<uintptr_t*>(out) = info->dlpi_addr;
  return 1;  // the first module reported is the main executable
}

}  // namespace

__attribute__((noinline)) int ProbeFunction(int x) {  // PROBE-LINE
  return x * 3;
}

int main(int argc, char**) {
  uintptr_t bias = 0;
  dl_iterate_phdr(MainExecutableBias, &bias);
  std::printf(
      "%lx %lx\n", static_cast<unsigned long>(bias),
      static_cast<unsigned long>(reinterpret_cast<uintptr_t>(&ProbeFunction)));
  return ProbeFunction(argc) == 3 ? 0 : 1;
}
