#include "feed/multipart.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace cuttle::feed {
namespace {

// A source that hands out `data` in pieces of `step` bytes (the edges the reader must cope with).
ByteSource Pieces(std::string data, size_t step) {
  auto pos = std::make_shared<size_t>(0);
  return [data = std::move(data), step, pos](char* buf, size_t n) -> Result<size_t> {
    size_t take = std::min({n, step, data.size() - *pos});
    std::copy_n(data.data() + *pos, take, buf);
    *pos += take;
    return take;
  };
}

std::string ReadAll(MultipartReader& r) {
  std::string out;
  for (;;) {
    auto chunk = r.Read();
    EXPECT_TRUE(chunk) << chunk.error().message();
    if (!chunk || chunk->empty()) return out;
    out.append(*chunk);
  }
}

// What api-client, octopackjs and curl send (CRLF everywhere).
std::string CrlfBody(const std::string& boundary, const std::string& file) {
  return "--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
         "--" +
         boundary +
         "\r\nContent-Disposition: form-data; name=\"fileToUpload\"; filename=\"App.1.0.0.zip\"\r\n"
         "Content-Type: application/zip\r\n\r\n" +
         file + "\r\n--" + boundary + "--\r\n";
}

TEST(MultipartTest, BoundaryFromContentType) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=abc").value(), "abc");
  EXPECT_EQ(MultipartBoundary("Multipart/Form-Data;boundary=\"a;b c\"").value(), "a;b c");
  EXPECT_FALSE(MultipartBoundary("application/json"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary="));
}

TEST(MultipartTest, PartsSurviveEveryChunkEdge) {
  // File content full of near-misses: CR, LF, "--" and a boundary prefix.
  std::string file = "\r\n--BOUNDAR\r\n-\n--BOUNDARX";
  for (int i = 0; i < 2000; ++i) file += static_cast<char>(i * 31);
  const std::string body = CrlfBody("BOUNDARY", file);
  for (size_t step : {1, 2, 3, 7, 10, 64, 1000, 100000}) {
    MultipartReader r(Pieces(body, step), "BOUNDARY", 64);
    auto first = r.NextPart();
    ASSERT_TRUE(first && *first) << step;
    EXPECT_EQ((*first)->name, "note");
    EXPECT_FALSE((*first)->filename);
    EXPECT_EQ(ReadAll(r), "hello");
    auto second = r.NextPart();
    ASSERT_TRUE(second && *second) << step;
    EXPECT_EQ((*second)->name, "fileToUpload");
    EXPECT_EQ((*second)->filename.value_or(""), "App.1.0.0.zip");
    EXPECT_EQ((*second)->content_type, "application/zip");
    EXPECT_EQ(ReadAll(r), file) << "step " << step;
    auto end = r.NextPart();
    ASSERT_TRUE(end);
    EXPECT_FALSE(*end);
    EXPECT_TRUE(r.DrainEpilogue());
  }
}

TEST(MultipartTest, NugetBareLfBeforeTheClosingBoundaryAndNothingAfter) {
  const std::string b = "---------------------------8df4c2a11496230";
  // (A part ending in '\r' would lose it: "\r\n--boundary" is also a valid delimiter. A zip
  // ends with its end-of-central-directory record, never with a CR.)
  const std::string nupkg = std::string("PK\x03\x04 pay\rload\0\0", 15);
  const std::string body =
      "--" + b +
      "\r\nContent-Disposition: form-data; name=\"package\"; "
      "filename=\"package\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
      nupkg + "\n--" + b + "--";
  for (size_t step : {1, 5, 4096}) {
    MultipartReader r(Pieces(body, step), b);
    auto part = r.NextPart();
    ASSERT_TRUE(part && *part);
    EXPECT_EQ((*part)->filename.value_or(""), "package");
    EXPECT_EQ(ReadAll(r), nupkg);
    auto end = r.NextPart();
    ASSERT_TRUE(end) << end.error().message();
    EXPECT_FALSE(*end);
  }
}

TEST(MultipartTest, EmptyPartAndPreamble) {
  const std::string body =
      "preamble to ignore\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; "
      "filename=\"x.zip\"\r\n\r\n\r\n--B--\r\n";
  MultipartReader r(Pieces(body, 3), "B");
  auto part = r.NextPart();
  ASSERT_TRUE(part && *part);
  EXPECT_EQ(ReadAll(r), "");
  EXPECT_FALSE(*r.NextPart());
}

TEST(MultipartTest, TruncatedAndMalformedBodiesAreErrors) {
  const std::string full = CrlfBody("B", std::string(500, 'x'));
  // Cut inside the file part: the reader must not report a clean end.
  MultipartReader cut(Pieces(full.substr(0, 300), 50), "B");
  ASSERT_TRUE(cut.NextPart());
  ReadAll(cut);
  auto file = cut.NextPart();
  ASSERT_TRUE(file && *file);
  Result<std::string_view> chunk;
  do {
    chunk = cut.Read();
  } while (chunk && !chunk->empty());
  ASSERT_FALSE(chunk);
  EXPECT_EQ(chunk.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(chunk.error().message().find("malformed"), std::string::npos);

  MultipartReader none(Pieces("no boundary anywhere", 4), "B");
  EXPECT_FALSE(none.NextPart());

  MultipartReader headers(
      Pieces("--B\r\nContent-Disposition: form-data" + std::string(20000, 'a'), 4096), "B");
  EXPECT_FALSE(headers.NextPart());
}

TEST(MultipartTest, SourceErrorsPassThrough) {
  int calls = 0;
  MultipartReader r(
      [&](char* buf, size_t) -> Result<size_t> {
        if (calls++ == 0) {
          std::string head =
              "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nxyz";
          std::copy(head.begin(), head.end(), buf);
          return head.size();
        }
        return Fail(Error::Io("connection reset"));
      },
      "B");
  ASSERT_TRUE(r.NextPart());
  Result<std::string_view> chunk;
  do {
    chunk = r.Read();
  } while (chunk && !chunk->empty());
  ASSERT_FALSE(chunk);
  EXPECT_EQ(chunk.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace cuttle::feed
