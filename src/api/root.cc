#include "api/handlers.h"
#include "api/kit.h"

namespace cuttle::api {

Result<http::Response> GetRoot(ApiContext& ctx, http::Request&) {
  // Clients read Version (a 3-part semver they gate features on) and InstallationId.
  return http::Response::Json(
      200,
      {{"Application", "Cuttle"},
       {"Version", CUTTLE_OCTOPUS_API_VERSION},
       {"ApiVersion", "3.0.0"},
       {"CuttleVersion", CUTTLE_VERSION},
       {"InstallationId", ctx.installation_id},
       {"IsEarlyAccessProgram", false},
       {"HasLongTermSupport", false},
       {"Links",
        {{"Self", "/api"},
         {"Web", "/app"},  // the portal, as in Octopus's root document
         {"CurrentUser", "/api/users/me"},
         {"Users", "/api/users{/id}{?skip,take,ids,filter}"},
         {"SignIn", "/api/users/login{?returnUrl}"},
         {"SignOut", "/api/users/logout"},
         {"Authentication", "/api/authentication"},
         {"Spaces", "/api/spaces{/id}{?skip,ids,take,partialName}"},
         {"SpaceHome", "/api/{spaceId}"},
         {"OctopusServerNodes", "/api/octopusservernodes{/id}{?skip,take,ids,partialName}"},
         {"OctopusServerClusterSummary", "/api/octopusservernodes/summary"},
         {"Tasks",
          "/api/tasks{/id}{?skip,take,ids,states,node,active,running,name,"
          "hasPendingInterruptions}"},
         {"Interruptions", "/api/interruptions{/id}{?skip,take,regarding,pendingOnly,ids}"}}}});
}

}  // namespace cuttle::api
