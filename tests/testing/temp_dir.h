// TempDir: a fresh directory for a test's files that removes itself. For
// tests only.
//
// Contract: the constructor creates "$TMPDIR/crashctl-<prefix>-XXXXXX" (under
// /tmp when $TMPDIR is unset or empty) with mkdtemp(3), so it is new, empty
// and private (mode 0700); it throws std::runtime_error when that fails. The
// destructor removes the directory and everything in it with
// std::filesystem::remove_all, ignoring errors. It must outlive every thread
// and child process that uses the directory: declare it before the objects
// that run them (members and locals are destroyed in reverse order), or stop
// them first. Non-copyable; movable (a moved-from TempDir owns and removes
// nothing).
//
// Thread-safety: constructing TempDirs concurrently, from any threads or
// processes, is safe (mkdtemp picks distinct names). One TempDir is not
// synchronized: path() may be read from any thread while it lives, but it
// must not be destroyed or moved from while others use it.
#ifndef CRASHCTL_TESTS_TESTING_TEMP_DIR_H_
#define CRASHCTL_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace crashctl {
namespace testing {

class TempDir {
 public:
  // `prefix` names the directory, e.g. "kube-tls-test".
  explicit TempDir(const std::string& prefix);
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;

  // Absolute path, without a trailing slash.
  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

// The 1-based number of the first line of the file `path` that contains
// `marker`; 0 if none does (or the file cannot be read).
int LineOf(const std::string& path, const std::string& marker);

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_TESTING_TEMP_DIR_H_
