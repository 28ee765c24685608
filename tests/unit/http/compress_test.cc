#include "http/compress.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace cuttle::http {
namespace {

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  }
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END);
  return out;
}

std::string BigJson() {
  std::string s = "[";
  for (int i = 0; i < 2000; ++i) {
    s += R"({"ProjectId":"Projects-)" + std::to_string(i) + R"(","State":"Success"},)";
  }
  s.back() = ']';
  return s;
}

const std::string* Header(const Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

Request Accepting(std::string accept_encoding) {
  Request req;
  req.method = "GET";
  if (!accept_encoding.empty()) req.headers["Accept-Encoding"] = std::move(accept_encoding);
  return req;
}

// The answer's bytes: its shared body when it has one.
const std::string& Sent(const Response& r) { return r.shared_body ? *r.shared_body : r.body; }

TEST(CompressTest, GzipRoundTrips) {
  const std::string body = BigJson();
  auto gz = Gzip(body);
  ASSERT_TRUE(gz);
  EXPECT_LT(gz->size(), body.size() / 5);
  EXPECT_EQ(Gunzip(*gz), body);
  auto empty = Gzip("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(Gunzip(*empty), "");
}

TEST(CompressTest, LargeJsonIsGzippedForAClientThatAcceptsItWithItsETagUnchanged) {
  const std::string body = BigJson();
  Response r = Response::Text(200, body, "application/json; charset=utf-8");
  r.SetHeader("ETag", "\"v42\"");
  CompressForClient(Accepting("gzip, deflate, br"), r);
  ASSERT_NE(Header(r, "Content-Encoding"), nullptr);
  EXPECT_EQ(*Header(r, "Content-Encoding"), "gzip");
  EXPECT_EQ(*Header(r, "Vary"), "Accept-Encoding");
  EXPECT_EQ(*Header(r, "ETag"), "\"v42\"");  // the version's tag, as its 304 carries it
  EXPECT_EQ(Gunzip(Sent(r)), body);
}

TEST(CompressTest, ASharedBodyIsCompressedWithoutTouchingTheSharedCopy) {
  auto shared = std::make_shared<const std::string>(BigJson());
  Response r = Response::Text(200, "", "application/json; charset=utf-8");
  r.shared_body = shared;
  CompressForClient(Accepting("gzip"), r);
  EXPECT_NE(r.shared_body, shared);
  EXPECT_EQ(Gunzip(Sent(r)), *shared);
  EXPECT_EQ(*shared, BigJson());
}

// The dashboard keeps its body until the next change: every client's answer shares one gzip of
// it, and a new body gets a gzip of its own.
TEST(CompressTest, AKeptSharedBodyIsGzippedOnceForEveryClient) {
  auto kept = std::make_shared<const std::string>(BigJson());
  auto answer = [](std::shared_ptr<const std::string> body) {
    Response r = Response::Text(200, "", "application/json; charset=utf-8");
    r.shared_body = std::move(body);
    CompressForClient(Accepting("gzip"), r);
    return r;
  };
  Response first = answer(kept);
  Response second = answer(kept);
  ASSERT_NE(first.shared_body, nullptr);
  EXPECT_EQ(first.shared_body, second.shared_body);  // the same bytes, made once
  EXPECT_EQ(Gunzip(*second.shared_body), *kept);

  auto next = std::make_shared<const std::string>(BigJson() + " ");
  Response third = answer(next);
  EXPECT_NE(third.shared_body, first.shared_body);
  EXPECT_EQ(Gunzip(*third.shared_body), *next);
  // A body nobody else holds (built for this answer alone) is compressed and not kept.
  Response own = answer(std::make_shared<const std::string>(BigJson()));
  Response own_again = answer(std::make_shared<const std::string>(BigJson()));
  EXPECT_NE(own.shared_body, own_again.shared_body);
}

TEST(CompressTest, LeftAloneWhenRefusedSmallAFileAnErrorOrAlreadyEncoded) {
  const std::string body = BigJson();
  for (const char* refused : {"", "identity", "gzip;q=0", "br", "*;q=0"}) {
    Response r = Response::Text(200, body, "application/json");
    CompressForClient(Accepting(refused), r);
    EXPECT_EQ(r.body, body) << refused;
    EXPECT_EQ(Header(r, "Content-Encoding"), nullptr) << refused;
    EXPECT_EQ(*Header(r, "Vary"), "Accept-Encoding") << refused;  // a cache must keep them apart
  }
  Response small = Response::Json(200, {{"Status", "ok"}});
  CompressForClient(Accepting("gzip"), small);
  EXPECT_EQ(Header(small, "Content-Encoding"), nullptr);

  Response file = Response::Text(200, "", "application/json");
  file.file = FileBody{"/etc/hostname", 0, 10};
  CompressForClient(Accepting("gzip"), file);
  EXPECT_EQ(Header(file, "Content-Encoding"), nullptr);

  Response error = Response::Text(500, body, "application/json");
  CompressForClient(Accepting("gzip"), error);
  EXPECT_EQ(error.body, body);

  Response binary = Response::Text(200, body, "application/octet-stream");
  CompressForClient(Accepting("gzip"), binary);
  EXPECT_EQ(binary.body, body);

  Response encoded = Response::Text(200, body, "text/plain");
  encoded.SetHeader("Content-Encoding", "br");
  CompressForClient(Accepting("gzip"), encoded);
  EXPECT_EQ(encoded.body, body);
  EXPECT_EQ(*Header(encoded, "Content-Encoding"), "br");
}

}  // namespace
}  // namespace cuttle::http
