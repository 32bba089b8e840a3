// SessionTracker and MergeSessionUpdate scenarios with a controllable clock:
// merge by sid, init on every update, crashed, errored exit, abnormal
// timeout, the age limit, stale and reordered updates, the eviction bound,
// export/import round trip.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crashctl/releases/sessions.h"

namespace crashctl::releases {
namespace {

constexpr double kT0 = 1714564800;  // 2024-05-01T12:00:00Z
constexpr int64_t kProject = 3;

std::string Sid(int n) {
  char buf[33];
  snprintf(buf, sizeof(buf), "%032x", n);
  return buf;
}

SessionUpdate Update(int sid, SessionStatus status, double started,
                     double timestamp, uint64_t errors = 0) {
  SessionUpdate u;
  u.sid = sid < 0 ? "" : Sid(sid);
  u.distinct_id = "user-" + std::to_string(sid);
  u.started = started;
  u.timestamp = timestamp;
  u.status = status;
  u.errors = errors;
  u.attrs.release = "app@1.0";
  u.attrs.environment = "prod";
  return u;
}

class Clock {
 public:
  double now() const { return now_; }
  void Advance(double seconds) { now_ += seconds; }

 private:
  double now_ = kT0;
};

TEST(SessionTrackerTest, CountedOnceAtTheEnd) {
  SessionTracker tracker;
  Clock clock;
  std::vector<SessionCount> counts;
  tracker.Apply(kProject,
                Update(1, SessionStatus::kOk, clock.now(), clock.now()),
                clock.now(), &counts);
  EXPECT_TRUE(counts.empty());
  EXPECT_EQ(tracker.open_count(), 1u);
  clock.Advance(30);
  tracker.Apply(kProject, Update(1, SessionStatus::kExited, kT0, clock.now()),
                clock.now(), &counts);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].status, CountedStatus::kExited);
  EXPECT_EQ(counts[0].reason, SessionCount::Reason::kEnded);
  EXPECT_EQ(counts[0].project_id, kProject);
  EXPECT_EQ(counts[0].release, "app@1.0");
  EXPECT_EQ(counts[0].environment, "prod");
  EXPECT_EQ(counts[0].distinct_id_hash, HashDistinctId("user-1"));
  EXPECT_EQ(tracker.open_count(), 0u);
  EXPECT_EQ(tracker.closed_count(), 1u);
  // The same end again (SDK retry, replay): not counted twice.
  tracker.Apply(kProject, Update(1, SessionStatus::kExited, kT0, clock.now()),
                clock.now(), &counts);
  tracker.Apply(kProject, Update(1, SessionStatus::kOk, kT0, clock.now()),
                clock.now(), &counts);
  EXPECT_EQ(counts.size(), 1u);
}

TEST(SessionTrackerTest, InitOnEveryUpdateIsMergedBySid) {
  SessionTracker tracker;
  Clock clock;
  std::vector<SessionCount> counts;
  for (int i = 0; i < 5; ++i) {
    SessionUpdate u = Update(2, SessionStatus::kOk, kT0, clock.now(), i);
    u.init = true;  // a buggy SDK: init on every update
    tracker.Apply(kProject, u, clock.now(), &counts);
    clock.Advance(60);
  }
  EXPECT_TRUE(counts.empty());
  EXPECT_EQ(tracker.open_count(), 1u);
  SessionUpdate end = Update(2, SessionStatus::kExited, kT0, clock.now(), 4);
  end.init = true;
  tracker.Apply(kProject, end, clock.now(), &counts);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].status, CountedStatus::kErrored);
}

TEST(SessionTrackerTest, CrashedAndErroredExit) {
  SessionTracker tracker;
  std::vector<SessionCount> counts;
  // Errors seen on an earlier update count even if the end says 0.
  tracker.Apply(kProject, Update(3, SessionStatus::kOk, kT0, kT0 + 1, 2),
                kT0 + 1, &counts);
  tracker.Apply(kProject, Update(3, SessionStatus::kExited, kT0, kT0 + 2, 0),
                kT0 + 2, &counts);
  // A crash without a prior update.
  tracker.Apply(kProject, Update(4, SessionStatus::kCrashed, kT0, kT0 + 3, 1),
                kT0 + 3, &counts);
  // `errored` as a status (some SDKs) and abnormal.
  tracker.Apply(kProject, Update(5, SessionStatus::kErrored, kT0, kT0 + 3),
                kT0 + 3, &counts);
  tracker.Apply(kProject, Update(6, SessionStatus::kAbnormal, kT0, kT0 + 3),
                kT0 + 3, &counts);
  ASSERT_EQ(counts.size(), 4u);
  EXPECT_EQ(counts[0].status, CountedStatus::kErrored);
  EXPECT_EQ(counts[1].status, CountedStatus::kCrashed);
  EXPECT_EQ(counts[2].status, CountedStatus::kErrored);
  EXPECT_EQ(counts[3].status, CountedStatus::kAbnormal);
  // The duplicate crashed update @sentry/node sends: ignored.
  tracker.Apply(kProject, Update(4, SessionStatus::kCrashed, kT0, kT0 + 4, 1),
                kT0 + 4, &counts);
  EXPECT_EQ(counts.size(), 4u);
}

