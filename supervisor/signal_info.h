// What a signal means for `crashctl run`: which ones are crashes, the names of
// their siginfo codes, the event's exception value, and whether a process
// handles a signal itself (from the masks in /proc/PID/status).
// Thread-safety: pure functions, thread-safe.
#ifndef CRASHCTL_SUPERVISOR_SIGNAL_INFO_H_
#define CRASHCTL_SUPERVISOR_SIGNAL_INFO_H_

#include <cstdint>
#include <string>

namespace crashctl {
namespace supervisor {

// SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP: the signals whose
// default action kills with a core dump because the program went wrong.
bool IsCrashSignal(int signal);

// The name of siginfo's si_code for `signal`: "SEGV_MAPERR", "BUS_ADRALN",
// "FPE_INTDIV", "ILL_ILLOPN", "TRAP_BRKPT", "SYS_SECCOMP", or one of the
// generic "SI_USER", "SI_KERNEL", "SI_QUEUE", "SI_TKILL", ...; "" if unknown.
std::string SignalCodeName(int signal, int code);

// True when si_addr means something for this signal and code: a fault
// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) raised by the kernel, not one
// sent by kill/tgkill (si_code <= 0).
bool HasFaultAddress(int signal, int code);

// The exception value of a crash: "Segmentation fault (SEGV_MAPERR) at 0x0",
// "Aborted (SI_TKILL)", "Floating point exception (FPE_INTDIV) at 0x4011d6".
std::string CrashValue(int signal, int code, uint64_t address);

// Signal masks of a process as /proc/PID/status shows them (SigCgt: caught,
// SigIgn: ignored); bit n-1 is signal n.
struct SignalMasks {
  bool valid = false;  // both lines were found
  uint64_t caught = 0;
  uint64_t ignored = 0;
};
SignalMasks ParseSignalMasks(const std::string& proc_status);

// True when `signal` will take its default action in a process with these
// masks: neither caught by a handler nor ignored. Invalid masks: true.
bool TakesDefaultAction(const SignalMasks& masks, int signal);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_SIGNAL_INFO_H_
