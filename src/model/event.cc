#include "model/event.h"

#include "core/strings.h"

namespace cuttle::model {

nlohmann::json EventJson(const repo::EventRow& e) {
  using nlohmann::json;
  return {{"Id", e.id},
          {"Category", e.category},
          {"Message", e.message},
          {"MessageHtml", core::EscapeMarkup(e.message)},
          {"MessageReferences", json::array()},
          {"RelatedDocumentIds", e.related_document_ids},
          {"UserId", e.user_id},
          {"Username", e.username},
          {"IsService", e.user_id == "users-system"},
          {"IdentityEstablishedWith", "API key"},
          {"UserAgent", ""},
          {"IpAddress", ""},
          {"Occurred", core::FormatIso8601(e.occurred)},
          {"Comments", nullptr},
          {"Details", nullptr},
          {"ChangeDetails", {{"Differences", nullptr}, {"DocumentContext", nullptr}}},
          {"SpaceId", e.space_id ? json(*e.space_id) : json()},
          {"Links", {{"Self", "/api/events/" + e.id}}}};
}

}  // namespace cuttle::model