TEST(SessionTrackerTest, AttributesFromTheFirstUpdate) {
  SessionTracker tracker;
  std::vector<SessionCount> counts;
  tracker.Apply(kProject, Update(7, SessionStatus::kOk, kT0, kT0), kT0,
                &counts);
  SessionUpdate end = Update(7, SessionStatus::kExited, kT0 + 100, kT0 + 5);
  end.attrs.release = "app@2.0";
  end.attrs.environment = "dev";
  end.distinct_id = "someone-else";
  tracker.Apply(kProject, end, kT0 + 5, &counts);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].release, "app@1.0");
  EXPECT_EQ(counts[0].environment, "prod");
  EXPECT_EQ(counts[0].distinct_id_hash, HashDistinctId("user-7"));
  EXPECT_EQ(counts[0].started, kT0);
}

TEST(SessionTrackerTest, SameSidInAnotherProjectIsAnotherSession) {
  SessionTracker tracker;
  std::vector<SessionCount> counts;
  tracker.Apply(1, Update(8, SessionStatus::kOk, kT0, kT0), kT0, &counts);
  tracker.Apply(2, Update(8, SessionStatus::kExited, kT0, kT0), kT0, &counts);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].project_id, 2);
  EXPECT_EQ(tracker.open_count(), 1u);
}

TEST(SessionTrackerTest, StaleUpdatesAndReordering) {
  SessionTracker tracker;
  std::vector<SessionCount> counts;
  SessionUpdate late = Update(9, SessionStatus::kOk, kT0, kT0 + 10, 1);
  late.seq = 10;
  late.duration = 10;
  tracker.Apply(kProject, late, kT0 + 10, &counts);
  SessionUpdate early = Update(9, SessionStatus::kOk, kT0, kT0 + 5, 0);
  early.seq = 5;
  early.duration = 5;
  tracker.Apply(kProject, early, kT0 + 11, &counts);  // stale: ignored
  std::vector<SessionRecord> records = tracker.Export();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].order_key, 10u);
  EXPECT_EQ(records[0].duration, 10.0);
  EXPECT_EQ(records[0].errors, 1u);
  // An end is never dropped, even with an older seq.
  SessionUpdate end = Update(9, SessionStatus::kCrashed, kT0, kT0 + 6, 1);
  end.seq = 6;
  tracker.Apply(kProject, end, kT0 + 12, &counts);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].status, CountedStatus::kCrashed);

  // The end arrives before the start: counted once, the start ignored.
  tracker.Apply(kProject, Update(10, SessionStatus::kExited, kT0, kT0 + 20),
                kT0 + 20, &counts);
  tracker.Apply(kProject, Update(10, SessionStatus::kOk, kT0, kT0), kT0 + 21,
                &counts);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(tracker.open_count(), 0u);
}

TEST(SessionTrackerTest, SessionWithoutSidIsCountedAtOnce) {
  SessionTracker tracker;
  std::vector<SessionCount> counts;
  tracker.Apply(kProject, Update(-1, SessionStatus::kOk, kT0, kT0), kT0,
                &counts);
  tracker.Apply(kProject, Update(-1, SessionStatus::kOk, kT0, kT0, 3), kT0,
                &counts);
  tracker.Apply(kProject, Update(-1, SessionStatus::kCrashed, kT0, kT0, 1), kT0,
                &counts);
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0].status, CountedStatus::kExited);
  EXPECT_EQ(counts[1].status, CountedStatus::kErrored);
  EXPECT_EQ(counts[2].status, CountedStatus::kCrashed);
  EXPECT_EQ(tracker.open_count() + tracker.closed_count(), 0u);
}

