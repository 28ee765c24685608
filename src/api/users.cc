#include "api/handlers.h"
#include "api/kit.h"

namespace cuttle::api {

Result<http::Response> GetCurrentUser(ApiContext&, http::Request& req) {
  const repo::UserRow& user = Caller(req);
  return http::Response::Json(200, {{"Id", user.id},
                                    {"Username", user.username},
                                    {"DisplayName", user.display_name},
                                    {"EmailAddress", user.email},
                                    {"IsActive", user.is_active},
                                    {"IsService", user.is_service},
                                    {"IsRequestor", true},
                                    {"CanPasswordBeEdited", false},
                                    {"Identities", json::array()},
                                    {"Links", {{"Self", "/api/users/" + user.id}}}});
}

}  // namespace cuttle::api
