#include "signal_info.h"

#include <signal.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "crashctl/sdk/support/crash_record.h"

namespace crashctl {
namespace supervisor {
namespace {

struct CodeName {
  int code;
  const char* name;
};

const char* Find(const CodeName* table, size_t n, int code) {
  for (size_t i = 0; i < n; ++i) {
    if (table[i].code == code) return table[i].name;
  }
  return nullptr;
}

#define CRASHCTL_TABLE(name) name, sizeof(name) / sizeof(name[0])

const CodeName kGeneric[] = {
    {SI_USER, "SI_USER"},       {SI_KERNEL, "SI_KERNEL"},
    {SI_QUEUE, "SI_QUEUE"},     {SI_TIMER, "SI_TIMER"},
    {SI_MESGQ, "SI_MESGQ"},     {SI_ASYNCIO, "SI_ASYNCIO"},
    {SI_SIGIO, "SI_SIGIO"},     {SI_TKILL, "SI_TKILL"},
    {SI_ASYNCNL, "SI_ASYNCNL"},
};
// Codes from the kernel's uapi siginfo.h (glibc does not define the newest).
const CodeName kSegv[] = {
    {1, "SEGV_MAPERR"},  {2, "SEGV_ACCERR"},  {3, "SEGV_BNDERR"},
    {4, "SEGV_PKUERR"},  {5, "SEGV_ACCADI"},  {6, "SEGV_ADIDERR"},
    {7, "SEGV_ADIPERR"}, {8, "SEGV_MTEAERR"}, {9, "SEGV_MTESERR"},
    {10, "SEGV_CPERR"},
};
const CodeName kBus[] = {
    {1, "BUS_ADRALN"},    {2, "BUS_ADRERR"},    {3, "BUS_OBJERR"},
    {4, "BUS_MCEERR_AR"}, {5, "BUS_MCEERR_AO"},
};
const CodeName kIll[] = {
    {1, "ILL_ILLOPC"}, {2, "ILL_ILLOPN"}, {3, "ILL_ILLADR"},
    {4, "ILL_ILLTRP"}, {5, "ILL_PRVOPC"}, {6, "ILL_PRVREG"},
    {7, "ILL_COPROC"}, {8, "ILL_BADSTK"}, {9, "ILL_BADIADDR"},
};
const CodeName kFpe[] = {
    {1, "FPE_INTDIV"},    {2, "FPE_INTOVF"}, {3, "FPE_FLTDIV"},
    {4, "FPE_FLTOVF"},    {5, "FPE_FLTUND"}, {6, "FPE_FLTRES"},
    {7, "FPE_FLTINV"},    {8, "FPE_FLTSUB"}, {14, "FPE_FLTUNK"},
    {15, "FPE_CONDTRAP"},
};
const CodeName kTrap[] = {
    {1, "TRAP_BRKPT"},  {2, "TRAP_TRACE"}, {3, "TRAP_BRANCH"},
    {4, "TRAP_HWBKPT"}, {5, "TRAP_UNK"},   {6, "TRAP_PERF"},
};
const CodeName kSys[] = {{1, "SYS_SECCOMP"}, {2, "SYS_USER_DISPATCH"}};

// One "SigXxx:\t<16 hex digits>" line's value.
bool MaskLine(const std::string& status, const char* key, uint64_t* out) {
  size_t pos = status.find(key);
  if (pos == std::string::npos) return false;
  pos += std::char_traits<char>::length(key);
  while (pos < status.size() && (status[pos] == ' ' || status[pos] == '\t')) {
    ++pos;
  }
  char* end = nullptr;
  const char* begin = status.c_str() + pos;
  unsigned long long v = std::strtoull(begin, &end, 16);
  if (end == begin) return false;
  *out = static_cast<uint64_t>(v);
  return true;
}

}  // namespace

bool IsCrashSignal(int signal) {
  switch (signal) {
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGABRT:
    case SIGSYS:
    case SIGTRAP:
      return true;
    default:
      return false;
  }
}

std::string SignalCodeName(int signal, int code) {
  const char* name = nullptr;
  if (code <= 0 || code == SI_KERNEL) {
    name = Find(CRASHCTL_TABLE(kGeneric), code);
  } else {
    switch (signal) {
      case SIGSEGV:
        name = Find(CRASHCTL_TABLE(kSegv), code);
        break;
      case SIGBUS:
        name = Find(CRASHCTL_TABLE(kBus), code);
        break;
      case SIGILL:
        name = Find(CRASHCTL_TABLE(kIll), code);
        break;
      case SIGFPE:
        name = Find(CRASHCTL_TABLE(kFpe), code);
        break;
      case SIGTRAP:
        name = Find(CRASHCTL_TABLE(kTrap), code);
        break;
      case SIGSYS:
        name = Find(CRASHCTL_TABLE(kSys), code);
        break;
      default:
        break;
    }
  }
  return name != nullptr ? name : "";
}

bool HasFaultAddress(int signal, int code) {
  if (code <= 0 || code == SI_KERNEL) return false;
  return signal == SIGSEGV || signal == SIGBUS || signal == SIGILL ||
         signal == SIGFPE || signal == SIGTRAP;
}

std::string CrashValue(int signal, int code, uint64_t address) {
  std::string value = sdk::SignalDescription(signal);
  std::string code_name = SignalCodeName(signal, code);
  if (!code_name.empty()) value += " (" + code_name + ")";
  if (HasFaultAddress(signal, code)) {
    char addr[40];
    std::snprintf(addr, sizeof(addr), " at 0x%" PRIx64, address);
    value += addr;
  }
  return value;
}

SignalMasks ParseSignalMasks(const std::string& proc_status) {
  SignalMasks m;
  m.valid = MaskLine(proc_status, "\nSigCgt:", &m.caught) &&
            MaskLine(proc_status, "\nSigIgn:", &m.ignored);
  return m;
}

bool TakesDefaultAction(const SignalMasks& masks, int signal) {
  if (!masks.valid || signal < 1 || signal > 64) return true;
  const uint64_t bit = uint64_t{1} << (signal - 1);
  return (masks.caught & bit) == 0 && (masks.ignored & bit) == 0;
}

}  // namespace supervisor
}  // namespace crashctl
