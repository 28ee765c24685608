#include "deploy/interruptions.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "core/ids.h"
#include "core/json.h"
#include "core/strings.h"
#include "repo/settings.h"

namespace cuttle::deploy {

using nlohmann::json;

namespace {

constexpr const char* kColumns =
    "id, seq, space_id, task_id, unit_key, attempt, type, title, json, is_pending, "
    "responsible_user_id, created, submitted_by, submitted, result";

Interruption ReadInterruption(const db::Row& r) {
  Interruption i;
  i.id = r.GetString("id");
  i.seq = r.GetInt("seq");
  i.space_id = r.GetString("space_id");
  i.task_id = r.GetString("task_id");
  i.unit_key = r.GetString("unit_key");
  i.attempt = r.GetInt("attempt");
  i.type = r.GetString("type") == "GuidedFailure" ? InterruptionType::kGuidedFailure
                                                  : InterruptionType::kManualIntervention;
  i.title = r.GetString("title");
  i.details = core::ParseJson(r.GetString("json")).value_or(json::object());
  if (!i.details.is_object()) i.details = json::object();
  i.is_pending = r.GetBool("is_pending");
  i.responsible_user_id = r.GetString("responsible_user_id");
  i.created = r.GetInt("created");
  i.submitted_by = r.GetString("submitted_by");
  i.submitted = r.GetOptionalInt("submitted");
  i.result = core::ParseJson(r.GetString("result")).value_or(json::object());
  if (!i.result.is_object()) i.result = json::object();
  return i;
}

Result<std::optional<Interruption>> One(db::Database& db, const std::string& sql,
                                        const db::Params& params) {
  CUTTLE_TRY(auto rs, db.Execute(sql, params));
  if (rs.empty()) return std::optional<Interruption>();
  return std::optional<Interruption>(ReadInterruption(rs.front()));
}

// The value of form field `name` as text ("" if absent or not text).
std::string FormValue(const json& values, std::string_view name) {
  const json* v = core::FindKeyIgnoreCase(values, name);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// `value` spelled as the matching entry of `allowed`, or "" if none matches.
template <size_t N>
std::string Canonical(std::string_view value, const std::array<const char*, N>& allowed) {
  for (const char* a : allowed) {
    if (core::EqualsIgnoreCase(value, a)) return a;
  }
  return {};
}

constexpr std::array<const char*, 2> kManualAnswers = {"Proceed", "Abort"};
constexpr std::array<const char*, 4> kGuidance = {"Fail", "Retry", "Ignore", "Exclude"};

}  // namespace

const char* InterruptionTypeName(InterruptionType type) {
  return type == InterruptionType::kGuidedFailure ? "GuidedFailure" : "ManualIntervention";
}

Result<Interruption> RaiseAndPark(db::Database& db, const tasks::Lease& lease,
                                  const NewInterruption& n) {
  std::optional<Interruption> raised;
  CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    raised.reset();
    CUTTLE_TRY(auto existing,
               tx.Execute(std::string("SELECT ") + kColumns +
                              " FROM interruptions WHERE task_id = $1 AND unit_key = $2 AND "
                              "attempt = $3 AND type = $4",
                          {n.task_id, n.unit_key, n.attempt, InterruptionTypeName(n.type)}));
    if (!existing.empty()) {
      raised = ReadInterruption(existing.front());
    } else {
      CUTTLE_TRY(auto seq, repo::NextSequenceValue(tx, "Interruptions"));
      CUTTLE_TRY(auto rs,
                 tx.Execute(std::string("INSERT INTO interruptions (id, seq, space_id, "
                                        "task_id, unit_key, attempt, type, title, json, "
                                        "created) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                                        "$8, $9, now_ms()) RETURNING ") +
                                kColumns,
                            {core::MakeId("Interruptions", seq), seq, n.space_id, n.task_id,
                             n.unit_key, n.attempt, InterruptionTypeName(n.type), n.title,
                             core::DumpJson(n.details)}));
      raised = ReadInterruption(rs.front());
    }
    // An interruption already answered (the answer arrived, then the owner died before reading
    // it) does not park the task: the caller reads the answer instead.
    if (!raised->is_pending) return {};
    return tasks::TaskQueue::ParkIn(tx, lease, n.has_warnings_or_errors);
  }));
  return std::move(*raised);
}

Result<std::optional<Interruption>> ForUnit(db::Database& db, const std::string& task_id,
                                            const std::string& unit_key, int64_t attempt,
                                            InterruptionType type) {
  return One(db,
             std::string("SELECT ") + kColumns +
                 " FROM interruptions WHERE task_id = $1 AND unit_key = $2 AND attempt = $3 AND "
                 "type = $4",
             {task_id, unit_key, attempt, InterruptionTypeName(type)});
}

Result<std::optional<Interruption>> GetInterruption(db::Database& db, const std::string& id) {
  return One(db, std::string("SELECT ") + kColumns + " FROM interruptions WHERE lower(id) = $1",
             {core::ToLower(id)});
}

Result<repo::Page<Interruption>> ListInterruptions(db::Database& db, const InterruptionFilter& f) {
  repo::Where w;
  if (f.space_id) w.Add("space_id = {}", *f.space_id);
  if (!f.task_ids.empty()) w.InIgnoreCase("task_id", f.task_ids);
  if (f.pending_only) w.Raw("is_pending");
  w.ListFilters(f.page, "id", "title");
  return repo::SelectPage<Interruption>(db, kColumns, "interruptions", w, "seq DESC", f.page,
                                        ReadInterruption);
}

