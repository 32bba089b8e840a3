// Test support: CRASHCTL_UNDER_ASAN is defined in an AddressSanitizer build,
// for the tests whose bounds (memory, latency) are looser there.
// (GCC defines __SANITIZE_ADDRESS__; clang 14 only answers __has_feature.)
#ifndef CRASHCTL_TESTS_TESTING_SANITIZERS_H_
#define CRASHCTL_TESTS_TESTING_SANITIZERS_H_

#if defined(__SANITIZE_ADDRESS__)
#define CRASHCTL_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CRASHCTL_UNDER_ASAN 1
#endif
#endif

#endif  // CRASHCTL_TESTS_TESTING_SANITIZERS_H_
