#include "proxy/http_headers.hpp"

#include <catch2/catch.hpp>

using namespace consent::proxy;

TEST_CASE("header lookup is case-insensitive and keeps order", "[proxy]") {
  Headers h;
  REQUIRE(h.add("Host", "a.example"));
  REQUIRE(h.add("set-cookie", "a=1"));
  REQUIRE(h.add("Set-Cookie", "b=2"));
  CHECK(h.size() == 3);
  CHECK(h.get("HOST") == "a.example");
  CHECK(h.get("Set-Cookie") == "a=1");
  CHECK(h.count("SET-COOKIE") == 2);
  CHECK_FALSE(h.contains("Cookie"));
  CHECK(h.get("Cookie").empty());
  CHECK(h[1].name == "set-cookie");
  CHECK(h[2].value == "b=2");
}
