// Attachments and user feedback at the Store interface, on both backends:
// bytes of several chunks from memory and from a spool file, written once on
// a retry, nothing of a failed write stored; feedback's group filled in
// whichever comes first; both deleted with their events, by age when their
// event never came, and with their project only. On PostgreSQL also the
// group of a feedback row two writers left unfilled, repaired off the write
// path.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "crashctl/util/time.h"
#include "store_test_util.h"
#include "tests/store/backend_fixture.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::BackendStoreTest;
using testing_util::EventId;
using testing_util::MakeItem;

// `size` bytes of every value, different for each `seed`.
std::string Bytes(size_t size, int seed) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    data[i] =
        static_cast<char>((i * 131 + static_cast<size_t>(seed)) ^ (i >> 9));
  }
  return data;
}

class AttachmentStoreTest : public BackendStoreTest {
 protected:
  model::Attachment Attachment(int64_t n, const std::string& event_id,
                               int position, const std::string& data,
                               double received = 1000) {
    model::Attachment a;
    a.id = EventId(900000 + n);
    a.project_id = project_.id;
    a.event_id = event_id;
    a.position = position;
    a.filename = "file" + std::to_string(n) + ".bin";
    a.content_type = "application/octet-stream";
    a.attachment_type = "event.attachment";
    a.data = data;
    a.size = static_cast<int64_t>(data.size());
    a.received = received;
    return a;
  }
  model::Feedback Feedback(int64_t n, const std::string& event_id,
                           double received = 1000) {
    model::Feedback f;
    f.project_id = project_.id;
    f.kind = "user_report";
    f.feedback_id = EventId(800000 + n);
    f.event_id = event_id;
    f.name = "Ann";
    f.comments = "report " + std::to_string(n);
    f.timestamp = f.received = received;
    return f;
  }
  std::string Spool(const std::string& prefix, const std::string& data) {
    const std::string path = dir_.File("spool.bin");
    std::FILE* f = std::fopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (f == nullptr) return path;
    EXPECT_EQ(std::fwrite(prefix.data(), 1, prefix.size(), f), prefix.size());
    EXPECT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
    std::fclose(f);
    return path;
  }
  std::vector<model::Attachment> List(const std::string& event_id) {
    std::vector<model::Attachment> out;
    const Status st = store_->ListAttachments(event_id, &out);
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
  }
  std::vector<model::Feedback> OfEvent(const std::string& event_id) {
    std::vector<model::Feedback> out;
    const Status st = store_->ListEventFeedback(event_id, 10, &out);
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
  }
  std::vector<model::Feedback> OfGroup(int64_t group_id) {
    std::vector<model::Feedback> out;
    const Status st = store_->ListGroupFeedback(group_id, 10, &out);
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
  }
};
CRASHCTL_STORE_BACKENDS(AttachmentStoreTest);

TEST_P(AttachmentStoreTest, LargeBytesFromMemoryAndSpoolStoredOnce) {
  Write({MakeItem(project_.id, 1, "fp", 1000)});
  const std::string in_memory = Bytes((5 << 20) / 2, 1);  // 2.5 MiB
  const std::string spooled = Bytes((6 << 20) / 5, 2);    // 1.2 MiB
  model::Attachment first = Attachment(1, EventId(1), 0, in_memory);
  model::Attachment second = Attachment(2, EventId(1), 1, "");
  second.size = static_cast<int64_t>(spooled.size());
  second.spool_path = Spool("header!", spooled);
  second.spool_offset = 7;
  model::Attachment empty = Attachment(3, EventId(1), 2, "");
  for (int attempt = 0; attempt < 2; ++attempt) {  // the retry writes nothing
    ASSERT_OK(store_->WriteAttachments({first, second, empty}));
  }
  const std::vector<model::Attachment> listed = List(EventId(1));
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].id, first.id);
  EXPECT_EQ(listed[0].size, first.size);
  EXPECT_EQ(listed[0].filename, "file1.bin");
  EXPECT_DOUBLE_EQ(listed[0].received, 1000);
  EXPECT_TRUE(listed[0].data.empty());
  EXPECT_EQ(listed[1].position, 1);
  EXPECT_EQ(listed[2].size, 0);
  model::Attachment got;
  ASSERT_OK(store_->GetAttachment(EventId(1), first.id, &got));
  EXPECT_TRUE(got.data == in_memory) << got.data.size();
  ASSERT_OK(store_->GetAttachment(EventId(1), second.id, &got));
  EXPECT_TRUE(got.data == spooled) << got.data.size();
  ASSERT_OK(store_->GetAttachment(EventId(1), empty.id, &got));
  EXPECT_TRUE(got.data.empty());
  EXPECT_EQ(store_->GetAttachment(EventId(2), first.id, &got).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM attachments"), 3);
  if (postgres()) {
    // 1 MiB chunks: three and two.
    EXPECT_EQ(QueryCount("SELECT count(*) FROM attachment_chunks"), 5);
    int64_t bytes = 0;
    ASSERT_OK(store_->UsedBytes(&bytes));
    EXPECT_GE(bytes, static_cast<int64_t>(in_memory.size()));
  }
}

TEST_P(AttachmentStoreTest, FailedWriteStoresNothing) {
  const std::string data = Bytes(3000, 3);
  model::Attachment ok = Attachment(1, EventId(1), 0, "fine");
  model::Attachment cut = Attachment(2, EventId(1), 1, "");
  cut.size = 5000;  // the file holds fewer
  cut.spool_path = Spool("", data);
  EXPECT_EQ(store_->WriteAttachments({ok, cut}).code(),
            Status::Code::kUnavailable);
  EXPECT_TRUE(List(EventId(1)).empty());
  model::Attachment too_large = Attachment(3, EventId(1), 2, "");
  too_large.size = int64_t{1} << 40;
  EXPECT_EQ(store_->WriteAttachments({too_large}).code(),
            Status::Code::kInvalid);
  ASSERT_OK(store_->WriteAttachments({ok}));
  EXPECT_EQ(List(EventId(1)).size(), 1u);
}

