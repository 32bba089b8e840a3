// Helpers shared by the parsers (parsers.h).
#include <algorithm>
#include <iterator>

#include "parsers.h"
#include "text.h"

namespace crashctl {
namespace crashreport {

model::ExceptionValue NewException(std::string_view type,
                                   std::string_view value,
                                   const char* mechanism) {
  model::ExceptionValue e;
  e.type = Truncated(type, kMaxTextBytes);
  e.value = Truncated(value, kMaxTextBytes);
  e.mechanism_type = mechanism;
  e.handled = false;
  return e;
}

void SplitQualifiedType(std::string_view qualified, model::ExceptionValue* e) {
  const size_t dot = qualified.rfind('.');
  if (dot == std::string_view::npos || dot == 0 ||
      dot + 1 == qualified.size()) {
    e->type = Truncated(qualified, kMaxTextBytes);
    e->module.clear();
    return;
  }
  e->module = Truncated(qualified.substr(0, dot), kMaxTextBytes);
  e->type = Truncated(qualified.substr(dot + 1), kMaxTextBytes);
}

void KeepInnermostFrames(std::vector<model::Frame>* frames) {
  if (frames->size() <= kMaxFramesPerThread) return;
  frames->erase(frames->begin(),
                frames->begin() + (frames->size() - kMaxFramesPerThread));
}

void FinishReport(Runtime runtime, Report* report) {
  report->runtime = runtime;
  switch (runtime) {
    case Runtime::kGo:
      report->platform = "go";
      break;
    case Runtime::kPython:
      report->platform = "python";
      break;
    case Runtime::kJava:
      report->platform = "java";
      break;
    case Runtime::kNode:
      report->platform = "node";
      break;
    case Runtime::kRust:
    case Runtime::kNative:
      report->platform = "native";
      break;
  }
  auto& chain = report->exceptions;
  if (chain.size() > kMaxExceptions) {
    // The root cause and the last kMaxExceptions - 1 (the raised one last).
    chain.erase(chain.begin() + 1,
                chain.begin() + (chain.size() - (kMaxExceptions - 1)));
  }
  for (model::ExceptionValue& e : chain) KeepInnermostFrames(&e.frames);
  if (report->threads.size() > kMaxThreads) {
    report->threads.resize(kMaxThreads);
  }
  for (Thread& t : report->threads) KeepInnermostFrames(&t.frames);
}

Thread CrashedThread(std::string_view id, std::string_view name) {
  Thread t;
  t.id = Truncated(id, kMaxTextBytes);
  t.name = Truncated(name, kMaxTextBytes);
  t.crashed = true;
  return t;
}

namespace {

std::string_view Basename(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool NativeInApp(std::string_view function, std::string_view file,
                 std::string_view package) {
  static constexpr std::string_view kSystemLibraries[] = {
      "libc.so",     "libc-",   "libstdc++", "libgcc_s",   "ld-linux",
      "ld-musl",     "ld.so",   "libm.so",   "libpthread", "libdl.so",
      "librt.so",    "libasan", "libubsan",  "liblsan",    "libtsan",
      "libclang_rt", "libc++",  "libunwind", "libresolv",  "libgomp"};
  const std::string_view lib = Basename(package);
  for (std::string_view prefix : kSystemLibraries) {
    if (StartsWith(lib, prefix)) return false;
  }
  static constexpr std::string_view kSystemFunctions[] = {
      "__libc_",      "_start",  "__GI_",  "__interceptor_", "__asan",
      "__sanitizer",  "__ubsan", "__lsan", "__tsan",         "__cxa_",
      "__cxxabiv1",   "__gxx_",  "std::",  "__gnu_cxx::",    "__pthread",
      "start_thread", "__clone", "clone3", "__restore_rt",   "___interceptor_",
      "__internal_"};
  for (std::string_view prefix : kSystemFunctions) {
    if (StartsWith(function, prefix)) return false;
  }
  static constexpr std::string_view kExactFunctions[] = {
      "abort",
      "raise",
      "clone",
      "__assert_fail",
      "__assert_fail_base",
      "free",
      "malloc",
      "calloc",
      "realloc",
      "operator new",
      "operator delete",
      "gsignal",
      "pthread_kill",
      "__pthread_kill_implementation"};
  std::string_view bare = function;
  const size_t paren = bare.find('(');
  if (paren != std::string_view::npos) bare = bare.substr(0, paren);
  for (std::string_view name : kExactFunctions) {
    if (bare == name) return false;
  }
  static constexpr std::string_view kSystemPaths[] = {
      "/usr/include/", "csu/",          "sysdeps/",      "libsanitizer/",
      "compiler-rt/",  "/usr/lib/gcc/", "libstdc++-v3/", "/libcxx/",
      "/libcxxabi/",   "nptl/"};
  for (std::string_view part : kSystemPaths) {
    if (Contains(file, part)) return false;
  }
  return true;
}

int IntOr0(std::string_view s) {
  int v = 0;
  return ParseInt(s, &v) ? v : 0;
}

}  // namespace crashreport
}  // namespace crashctl
