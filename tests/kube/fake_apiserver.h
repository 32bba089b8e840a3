// FakeApiServer: a small Kubernetes API server for tests, speaking the real
// wire protocol for pods on plain HTTP (civetweb on 127.0.0.1):
//   GET /version, /api, /apis, /api/v1            discovery
//   GET /api/v1/pods, /api/v1/namespaces/NS/pods  PodList with limit/continue
//       ...?watch=true&resourceVersion=RV&allowWatchBookmarks=true&
//       timeoutSeconds=N                          chunked watch stream
//   GET /api/v1/events, /api/v1/namespaces/NS/events  EventList (core/v1
//       Events), list and watch as for pods
//   GET /api/v1/namespaces/NS/pods/NAME           one Pod
//   GET /api/v1/namespaces/NS/pods/NAME/log       logs; previous=true with no
//       previous container answers the real 400 Status
//   GET /apis/coordination.k8s.io/v1/namespaces/NS/leases[/NAME]  LeaseList,
//       one Lease (404 NotFound Status when missing)
//   POST /apis/coordination.k8s.io/v1/namespaces/NS/leases  create (201; 409
//       AlreadyExists Status when it exists)
//   PUT /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME  update; a
//       metadata.resourceVersion other than the stored one: 409 Conflict
//       Status (none: unconditional, as the real server allows for Leases)
//   GET /apis, /apis/coordination.k8s.io[/v1]    discovery of Leases
// Lists and watches answer meta.k8s.io Tables when asked (as kubectl does);
// so do Lease GETs (columns Name, Holder, Age).
// Watches from a resourceVersion older than the last Expire() get the real
// 410 "Expired" ERROR event. Every watch event line is written in two chunks
// so clients must reassemble lines. Watches that allow bookmarks get a
// BOOKMARK every second, as idle watches of a real API server do.
//
// Control endpoints (used by the `fake-apiserver` binary's users):
//   POST   /_control/pods[?cut=true]      body: a Pod; add or replace
//   POST   /_control/events               body: a v1 Event; add or replace
//   DELETE /_control/pods/NS/NAME
//   POST   /_control/logs?namespace=&pod=&container=&previous=true  body: text
//   POST   /_control/bookmark | /_control/expire | /_control/close
//   POST   /_control/fail?count=N&status=S  next N pod list/watch requests
//                                          fail
//   GET    /_control/stats                 {"lists":..,"watches":..,...}
//   POST   /_control/cut?identity=ID       CutClient(ID); /_control/restore
//                                          ?identity=ID: RestoreClient(ID)
//
// Thread-safety: every public method may be called from any thread.
#ifndef CRASHCTL_TESTS_KUBE_FAKE_APISERVER_H_
#define CRASHCTL_TESTS_KUBE_FAKE_APISERVER_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

struct mg_connection;
struct mg_context;

namespace crashctl {
namespace testing {

class FakeApiServer {
 public:
  struct Stats {
    // Pods only, except the event_ fields.
    int lists = 0;    // list requests answered (any status)
    int watches = 0;  // watch requests received
    int logs = 0;     // log requests
    int open_watches = 0;
    int event_lists = 0;
    int event_watches = 0;
    int event_open_watches = 0;
    std::vector<std::string> event_watch_paths;
    std::vector<std::string> watch_paths;  // full path?query of each watch
    std::string last_authorization;        // Authorization header, if any
    int lease_gets = 0;                    // GETs of one Lease
    int lease_writes = 0;     // PUTs and POSTs of Leases (any answer)
    int lease_conflicts = 0;  // of which answered 409
    int blackholed = 0;       // requests of cut clients (never answered)
  };

  FakeApiServer();
  ~FakeApiServer();  // Stop()s

  // Listens on 127.0.0.1:`port` (0 = any free port). State (pods, logs,
  // resourceVersions) survives Stop() + Start(), to play a server that goes
  // down and comes back.
  bool Start(int port, std::string* error);
  void Stop();
  int port() const { return port_; }
  std::string url() const;

