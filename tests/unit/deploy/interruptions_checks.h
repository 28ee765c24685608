// The checks of parking and of the interruptions store (migration 0012, deploy/interruptions.h,
// TaskQueue::ParkIn/UnparkIn), shared by the SQLite test (interruptions_test.cc) and the
// PostgreSQL one (interruptions_pgtest.cc). Each check takes a fresh migrated database.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "db/database.h"
#include "deploy/interruptions.h"
#include "tasks/task_queue.h"

namespace cuttle::deploy::checks {

using nlohmann::json;
using tasks::Lease;
using tasks::Task;
using tasks::TaskQueue;
using tasks::TaskState;

inline tasks::NewTask DeployTask(std::string tag = "Projects-1/Environments-1") {
  tasks::NewTask t;
  t.name = "Deploy";
  t.description = "Deploy 1.0.0 to Dev";
  t.arguments = {{"DeploymentId", "Deployments-1"}};
  t.concurrency_tag = std::move(tag);
  return t;
}

// Enqueues a task and claims it for `node`: the lease it runs under.
inline Lease Running(TaskQueue& q, const tasks::NewTask& n, const std::string& node = "n1") {
  auto t = q.Enqueue(n);
  EXPECT_TRUE(t) << t.error().message();
  auto c = q.Claim(node);
  EXPECT_TRUE(c && *c);
  EXPECT_EQ((*c)->id, t->id);
  return Lease{(*c)->id, node, (*c)->claim_epoch};
}

inline NewInterruption Manual(const Lease& lease, std::string unit = "1/Actions-1/worker") {
  NewInterruption n;
  n.space_id = "Spaces-1";
  n.task_id = lease.task_id;
  n.unit_key = std::move(unit);
  n.type = InterruptionType::kManualIntervention;
  n.title = "Approve the release";
  n.details = {{"Instructions", "Check the **release notes**."}};
  return n;
}

inline NewInterruption Guided(const Lease& lease, bool can_ignore,
                              std::string unit = "2/Actions-2/Machines-1") {
  NewInterruption n = Manual(lease, std::move(unit));
  n.type = InterruptionType::kGuidedFailure;
  n.title = "Step 2 failed on web-01: requires failure guidance";
  n.details = {{"CanIgnore", can_ignore}};
  return n;
}

inline Task Get(TaskQueue& q, const std::string& id) { return q.Get(id).value().value(); }

inline int64_t CountInterruptions(db::Database& db) {
  return db.Execute("SELECT COUNT(*) FROM interruptions").value().front().GetInt(0);
}

// A parked task is Queued with no node; no node claims it, it keeps its concurrency tag (so no
// other deployment of the project to the environment starts), its queue expiry does not time it
// out, and the reaper does not see it as an orphan.
inline void ParkedTaskIsUnclaimableHoldsItsTagAndNeverExpiresOrOrphans(db::Database& db) {
  TaskQueue q(db);
  Lease lease = Running(q, DeployTask());
  auto raised = RaiseAndPark(db, lease, Manual(lease));
  ASSERT_TRUE(raised) << raised.error().message();
  EXPECT_TRUE(raised->is_pending);
  EXPECT_EQ(raised->id, "Interruptions-1");
  Task parked = Get(q, lease.task_id);
  EXPECT_EQ(parked.state, TaskState::kQueued);
  EXPECT_TRUE(parked.parked);
  EXPECT_TRUE(parked.server_node.empty());
  EXPECT_TRUE(parked.start_time.has_value()) << "parking keeps the start time";

  auto other = q.Enqueue(DeployTask());  // the same project and environment
  auto free = q.Enqueue(DeployTask("Projects-2/Environments-1"));
  ASSERT_TRUE(other && free);
  auto claimed = q.ClaimUpTo("n2", 10);
  ASSERT_TRUE(claimed) << claimed.error().message();
  ASSERT_EQ(claimed->size(), 1u) << "only the task of another tag";
  EXPECT_EQ(claimed->front().id, free->id);
  EXPECT_FALSE(q.Claim("n3").value().has_value());

  // Its queue time expiry passed long ago: parked, it is not timed out (the queued one is).
  ASSERT_TRUE(db.Execute("UPDATE server_tasks SET queue_time_expiry = 1 WHERE id IN ($1, $2)",
                         {lease.task_id, other->id}));
  EXPECT_EQ(q.ExpireQueued().value(), 1);
  EXPECT_EQ(Get(q, lease.task_id).state, TaskState::kQueued);
  EXPECT_EQ(Get(q, other->id).state, TaskState::kTimedOut);

  // No node is alive at all: every active task would be an orphan, but not the parked one.
  auto orphans = q.FindOrphans(1, std::nullopt);
  ASSERT_TRUE(orphans);
  for (const auto& t : *orphans) EXPECT_NE(t.id, lease.task_id);
  auto load = q.Load(1000).value();
  EXPECT_EQ(load.pending, 0) << "a parked task is not waiting for a node";
}

// RaiseAndPark writes only under a lease that holds and only while the task is Executing.
inline void RaiseAndParkIsFenced(db::Database& db) {
  TaskQueue q(db);
  Lease lease = Running(q, DeployTask());
  Lease stale = lease;
  stale.epoch = lease.epoch + 1;
  auto r = RaiseAndPark(db, stale, Manual(stale));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kLostOwnership);
  Lease elsewhere = lease;
  elsewhere.node = "n2";
  r = RaiseAndPark(db, elsewhere, Manual(elsewhere));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kLostOwnership);
  EXPECT_EQ(CountInterruptions(db), 0) << "a stale lease writes nothing";
  EXPECT_EQ(Get(q, lease.task_id).state, TaskState::kExecuting);

  // Being cancelled: the lease still holds (Cancelling), but the task is not parked.
  ASSERT_EQ(q.Cancel(lease.task_id).value().state, TaskState::kCancelling);
  r = RaiseAndPark(db, lease, Guided(lease, true));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kLostOwnership);
  EXPECT_EQ(CountInterruptions(db), 0);
  Task t = Get(q, lease.task_id);
  EXPECT_EQ(t.state, TaskState::kCancelling);
  EXPECT_FALSE(t.parked);
  EXPECT_EQ(t.server_node, "n1");
}

