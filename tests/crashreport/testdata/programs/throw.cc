#include <cstdio>
#include <stdexcept>
#include <string>

namespace app {
void Load(const std::string& path) {
  if (!path.empty()) throw std::runtime_error("cannot open " + path);
}
}  // namespace app

int main(int argc, char** argv) {
  app::Load(argc > 0 ? argv[0] : "x");
  std::puts("unreachable");
  return 0;
}
