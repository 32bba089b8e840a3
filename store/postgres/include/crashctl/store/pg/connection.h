// Connection: one libpq connection to PostgreSQL, with parameterised
// queries, typed results, transactions whose COMMIT outcome is checked, and
// COPY FROM STDIN. Params and Result are the values that go in and come out.
//
// Contract
// - Every call is bounded in time on the client side. The connection runs
//   in libpq's non-blocking mode and waits with poll(2) against a deadline:
//   ConnectOptions::connect_timeout_ms for the whole connection attempt,
//   query_timeout() for each call (by default the server-side
//   statement_timeout plus 5 s). When a deadline passes the connection is
//   closed (the server then rolls back what it was doing) and the call
//   returns kUnavailable. The server-side statement_timeout, lock_timeout
//   and idle_in_transaction_session_timeout are set for the session through
//   the `options` connection parameter; TCP keepalives and tcp_user_timeout
//   notice a peer that vanished.
// - Errors are crashctl::Status, mapped from SQLSTATE (errors.h). After a
//   lost connection (or a client-side deadline) the Connection is broken():
//   every later call returns kUnavailable at once; discard it (Pool does).
// - Unknown outcome: when the connection fails after a COMMIT was sent, or
//   after a statement was sent outside an explicit transaction (it commits
//   by itself), the Status is kUnavailable and IsUnknownOutcome() is true.
//   A COMMIT only returns OK when the server answered "COMMIT"; a COMMIT of
//   a transaction that had failed (the server answers "ROLLBACK") returns
//   kInternal. A failure before anything was sent is never "unknown".
// - Values are sent in text format (bytea in binary format, so NUL bytes
//   are safe); text must be valid UTF-8 (client_encoding is UTF8) and must
//   not contain NUL (kInvalid before anything is sent).
//
// Thread-safety: a Connection (and the Results it returns) is used by one
// thread at a time; different Connections are independent. Params and
// Result are plain values. Pool (pool.h) hands Connections to threads.
#ifndef CRASHCTL_STORE_PG_CONNECTION_H_
#define CRASHCTL_STORE_PG_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crashctl/util/status.h"

// libpq's handles (libpq-fe.h: typedef struct pg_conn PGconn, ...); the
// header does not include libpq, so users need not either.
struct pg_conn;
struct pg_result;

namespace crashctl {
namespace store {
namespace pg {

struct ConnectOptions {
  // A libpq connection string: "host=127.0.0.1 port=5432 dbname=crashctl
  // user=crashctl" or "postgresql://user@host:5432/db?sslmode=require".
  // Its own keywords win over the defaults below, except the three server
  // timeouts, which are appended to its `options`.
  std::string conninfo;
  std::string application_name = "crashctl";
  // The whole connection attempt (all hosts of a multi-host string), on
  // the client; libpq's connect_timeout gets it in seconds (at least 2).
  int connect_timeout_ms = 5000;
  // Server-side limits for the session, in milliseconds; 0 = none.
  int statement_timeout_ms = 30000;
  int lock_timeout_ms = 10000;
  int idle_in_transaction_timeout_ms = 60000;
  // Client-side deadline of each call; 0 = statement_timeout_ms + 5000, or
  // 60000 when statement_timeout_ms is 0.
  int query_timeout_ms = 0;
  // TCP keepalives (seconds) and TCP_USER_TIMEOUT (ms) of the socket.
  int keepalives_idle_s = 30;
  int keepalives_interval_s = 10;
  int keepalives_count = 3;
  int tcp_user_timeout_ms = 30000;
};

// Query parameters, $1 ... $n in order. Text format, except Bytea (binary).
// Types: Int -> int8, Double -> float8, Bool -> bool, Bytea -> bytea; Text
// and Null leave the type to the server (as an untyped literal would).
class Params {
 public:
  Params() = default;
  Params& Int(int64_t value);
  Params& Double(double value);  // NaN and +-Infinity as PostgreSQL spells
  Params& Bool(bool value);
  Params& Text(std::string_view value);
  Params& Bytea(std::string_view value);
  Params& Null();
  // Appends every parameter of `other` (batch statements).
  Params& Append(const Params& other);

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // "" when every value can be sent, else why not (a NUL byte in a text).
  const std::string& error() const { return error_; }

 private:
  friend class Connection;
  enum class Kind { kNull, kInt, kDouble, kBool, kText, kBytea };
  struct Item {
    Kind kind = Kind::kNull;
    std::string data;  // text form, or the raw bytes of a bytea
  };
  std::vector<Item> items_;
  std::string error_;
};

// The rows of one statement (text format). Rows and columns are 0-based.
// A getter on a NULL, on a value of another type, or out of range returns
// kInvalid (and leaves *out alone); the *Or() forms return the fallback.
class Result {
 public:
  Result();
  ~Result();
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  int columns() const;
  // Column index by name, -1 when there is none.
  int Column(std::string_view name) const;
  bool IsNull(int row, int column) const;
  // The value's text ("" for NULL or out of range).
  std::string_view TextView(int row, int column) const;
  std::string Text(int row, int column) const {
    return std::string(TextView(row, column));
  }
  Status Int(int row, int column, int64_t* out) const;
  Status Double(int row, int column, double* out) const;
  Status Bool(int row, int column, bool* out) const;
  Status Bytea(int row, int column, std::string* out) const;
  int64_t IntOr(int row, int column, int64_t fallback) const;
  double DoubleOr(int row, int column, double fallback) const;
  // Rows affected by INSERT/UPDATE/DELETE/COPY (PQcmdTuples), 0 otherwise.
  int64_t affected_rows() const;
  // The command tag: "INSERT 0 3", "COMMIT", "SELECT 1", ...
  std::string command_status() const;

