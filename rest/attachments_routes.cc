#include "attachments_routes.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string>

#include "request_params.h"
#include "rest_responses.h"

namespace crashctl {
namespace rest {
namespace {

// A store without attachments or feedback (Store's defaults) answers
// kInternal "this store keeps no ...": shown as none.
bool NotKept(const Status& status) {
  return status.code() == Status::Code::kInternal &&
         status.message().rfind("this store keeps no ", 0) == 0;
}

http::HttpResponse Failure(const Status& status, const std::string& what) {
  switch (status.code()) {
    case Status::Code::kNotFound:
      return http::HttpResponse::Error(404, status.message());
    case Status::Code::kUnavailable: {
      http::HttpResponse response = http::HttpResponse::Error(
          503, "storage unavailable: " + what + ": " + status.message());
      response.headers.emplace_back("Retry-After", "5");
      return response;
    }
    default:
      spdlog::error("rest: {}: {}", what, status.message());
      return http::HttpResponse::Error(
          500, "internal error: " + what + ": " + status.message());
  }
}

// Content-Disposition: an ASCII fallback name and the UTF-8 name (RFC 6266).
std::string Disposition(const std::string& filename) {
  std::string ascii, encoded;
  for (unsigned char c : filename) {
    const bool plain =
        c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' && c != ';';
    ascii.push_back(plain ? static_cast<char>(c) : '_');
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      encoded.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      encoded += hex;
    }
  }
  if (ascii.empty()) ascii = "attachment";
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" +
         (encoded.empty() ? ascii : encoded);
}

class AttachmentHandlers {
 public:
  AttachmentHandlers(store::Store* store, const RestOptions& options)
      : store_(store), base_url_(options.base_url) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  }

  http::HttpResponse List(http::HttpRequest& request) {
    std::string event_id;
    http::HttpResponse error;
    if (!EventIdParam(request, &event_id, &error)) return error;
    model::StoredEvent event;
    Status status = store_->GetEvent(event_id, &event);
    std::vector<model::Attachment> items;
    // Attachments may be stored for an event that is not (yet): listed all
    // the same; 404 only when there is neither.
    Status listed = store_->ListAttachments(event_id, &items);
    if (!listed.ok() && !NotKept(listed)) {
      return Failure(listed, "attachments of event " + event_id);
    }
    if (!status.ok() && status.code() != Status::Code::kNotFound) {
      return Failure(status, "event " + event_id);
    }
    if (!status.ok() && items.empty()) {
      return http::HttpResponse::Error(404, "event " + event_id + " not found");
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const model::Attachment& a : items) WriteAttachment(&w, a, base_url_);
    w.EndArray();
    w.Key("next_cursor");
    w.Null();
    w.EndObject();
    return http::HttpResponse::Json(
        200, std::string(buffer.GetString(), buffer.GetSize()));
  }

  http::HttpResponse Get(http::HttpRequest& request) {
    std::string event_id;
    http::HttpResponse error;
    if (!EventIdParam(request, &event_id, &error)) return error;
    std::string attachment_id = request.path_params["attachment_id"];
    for (char& c : attachment_id) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (attachment_id.size() != 32 ||
        attachment_id.find_first_not_of("0123456789abcdef") !=
            std::string::npos) {
      return http::HttpResponse::Error(
          400, "invalid attachment id: must be 32 hex digits");
    }
    model::Attachment attachment;
    Status status = store_->GetAttachment(event_id, attachment_id, &attachment);
    if (NotKept(status)) {
      return http::HttpResponse::Error(404, "this store keeps no attachments");
    }
    if (!status.ok()) return Failure(status, "attachment " + attachment_id);
    http::HttpResponse response;
    response.status = 200;
    response.content_type = attachment.content_type.empty()
                                ? "application/octet-stream"
                                : attachment.content_type;
    response.body = std::move(attachment.data);
    response.headers.emplace_back("Content-Disposition",
                                  Disposition(attachment.filename));
    // Bytes a client sent: never interpreted by a browser as something else.
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Content-Security-Policy", "sandbox");
    return response;
  }

 private:
  static bool EventIdParam(http::HttpRequest& request, std::string* event_id,
                           http::HttpResponse* error) {
    if (!NormalizeEventId(request.path_params["event_id"], event_id)) {
      *error = http::HttpResponse::Error(
          400, "invalid event id: must be 32 hex digits");
      return false;
    }
    return true;
  }

  store::Store* const store_;
  std::string base_url_;
};

}  // namespace

Status LoadEventExtras(store::Store* store, const std::string& event_id,
                       EventExtras* out) {
  std::vector<model::Attachment> attachments;
  Status status = store->ListAttachments(event_id, &attachments);
  if (!status.ok() && !NotKept(status)) return status;
  out->attachments = static_cast<int64_t>(attachments.size());
  status =
      store->ListEventFeedback(event_id, kEventFeedbackShown, &out->feedback);
  if (NotKept(status)) {
    out->feedback.clear();
    return Status::Ok();
  }
  return status;
}

Status LoadGroupFeedback(store::Store* store, int64_t group_id,
                         std::vector<model::Feedback>* out) {
  Status status = store->ListGroupFeedback(group_id, kGroupFeedbackShown, out);
  if (NotKept(status)) {
    out->clear();
    return Status::Ok();
  }
  return status;
}

void RegisterAttachmentRoutes(http::Router* router, store::Store* store,
                              const RestOptions& options) {
  auto h = std::make_shared<AttachmentHandlers>(store, options);
  AddApiRoute(router, options, "GET", "/api/v1/events/{event_id}/attachments",
              "List an event's attachments (without their bytes)", {},
              [h](http::HttpRequest& r) { return h->List(r); });
  AddApiRoute(router, options, "GET",
              "/api/v1/events/{event_id}/attachments/{attachment_id}",
              "Download one attachment (its bytes, with its content type)", {},
              [h](http::HttpRequest& r) { return h->Get(r); });
}

}  // namespace rest
}  // namespace crashctl
