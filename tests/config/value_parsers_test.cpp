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

TEST_CASE("origin URLs are http or https, a host and an optional port, and nothing else", "[config]") {
  std::string error;
  auto o = parse_origin_url("http://127.0.0.1:3000", error);
  REQUIRE(o);
  CHECK_FALSE(o->is_tls);
  CHECK(o->host == "127.0.0.1");
  CHECK(o->port == 3000);
  o = parse_origin_url("HTTPS://Origin.Internal/", error);
  REQUIRE(o);
  CHECK(o->is_tls);
  CHECK(o->host == "origin.internal");
  CHECK(o->port == 443);
  o = parse_origin_url("http://[::1]:8080", error);
  REQUIRE(o);
  CHECK(o->host == "::1");
  CHECK(o->port == 8080);
  CHECK(parse_origin_url("http://origin.example", error)->port == 80);
  for (const char* bad :
       {"", "origin.example", "ftp://origin.example", "http://", "http://:80", "http://a:", "http://a:0", "http://a b",
        "http://*.a", "http://[::1", "http://[::1]x", "http://::1:80", "//origin.example", "http:/origin.example"}) {
    INFO(bad);
    CHECK_FALSE(parse_origin_url(bad, error));
  }
  (void)parse_origin_url("ftp://a", error);
  CHECK(error == R"("ftp://a" is not an origin URL "http(s)://HOST[:PORT]" (e.g. "http://127.0.0.1:3000"))");
  for (const char* with_path : {"http://a/app", "http://a?x=1", "http://a#f", "http://user@a", "http://a//"}) {
    INFO(with_path);
    CHECK_FALSE(parse_origin_url(with_path, error));
  }
  (void)parse_origin_url("http://a:1/app", error);
  CHECK(
      error ==
      R"("http://a:1/app" is not an origin URL "http(s)://HOST[:PORT]" with no user info, path, query or fragment (e.g. "http://127.0.0.1:3000"))");
  (void)parse_origin_url("http://a:99999", error);
  CHECK(error == R"("http://a:99999": the port must be from 1 to 65535)");
}

TEST_CASE("route hosts are names, IP literals or *.domain, normalised, never with a port", "[config]") {
  std::string error;
  CHECK(parse_route_host("WWW.Example.COM.", error) == "www.example.com");
  CHECK(parse_route_host("*.Example.com", error) == "*.example.com");
  CHECK(parse_route_host("127.0.0.1", error) == "127.0.0.1");
  CHECK(parse_route_host("[::1]", error) == "::1");
  CHECK(parse_route_host("::1", error) == "::1");
  for (const char* bad : {"", "*", "*.", "a.*.example", "example.com:8080", "*example.com", "a b", "*.127.0.0.1",
                          "*.::1", "[::1]:80", "ex ample"}) {
    INFO(bad);
    CHECK_FALSE(parse_route_host(bad, error));
  }
  (void)parse_route_host("example.com:8080", error);
  CHECK(error == R"("example.com:8080" is not a host name, IP address or "*.domain" (without a port))");
}

TEST_CASE("CSP sources are hosts, local schemes or keywords; none may allow every host", "[config]") {
  std::string error;
  for (const char* good : {"cdn.example", "https://cdn.example", "*.cdn.example", "https://*.cdn.example:443/js/",
                           "cdn.example:*", "data:", "blob:", "'self'", "'unsafe-inline'", "wss://live.example"}) {
    INFO(good);
    CHECK(parse_csp_source(good, error) == good);
  }
  for (const char* bad : {"", "'unsafe-everything'", "cdn.example;", "a,b", "a b", "\"cdn\"", "cdn.example:99999",
                          "ht tp://a", "://a", "a.*.example"}) {
    INFO(bad);
    CHECK_FALSE(parse_csp_source(bad, error));
  }
  (void)parse_csp_source("a;b", error);
  CHECK(
      error ==
      R"("a;b" is not a CSP source (a host such as "cdn.example" or "https://*.cdn.example", "data:", or a keyword such as "'self'"))");
  for (const char* every : {"*", "https:", "http:", "wss:", "https://*", "*:443"}) {
    INFO(every);
    CHECK_FALSE(parse_csp_source(every, error));
    CHECK(error.ends_with(" would allow every host, and so every tracker, whatever the consent"));
  }
}

TEST_CASE("the consent header name is a token that neither frames nor routes the message", "[config]") {
  CHECK(valid_origin_header_name("Consent-Purposes"));
  CHECK(valid_origin_header_name("X-Consent"));
  for (const char* bad : {"", "Consent Purposes", "Consent:", "Host", "cookie", "Content-Length", "Transfer-Encoding",
                          "X-Forwarded-For", "x-forwarded-proto", "Forwarded", "Proxy-Authorization", "Connection"}) {
    INFO(bad);
    CHECK_FALSE(valid_origin_header_name(bad));
  }
}
