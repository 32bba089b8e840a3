#include "crashctl/store/pg/connection.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <thread>
#include <utility>

#include "crashctl/store/pg/errors.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

using Clock = std::chrono::steady_clock;

// Type oids (pg_type.h) of the parameters we type ourselves.
constexpr Oid kInt8Oid = 20;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;

constexpr size_t kMaxPreparedStatements = 256;
constexpr size_t kMaxParams = 65535;  // the protocol's Int16 count
constexpr size_t kCopyChunk = 64 * 1024;

// One line: libpq's messages end in "\n" and may hold "\n\t" hints.
std::string OneLine(const char* text) {
  std::string out;
  if (text == nullptr) return out;
  for (const char* p = text; *p != '\0'; ++p) {
    char c = *p;
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The first "CODE:" after a "SEVERITY:  " in a verbose libpq message, e.g.
// "FATAL:  53300: sorry, too many clients already".
std::string SqlStateInMessage(const std::string& message) {
  size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    pos = message.find(":  ", pos);
    if (pos == std::string::npos || pos + 9 > message.size()) break;
    pos += 3;
    bool ok = message[pos + 5] == ':';
    for (size_t j = 0; ok && j < 5; ++j) {
      char c = message[pos + j];
      ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    }
    if (ok) return message.substr(pos, 5);
  }
  return std::string();
}

void DiscardNotice(void*, const char* message) {
  spdlog::debug("postgres notice: {}", OneLine(message));
}

// Waits for `events` on `fd` until `deadline`. 1 ready (`*revents` set),
// 0 deadline passed, -1 poll failed.
int WaitFd(int fd, short events, Clock::time_point deadline, short* revents) {
  for (;;) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
                         deadline - Clock::now())
                         .count();
    if (remaining <= 0) return 0;
    struct pollfd pfd;
    pfd.fd = fd;
    pfd.events = events;
    pfd.revents = 0;
    int rc = poll(&pfd, 1,
                  static_cast<int>(std::min<int64_t>(remaining + 1, 60000)));
    if (rc > 0) {
      *revents = pfd.revents;
      return 1;
    }
    if (rc < 0 && errno != EINTR) return -1;
    // rc == 0 or EINTR: the loop ends when the deadline passes.
  }
}

std::string ShortSql(std::string_view sql) {
  std::string out;
  for (char c : sql.substr(0, 60)) {
    out.push_back(c == '\n' || c == '\t' || c == '\r' ? ' ' : c);
  }
  if (sql.size() > 60) out += "...";
  return out;
}

Status ParseError(const char* type, std::string_view text) {
  return Status::Invalid(std::string("value is not ") + type + ": \"" +
                         std::string(text.substr(0, 40)) + "\"");
}

}  // namespace

// --- Params -----------------------------------------------------------------

Params& Params::Int(int64_t value) {
  items_.push_back({Kind::kInt, std::to_string(value)});
  return *this;
}

Params& Params::Double(double value) {
  std::string text;
  if (std::isnan(value)) {
    text = "NaN";
  } else if (std::isinf(value)) {
    text = value > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), value);
    text.assign(buf, res.ptr);
  }
  items_.push_back({Kind::kDouble, std::move(text)});
  return *this;
}

Params& Params::Bool(bool value) {
  items_.push_back({Kind::kBool, value ? "true" : "false"});
  return *this;
}

Params& Params::Text(std::string_view value) {
  if (error_.empty() && value.find('\0') != std::string_view::npos) {
    error_ = "text parameter $" + std::to_string(items_.size() + 1) +
             " contains a NUL byte (PostgreSQL text cannot; use bytea)";
  }
  items_.push_back({Kind::kText, std::string(value)});
  return *this;
}

Params& Params::Bytea(std::string_view value) {
  items_.push_back({Kind::kBytea, std::string(value)});
  return *this;
}

Params& Params::Null() {
  items_.push_back({Kind::kNull, std::string()});
  return *this;
}

Params& Params::Append(const Params& other) {
  if (error_.empty() && !other.error_.empty()) error_ = other.error_;
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  return *this;
}

// --- Result -----------------------------------------------------------------

void Result::Deleter::operator()(pg_result* result) const { PQclear(result); }

Result::Result() = default;
Result::Result(pg_result* result) : result_(result) {}
Result::~Result() = default;
Result::Result(Result&& other) noexcept = default;
Result& Result::operator=(Result&& other) noexcept = default;