// Raising again for the same unit, attempt and type finds the row already raised: an adopting
// node parks on the pending one without a second prompt, and reads an answered one instead of
// parking.
inline void RaisingAgainReusesTheRow(db::Database& db) {
  TaskQueue q(db);
  Lease lease = Running(q, DeployTask());
  auto first = RaiseAndPark(db, lease, Guided(lease, false));
  ASSERT_TRUE(first) << first.error().message();
  // Resumed without an answer (as if by an operator): the owner raises the same prompt again.
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool unparked, TaskQueue::UnparkIn(tx, lease.task_id));
    EXPECT_TRUE(unparked);
    return {};
  }));
  auto c = q.Claim("n2").value();
  ASSERT_TRUE(c);
  Lease second_lease{c->id, "n2", c->claim_epoch};
  EXPECT_EQ(second_lease.epoch, lease.epoch + 1);
  auto again = RaiseAndPark(db, second_lease, Guided(second_lease, false));
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(CountInterruptions(db), 1);
  EXPECT_TRUE(Get(q, lease.task_id).parked);

  // Another attempt of the unit is another prompt.
  ASSERT_TRUE(SubmitInterruption(db, q, first->id, "Users-1", {{"Guidance", "Retry"}}));
  c = q.Claim("n3").value();
  ASSERT_TRUE(c);
  Lease third{c->id, "n3", c->claim_epoch};
  // The answered prompt, raised again (the owner died before reading the answer): no parking.
  auto answered = RaiseAndPark(db, third, Guided(third, false));
  ASSERT_TRUE(answered) << answered.error().message();
  EXPECT_EQ(answered->id, first->id);
  EXPECT_FALSE(answered->is_pending);
  EXPECT_EQ(Answer(*answered), "Retry");
  EXPECT_EQ(Get(q, lease.task_id).state, TaskState::kExecuting);
  NewInterruption next = Guided(third, false);
  next.attempt = 2;
  auto retried = RaiseAndPark(db, third, next);
  ASSERT_TRUE(retried) << retried.error().message();
  EXPECT_NE(retried->id, first->id);
  EXPECT_TRUE(retried->is_pending);
  EXPECT_EQ(CountInterruptions(db), 2);
  auto found = ForUnit(db, lease.task_id, next.unit_key, 2, InterruptionType::kGuidedFailure);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, retried->id);
}

