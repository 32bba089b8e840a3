// The crash record that the SDK's signal handler writes (see
// docs/supervisor.md for the format) and its conversion into an event.
// Thread-safety: pure functions, thread-safe.
#ifndef CRASHCTL_SDK_SRC_CRASH_RECORD_H_
#define CRASHCTL_SDK_SRC_CRASH_RECORD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crashctl/sdk.h"
#include "crashctl/sdk/support/stacktrace.h"

namespace crashctl {
namespace sdk {

struct CrashRecord {
  long pid = 0;
  long tid = 0;
  int signal = 0;
  int code = 0;                 // siginfo si_code
  uint64_t address = 0;         // siginfo si_addr
  std::string exception_type;   // uncaught C++ exception (terminate), or ""
  std::string exception_value;  // its what()
  std::vector<uint64_t> pcs;    // innermost first; pcs[0] is exact
  std::vector<Module> modules;  // main executable first
  bool complete = false;        // the "end" line was seen
};

// Parses the first record in `text`. False if there is no record header.
// A truncated record (no "end") still parses, with complete = false.
bool ParseCrashRecord(const std::string& text, CrashRecord* record);

// "SIGSEGV", "SIGKILL", ...; "SIG<n>" when unknown.
std::string SignalName(int signal);
// "Segmentation fault", "Aborted", ...
std::string SignalDescription(int signal);

// The exception a crash record describes: for an uncaught C++ exception its
// type and what(); otherwise the signal name with a description of the fault
// (e.g. "Segmentation fault at address 0x0"). Frames symbolised against the
// record's modules (their files must still be on disk).
ExceptionValue CrashException(const CrashRecord& record);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_CRASH_RECORD_H_