int Result::rows() const { return result_ ? PQntuples(result_.get()) : 0; }

int Result::columns() const { return result_ ? PQnfields(result_.get()) : 0; }

int Result::Column(std::string_view name) const {
  if (!result_) return -1;
  int n = PQnfields(result_.get());
  for (int i = 0; i < n; ++i) {
    const char* field = PQfname(result_.get(), i);
    if (field != nullptr && name == field) return i;
  }
  return -1;
}

Status Result::Check(int row, int column, const char* what) const {
  if (row < 0 || row >= rows() || column < 0 || column >= columns()) {
    return Status::Invalid(std::string(what) + ": no row " +
                           std::to_string(row) + " column " +
                           std::to_string(column));
  }
  if (PQgetisnull(result_.get(), row, column)) {
    return Status::Invalid(std::string(what) + ": row " + std::to_string(row) +
                           " column " + std::to_string(column) + " is NULL");
  }
  return Status::Ok();
}

bool Result::IsNull(int row, int column) const {
  if (row < 0 || row >= rows() || column < 0 || column >= columns()) {
    return true;
  }
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string_view Result::TextView(int row, int column) const {
  if (IsNull(row, column)) return std::string_view();
  return std::string_view(
      PQgetvalue(result_.get(), row, column),
      static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

Status Result::Int(int row, int column, int64_t* out) const {
  Status st = Check(row, column, "read integer");
  if (!st.ok()) return st;
  std::string_view text = TextView(row, column);
  int64_t value = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) {
    return ParseError("an integer", text);
  }
  *out = value;
  return Status::Ok();
}

Status Result::Double(int row, int column, double* out) const {
  Status st = Check(row, column, "read double");
  if (!st.ok()) return st;
  std::string_view text = TextView(row, column);
  // PostgreSQL prints NaN, Infinity, -Infinity; from_chars reads them
  // case-insensitively.
  double value = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) {
    return ParseError("a number", text);
  }
  *out = value;
  return Status::Ok();
}

Status Result::Bool(int row, int column, bool* out) const {
  Status st = Check(row, column, "read bool");
  if (!st.ok()) return st;
  std::string_view text = TextView(row, column);
  if (text == "t" || text == "true") {
    *out = true;
  } else if (text == "f" || text == "false") {
    *out = false;
  } else {
    return ParseError("a bool", text);
  }
  return Status::Ok();
}

Status Result::Bytea(int row, int column, std::string* out) const {
  Status st = Check(row, column, "read bytea");
  if (!st.ok()) return st;
  const char* text = PQgetvalue(result_.get(), row, column);
  size_t size = 0;
  unsigned char* bytes =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
  if (bytes == nullptr) return ParseError("a bytea", text);
  out->assign(reinterpret_cast<const char*>(bytes), size);
  PQfreemem(bytes);
  return Status::Ok();
}

int64_t Result::IntOr(int row, int column, int64_t fallback) const {
  int64_t value = fallback;
  return Int(row, column, &value).ok() ? value : fallback;
}

double Result::DoubleOr(int row, int column, double fallback) const {
  double value = fallback;
  return Double(row, column, &value).ok() ? value : fallback;
}

int64_t Result::affected_rows() const {
  if (!result_) return 0;
  const char* tuples = PQcmdTuples(result_.get());
  int64_t n = 0;
  if (tuples == nullptr || *tuples == '\0') return 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), n);
  return n;
}

std::string Result::command_status() const {
  if (!result_) return std::string();
  const char* status = PQcmdStatus(result_.get());
  return status ? status : "";
}

// --- Connection -------------------------------------------------------------

Connection::Connection(pg_conn* conn, const ConnectOptions& options)
    : conn_(conn), last_used_(Clock::now()) {
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* db = PQdb(conn);
  description_ = std::string(host ? host : "?") + ":" + (port ? port : "?") +
                 "/" + (db ? db : "?");
  backend_pid_ = PQbackendPID(conn);
  int timeout = options.query_timeout_ms;
  if (timeout <= 0) {
    timeout = options.statement_timeout_ms > 0
                  ? options.statement_timeout_ms + 5000
                  : 60000;
  }
  query_timeout_ms_ = timeout;
}

Connection::~Connection() { Close(); }

