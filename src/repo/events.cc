#include "repo/events.h"

#include <algorithm>

#include "core/strings.h"
#include "repo/settings.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns =
    "e.seq, e.id, e.space_id, e.category, e.message, e.user_id, e.username, e.occurred";

EventRow ReadEvent(const db::Row& r) {
  EventRow e;
  e.seq = r.GetInt("seq");
  e.id = r.GetString("id");
  e.space_id = r.GetOptionalString("space_id");
  e.category = r.GetString("category");
  e.message = r.GetString("message");
  e.user_id = r.GetString("user_id");
  e.username = r.GetString("username");
  e.occurred = r.GetInt("occurred");
  return e;
}

// Each event's related documents, in one statement per page.
Result<void> LoadDocuments(db::Database& db, std::vector<EventRow>& events) {
  if (events.empty()) return {};
  std::string list;  // integers the database gave us: nothing to quote
  for (const auto& e : events) {
    if (!list.empty()) list += ',';
    list += std::to_string(e.seq);
  }
  CUTTLE_TRY(auto rows, db.Execute("SELECT event_seq, document_id FROM event_documents "
                                   "WHERE event_seq IN (" +
                                   list + ") ORDER BY event_seq, document_id"));
  for (const auto& r : rows.rows) {
    const int64_t seq = r.GetInt(0);
    for (auto& e : events) {
      if (e.seq == seq) e.related_document_ids.push_back(r.GetString(1));
    }
  }
  return {};
}

}  // namespace

Result<EventRow> InsertEvent(db::Transaction& tx, EventRow event) {
  CUTTLE_TRY(event.seq, NextSequenceValue(tx, "Events"));
  event.id = "Events-" + std::to_string(event.seq);
  db::Value space = event.space_id ? db::Value(*event.space_id) : db::Value(std::monostate{});
  CUTTLE_TRY(auto rows, tx.Execute("INSERT INTO events (seq, id, space_id, category, message, "
                                   "user_id, username, occurred) VALUES ($1, $2, $3, $4, $5, $6, "
                                   "$7, now_ms()) RETURNING occurred",
                                   {event.seq, event.id, space, event.category, event.message,
                                    event.user_id, event.username}));
  event.occurred = rows.front().GetInt(0);
  std::vector<std::string> seen;
  for (const auto& doc : event.related_document_ids) {
    if (doc.empty() || std::find(seen.begin(), seen.end(), doc) != seen.end()) continue;
    seen.push_back(doc);
    CUTTLE_TRY_VOID(tx.Execute(
        "INSERT INTO event_documents (event_seq, document_id) VALUES ($1, $2)", {event.seq, doc}));
  }
  event.related_document_ids = std::move(seen);
  return event;
}

Result<Page<EventRow>> ListEvents(db::Database& db, const EventFilter& f, const PageQuery& q) {
  Where w;
  w.ListFilters(q, "e.id", "e.message");
  auto regarding_any = [&w](const std::vector<std::string>& ids) {
    std::string sub =
        "e.seq IN (SELECT d.event_seq FROM event_documents d WHERE d.document_id IN (";
    for (size_t i = 0; i < ids.size(); ++i) sub += i ? ",{}" : "{}";
    if (ids.empty()) sub += "NULL";
    sub += "))";
    w.AddList(sub, std::vector<db::Value>(ids.begin(), ids.end()));
  };
  if (f.regarding) regarding_any(*f.regarding);
  if (f.regarding_all) {
    for (const auto& id : *f.regarding_all) regarding_any({id});
  }
  for (const auto& group : f.regarding_any_groups) regarding_any(group);
  if (f.document_types) {
    // An id is "<Type>-<n>": its type is the part before the dash (any case).
    std::string sub = "e.seq IN (SELECT d.event_seq FROM event_documents d WHERE ";
    std::vector<db::Value> prefixes;
    for (const auto& type : *f.document_types) {
      sub += prefixes.empty() ? "lower(d.document_id) LIKE {}" : " OR lower(d.document_id) LIKE {}";
      prefixes.emplace_back(core::ToLower(type) + "-%");
    }
    if (prefixes.empty()) sub += "1 = 0";
    sub += ")";
    w.AddList(sub, std::move(prefixes));
  }
  if (f.users) w.In("e.user_id", *f.users);
  if (f.categories) w.InIgnoreCase("e.category", *f.categories);
  if (f.spaces) w.In("e.space_id", *f.spaces);
  if (f.from) w.Add("e.occurred >= {}", *f.from);
  if (f.to) w.Add("e.occurred <= {}", *f.to);
  CUTTLE_TRY(auto page,
             SelectPage<EventRow>(db, kColumns, "events e", w, "e.seq DESC", q, ReadEvent));
  CUTTLE_TRY_VOID(LoadDocuments(db, page.items));
  return page;
}

Result<std::optional<EventRow>> FindEvent(db::Database& db, const std::string& id) {
  CUTTLE_TRY(auto rows, db.Execute(std::string("SELECT ") + kColumns +
                                       " FROM events e WHERE lower(e.id) = lower($1)",
                                   {id}));
  if (rows.empty()) return std::optional<EventRow>();
  std::vector<EventRow> one{ReadEvent(rows.front())};
  CUTTLE_TRY_VOID(LoadDocuments(db, one));
  return std::optional<EventRow>(std::move(one.front()));
}

}  // namespace cuttle::repo