TEST(SessionTrackerTest, AbnormalAfterIdleTimeout) {
  TrackerOptions options;
  options.idle_timeout_seconds = 8 * 3600;
  SessionTracker tracker(options);
  Clock clock;
  std::vector<SessionCount> counts;
  tracker.Apply(kProject,
                Update(11, SessionStatus::kOk, clock.now(), clock.now()),
                clock.now(), &counts);
  clock.Advance(7 * 3600);
  // An update keeps it alive.
  tracker.Apply(kProject, Update(11, SessionStatus::kOk, kT0, clock.now(), 1),
                clock.now(), &counts);
  clock.Advance(7 * 3600);
  EXPECT_EQ(tracker.Expire(clock.now(), &counts), 0u);
  EXPECT_TRUE(counts.empty());
  clock.Advance(3600 + 1);
  EXPECT_EQ(tracker.Expire(clock.now(), &counts), 1u);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].status, CountedStatus::kAbnormal);
  EXPECT_EQ(counts[0].reason, SessionCount::Reason::kTimedOut);
  EXPECT_EQ(tracker.open_count(), 0u);
  // Its late end is not counted again.
  tracker.Apply(kProject,
                Update(11, SessionStatus::kExited, kT0, clock.now(), 1),
                clock.now(), &counts);
  EXPECT_EQ(counts.size(), 1u);
  // The closed record is forgotten once Relay's age rule refuses the sid.
  clock.Advance(5 * 86400);
  tracker.Expire(clock.now(), &counts);
  EXPECT_EQ(tracker.closed_count(), 0u);
}

TEST(SessionTrackerTest, AbnormalAtMaxAgeEvenWithUpdates) {
  TrackerOptions options;
  options.idle_timeout_seconds = 8 * 3600;
  options.max_age_seconds = 5 * 86400;
  SessionTracker tracker(options);
  std::vector<SessionCount> counts;
  double now = kT0;
  // (Past max_age the parser refuses the session's updates.)
  for (int hour = 0; hour <= 5 * 24; ++hour) {
    tracker.Apply(kProject, Update(12, SessionStatus::kOk, kT0, now), now,
                  &counts);
    now += 3600;
    tracker.Expire(now, &counts);
  }
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].status, CountedStatus::kAbnormal);
  EXPECT_EQ(counts[0].reason, SessionCount::Reason::kTimedOut);
}

TEST(SessionTrackerTest, ExpireIsBoundedPerCall) {
  TrackerOptions options;
  options.idle_timeout_seconds = 60;
  SessionTracker tracker(options);
  std::vector<SessionCount> counts;
  for (int i = 0; i < 50; ++i) {
    tracker.Apply(kProject, Update(100 + i, SessionStatus::kOk, kT0, kT0), kT0,
                  &counts);
  }
  EXPECT_EQ(tracker.Expire(kT0 + 61, &counts, 20), 20u);
  EXPECT_EQ(counts.size(), 20u);
  EXPECT_EQ(tracker.Expire(kT0 + 61, &counts, 100), 30u);
  EXPECT_EQ(counts.size(), 50u);
  EXPECT_EQ(tracker.open_count(), 0u);
}

TEST(SessionTrackerTest, EvictionBound) {
  TrackerOptions options;
  options.max_open = 100;
  options.max_closed = 150;
  SessionTracker tracker(options);
  std::vector<SessionCount> counts;
  // 1,000 sessions open, each a second apart; then more ends than fit.
  for (int i = 0; i < 1000; ++i) {
    tracker.Apply(kProject, Update(i, SessionStatus::kOk, kT0 + i, kT0 + i),
                  kT0 + i, &counts);
    EXPECT_LE(tracker.open_count(), 100u);
    EXPECT_LE(tracker.closed_count(), 150u);
  }
  // Every session evicted was counted once, as abnormal, oldest first.
  ASSERT_EQ(counts.size(), 900u);
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_EQ(counts[i].status, CountedStatus::kAbnormal);
    EXPECT_EQ(counts[i].reason, SessionCount::Reason::kEvicted);
    EXPECT_EQ(counts[i].started, kT0 + static_cast<double>(i));
  }
  EXPECT_EQ(tracker.open_count(), 100u);
  EXPECT_EQ(tracker.closed_count(), 150u);
  // The newest are still open and end normally.
  tracker.Apply(kProject,
                Update(999, SessionStatus::kExited, kT0 + 999, kT0 + 1000),
                kT0 + 1000, &counts);
  EXPECT_EQ(counts.back().status, CountedStatus::kExited);
  EXPECT_EQ(counts.size(), 901u);
}