void Connection::Close() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
}

Status Connection::Open(const ConnectOptions& options,
                        std::unique_ptr<Connection>* out) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed =
      PQconninfoParse(options.conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    // libpq's message quotes parts of the string, which may be the
    // password: only a fixed text leaves here.
    const bool no_memory = parse_error == nullptr;
    PQfreemem(parse_error);
    return Status::Invalid(
        no_memory ? "bad PostgreSQL connection string: out of memory"
                  : "bad PostgreSQL connection string (libpq cannot parse it; "
                    "see https://www.postgresql.org/docs/current/"
                    "libpq-connect.html#LIBPQ-CONNSTRING)");
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (PQconninfoOption* opt = parsed; opt->keyword != nullptr; ++opt) {
    if (opt->val != nullptr && opt->val[0] != '\0') {
      params.emplace_back(opt->keyword, opt->val);
    }
  }
  PQconninfoFree(parsed);
  auto find = [&params](const std::string& key) -> std::string* {
    for (auto& kv : params) {
      if (kv.first == key) return &kv.second;
    }
    return nullptr;
  };
  auto set_default = [&](const std::string& key, const std::string& value) {
    if (find(key) == nullptr && !value.empty()) params.emplace_back(key, value);
  };
  int connect_ms = std::max(1, options.connect_timeout_ms);
  set_default("connect_timeout",
              std::to_string(std::max(2, (connect_ms + 999) / 1000)));
  set_default("application_name", options.application_name);
  set_default("keepalives", "1");
  set_default("keepalives_idle", std::to_string(options.keepalives_idle_s));
  set_default("keepalives_interval",
              std::to_string(options.keepalives_interval_s));
  set_default("keepalives_count", std::to_string(options.keepalives_count));
  set_default("tcp_user_timeout", std::to_string(options.tcp_user_timeout_ms));
  // Parameters and results are UTF-8 whatever the server's default.
  if (std::string* enc = find("client_encoding")) {
    *enc = "UTF8";
  } else {
    params.emplace_back("client_encoding", "UTF8");
  }
  std::string server_options =
      " -c statement_timeout=" +
      std::to_string(std::max(0, options.statement_timeout_ms)) +
      " -c lock_timeout=" +
      std::to_string(std::max(0, options.lock_timeout_ms)) +
      " -c idle_in_transaction_session_timeout=" +
      std::to_string(std::max(0, options.idle_in_transaction_timeout_ms));
  if (std::string* opts = find("options")) {
    *opts += server_options;
  } else {
    params.emplace_back("options", server_options.substr(1));
  }
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& kv : params) {
    keys.push_back(kv.first.c_str());
    values.push_back(kv.second.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  std::string target;
  if (std::string* host = find("host")) target = *host;
  if (target.empty()) {
    if (std::string* addr = find("hostaddr")) target = *addr;
  }
  if (std::string* port = find("port")) target += ":" + *port;
  if (std::string* db = find("dbname")) target += "/" + *db;
  std::string what =
      "connect to PostgreSQL" + (target.empty() ? std::string() : " " + target);

  PGconn* conn = PQconnectStartParams(keys.data(), values.data(), 0);
  if (conn == nullptr) return Status::Internal(what + ": out of memory");
  // Verbose messages carry the SQLSTATE of a refusal ("FATAL:  53300: ...").
  PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
  PQsetNoticeProcessor(conn, DiscardNotice, nullptr);
  auto fail = [&](const std::string& why) {
    std::string raw = PQerrorMessage(conn);
    PQfinish(conn);
    std::string state = SqlStateInMessage(raw);
    // Verbose messages end with the server's source location: noise here.
    size_t location = raw.find("\nLOCATION:");
    if (location != std::string::npos) raw.resize(location);
    std::string message = OneLine(raw.c_str());
    if (!why.empty()) message = why + (message.empty() ? "" : ": " + message);
    if (message.empty()) message = "connection failed";
    Status st = StatusFromSqlState(state, message, what);
    // Only refusals that retrying cannot fix are not "unavailable".
    if (st.code() != Status::Code::kInternal &&
        st.code() != Status::Code::kInvalid) {
      st = Status(Status::Code::kUnavailable, st.message());
    }
    return st;
  };
  if (PQstatus(conn) == CONNECTION_BAD) return fail("");

  Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(connect_ms);
  PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
  // Each round trip of the start-up handshake is one turn; the deadline
  // bounds them all.
  while (poll_status != PGRES_POLLING_OK) {
    if (poll_status == PGRES_POLLING_FAILED) return fail("");
    int fd = PQsocket(conn);
    if (fd < 0) return fail("no socket");
    short revents = 0;
    int rc = WaitFd(fd, poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                    deadline, &revents);
    if (rc == 0) {
      return fail("no connection within " + std::to_string(connect_ms) + " ms");
    }
    if (rc < 0) return fail(std::string("poll: ") + std::strerror(errno));
    poll_status = PQconnectPoll(conn);
  }
  PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
  if (PQsetnonblocking(conn, 1) != 0) return fail("cannot set non-blocking");
  out->reset(new Connection(conn, options));
  return Status::Ok();
}

Connection::Clock::time_point Connection::Deadline() const {
  return Clock::now() + std::chrono::milliseconds(query_timeout_ms_);
}

bool Connection::in_transaction() const {
  if (conn_ == nullptr) return false;
  PGTransactionStatusType st = PQtransactionStatus(conn_);
  return st == PQTRANS_INTRANS || st == PQTRANS_INERROR;
}

bool Connection::Wait(bool write, Clock::time_point deadline, bool* timed_out) {
  int fd = PQsocket(conn_);
  if (fd < 0) return false;
  short revents = 0;
  int rc = WaitFd(fd, write ? (POLLIN | POLLOUT) : POLLIN, deadline, &revents);
  if (rc == 0) {
    *timed_out = true;
    return false;
  }
  if (rc < 0) return false;
  if (revents & (POLLIN | POLLERR | POLLHUP)) {
    // libpq wants input read whenever it is there, also while it writes.
    if (!PQconsumeInput(conn_)) return false;
  }
  return true;
}

bool Connection::Flush(Clock::time_point deadline, bool* timed_out) {
  for (;;) {
    int rc = PQflush(conn_);
    if (rc == 0) return true;
    if (rc < 0) return false;
    if (!Wait(true, deadline, timed_out)) return false;
  }
}

bool Connection::Collect(Clock::time_point deadline, bool* timed_out,
                         std::vector<Result>* results) {
  for (;;) {
    while (!PQisBusy(conn_)) {
      PGresult* raw = PQgetResult(conn_);
      if (raw == nullptr) return true;
      ExecStatusType st = PQresultStatus(raw);
      results->push_back(Result(raw));
      if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT ||
          st == PGRES_COPY_BOTH) {
        return true;
      }
    }
    if (!Wait(false, deadline, timed_out)) return false;
  }
}

