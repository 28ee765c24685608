// Fuzz target: JSON request bodies through the handlers' binders: `api::ReadBody`, then
// the `core::FindKeyIgnoreCase` lookups and type checks of POST /api/tasks and PUT
// /api/octopusservernodes/{id}, then serialising the arguments again as a stored task would be.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/common.h"
#include "core/json.h"
#include "core/strings.h"
#include "http/http.h"

namespace {

using cuttle::api::json;
using cuttle::core::FindKeyIgnoreCase;

// What CreateTask reads (src/api/tasks.cc).
void BindTask(const json& body) {
  if (const json* name = FindKeyIgnoreCase(body, "Name"); name && name->is_string()) {
    (void)cuttle::core::EqualsIgnoreCase(name->get<std::string>(), "AdHocScript");
  }
  json arguments = json::object();
  if (const json* args = FindKeyIgnoreCase(body, "Arguments"); args && args->is_object()) {
    arguments = *args;
  }
  if (const json* d = FindKeyIgnoreCase(body, "Description"); d && d->is_string()) {
    (void)d->get<std::string>();
  }
  if (const json* e = FindKeyIgnoreCase(body, "QueueTimeExpiry"); e && e->is_string()) {
    (void)cuttle::core::ParseIso8601(e->get<std::string>());
  }
  if (const json* script = FindKeyIgnoreCase(arguments, "ScriptBody");
      script && script->is_string()) {
    (void)script->get<std::string>().empty();
  }
  if (const json* syntax = FindKeyIgnoreCase(arguments, "Syntax"); syntax && !syntax->is_null()) {
    (void)syntax->dump();
  }
  // The task row stores the arguments as text.
  (void)arguments.dump();
}

// What UpdateNode reads (src/api/nodes.cc).
void BindNode(const json& body) {
  if (const json* cap = FindKeyIgnoreCase(body, "MaxConcurrentTasks"); cap && !cap->is_null()) {
    if (cap->is_number_integer()) (void)cap->get<int64_t>();
    (void)cap->dump();
  }
  if (const json* drain = FindKeyIgnoreCase(body, "IsInMaintenanceMode");
      drain && !drain->is_null()) {
    if (drain->is_boolean()) (void)drain->get<bool>();
    (void)drain->dump();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cuttle::http::Request req;
  req.method = "POST";
  req.body.assign(reinterpret_cast<const char*>(data), size);
  auto body = cuttle::api::ReadBody(req);
  if (!body) return 0;
  CUTTLE_CHECK(body->is_object());
  BindTask(*body);
  BindNode(*body);
  return 0;
}