TEST(SessionTrackerTest, ExportImportRoundTrip) {
  SessionTracker first;
  std::vector<SessionCount> counts;
  for (int i = 0; i < 10; ++i) {
    SessionUpdate u = Update(200 + i, SessionStatus::kOk, kT0, kT0 + i, i);
    u.duration = i;
    first.Apply(kProject, u, kT0 + i, &counts);
  }
  first.Apply(kProject, Update(200, SessionStatus::kExited, kT0, kT0 + 20),
              kT0 + 20, &counts);
  ASSERT_EQ(counts.size(), 1u);
  const std::vector<SessionRecord> records = first.Export();
  ASSERT_EQ(records.size(), 10u);

  // A new replica (or a restart) picks up where the first left off.
  SessionTracker second;
  SessionTracker::ImportResult r = second.Import(records, kT0 + 30);
  EXPECT_EQ(r.imported, 10u);
  EXPECT_EQ(r.skipped_invalid, 0u);
  EXPECT_TRUE(r.counts.empty());
  EXPECT_EQ(second.open_count(), 9u);
  EXPECT_EQ(second.closed_count(), 1u);
  // Importing again: all duplicates.
  EXPECT_EQ(second.Import(records, kT0 + 30).skipped_invalid, 10u);
  // The ended session stays counted; the open ones end once.
  second.Apply(kProject, Update(200, SessionStatus::kExited, kT0, kT0 + 40),
               kT0 + 40, &counts);
  EXPECT_EQ(counts.size(), 1u);
  second.Apply(kProject, Update(205, SessionStatus::kExited, kT0, kT0 + 40),
               kT0 + 40, &counts);
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[1].status, CountedStatus::kErrored);  // errors 5 kept
  EXPECT_EQ(counts[1].duration, 5.0);
  // Deadlines survive the round trip.
  second.Expire(kT0 + 9 + 8 * 3600 + 1, &counts);
  EXPECT_EQ(counts.size(), 10u);

  // Bad records are skipped, not trusted.
  std::vector<SessionRecord> bad = records;
  bad[0].sid = "XYZ";
  bad[1].release = "";
  bad[2].distinct_id_hash = "user-1";
  bad[3].started = std::numeric_limits<double>::quiet_NaN();
  SessionTracker third;
  r = third.Import(bad, kT0);
  EXPECT_EQ(r.imported, 6u);
  EXPECT_EQ(r.skipped_invalid, 4u);
}

TEST(SessionTrackerTest, ImportRespectsTheBound) {
  SessionTracker big;
  std::vector<SessionCount> counts;
  for (int i = 0; i < 20; ++i) {
    big.Apply(kProject, Update(300 + i, SessionStatus::kOk, kT0, kT0 + i),
              kT0 + i, &counts);
  }
  TrackerOptions small;
  small.max_open = 5;
  SessionTracker tracker(small);
  SessionTracker::ImportResult r = tracker.Import(big.Export(), kT0 + 30);
  EXPECT_EQ(r.imported, 20u);
  EXPECT_EQ(r.counts.size(), 15u);
  EXPECT_EQ(tracker.open_count(), 5u);
}

TEST(MergeSessionUpdateTest, PureCore) {
  TrackerOptions options;
  MergeResult m =
      MergeSessionUpdate(std::nullopt, kProject,
                         Update(1, SessionStatus::kOk, kT0, kT0), kT0, options);
  ASSERT_EQ(m.action, MergeResult::Action::kStore);
  EXPECT_FALSE(m.count);
  EXPECT_FALSE(m.record.closed);
  EXPECT_EQ(RecordDeadline(m.record, options), kT0 + 8 * 3600);

  MergeResult end = MergeSessionUpdate(
      m.record, kProject, Update(1, SessionStatus::kExited, kT0, kT0 + 9),
      kT0 + 9, options);
  ASSERT_EQ(end.action, MergeResult::Action::kStore);
  ASSERT_TRUE(end.count);
  EXPECT_TRUE(end.record.closed);
  EXPECT_EQ(end.record.forget_at, kT0 + 5 * 86400 + 120);

  MergeResult again = MergeSessionUpdate(
      end.record, kProject, Update(1, SessionStatus::kExited, kT0, kT0 + 9),
      kT0 + 10, options);
  EXPECT_EQ(again.action, MergeResult::Action::kIgnore);
  EXPECT_FALSE(again.count);

  SessionRecord open = m.record;
  SessionCount c =
      CloseAbnormal(&open, SessionCount::Reason::kTimedOut, options);
  EXPECT_EQ(c.status, CountedStatus::kAbnormal);
  EXPECT_TRUE(open.closed);
}

}  // namespace
}  // namespace crashctl::releases
