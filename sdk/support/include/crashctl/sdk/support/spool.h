// A directory of envelopes waiting to be sent ("<event_id>.envelope") shared
// by every crashctl SDK and `crashctl run` of a user. A sender claims a file
// by renaming it to "<name>.inflight-<pid>", so two processes never send the
// same envelope; claims of dead processes are taken over.
// Thread-safety: thread-safe (all state is in the file system).
#ifndef CRASHCTL_SDK_SRC_SPOOL_H_
#define CRASHCTL_SDK_SRC_SPOOL_H_

#include <chrono>
#include <string>
#include <vector>

namespace crashctl {
namespace sdk {

class Spool {
 public:
  static constexpr size_t kMaxFiles = 500;

  explicit Spool(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }

  // Writes `envelope` atomically. False (and nothing written) if the
  // directory cannot be created or already holds kMaxFiles envelopes.
  bool Write(const std::string& event_id, const std::string& envelope) const;

  struct Claimed {
    std::string path;  // the in-flight name
    std::string original_path;
    std::string envelope;
  };
  // Claims up to `limit` envelopes, oldest first.
  std::vector<Claimed> Claim(size_t limit) const;
  // Sent or given up: deletes the file. Not sent: puts it back.
  void Finish(const Claimed& claimed, bool remove) const;

  // Number of envelopes waiting (claimed or not).
  size_t Count() const;

 private:
  std::string dir_;
};

// Sends every spooled envelope (to the DSN in its own header). With `retry`,
// failed sends are retried with exponential backoff until `deadline`;
// without, each envelope is tried once. Returns how many are left.
size_t DeliverSpool(const Spool& spool,
                    std::chrono::steady_clock::time_point deadline, bool retry,
                    bool debug);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_SPOOL_H_
