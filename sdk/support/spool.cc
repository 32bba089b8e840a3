#include "crashctl/sdk/support/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "crashctl/sdk/support/dsn.h"
#include "crashctl/sdk/support/event_json.h"
#include "crashctl/sdk/support/http_sender.h"
#include "crashctl/sdk/support/util.h"

namespace crashctl {
namespace sdk {
namespace {

const char kSuffix[] = ".envelope";
const char kInflight[] = ".inflight-";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

struct Entry {
  std::string name;
  time_t mtime;
};

std::vector<Entry> List(const std::string& dir) {
  std::vector<Entry> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  for (int i = 0; i < 100000; ++i) {
    struct dirent* e = readdir(d);
    if (e == nullptr) break;
    std::string name = e->d_name;
    if (name.find(kSuffix) == std::string::npos) continue;
    struct stat st;
    if (stat((dir + "/" + name).c_str(), &st) != 0) continue;
    out.push_back({name, st.st_mtime});
  }
  closedir(d);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return a.mtime != b.mtime ? a.mtime < b.mtime : a.name < b.name;
  });
  return out;
}

}  // namespace

bool Spool::Write(const std::string& event_id,
                  const std::string& envelope) const {
  if (!MakeDirs(dir_)) return false;
  if (Count() >= kMaxFiles) return false;
  std::string final_path = dir_ + "/" + event_id + kSuffix;
  std::string tmp = dir_ + "/." + event_id + ".tmp-" + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t off = 0;
  while (off < envelope.size()) {
    ssize_t n = write(fd, envelope.data() + off, envelope.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  bool ok = off == envelope.size() && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), final_path.c_str()) != 0) {
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::vector<Spool::Claimed> Spool::Claim(size_t limit) const {
  std::vector<Claimed> out;
  std::string mine = std::string(kInflight) + std::to_string(getpid());
  for (const Entry& e : List(dir_)) {
    if (out.size() >= limit) break;
    std::string base = e.name;
    size_t inflight = e.name.find(kInflight);
    if (inflight != std::string::npos) {
      // Someone's claim: take it over only if its process is gone.
      pid_t pid = static_cast<pid_t>(
          std::atol(e.name.c_str() + inflight + sizeof(kInflight) - 1));
      if (pid <= 0 || (kill(pid, 0) == 0 || errno != ESRCH)) continue;
      base = e.name.substr(0, inflight);
    } else if (!EndsWith(e.name, kSuffix)) {
      continue;
    }
    Claimed c;
    c.original_path = dir_ + "/" + base;
    c.path = dir_ + "/" + base + mine;
    if (rename((dir_ + "/" + e.name).c_str(), c.path.c_str()) != 0) continue;
    if (!ReadFile(c.path, &c.envelope)) {
      rename(c.path.c_str(), c.original_path.c_str());
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

void Spool::Finish(const Claimed& claimed, bool remove) const {
  if (remove) {
    unlink(claimed.path.c_str());
  } else {
    rename(claimed.path.c_str(), claimed.original_path.c_str());
  }
}

size_t Spool::Count() const { return List(dir_).size(); }

size_t DeliverSpool(const Spool& spool,
                    std::chrono::steady_clock::time_point deadline, bool retry,
                    bool debug) {
  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds backoff(250);
  for (int round = 0; round < 1000; ++round) {
    std::vector<Spool::Claimed> batch = spool.Claim(Spool::kMaxFiles);
    bool failed = false;
    int wait_seconds = 0;
    for (const Spool::Claimed& c : batch) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - Clock::now());
      std::string dsn_text, error;
      Dsn dsn;
      if (!ParseEnvelopeHeader(c.envelope, &dsn_text, nullptr) ||
          !Dsn::Parse(dsn_text, &dsn, &error)) {
        if (debug)
          std::fprintf(stderr, "crashctl: dropping bad spool file %s\n",
                       c.path.c_str());
        spool.Finish(c, true);
        continue;
      }
      if (left.count() <= 0 || failed) {
        spool.Finish(c, false);
        continue;
      }
      SendResult r = PostEnvelope(
          dsn, c.envelope, std::min(left, std::chrono::milliseconds(5000)));
      if (r.Delivered() || !(r.Retryable() || r.RateLimited())) {
        if (debug && !r.Delivered()) {
          std::fprintf(stderr, "crashctl: server refused %s: HTTP %d\n",
                       c.path.c_str(), r.status);
        }
        spool.Finish(c, true);
      } else {
        if (debug) {
          std::fprintf(stderr, "crashctl: send failed (HTTP %d %s), kept %s\n",
                       r.status, r.error.c_str(), c.path.c_str());
        }
        spool.Finish(c, false);
        failed = true;
        wait_seconds = r.retry_after_seconds;
      }
    }
    if (!failed) break;
    if (!retry) break;
    auto wait = std::max<std::chrono::milliseconds>(
        backoff, std::chrono::seconds(wait_seconds));
    if (Clock::now() + wait >= deadline) break;
    std::this_thread::sleep_for(wait);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2,
                                                  std::chrono::seconds(4));
  }
  return spool.Count();
}

}  // namespace sdk
}  // namespace crashctl
