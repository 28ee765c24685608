// Fuzz target: one line of script output through the service-message parser
// (`engine::ParseServiceMessage`), as the script runner sees every stdout line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "engine/service_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  if (auto m = cuttle::engine::ParseServiceMessage(line)) {
    CUTTLE_CHECK(!m->name.empty());
    CUTTLE_CHECK(m->name.size() <= line.size());
    // The runner reads these attributes of the messages it acts on.
    for (const char* key : {"path", "name", "length", "message"}) {
      if (auto it = m->attributes.find(key); it != m->attributes.end()) {
        CUTTLE_CHECK(it->second.size() <= line.size());
      }
    }
  }
  return 0;
}
