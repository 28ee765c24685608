#include "model/artifact.h"

#include "core/strings.h"

namespace cuttle::model {

using nlohmann::json;

json ArtifactJson(const tasks::Artifact& a) {
  std::string self = "/api/" + a.space_id + "/artifacts/" + a.id;
  return {{"Id", a.id},
          {"SpaceId", a.space_id},
          {"Filename", a.filename},
          {"Source", nullptr},
          {"ServerTaskId", a.server_task_id},
          {"Created", core::FormatIso8601(a.created)},
          {"LogCorrelationId", nullptr},
          {"Size", a.size},
          {"Links", {{"Self", self}, {"Content", self + "/content"}}}};
}

}  // namespace cuttle::model
