#include "config/value_parsers.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace consent::config;
using namespace std::chrono_literals;

TEST_CASE("durations take a whole number and a unit, and 0 alone disables", "[config]") {
  std::string error;
  CHECK(parse_duration("0", error) == 0ms);
  CHECK(parse_duration("500ms", error) == 500ms);
  CHECK(parse_duration("15s", error) == 15s);
  CHECK(parse_duration("5m", error) == 5min);
  CHECK(parse_duration("2h", error) == 2h);
  CHECK(parse_duration("180d", error) == std::chrono::hours(180 * 24));
  CHECK(parse_duration("0s", error) == 0ms);
  for (const char* bad : {"", "15", "s", "15 s", "-5s", "1.5s", "15S", "15sec", "5mo", " 5s", "5s ", "0x10s", "+5s"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad, error));
  }
  (void)parse_duration("15 seconds", error);
  CHECK(error == R"(expected a duration such as "15s", "500ms" or "5m" (0 disables), got "15 seconds")");
}

TEST_CASE("durations beyond ten years or 64 bits are refused, not wrapped", "[config]") {
  std::string error;
  CHECK(parse_duration("3660d", error));
  CHECK_FALSE(parse_duration("3661d", error));
  CHECK(error == R"(duration "3661d" is longer than ten years)");
  CHECK_FALSE(parse_duration("99999999999999999999999ms", error));
  CHECK_FALSE(parse_duration(std::string(10'000, '9') + "s", error));
}

TEST_CASE("byte sizes accept binary units only", "[config]") {
  std::string error;
  CHECK(parse_byte_size("65536", error) == 65536U);
  CHECK(parse_byte_size("64KiB", error) == 65536U);
  CHECK(parse_byte_size("1MiB", error) == 1048576U);
  CHECK(parse_byte_size("1GiB", error) == 1073741824U);
  for (const char* bad : {"", "64KB", "64k", "KiB", "1.5MiB", "-1", "64 KiB", "18446744073709551616"}) {
    INFO(bad);
    CHECK_FALSE(parse_byte_size(bad, error));
  }
  CHECK(error == R"(expected a size such as 65536, "64KiB" or "1MiB", got "18446744073709551616")");
  CHECK_FALSE(parse_byte_size("17179869184GiB", error));  // 2^34 GiB overflows 64 bits
}

TEST_CASE("listen takes an IP literal and a port, never a name", "[config]") {
  std::string error;
  CHECK(parse_listen("127.0.0.1:8080", error) == "127.0.0.1:8080");
  CHECK(parse_listen("0.0.0.0:0", error) == "0.0.0.0:0");
  CHECK(parse_listen("[::1]:8080", error) == "[::1]:8080");
  CHECK(parse_listen("[fe80::1]:65535", error));
  for (const char* bad :
       {"", ":8080", "8080", "localhost:8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:8080",
        "[::1]8080", "[127.0.0.1]:80", "[::1]:", "256.0.0.1:80", "127.0.0.1:80:80", "127.0.0.1 :80"}) {
    INFO(bad);
    CHECK_FALSE(parse_listen(bad, error));
  }
  (void)parse_listen("localhost:8080", error);
  CHECK(error == R"("localhost:8080" is not ADDRESS:PORT with an IP address (e.g. "127.0.0.1:8080", "[::1]:8080"))");
}

TEST_CASE("CIDR blocks are canonicalised and host bits refused", "[config]") {
  std::string error;
  CHECK(parse_cidr("10.0.0.0/8", error) == "10.0.0.0/8");
  CHECK(parse_cidr("192.168.1.7", error) == "192.168.1.7/32");
  CHECK(parse_cidr("0.0.0.0/0", error) == "0.0.0.0/0");
  CHECK(parse_cidr("::1", error) == "::1/128");
  CHECK(parse_cidr("FD00:0::/8", error) == "fd00::/8");
  CHECK(parse_cidr("10.1.0.0/16", error) == "10.1.0.0/16");
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8/8", "10.0.0.0/-1", "10/8",
                          "example.com/24", "10.0.0.0 /8"}) {
    INFO(bad);
    CHECK_FALSE(parse_cidr(bad, error));
  }
  (void)parse_cidr("10.0.0.0/33", error);
  CHECK(error == R"("10.0.0.0/33" is not an IP network in CIDR notation (e.g. "192.168.0.0/16", "fd00::/8"))");
  CHECK_FALSE(parse_cidr("10.0.0.1/8", error));
  CHECK(error == R"("10.0.0.1/8" has host bits set; did you mean "10.0.0.0/8"?)");
  CHECK_FALSE(parse_cidr("10.1.0.0/15", error));
  CHECK(error == R"("10.1.0.0/15" has host bits set; did you mean "10.0.0.0/15"?)");
  CHECK_FALSE(parse_cidr("fd00::1/64", error));
  CHECK(error == R"("fd00::1/64" has host bits set; did you mean "fd00::/64"?)");
}

TEST_CASE("connect-to rules follow curl's HOST:PORT:ADDRESS:PORT", "[config]") {
  std::string error;
  auto r = parse_connect_to("tracker.example:443:127.0.0.1:8443", error);
  REQUIRE(r);
  CHECK(r->host == "tracker.example");
  CHECK(r->port == "443");
  CHECK(r->to_host == "127.0.0.1");
  CHECK(r->to_port == "8443");

  r = parse_connect_to("::[::1]:", error);
  REQUIRE(r);
  CHECK(r->host.empty());
  CHECK(r->port.empty());
  CHECK(r->to_host == "::1");
  CHECK(r->to_port.empty());

  r = parse_connect_to("[2001:db8::1]:80:backend.example:8080", error);
  REQUIRE(r);
  CHECK(r->host == "2001:db8::1");
  CHECK(r->to_host == "backend.example");
  r = parse_connect_to("*.Tracker.example::127.0.0.1:", error);
  REQUIRE(r);
  CHECK(r->host == "*.Tracker.example");  // as written; the proxy normalises

  for (const char* bad : {"", "a:1:b", "a:1:b:2:3", "a:99999:b:1", "a:0:b:1", "a:1:b:x", "[::1:80:b:1", "[zz]:1:b:1",
                          "a b:1:c:2", "a:1:[::1]x:2"}) {
    INFO(bad);
    CHECK_FALSE(parse_connect_to(bad, error));
  }
  (void)parse_connect_to("a:1:b", error);
  CHECK(error == R"("a:1:b" is not HOST:PORT:ADDRESS:PORT (e.g. "tracker.example:443:127.0.0.1:8443"))");
  CHECK_FALSE(parse_connect_to("a..b:1:c:2", error));
  CHECK(error == R"("a..b:1:c:2": "a..b" is not a host name, IP address or "*.domain")");
  CHECK_FALSE(parse_connect_to("a:1:*.c:2", error));
  CHECK(error == R"("a:1:*.c:2": "*.c" is not a host name or IP address)");
  CHECK_FALSE(parse_connect_to("*.*.a:1:c:2", error));
  CHECK_FALSE(parse_connect_to("a:1:[127.0.0.1]:2", error));
}

TEST_CASE("edit distance counts a transposition as one edit", "[config]") {
  CHECK(edit_distance("domians", "domains") == 1);
  CHECK(edit_distance("domain", "domains") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "abc") == 0);
  CHECK(edit_distance("kitten", "sitting") == 3);
  const std::array<std::string_view, 4> keys{"domains", "cookies", "urls", "purpose"};
  CHECK(suggest("domians", keys) == "domains");
  CHECK(suggest("cookie", keys) == "cookies");
  CHECK(suggest("url", keys) == "urls");
  CHECK(suggest("colour", keys).empty());
  CHECK(suggest("x", keys).empty());
  CHECK(suggest(std::string(1000, 'd'), keys).empty());
}

TEST_CASE("quoted values escape control bytes and are truncated on a character boundary", "[config]") {
  CHECK(quote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(quote(std::string("a\0b\n\t\x7f", 6)) == R"("a\x00b\n\t\x7f")");
  CHECK(quote(std::string(100, 'x')) == "\"" + std::string(80, 'x') + "...\"");
  std::string accents;
  for (int i = 0; i < 50; ++i) accents += "\xc3\xa9";  // é, two bytes each
  CHECK(quote(accents) == "\"" + accents.substr(0, 80) + "...\"");
  CHECK(quote("m\xc3\xbcnchen") == "\"m\xc3\xbcnchen\"");
}
