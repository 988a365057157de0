#include "proxy/proxy_auth.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using consent::proxy::ProxyAuth;
namespace detail = consent::proxy::detail;

namespace {

ProxyAuth build_ok(const consent::config::ProxyAuth& config) {
  std::vector<std::string> errors;
  auto auth = ProxyAuth::build(config, errors);
  REQUIRE(errors.empty());
  return auth;
}

consent::config::ProxyAuth users(std::vector<std::string> pairs) {
  consent::config::ProxyAuth c;
  c.enabled = true;
  c.users = std::move(pairs);
  return c;
}

}  // namespace

TEST_CASE("base64 decoding is strict", "[proxy]") {
  CHECK(detail::base64_decode("") == std::string());
  CHECK(detail::base64_decode("YQ==") == std::string("a"));
  CHECK(detail::base64_decode("YWI=") == std::string("ab"));
  CHECK(detail::base64_decode("YWJj") == std::string("abc"));
  CHECK(detail::base64_decode("dXNlcjpwYXNz") == std::string("user:pass"));
  CHECK(detail::base64_decode("AP8=") == std::string("\x00\xff", 2));
  CHECK_FALSE(detail::base64_decode("YQ"));        // missing padding
  CHECK_FALSE(detail::base64_decode("YQ=a"));      // data after padding
  CHECK_FALSE(detail::base64_decode("Y==="));      // too much padding
  CHECK_FALSE(detail::base64_decode("YR=="));      // non-canonical (unused bits set)
  CHECK_FALSE(detail::base64_decode("YQ==YQ=="));  // padding in the middle
  CHECK_FALSE(detail::base64_decode("YW J"));
  CHECK_FALSE(detail::base64_decode("YWJ\n"));
  CHECK_FALSE(detail::base64_decode("YW-_"));  // base64url is not base64
}

TEST_CASE("the configured credentials are accepted and nothing else", "[proxy]") {
  const auto auth = build_ok(users({"alice:s3cret", "bob:pa:ss"}));
  CHECK(auth.enabled());
  CHECK(auth.check("Basic YWxpY2U6czNjcmV0"));  // alice:s3cret
  CHECK(auth.check("basic YWxpY2U6czNjcmV0"));
  CHECK(auth.check("BASIC   YWxpY2U6czNjcmV0 "));
  CHECK(auth.check("Basic Ym9iOnBhOnNz"));            // bob:pa:ss (the password may hold ':')
  CHECK_FALSE(auth.check("Basic YWxpY2U6czNjcmV1"));  // alice:s3creu
  CHECK_FALSE(auth.check("Basic YWxpY2U6"));          // alice:
  CHECK_FALSE(auth.check("Basic YWxpY2U="));          // alice (no colon)
  CHECK_FALSE(auth.check("Bearer YWxpY2U6czNjcmV0"));
  CHECK_FALSE(auth.check("BasicYWxpY2U6czNjcmV0"));
  CHECK_FALSE(auth.check("Basic"));
  CHECK_FALSE(auth.check("Basic "));
  CHECK_FALSE(auth.check(""));
  CHECK_FALSE(auth.check("Basic " + std::string(ProxyAuth::max_token_bytes + 4, 'A')));
  CHECK_FALSE(auth.check(std::string_view("Basic YWxpY2U6czNjcmV0\0", 23)));
}

TEST_CASE("disabled auth lets everything through", "[proxy]") {
  const ProxyAuth none;
  CHECK_FALSE(none.enabled());
  CHECK(none.check(""));
  consent::config::ProxyAuth c;
  c.users = {"a:b"};
  CHECK(build_ok(c).check("garbage"));
}

TEST_CASE("bad configuration is reported without echoing passwords", "[proxy]") {
  std::vector<std::string> errors;
  (void)ProxyAuth::build(users({"nocolon-secret", ":onlypass"}), errors);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == R"(auth.users[0]: expected "user:password")");
  CHECK(errors[1] == R"(auth.users[1]: expected "user:password")");
  CHECK(errors[2] == "auth.enabled is true but no user is configured");
  for (const auto& e : errors) CHECK(e.find("secret") == std::string::npos);
  errors.clear();
  auto c = users({"a:b"});
  c.realm = "bad\"realm";
  (void)ProxyAuth::build(c, errors);
  CHECK(errors.size() == 1);
}

TEST_CASE("the challenge names the realm", "[proxy]") {
  auto c = users({"a:b"});
  c.realm = "staging";
  const auto auth = build_ok(c);
  CHECK(auth.challenge() == R"(Basic realm="staging", charset="UTF-8")");
  CHECK(auth.realm() == "staging");
}