bool Connection::PutCopy(std::string_view data, Clock::time_point deadline,
                         bool* timed_out) {
  if (data.empty()) return true;
  for (;;) {
    int rc = PQputCopyData(conn_, data.data(), static_cast<int>(data.size()));
    if (rc == 1) return true;
    if (rc < 0) return false;
    if (!Wait(true, deadline, timed_out)) return false;
  }
}

bool Connection::PutCopyEnd(const char* error, Clock::time_point deadline,
                            bool* timed_out) {
  for (;;) {
    int rc = PQputCopyEnd(conn_, error);
    if (rc == 1) return Flush(deadline, timed_out);
    if (rc < 0) return false;
    if (!Wait(true, deadline, timed_out)) return false;
  }
}

Status Connection::ResultError(std::string_view what,
                               const std::vector<Result>& got) {
  for (const Result& r : got) {
    pg_result* raw = r.result_.get();
    if (raw == nullptr) continue;
    ExecStatusType st = PQresultStatus(raw);
    if (st != PGRES_FATAL_ERROR && st != PGRES_BAD_RESPONSE) continue;
    const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
    const char* detail = PQresultErrorField(raw, PG_DIAG_MESSAGE_DETAIL);
    std::string message =
        primary ? OneLine(primary) : OneLine(PQresultErrorMessage(raw));
    if (detail != nullptr) message += " (" + OneLine(detail) + ")";
    if (st == PGRES_BAD_RESPONSE) {
      return Status::Internal(std::string(what) +
                              ": bad response from the server: " + message);
    }
    return StatusFromSqlState(state ? state : "", message, what);
  }
  return Status::Ok();
}