TEST_P(AttachmentStoreTest, FeedbackFindsItsGroupWhicheverComesFirst) {
  const double now = util::NowSeconds();
  ASSERT_OK(store_->WriteFeedback({Feedback(1, EventId(1), now + 1)}));
  ASSERT_EQ(OfEvent(EventId(1)).size(), 1u);
  EXPECT_EQ(OfEvent(EventId(1))[0].group_id, 0);
  const int64_t group =
      Write({MakeItem(project_.id, 1, "fp", 1000)})[0].group_id;
  ASSERT_GT(group, 0);
  // After its event, and a retry of the first.
  ASSERT_OK(store_->WriteFeedback(
      {Feedback(2, EventId(1), now + 2), Feedback(1, EventId(1), now + 1)}));
  // About no event at all.
  ASSERT_OK(store_->WriteFeedback({Feedback(3, "", now + 3)}));
  const std::vector<model::Feedback> of_event = OfEvent(EventId(1));
  ASSERT_EQ(of_event.size(), 2u);
  EXPECT_EQ(of_event[0].feedback_id, EventId(800002));  // newest first
  EXPECT_EQ(of_event[0].comments, "report 2");
  for (const model::Feedback& f : of_event) EXPECT_EQ(f.group_id, group);
  const std::vector<model::Feedback> of_group = OfGroup(group);
  ASSERT_EQ(of_group.size(), 2u);
  EXPECT_EQ(of_group[1].feedback_id, EventId(800001));
  EXPECT_TRUE(OfGroup(0).empty());
  EXPECT_TRUE(OfEvent("").empty());
  EXPECT_EQ(QueryCount("SELECT count(*) FROM feedback"), 3);
}

TEST_P(AttachmentStoreTest, GoWithTheirEventsAndOrphansByAge) {
  // Event 2 is newer than the cutoff (SQLite keeps the newest event anyway).
  Write({MakeItem(project_.id, 1, "fp", 1000),
         MakeItem(project_.id, 2, "fp", 3000)});
  ASSERT_OK(store_->WriteAttachments(
      {Attachment(1, EventId(1), 0, "of one", 1000),
       Attachment(2, EventId(7), 0, "old orphan", 1000),
       Attachment(3, EventId(8), 0, "new orphan", 5000)}));
  ASSERT_OK(store_->WriteFeedback({Feedback(1, EventId(1), 1000),
                                   Feedback(2, EventId(7), 1000),
                                   Feedback(3, "", 5000)}));
  int64_t deleted = 0;
  ASSERT_OK(store_->DeleteOlderThan(2000, &deleted));
  EXPECT_TRUE(List(EventId(1)).empty());
  EXPECT_TRUE(OfEvent(EventId(1)).empty());
  EXPECT_TRUE(List(EventId(7)).empty());
  EXPECT_TRUE(OfEvent(EventId(7)).empty());
  EXPECT_EQ(List(EventId(8)).size(), 1u);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM attachments"), 1);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM feedback"), 1);
  if (postgres()) {
    EXPECT_EQ(QueryCount("SELECT count(*) FROM attachment_chunks"), 1);
  }
}

TEST_P(AttachmentStoreTest, DeleteProjectTakesOnlyItsOwn) {
  model::Project other;
  ASSERT_OK(store_->CreateProject("other", &other));
  Write({MakeItem(project_.id, 1, "fp", 1000),
         MakeItem(other.id, 2, "fp", 1000)});
  model::Attachment theirs = Attachment(2, EventId(2), 0, "theirs");
  theirs.project_id = other.id;
  model::Feedback their_report = Feedback(2, EventId(2));
  their_report.project_id = other.id;
  ASSERT_OK(store_->WriteAttachments(
      {Attachment(1, EventId(1), 0, "ours"),
       Attachment(3, EventId(9), 0, "ours, no event"), theirs}));
  ASSERT_OK(store_->WriteFeedback(
      {Feedback(1, EventId(1)), Feedback(3, ""), their_report}));
  ASSERT_OK(store_->DeleteProject(project_.id));
  EXPECT_EQ(QueryCount("SELECT count(*) FROM attachments"), 1);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM feedback"), 1);
  EXPECT_EQ(List(EventId(2)).size(), 1u);
  EXPECT_EQ(OfEvent(EventId(2)).size(), 1u);
}

TEST_P(AttachmentStoreTest, GroupLeftUnfilledByTwoWritersIsRepaired) {
  if (!postgres()) GTEST_SKIP() << "one writer: the race cannot happen";
  const int64_t group =
      Write({MakeItem(project_.id, 1, "fp", 1000)})[0].group_id;
  ASSERT_OK(store_->WriteFeedback({Feedback(1, EventId(1))}));
  // As if the feedback and its event had committed at the same moment.
  ASSERT_EQ(QueryValue("UPDATE feedback SET group_id = 0 RETURNING id").empty(),
            false);
  ASSERT_EQ(OfEvent(EventId(1)).size(), 1u);
  EXPECT_EQ(OfEvent(EventId(1))[0].group_id, group);  // read from the event
  EXPECT_TRUE(OfGroup(group).empty());
  ASSERT_OK(store_->Maintain(Store::Maintenance::kAfterBatch));
  ASSERT_EQ(OfGroup(group).size(), 1u);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM feedback WHERE group_id = 0"), 0);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