// Answers are validated against the interruption's type; a bad one changes nothing.
inline void SubmitValidatesTheAnswer(db::Database& db) {
  TaskQueue q(db);
  Lease a = Running(q, DeployTask("A"));
  auto manual = RaiseAndPark(db, a, Manual(a)).value();
  Lease b = Running(q, DeployTask("B"));
  auto required = RaiseAndPark(db, b, Guided(b, false)).value();
  Lease c = Running(q, DeployTask("C"));
  auto optional = RaiseAndPark(db, c, Guided(c, true)).value();

  auto refused = [&](const std::string& id, const json& values) {
    auto r = SubmitInterruption(db, q, id, "Users-1", values);
    ASSERT_FALSE(r) << id << " accepted " << values.dump();
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << values.dump();
  };
  refused(manual.id, {{"Result", "Maybe"}});
  refused(manual.id, {{"Guidance", "Retry"}});
  refused(manual.id, json::object());
  refused(manual.id, json::array({"Proceed"}));
  refused(manual.id, {{"Result", 1}});
  refused(required.id, {{"Guidance", "Ignore"}});
  refused(required.id, {{"Guidance", "Exclude"}});
  refused(required.id, {{"Result", "Proceed"}});
  for (const auto* id : {&manual.id, &required.id, &optional.id}) {
    EXPECT_TRUE(GetInterruption(db, *id).value()->is_pending);
  }
  for (const auto& lease : {a, b, c}) EXPECT_TRUE(Get(q, lease.task_id).parked);

  auto unknown = SubmitInterruption(db, q, "Interruptions-99", "Users-1", {{"Result", "Proceed"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);

  // Names and values match case-insensitively, and are stored as Octopus spells them.
  auto ok = SubmitInterruption(db, q, manual.id, "Users-1",
                               {{"result", "proceed"}, {"notes", "looks good"}});
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_FALSE(ok->is_pending);
  EXPECT_EQ(Answer(*ok), "Proceed");
  EXPECT_EQ(ok->result, json({{"Result", "Proceed"}, {"Notes", "looks good"}}));
  EXPECT_EQ(ok->submitted_by, "Users-1");
  EXPECT_EQ(ok->responsible_user_id, "Users-1") << "the submitter becomes responsible";
  ASSERT_TRUE(SubmitInterruption(db, q, required.id, "Users-1", {{"Guidance", "Fail"}}));
  auto ignored = SubmitInterruption(db, q, optional.id, "Users-1", {{"Guidance", "Ignore"}});
  ASSERT_TRUE(ignored) << ignored.error().message();
  EXPECT_EQ(Answer(*ignored), "Ignore");

  // A second answer is refused, and the first stands.
  auto twice = SubmitInterruption(db, q, manual.id, "Users-1", {{"Result", "Abort"}});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(Answer(GetInterruption(db, manual.id).value().value()), "Proceed");
  auto late = TakeResponsibility(db, manual.id, "Users-2");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kConflict);
}

// Only the responsible user (or anyone, while nobody is) may answer; responsibility may be taken
// over.
inline void ResponsibilityDecidesWhoAnswers(db::Database& db) {
  TaskQueue q(db);
  Lease lease = Running(q, DeployTask());
  auto i = RaiseAndPark(db, lease, Manual(lease)).value();
  EXPECT_TRUE(i.responsible_user_id.empty());
  auto taken = TakeResponsibility(db, i.id, "Users-1");
  ASSERT_TRUE(taken) << taken.error().message();
  EXPECT_EQ(taken->responsible_user_id, "Users-1");
  auto other = SubmitInterruption(db, q, i.id, "Users-2", {{"Result", "Abort"}});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kConflict);
  EXPECT_TRUE(GetInterruption(db, i.id).value()->is_pending);
  EXPECT_TRUE(Get(q, lease.task_id).parked);
  ASSERT_TRUE(TakeResponsibility(db, i.id, "Users-2"));
  auto answered = SubmitInterruption(db, q, i.id, "Users-2", {{"Result", "Abort"}});
  ASSERT_TRUE(answered) << answered.error().message();
  EXPECT_EQ(Answer(*answered), "Abort");
  EXPECT_EQ(answered->responsible_user_id, "Users-2");
  auto missing = TakeResponsibility(db, "Interruptions-99", "Users-1");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

// The answer un-parks the task in its transaction: it is claimable at once, by any node, under a
// new epoch, and the old lease stays dead.
inline void SubmitUnparksTheTaskForANewClaim(db::Database& db) {
  TaskQueue q(db);
  Lease lease = Running(q, DeployTask());
  int64_t started = Get(q, lease.task_id).start_time.value();
  auto i = RaiseAndPark(db, lease, Manual(lease)).value();
  EXPECT_FALSE(q.Claim("n2").value().has_value());
  ASSERT_TRUE(SubmitInterruption(db, q, i.id, "Users-1", {{"Result", "Proceed"}}));
  Task after = Get(q, lease.task_id);
  EXPECT_EQ(after.state, TaskState::kQueued);
  EXPECT_FALSE(after.parked);
  auto c = q.Claim("n2").value();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->id, lease.task_id);
  EXPECT_EQ(c->claim_epoch, lease.epoch + 1);
  EXPECT_EQ(c->start_time, started) << "the task started when it was first claimed";
  EXPECT_FALSE(c->work_started);
  // The first owner's lease does not hold.
  auto stale = q.Touch(lease, false);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kLostOwnership);
}

