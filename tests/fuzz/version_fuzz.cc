// Fuzz target: package versions and file names as clients send them (`Version::Parse`,
// `ParseFileName`). Checks that a parsed version round-trips through its normalized form and that
// ordering agrees with equality.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "feed/package_file.h"
#include "feed/version.h"

using cuttle::feed::Version;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto v = Version::Parse(text)) {
    // The normalized spelling is itself a valid version, equal to the original.
    auto again = Version::Parse(v->Normalized());
    CUTTLE_CHECK(again.has_value());
    CUTTLE_CHECK(*again == *v);
    CUTTLE_CHECK(again->Key() == v->Key());
    CUTTLE_CHECK((*v <=> *again) == 0);
  }
  // The same bytes as an uploaded file name: "<PackageId>.<Version>.<ext>".
  if (auto name = cuttle::feed::ParseFileName(text)) {
    CUTTLE_CHECK(cuttle::feed::IsValidPackageId(name->package_id));
    CUTTLE_CHECK(!name->version.Normalized().empty());
  }
  return 0;
}