Result<Interruption> TakeResponsibility(db::Database& db, const std::string& id,
                                        const std::string& user_id) {
  CUTTLE_TRY(auto found, GetInterruption(db, id));
  if (!found) return Fail(Error::NotFound("Interruption", id));
  CUTTLE_TRY(auto rs, db.Execute(std::string("UPDATE interruptions SET responsible_user_id = $2 "
                                             "WHERE id = $1 AND is_pending RETURNING ") +
                                     kColumns,
                                 {found->id, user_id}));
  if (rs.empty()) {
    return Fail(
        Error::Conflict(fmt::format("The interruption {} has already been answered.", found->id)));
  }
  return ReadInterruption(rs.front());
}

std::string Answer(const Interruption& i) {
  if (i.is_pending) return {};
  if (i.type == InterruptionType::kManualIntervention) {
    return Canonical(FormValue(i.result, "Result"), kManualAnswers);
  }
  return Canonical(FormValue(i.result, "Guidance"), kGuidance);
}

Result<Interruption> SubmitInterruption(db::Database& db, tasks::TaskQueue& queue,
                                        const std::string& id, const std::string& user_id,
                                        const json& values) {
  return SubmitInterruption(db, queue, id, user_id, values, SubmitHook());
}

Result<Interruption> SubmitInterruption(db::Database& db, tasks::TaskQueue& queue,
                                        const std::string& id, const std::string& user_id,
                                        const json& values, const SubmitHook& also) {
  CUTTLE_TRY(auto found, GetInterruption(db, id));
  if (!found) return Fail(Error::NotFound("Interruption", id));
  if (!values.is_object()) {
    return Fail(
        Error::InvalidArgument("The interruption's answer must be a JSON object of form "
                               "values."));
  }
  json answer = json::object();
  if (found->type == InterruptionType::kManualIntervention) {
    std::string result = Canonical(FormValue(values, "Result"), kManualAnswers);
    if (result.empty()) {
      return Fail(Error::InvalidArgument(
          "A manual intervention is answered with Result set to Proceed or Abort."));
    }
    answer["Result"] = result;
  } else {
    std::string guidance = Canonical(FormValue(values, "Guidance"), kGuidance);
    if (guidance.empty()) {
      return Fail(Error::InvalidArgument(
          "A guided failure is answered with Guidance set to Fail, Retry, Ignore or Exclude."));
    }
    if ((guidance == "Ignore" || guidance == "Exclude") &&
        !core::FlagMember(found->details, "CanIgnore")) {
      return Fail(Error::InvalidArgument(fmt::format(
          "{} is not offered here: the failed step is required, so it can only be retried or "
          "failed.",
          guidance)));
    }
    answer["Guidance"] = guidance;
  }
  if (std::string notes = FormValue(values, "Notes"); !notes.empty()) answer["Notes"] = notes;
  std::optional<Interruption> submitted;
  CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    submitted.reset();
    CUTTLE_TRY(auto rs,
               tx.Execute(std::string("UPDATE interruptions SET is_pending = $3, result = $4, "
                                      "submitted_by = $2, submitted = now_ms(), "
                                      "responsible_user_id = COALESCE(responsible_user_id, $2) "
                                      "WHERE id = $1 AND is_pending AND (responsible_user_id IS "
                                      "NULL OR responsible_user_id = $2) RETURNING ") +
                              kColumns,
                          {found->id, user_id, false, answer.dump()}));
    if (rs.empty()) return {};
    submitted = ReadInterruption(rs.front());
    // The answer and the task's release commit together: an answered interruption never leaves
    // its task parked.
    CUTTLE_TRY(auto unparked, tasks::TaskQueue::UnparkIn(tx, submitted->task_id));
    if (!unparked) {
      // Cancelled between the prompt and the answer: nothing will resume, so the answer (rolled
      // back with this error) must not look accepted.
      return Fail(Error::Conflict(fmt::format(
          "The task {} is no longer waiting for this answer: it was cancelled or has ended.",
          submitted->task_id)));
    }
    if (also) CUTTLE_TRY_VOID(also(tx, *submitted));
    return {};
  }));
  if (!submitted) {
    CUTTLE_TRY(auto now, GetInterruption(db, found->id));
    if (now && now->is_pending) {
      return Fail(Error::Conflict(fmt::format(
          "{} is responsible for the interruption {}: take responsibility for it first.",
          now->responsible_user_id, found->id)));
    }
    return Fail(
        Error::Conflict(fmt::format("The interruption {} has already been answered.", found->id)));
  }
  queue.Announce(submitted->task_id);
  return std::move(*submitted);
}

Result<int64_t> ClosePendingInterruptions(db::Database& db, const std::string& task_id) {
  CUTTLE_TRY(auto rs, db.Execute("UPDATE interruptions SET is_pending = $2, submitted = now_ms() "
                                 "WHERE task_id = $1 AND is_pending",
                                 {task_id, false}));
  return rs.affected;
}

Result<std::map<std::string, std::vector<std::string>>> PendingInterruptionTypes(
    db::Database& db, const std::vector<std::string>& task_ids) {
  std::map<std::string, std::vector<std::string>> out;
  if (task_ids.empty()) return out;
  repo::Where w;
  w.In("task_id", task_ids);
  w.Raw("is_pending");
  CUTTLE_TRY(auto rs, db.Execute(std::string("SELECT task_id, type FROM interruptions") + w.Sql() +
                                     " ORDER BY seq",
                                 w.params()));
  for (const auto& r : rs.rows) {
    auto& types = out[r.GetString(0)];
    std::string type = r.GetString(1);
    if (std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
  }
  return out;
}

}  // namespace cuttle::deploy