// A deployment's QueueTimeExpiry is when it must have started. Once it has, neither a late answer
// nor an adoption after its node died times it out.
inline void AStartedDeploymentOutlivesItsQueueExpiry(db::Database& db) {
  TaskQueue q(db);
  tasks::NewTask n = DeployTask();
  n.idempotent = true;  // deployments are resumable
  n.queue_time_expiry = db.NowMillis().value() + 60'000;
  Lease lease = Running(q, n);
  // The expiry passes while the task waits for an answer.
  ASSERT_TRUE(
      db.Execute("UPDATE server_tasks SET queue_time_expiry = 1 WHERE id = $1", {lease.task_id}));
  auto i = RaiseAndPark(db, lease, Manual(lease)).value();
  ASSERT_TRUE(SubmitInterruption(db, q, i.id, "Users-1", {{"Result", "Proceed"}}));
  EXPECT_EQ(q.ExpireQueued().value(), 0);
  auto c = q.Claim("n2").value();
  ASSERT_TRUE(c) << "the answered deployment is claimed despite its old expiry";
  // Its node dies mid-run with an expiry set again: the adoption re-queue clears it too.
  ASSERT_TRUE(db.Execute("UPDATE server_tasks SET queue_time_expiry = 1 WHERE id = $1", {c->id}));
  ASSERT_TRUE(q.Requeue(Lease{c->id, "n2", c->claim_epoch}));
  EXPECT_EQ(q.ExpireQueued().value(), 0);
  auto adopted = q.Claim("n3").value();
  ASSERT_TRUE(adopted);
  EXPECT_EQ(adopted->id, lease.task_id);
}

// An answer that arrives after the task was cancelled (before its prompts were closed) is refused
// and recorded nowhere: nothing will resume the task.
inline void AnAnswerToACancelledTaskIsRefused(db::Database& db) {
  TaskQueue q(db);
  Lease lease = Running(q, DeployTask());
  auto i = RaiseAndPark(db, lease, Manual(lease)).value();
  ASSERT_TRUE(q.Cancel(lease.task_id));
  auto late = SubmitInterruption(db, q, i.id, "Users-1", {{"Result", "Proceed"}});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kConflict);
  EXPECT_NE(late.error().message().find("no longer waiting"), std::string::npos);
  EXPECT_TRUE(GetInterruption(db, i.id).value()->is_pending) << "the answer was rolled back";
}

