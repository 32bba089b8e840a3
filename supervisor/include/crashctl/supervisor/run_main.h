// `crashctl run [--dsn DSN] [--service NAME] [--no-trace] -- CMD [ARGS...]`:
// runs CMD, copies its output through, and when it dies badly (signal,
// non-zero exit, OOM kill) reports one fatal event to the DSN (flag, else env
// CRASHCTL_DSN). Unless --no-trace (or env CRASHCTL_NO_TRACE=1), CMD and its
// descendants are traced with ptrace so that a crash's stack is unwound from
// outside (tracer.h); a crash of a descendant that does not take CMD down is
// reported on its own.
// Reports are spooled first and retried for up to
// CRASHCTL_DELIVERY_TIMEOUT_MS (default 10000) ms; what is left is sent by
// the next `crashctl run` or SDK start. See docs/supervisor.md.
// Thread-safety: call from the main thread, once per process.
#ifndef CRASHCTL_SUPERVISOR_RUN_MAIN_H_
#define CRASHCTL_SUPERVISOR_RUN_MAIN_H_

namespace crashctl {
namespace supervisor {

// `argv` holds the arguments after "run" (argv[0] is the first of them, not
// a program name). Returns the process exit status: the child's status
// (128 + signal when killed); 2 on bad usage; 127 when CMD cannot be run.
int RunMain(int argc, char** argv);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_RUN_MAIN_H_
