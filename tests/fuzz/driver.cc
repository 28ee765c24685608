// Runs a libFuzzer target without libFuzzer: feeds every file under each directory argument (its
// seed corpus and saved crash inputs) to LLVMFuzzerTestOneInput once, in name order. Built with
// the normal toolchain, so `make test` replays the corpus as regression tests. Exits non-zero if a
// directory is missing or the first one (the corpus) is empty; a crashing input crashes the run.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> InputsUnder(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && !e.path().filename().string().starts_with(".")) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MORE_DIRS...]\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (!fs::is_directory(argv[i], ec)) {
      std::fprintf(stderr, "%s: not a directory\n", argv[i]);
      return 1;
    }
    auto files = InputsUnder(argv[i]);
    if (i == 1 && files.empty()) {
      std::fprintf(stderr, "%s: the seed corpus is empty\n", argv[i]);
      return 1;
    }
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("%zu inputs from %s passed\n", files.size(), argv[i]);
  }
  return 0;
}
