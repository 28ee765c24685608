#include "api/handlers.h"
#include "api/kit.h"

namespace cuttle::api {

json UserJson(const repo::UserRow& user, bool is_requestor) {
  return {{"Id", user.id},
          {"Username", user.username},
          {"DisplayName", user.display_name},
          {"EmailAddress", user.email},
          {"IsActive", user.is_active},
          {"IsService", user.is_service},
          {"IsRequestor", is_requestor},
          {"CanPasswordBeEdited", false},
          {"Identities", json::array()},
          {"Links", {{"Self", "/api/users/" + user.id}}}};
}

Result<http::Response> GetCurrentUser(ApiContext&, http::Request& req) {
  return http::Response::Json(200, UserJson(Caller(req), true));
}

}  // namespace cuttle::api