 private:
  friend class Connection;
  struct Deleter {
    void operator()(pg_result* result) const;
  };
  explicit Result(pg_result* result);
  Status Check(int row, int column, const char* what) const;
  std::unique_ptr<pg_result, Deleter> result_;
};

class Connection {
 public:
  // Connects (bounded by options.connect_timeout_ms). kInvalid for a
  // malformed connection string; kUnavailable when the server cannot be
  // reached or refuses (too many connections, starting up, shutting down);
  // kInternal when it refuses for a reason retrying will not fix
  // (authentication failed, no such database).
  static Status Open(const ConnectOptions& options,
                     std::unique_ptr<Connection>* out);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One statement, with parameters $1...$n (extended protocol). `out` (may
  // be null) gets its rows.
  Status Exec(std::string_view sql, const Params& params,
              Result* out = nullptr);
  Status Exec(std::string_view sql, Result* out = nullptr) {
    return Exec(sql, Params(), out);
  }
  // Like Exec, through a prepared statement named after `sql`, prepared on
  // this connection at first use (at most 256 are kept; beyond that it runs
  // unprepared).
  Status ExecPrepared(std::string_view sql, const Params& params,
                      Result* out = nullptr);
  // One or more statements separated by ';', without parameters (simple
  // protocol: DDL, migrations). Stops at the first error.
  Status ExecScript(std::string_view sql);

  // BEGIN [mode], e.g. Begin("ISOLATION LEVEL SERIALIZABLE"),
  // Begin("READ ONLY"). kInternal when a transaction is open already.
  Status Begin(std::string_view mode = "");
  // COMMIT, with its outcome checked (see the contract above).
  Status Commit();
  // ROLLBACK if a transaction is open. OK on a broken connection (the
  // server rolled back when it lost it).
  Status Rollback();

  // COPY ... FROM STDIN (text format), e.g.
  // CopyIn("COPY events (a, b) FROM STDIN", rows): each Params is one row.
  // `*copied` (may be null) gets the server's row count.
  Status CopyIn(std::string_view copy_sql, const std::vector<Params>& rows,
                int64_t* copied);

  // SELECT 1 within `timeout_ms`: the connection works right now.
  Status Ping(int timeout_ms);

  // True after the connection was lost or closed on a deadline.
  bool broken() const { return conn_ == nullptr; }
  // True while an explicit transaction is open (also when it has failed
  // and waits for ROLLBACK).
  bool in_transaction() const;
  // The server process id of this session (pg_terminate_backend's input).
  int backend_pid() const { return backend_pid_; }
  // "host:port/dbname" (no password), for messages.
  const std::string& description() const { return description_; }
  // The client-side deadline of each call, in ms; changeable (e.g. for a
  // long migration; keep the server's statement_timeout below it).
  int query_timeout_ms() const { return query_timeout_ms_; }
  void set_query_timeout_ms(int ms) { query_timeout_ms_ = ms > 0 ? ms : 1; }
  // When the connection last finished a call (the pool's idle time).
  std::chrono::steady_clock::time_point last_used() const { return last_used_; }
  // The raw libpq handle, null when broken(): for what this class lacks.
  // Keep it in non-blocking mode.
  pg_conn* raw() const { return conn_; }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Send { kQuery, kParams, kPrepare, kPrepared };
  Connection(pg_conn* conn, const ConnectOptions& options);

  // Sends one request and collects its results, bounded by the deadline.
  // `commit`: this is a COMMIT (its failure after sending is "unknown").
  Status Run(Send send, std::string_view sql, const Params& params,
             const std::string& statement_name, bool commit,
             std::vector<Result>* results);
  // Flushes the output buffer (reading input meanwhile) until the deadline.
  bool Flush(Clock::time_point deadline, bool* timed_out);
  // Collects results until libpq has no more (or a COPY IN starts).
  bool Collect(Clock::time_point deadline, bool* timed_out,
               std::vector<Result>* results);
  // Waits for the socket to be readable (or writable too, when `write`),
  // reading what arrives meanwhile into libpq's buffer.
  bool Wait(bool write, Clock::time_point deadline, bool* timed_out);
  // PQputCopyData / PQputCopyEnd until libpq takes the data.
  bool PutCopy(std::string_view data, Clock::time_point deadline,
               bool* timed_out);
  bool PutCopyEnd(const char* error, Clock::time_point deadline,
                  bool* timed_out);
  // The Status of the first error result in `got` (connection still fine).
  Status ResultError(std::string_view what, const std::vector<Result>& got);
  // The Status of a failed request; closes the connection when lost.
  Status Failure(std::string_view what, bool sent, bool autocommit, bool commit,
                 bool timed_out, const std::vector<Result>& got);
  void Close();
  Clock::time_point Deadline() const;

  pg_conn* conn_ = nullptr;
  std::string description_;
  int backend_pid_ = 0;
  int query_timeout_ms_ = 0;
  Clock::time_point last_used_;
  std::unordered_map<std::string, std::string> prepared_;  // key -> name
};

// Options of RunTransaction.
struct TransactionOptions {
  std::string begin_mode;  // passed to Begin(): "ISOLATION LEVEL ..." etc.
  int max_attempts = 3;    // for retryable failures (1 = no retry)
  int backoff_ms = 5;      // before attempt n: backoff_ms * 2^(n-2)
};

// BEGIN; body(conn); COMMIT. On any failure it rolls back and returns it;
// a retryable failure (serialization failure, deadlock; errors.h) runs the
// whole transaction again, up to max_attempts. Never retries a COMMIT whose
// outcome is unknown, nor on a broken connection. `body` must only use
// `conn` and may run more than once.
Status RunTransaction(Connection* conn, const TransactionOptions& options,
                      const std::function<Status(Connection*)>& body);

}  // namespace pg
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_PG_CONNECTION_H_