// Cancelling a parked task ends it at once, frees its concurrency tag and closes its prompts.
inline void CancellingAParkedTaskEndsItAndClosesItsInterruptions(db::Database& db) {
  TaskQueue q(db);
  Lease lease = Running(q, DeployTask());
  auto i = RaiseAndPark(db, lease, Manual(lease)).value();
  auto next = q.Enqueue(DeployTask());
  ASSERT_TRUE(next);
  auto canceled = q.Cancel(lease.task_id);
  ASSERT_TRUE(canceled);
  EXPECT_EQ(canceled->state, TaskState::kCanceled);
  EXPECT_FALSE(canceled->parked);
  EXPECT_TRUE(canceled->completed_time.has_value());
  EXPECT_EQ(ClosePendingInterruptions(db, lease.task_id).value(), 1);
  EXPECT_FALSE(GetInterruption(db, i.id).value()->is_pending);
  EXPECT_TRUE(PendingInterruptionTypes(db, {lease.task_id}).value().empty());
  auto late = SubmitInterruption(db, q, i.id, "Users-1", {{"Result", "Proceed"}});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(Get(q, lease.task_id).state, TaskState::kCanceled);
  auto c = q.Claim("n2").value();
  ASSERT_TRUE(c) << "the tag is free again";
  EXPECT_EQ(c->id, next->id);
}

// Listing: newest first, by task, pending only; and each task's pending types.
inline void ListsAndPendingTypes(db::Database& db) {
  TaskQueue q(db);
  Lease a = Running(q, DeployTask("A"));
  auto ia = RaiseAndPark(db, a, Manual(a)).value();
  Lease b = Running(q, DeployTask("B"));
  auto ib = RaiseAndPark(db, b, Guided(b, true)).value();
  ASSERT_TRUE(SubmitInterruption(db, q, ia.id, "Users-1", {{"Result", "Proceed"}}));
  InterruptionFilter f;
  auto all = ListInterruptions(db, f).value();
  ASSERT_EQ(all.total, 2);
  EXPECT_EQ(all.items[0].id, ib.id);
  EXPECT_EQ(all.items[1].id, ia.id);
  f.pending_only = true;
  auto pending = ListInterruptions(db, f).value();
  ASSERT_EQ(pending.total, 1);
  EXPECT_EQ(pending.items[0].id, ib.id);
  f.pending_only = false;
  f.task_ids = {a.task_id};
  auto of_a = ListInterruptions(db, f).value();
  ASSERT_EQ(of_a.total, 1);
  EXPECT_EQ(of_a.items[0].id, ia.id);
  auto types = PendingInterruptionTypes(db, {a.task_id, b.task_id}).value();
  EXPECT_EQ(types.size(), 1u);
  EXPECT_EQ(types[b.task_id], std::vector<std::string>{"GuidedFailure"});
}

// The task list filters as the API shows tasks: a parked task counts as Executing (and running),
// not as Queued; hasPendingInterruptions finds the tasks waiting for an answer.
inline void TaskListShowsParkedTasksAsExecuting(db::Database& db) {
  TaskQueue q(db);
  Lease parked = Running(q, DeployTask("A"));
  ASSERT_TRUE(RaiseAndPark(db, parked, Manual(parked)));
  Lease running = Running(q, DeployTask("B"));
  auto queued = q.Enqueue(DeployTask("A"));  // waits for A's tag
  ASSERT_TRUE(queued);
  auto ids = [&](tasks::TaskFilter f) {
    std::vector<std::string> out;
    auto page = q.List(f);
    EXPECT_TRUE(page) << page.error().message();
    for (const auto& t : page->items) out.push_back(t.id);
    return out;
  };
  using V = std::vector<std::string>;
  tasks::TaskFilter f;
  f.states = {TaskState::kExecuting};
  EXPECT_EQ(ids(f), (V{running.task_id, parked.task_id}));
  f.states = {TaskState::kQueued};
  EXPECT_EQ(ids(f), (V{queued->id}));
  f.states = {TaskState::kQueued, TaskState::kExecuting};
  EXPECT_EQ(ids(f), (V{queued->id, running.task_id, parked.task_id}));
  f.states = {TaskState::kSuccess};
  EXPECT_EQ(ids(f), V{});
  f.states.clear();
  f.running = true;
  EXPECT_EQ(ids(f), (V{running.task_id, parked.task_id}));
  f.running = false;
  f.has_pending_interruptions = true;
  EXPECT_EQ(ids(f), (V{parked.task_id}));
  f.has_pending_interruptions = false;
  EXPECT_EQ(ids(f), (V{queued->id, running.task_id}));
}

}  // namespace cuttle::deploy::checks
