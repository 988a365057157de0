#include "proxy/http_headers.hpp"

#include <catch2/catch.hpp>

#include <string>

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
  std::string names;
  for (const auto f : h) names += std::string(f.name) + ",";
  CHECK(names == "Host,set-cookie,Set-Cookie,");
}

TEST_CASE("setters refuse CR, LF, NUL, controls and non-token names", "[proxy]") {
  Headers h;
  CHECK_FALSE(h.add("X", "a\r\nSet-Cookie: b=1"));
  CHECK_FALSE(h.add("X", "a\nb"));
  CHECK_FALSE(h.add("X", "a\rb"));
  CHECK_FALSE(h.add("X", std::string("a\0b", 3)));
  CHECK_FALSE(h.add("X", "a\x01"));
  CHECK_FALSE(h.add("X", "a\x7f"));
  CHECK_FALSE(h.add("X", " padded"));
  CHECK_FALSE(h.add("X", "padded\t"));
  CHECK_FALSE(h.add("", "v"));
  CHECK_FALSE(h.add("Bad Name", "v"));
  CHECK_FALSE(h.add("Bad:Name", "v"));
  CHECK_FALSE(h.add("X\r\nY", "v"));
  CHECK_FALSE(h.set("X", "a\r\n"));
  CHECK(h.empty());
  CHECK(h.add("X", ""));
  CHECK(h.add("X-Tab", "a\tb"));
  CHECK(h.add("X-Utf8", "caf\xc3\xa9"));
  CHECK(h.size() == 3);
}

TEST_CASE("set replaces all lines at the first position; remove and erase", "[proxy]") {
  Headers h;
  REQUIRE(h.add("A", "1"));
  REQUIRE(h.add("B", "2"));
  REQUIRE(h.add("a", "3"));
  REQUIRE(h.add("C", "4"));
  REQUIRE(h.set("A", "new"));
  REQUIRE(h.size() == 3);
  CHECK(h[0].name == "A");
  CHECK(h[0].value == "new");
  CHECK(h[1].name == "B");
  CHECK(h[2].name == "C");
  REQUIRE(h.set("D", "appended"));
  CHECK(h[3].name == "D");
  CHECK(h.remove("b") == 1);
  CHECK(h.remove("b") == 0);
  h.erase(0);
  CHECK(h.size() == 2);
  CHECK(h[0].name == "C");
  h.clear();
  CHECK(h.empty());
  CHECK(h.storage_bytes() == 0);
}

TEST_CASE("copying a field of the same object survives reallocation", "[proxy]") {
  Headers h;
  REQUIRE(h.add("Name", std::string(100, 'v')));
  for (int i = 0; i < 50; ++i) REQUIRE(h.add(h[0].name, h[0].value));
  CHECK(h.count("name") == 51);
  CHECK(h[50].value == std::string(100, 'v'));
  REQUIRE(h.set(h[3].name, h[7].value));
  CHECK(h.size() == 1);
  CHECK(h[0].value == std::string(100, 'v'));
}

TEST_CASE("token lists: Connection-style matching", "[proxy]") {
  CHECK(list_contains("keep-alive, Upgrade", "upgrade"));
  CHECK(list_contains("  close  ", "CLOSE"));
  CHECK(list_contains(",,close,,", "close"));
  CHECK_FALSE(list_contains("closed", "close"));
  CHECK_FALSE(list_contains("", "close"));
  CHECK_FALSE(list_contains("x-close", "close"));
  Headers h;
  REQUIRE(h.add("Connection", "keep-alive"));
  REQUIRE(h.add("connection", "Upgrade"));
  CHECK(h.has_token("CONNECTION", "upgrade"));
  CHECK_FALSE(h.has_token("Upgrade", "upgrade"));
}

TEST_CASE("equality compares names and values in order", "[proxy]") {
  Headers a;
  Headers b;
  REQUIRE(a.add("A", "1"));
  REQUIRE(b.add("A", "1"));
  CHECK(a == b);
  REQUIRE(b.add("B", "2"));
  CHECK_FALSE(a == b);
  CHECK(is_token("X-Custom_1.2~"));
  CHECK_FALSE(is_token("a b"));
  CHECK(iequals("Content-Length", "content-LENGTH"));
  CHECK_FALSE(iequals("Content-Length", "Content-Lengt"));
  CHECK(trim_ows(" \t x \t") == "x");
}
