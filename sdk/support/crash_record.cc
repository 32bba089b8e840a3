#include "crashctl/sdk/support/crash_record.h"

#include <signal.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "crashctl/sdk/support/symbolizer.h"

namespace crashctl {
namespace sdk {

bool ParseCrashRecord(const std::string& text, CrashRecord* record) {
  size_t start = text.find("CRASHCTL-CRASH ");
  if (start == std::string::npos) return false;
  CrashRecord r;
  std::istringstream in(text.substr(start));
  std::string line;
  std::getline(in, line);  // header
  for (int i = 0; i < 100000 && std::getline(in, line); ++i) {
    size_t sp = line.find(' ');
    std::string key = line.substr(0, sp);
    std::string value = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (key == "end") {
      r.complete = true;
      break;
    } else if (key == "pid") {
      r.pid = std::atol(value.c_str());
    } else if (key == "tid") {
      r.tid = std::atol(value.c_str());
    } else if (key == "signal") {
      r.signal = std::atoi(value.c_str());
    } else if (key == "code") {
      r.code = std::atoi(value.c_str());
    } else if (key == "addr") {
      r.address = std::strtoull(value.c_str(), nullptr, 16);
    } else if (key == "exc_type") {
      r.exception_type = value;
    } else if (key == "exc_value") {
      r.exception_value = value;
    } else if (key == "pc") {
      r.pcs.push_back(std::strtoull(value.c_str(), nullptr, 16));
    } else if (key == "module") {
      // module <hex base> <main 0|1> <path>
      std::istringstream fields(value);
      std::string base, main;
      fields >> base >> main;
      std::string path;
      std::getline(fields, path);
      if (!path.empty() && path[0] == ' ') path.erase(0, 1);
      Module m;
      m.base = std::strtoull(base.c_str(), nullptr, 16);
      m.main_executable = main == "1";
      m.path = path;
      if (!m.path.empty()) r.modules.push_back(m);
    }
  }
  *record = r;
  return true;
}

std::string SignalName(int signal) {
  switch (signal) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGABRT:
      return "SIGABRT";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGSYS:
      return "SIGSYS";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGALRM:
      return "SIGALRM";
    case SIGXCPU:
      return "SIGXCPU";
    case SIGXFSZ:
      return "SIGXFSZ";
    default:
      return "SIG" + std::to_string(signal);
  }
}

std::string SignalDescription(int signal) {
  const char* d = sigdescr_np(signal);
  return d != nullptr ? d : "Signal " + std::to_string(signal);
}

ExceptionValue CrashException(const CrashRecord& record) {
  ExceptionValue e;
  e.handled = false;
  if (!record.exception_type.empty()) {
    e.type = record.exception_type;
    e.value = record.exception_value.empty() ? "uncaught exception"
                                             : record.exception_value;
    e.mechanism = "terminate";
  } else {
    e.type = SignalName(record.signal);
    e.value = SignalDescription(record.signal);
    if (record.signal == SIGSEGV || record.signal == SIGBUS ||
        record.signal == SIGILL || record.signal == SIGFPE) {
      char addr[48];
      std::snprintf(addr, sizeof(addr), " at address 0x%" PRIx64,
                    record.address);
      e.value += addr;
    }
    e.mechanism = "signalhandler";
  }
  if (!record.pcs.empty()) {
    Symbolizer symbolizer(record.modules);
    e.frames = symbolizer.Symbolize(record.pcs, /*first_is_exact=*/true);
  }
  return e;
}

}  // namespace sdk
}  // namespace crashctl