Status Connection::Failure(std::string_view what, bool sent, bool autocommit,
                           bool commit, bool timed_out,
                           const std::vector<Result>& got) {
  std::string state;
  std::string detail;
  Status from_result = ResultError(what, got);
  if (!from_result.ok()) {
    state = SqlStateOf(from_result);
    detail = from_result.message().substr(what.size() + 2);
  }
  if (timed_out) {
    detail = "no answer within " + std::to_string(query_timeout_ms_) +
             " ms (client-side deadline); connection closed";
    state.clear();
  } else if (detail.empty()) {
    detail = conn_ ? OneLine(PQerrorMessage(conn_)) : "connection lost";
    if (detail.empty()) detail = "connection lost";
  } else {
    // The server said why it ended the session; libpq adds nothing useful.
    size_t sqlstate = detail.rfind(" (SQLSTATE");
    if (sqlstate != std::string::npos) detail.resize(sqlstate);
  }
  Close();
  Status st = StatusFromSqlState(state, detail, what);
  // A lost connection is "unavailable" whatever its last words said.
  st = Status(Status::Code::kUnavailable, st.message() + " (connection lost)");
  if (sent && (autocommit || commit)) st = MarkUnknownOutcome(st);
  return st;
}

Status Connection::Run(Send send, std::string_view sql, const Params& params,
                       const std::string& statement_name, bool commit,
                       std::vector<Result>* results) {
  std::string what = "\"" + ShortSql(sql) + "\" on " + description_;
  if (conn_ == nullptr) {
    return Status::Unavailable(what + ": connection is broken (lost earlier)");
  }
  if (!params.error().empty())
    return Status::Invalid(what + ": " + params.error());
  if (sql.find('\0') != std::string_view::npos) {
    return Status::Invalid(what + ": SQL contains a NUL byte");
  }
  if (params.size() > kMaxParams) {
    return Status::Invalid(what + ": " + std::to_string(params.size()) +
                           " parameters, at most 65535");
  }
  std::string sql_z(sql);
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  std::vector<Oid> types;
  for (const Params::Item& item : params.items_) {
    values.push_back(item.kind == Params::Kind::kNull ? nullptr
                                                      : item.data.c_str());
    lengths.push_back(static_cast<int>(item.data.size()));
    formats.push_back(item.kind == Params::Kind::kBytea ? 1 : 0);
    Oid type = 0;
    switch (item.kind) {
      case Params::Kind::kInt:
        type = kInt8Oid;
        break;
      case Params::Kind::kDouble:
        type = kFloat8Oid;
        break;
      case Params::Kind::kBool:
        type = kBoolOid;
        break;
      case Params::Kind::kBytea:
        type = kByteaOid;
        break;
      default:
        break;
    }
    types.push_back(type);
  }
  const int n = static_cast<int>(values.size());
  const bool autocommit = PQtransactionStatus(conn_) == PQTRANS_IDLE;
  Clock::time_point deadline = Deadline();

  int sent = 0;
  switch (send) {
    case Send::kQuery:
      sent = PQsendQuery(conn_, sql_z.c_str());
      break;
    case Send::kParams:
      sent =
          PQsendQueryParams(conn_, sql_z.c_str(), n, types.data(),
                            values.data(), lengths.data(), formats.data(), 0);
      break;
    case Send::kPrepare:
      sent = PQsendPrepare(conn_, statement_name.c_str(), sql_z.c_str(), n,
                           types.data());
      break;
    case Send::kPrepared:
      sent =
          PQsendQueryPrepared(conn_, statement_name.c_str(), n, values.data(),
                              lengths.data(), formats.data(), 0);
      break;
  }
  if (!sent) {
    if (PQstatus(conn_) == CONNECTION_BAD) {
      return Failure(what, /*sent=*/false, autocommit, commit, false, {});
    }
    return Status::Internal(what +
                            ": cannot send: " + OneLine(PQerrorMessage(conn_)));
  }
  bool timed_out = false;
  if (!Flush(deadline, &timed_out) || !Collect(deadline, &timed_out, results)) {
    return Failure(what, true, autocommit, commit, timed_out, *results);
  }
  if (!results->empty()) {
    ExecStatusType last = PQresultStatus(results->back().result_.get());
    if (last == PGRES_COPY_IN) {
      // COPY FROM STDIN outside CopyIn(): end it with an error.
      if (!PutCopyEnd("COPY FROM STDIN goes through Connection::CopyIn",
                      deadline, &timed_out) ||
          !Collect(deadline, &timed_out, results)) {
        return Failure(what, true, autocommit, commit, timed_out, *results);
      }
    } else if (last == PGRES_COPY_OUT || last == PGRES_COPY_BOTH) {
      Close();
      return Status::Invalid(what + ": COPY TO STDOUT is not supported");
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    return Failure(what, true, autocommit, commit, false, *results);
  }
  last_used_ = Clock::now();
  return ResultError(what, *results);
}

Status Connection::Exec(std::string_view sql, const Params& params,
                        Result* out) {
  std::vector<Result> results;
  Status st = Run(Send::kParams, sql, params, std::string(), false, &results);
  if (st.ok() && out != nullptr && !results.empty()) {
    *out = std::move(results.back());
  }
  return st;
}

Status Connection::ExecPrepared(std::string_view sql, const Params& params,
                                Result* out) {
  // The statement's parameter types are fixed when it is prepared, so the
  // cache key includes them.
  std::string key(sql);
  key.push_back('\0');
  for (const Params::Item& item : params.items_) {
    key.push_back(static_cast<char>('0' + static_cast<int>(item.kind)));
  }
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    if (prepared_.size() >= kMaxPreparedStatements) {
      return Exec(sql, params, out);
    }
    std::string name = "crashctl_" + std::to_string(prepared_.size() + 1);
    std::vector<Result> prepared;
    Status st = Run(Send::kPrepare, sql, params, name, false, &prepared);
    if (!st.ok()) return st;
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  std::vector<Result> results;
  Status st = Run(Send::kPrepared, sql, params, it->second, false, &results);
  if (st.ok() && out != nullptr && !results.empty()) {
    *out = std::move(results.back());
  }
  return st;
}

Status Connection::ExecScript(std::string_view sql) {
  std::vector<Result> results;
  return Run(Send::kQuery, sql, Params(), std::string(), false, &results);
}

Status Connection::Begin(std::string_view mode) {
  if (in_transaction()) {
    return Status::Internal("BEGIN on " + description_ +
                            ": a transaction is open already");
  }
  std::string sql = "BEGIN";
  if (!mode.empty()) {
    sql += " ";
    sql += mode;
  }
  Status st = Exec(sql);
  if (IsUnknownOutcome(st)) {
    // A BEGIN changes nothing: its outcome does not matter.
    std::string message = st.message();
    message.resize(message.size() - kUnknownOutcomeMarker.size() - 1);
    st = Status(st.code(), std::move(message));
  }
  return st;
}

Status Connection::Commit() {
  if (conn_ == nullptr) {
    // Lost before COMMIT was sent: the server rolled back.
    return Status::Unavailable("COMMIT on " + description_ +
                               ": connection is broken (lost earlier); the "
                               "transaction was rolled back");
  }
  if (!in_transaction()) {
    return Status::Internal("COMMIT on " + description_ +
                            ": no transaction is open");
  }
  std::vector<Result> results;
  Status st = Run(Send::kParams, "COMMIT", Params(), std::string(),
                  /*commit=*/true, &results);
  if (!st.ok()) return st;
  std::string tag = results.empty() ? "" : results.back().command_status();
  if (tag != "COMMIT") {
    return Status::Internal("COMMIT on " + description_ +
                            ": the server answered \"" + tag +
                            "\": the transaction had failed and was rolled "
                            "back");
  }
  return Status::Ok();
}

Status Connection::Rollback() {
  if (!in_transaction()) return Status::Ok();
  Status st = Exec("ROLLBACK");
  if (!st.ok() && broken()) return Status::Ok();  // rolled back with it
  return st;
}

Status Connection::CopyIn(std::string_view copy_sql,
                          const std::vector<Params>& rows, int64_t* copied) {
  std::string what = "\"" + ShortSql(copy_sql) + "\" on " + description_;
  if (copied != nullptr) *copied = 0;
  if (conn_ == nullptr) {
    return Status::Unavailable(what + ": connection is broken (lost earlier)");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].error().empty()) {
      return Status::Invalid(what + ": row " + std::to_string(i) + ": " +
                             rows[i].error());
    }
  }
  if (copy_sql.find('\0') != std::string_view::npos) {
    return Status::Invalid(what + ": SQL contains a NUL byte");
  }
  std::string sql_z(copy_sql);
  const bool autocommit = PQtransactionStatus(conn_) == PQTRANS_IDLE;
  Clock::time_point deadline = Deadline();
  if (!PQsendQuery(conn_, sql_z.c_str())) {
    if (PQstatus(conn_) == CONNECTION_BAD) {
      return Failure(what, false, autocommit, false, false, {});
    }
    return Status::Internal(what +
                            ": cannot send: " + OneLine(PQerrorMessage(conn_)));
  }
  bool timed_out = false;
  std::vector<Result> results;
  if (!Flush(deadline, &timed_out) ||
      !Collect(deadline, &timed_out, &results)) {
    return Failure(what, true, autocommit, false, timed_out, results);
  }
  if (results.empty() ||
      PQresultStatus(results.back().result_.get()) != PGRES_COPY_IN) {
    if (PQstatus(conn_) == CONNECTION_BAD) {
      return Failure(what, true, autocommit, false, false, results);
    }
    Status st = ResultError(what, results);
    return st.ok() ? Status::Invalid(what + ": not a COPY ... FROM STDIN") : st;
  }
  // COPY text format: tab-separated, "\N" for NULL, backslash escapes; a
  // bytea goes as its hex text form "\x...", whose backslash is doubled.
  static const char kHex[] = "0123456789abcdef";
  std::string buf;
  buf.reserve(kCopyChunk + 4096);
  for (const Params& row : rows) {
    for (size_t i = 0; i < row.items_.size(); ++i) {
      if (i > 0) buf.push_back('\t');
      const Params::Item& item = row.items_[i];
      switch (item.kind) {
        case Params::Kind::kNull:
          buf += "\\N";
          break;
        case Params::Kind::kText:
          for (char c : item.data) {
            switch (c) {
              case '\\':
                buf += "\\\\";
                break;
              case '\n':
                buf += "\\n";
                break;
              case '\r':
                buf += "\\r";
                break;
              case '\t':
                buf += "\\t";
                break;
              default:
                buf.push_back(c);
            }
          }
          break;
        case Params::Kind::kBytea:
          buf += "\\\\x";
          for (unsigned char c : item.data) {
            buf.push_back(kHex[c >> 4]);
            buf.push_back(kHex[c & 15]);
          }
          break;
        default:
          buf += item.data;
      }
    }
    buf.push_back('\n');
    if (buf.size() >= kCopyChunk) {
      if (!PutCopy(buf, deadline, &timed_out)) {
        return Failure(what, true, autocommit, false, timed_out, {});
      }
      buf.clear();
    }
  }
  if (!PutCopy(buf, deadline, &timed_out) ||
      !PutCopyEnd(nullptr, deadline, &timed_out)) {
    return Failure(what, true, autocommit, false, timed_out, {});
  }
  results.clear();
  if (!Collect(deadline, &timed_out, &results) ||
      PQstatus(conn_) == CONNECTION_BAD) {
    return Failure(what, true, autocommit, false, timed_out, results);
  }
  last_used_ = Clock::now();
  Status st = ResultError(what, results);
  if (st.ok() && copied != nullptr && !results.empty()) {
    *copied = results.back().affected_rows();
  }
  return st;
}

Status Connection::Ping(int timeout_ms) {
  int saved = query_timeout_ms_;
  set_query_timeout_ms(timeout_ms);
  Status st = Exec("SELECT 1");
  query_timeout_ms_ = saved;
  return st;
}

// --- RunTransaction
// -----------------------------------------------------------

Status RunTransaction(Connection* conn, const TransactionOptions& options,
                      const std::function<Status(Connection*)>& body) {
  const int attempts = std::max(1, options.max_attempts);
  Status st;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      int64_t backoff = int64_t{std::max(0, options.backoff_ms)}
                        << std::min(attempt - 2, 10);
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min<int64_t>(backoff, 1000)));
    }
    st = conn->Begin(options.begin_mode);
    if (st.ok()) st = body(conn);
    if (st.ok()) {
      st = conn->Commit();
      if (st.ok()) return st;
    }
    conn->Rollback();  // the first failure is the one to report
    if (IsUnknownOutcome(st) || conn->broken() || !IsRetryable(st)) return st;
  }
  return st.Annotate("transaction failed " + std::to_string(attempts) +
                     " times");
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
