#include "api/handlers.h"

namespace cuttle::api {

http::Response GetCurrentUser(const repo::UserRow& user) {
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