  // Adds or replaces (by namespace/name) a pod given as JSON; fills
  // metadata.uid when missing, sets a new metadata.resourceVersion and emits
  // ADDED or MODIFIED. With `cut`, open watches receive only the first half
  // of this event's line and are then disconnected. Returns the new
  // resourceVersion, or "" when the JSON is not a pod.
  std::string ApplyPod(const std::string& pod_json, bool cut = false);
  bool DeletePod(const std::string& ns, const std::string& name);
  // Adds or replaces (by namespace/name) a core/v1 Event given as JSON, as
  // ApplyPod does: a repeat of an event is a MODIFIED with a higher count.
  std::string ApplyEvent(const std::string& event_json);
  // Log text of a container (previous: of its previous instance).
  void SetLogs(const std::string& ns, const std::string& pod,
               const std::string& container, bool previous,
               const std::string& text);
  // BOOKMARK event carrying the current resourceVersion to every open watch
  // that allows bookmarks.
  void Bookmark();
  // Compaction: resourceVersions older than the current one become too
  // old. Open watches get the 410 Expired ERROR event and end; so do later
  // watches (and list continue tokens) from older versions.
  void Expire();
  // Ends every open watch cleanly (as timeoutSeconds would).
  void CloseWatches();
  // The next `count` list/watch requests answer HTTP `status`.
  void FailRequests(int count, int status);
  int64_t resource_version() const;
  Stats stats() const;

  // The stored Lease NS/NAME as JSON, "" when there is none.
  std::string GetLease(const std::string& ns, const std::string& name) const;
  // The next `count` Lease writes (PUT, POST) answer 409 Conflict, as if
  // another client had written first.
  void ConflictLeaseWrites(int count);
  // A network cut of one client: requests whose User-Agent ends in
  // "/" + `identity` (the leader elector sends
  // "crashctl/leader-elector/<identity>") are blackholed: read, never
  // answered, and their connection dropped after 3 s (or at
  // RestoreClient()/Stop()). Clients see timeouts (theirs are shorter) or a
  // dropped connection, as behind a dead network path. Other clients are
  // not affected.
  void CutClient(const std::string& identity);
  void RestoreClient(const std::string& identity);

 private:
  struct WatchEvent {
    int64_t rv;
    std::string resource;  // pods, events
    std::string type;      // ADDED, MODIFIED, DELETED
    std::string pod;       // pod JSON at that time
    std::string ns;
    bool cut = false;
    int64_t cut_below = 0;  // watches with a lower sequence number cut
  };
  struct Request;

  static int BeginRequest(mg_connection* conn);
  void Handle(mg_connection* conn);
  void HandleControl(mg_connection* conn, const Request& req);
  std::string ApplyObject(const std::string& resource, const std::string& json,
                          bool cut);
  void HandleList(mg_connection* conn, const Request& req,
                  const std::string& ns, const std::string& resource);
  void HandleWatch(mg_connection* conn, const Request& req,
                   const std::string& ns, const std::string& resource);
  void HandleLogs(mg_connection* conn, const Request& req,
                  const std::string& ns, const std::string& pod);
  void HandleLeases(mg_connection* conn, const Request& req,
                    const std::vector<std::string>& parts);
  void SendEventLine(mg_connection* conn, const std::string& line, bool cut);
  std::string EventLine(const std::string& type, const std::string& pod_json,
                        bool table, bool events = false) const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
  bool stopping_ = false;

  int64_t rv_ = 100;
  int64_t expired_before_ = 0;  // oldest rv still watchable
  int64_t close_generation_ = 0;
  int64_t expire_generation_ = 0;
  int64_t bookmark_generation_ = 0;
  int64_t watch_seq_ = 0;
  int fail_count_ = 0;
  int fail_status_ = 500;
  int64_t next_uid_ = 1;
  std::map<std::string, std::string> pods_;         // "ns/name" -> JSON
  std::map<std::string, std::string> kube_events_;  // "ns/name" -> JSON
  std::vector<WatchEvent> events_;
  std::map<std::string, std::string> logs_;    // "ns/pod/container/prev"
  std::map<std::string, std::string> leases_;  // "ns/name" -> JSON
  int lease_conflicts_to_inject_ = 0;
  std::map<std::string, bool> cut_clients_;  // identity -> cut
  Stats stats_;
};

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_KUBE_FAKE_APISERVER_H_
