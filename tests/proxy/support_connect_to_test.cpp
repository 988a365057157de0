#include "proxy/connect_to.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>
#include "config/value_parsers.hpp"

using consent::config::ConnectTo;
using consent::proxy::ConnectToTable;
using consent::proxy::parse_connect_to;

namespace {

ConnectTo parsed(std::string_view spec) {
  const auto r = parse_connect_to(spec);
  INFO(spec << ": " << r.error);
  REQUIRE(r.value);
  return *r.value;
}

ConnectToTable table_of(std::vector<std::string_view> specs) {
  std::vector<ConnectTo> entries;
  for (const auto s : specs) entries.push_back(parsed(s));
  std::vector<std::string> errors;
  auto table = ConnectToTable::build(entries, errors);
  INFO((errors.empty() ? std::string() : errors.front()));
  REQUIRE(errors.empty());
  return table;
}

std::string target(const ConnectToTable& t, std::string_view host, std::uint16_t port) {
  const auto r = t.lookup(host, port);
  if (!r) return "none";
  return std::string(r->host) + " " + std::to_string(r->port);
}

}  // namespace

TEST_CASE("connect-to specs split into four fields", "[proxy]") {
  auto c = parsed("a.example:443:127.0.0.1:8443");
  CHECK(c.host == "a.example");
  CHECK(c.port == "443");
  CHECK(c.to_host == "127.0.0.1");
  CHECK(c.to_port == "8443");
  c = parsed("::127.0.0.1:");
  CHECK(c.host.empty());
  CHECK(c.port.empty());
  CHECK(c.to_host == "127.0.0.1");
  CHECK(c.to_port.empty());
  c = parsed("[2001:db8::1]:80:[::1]:8080");
  CHECK(c.host == "2001:db8::1");
  CHECK(c.to_host == "::1");
  CHECK(c.to_port == "8080");
  c = parsed(":::");
  CHECK(c.host.empty());
  CHECK(c.to_host.empty());
}

TEST_CASE("malformed connect-to specs are refused with config's reason", "[proxy]") {
  const auto error_of = [](std::string_view spec) { return parse_connect_to(spec).error; };
  const std::string shape = R"( is not HOST:PORT:ADDRESS:PORT (e.g. "tracker.example:443:127.0.0.1:8443"))";
  CHECK(error_of("") == R"("")" + shape);
  CHECK(error_of("a.example:443") == R"("a.example:443")" + shape);
  CHECK(error_of("a.example:443:b") == R"("a.example:443:b")" + shape);
  CHECK(error_of("a:1:b:2:3") == R"("a:1:b:2:3")" + shape);
  CHECK(error_of("::1:80:a:1") == R"("::1:80:a:1")" + shape);
  CHECK(error_of("[::1:80:a:1") == R"("[::1:80:a:1")" + shape);
  CHECK(error_of("[::1]x:80:a:1") == R"("[::1]x:80:a:1")" + shape);
  CHECK(error_of("[]:80:a:1") == R"("[]:80:a:1")" + shape);
  CHECK(error_of("a:0:b:1") == R"("a:0:b:1")" + shape);
  CHECK(error_of("*.*.a:1:c:2") == R"("*.*.a:1:c:2": "*.*.a" is not a host name, IP address or "*.domain")");
  CHECK(error_of("a:1:*.c:2") == R"("a:1:*.c:2": "*.c" is not a host name or IP address)");
  CHECK_FALSE(parse_connect_to("a:1:[::1]").value);
}

TEST_CASE("the flag accepts exactly what the config file accepts", "[proxy]") {
  // --connect-to and connect_to: in YAML share config::parse_connect_to; this pins that they stay one.
  for (const std::string_view spec : {"a.example:443:127.0.0.1:8443", "::127.0.0.1:", "[2001:db8::1]:80:[::1]:8080",
                                      ":::", "*.Tracker.example::127.0.0.1:", "a:1:b", "a:1:b:2:3", "a:70000:b:1",
                                      "a..b:1:c:2", "a:1:[127.0.0.1]:2", "[::1:80:a:1", "x\r:1:b:2"}) {
    INFO(spec);
    std::string config_error;
    const auto from_config = consent::config::parse_connect_to(spec, config_error);
    const auto from_flag = parse_connect_to(spec);
    REQUIRE(from_flag.value.has_value() == from_config.has_value());
    CHECK(from_flag.error == config_error);
    if (from_config) {
      CHECK(from_flag.value->host == from_config->host);
      CHECK(from_flag.value->port == from_config->port);
      CHECK(from_flag.value->to_host == from_config->to_host);
      CHECK(from_flag.value->to_port == from_config->to_port);
    }
  }
}

TEST_CASE("build validates hosts and ports and names the entry", "[proxy]") {
  std::vector<std::string> errors;
  const auto table = ConnectToTable::build({{"a.example", "0", "b", "1"},
                                            {"a.example", "443", "b", "70000"},
                                            {"a.example", "+1", "b", "1"},
                                            {"*.*.example", "", "b", ""},
                                            {"bad host", "", "b", ""},
                                            {"a.example", "", "b\r\n", ""},
                                            {"*", "", "b", ""},
                                            {"ok.example", "080", "127.0.0.1", "8080"}},
                                           errors);
  REQUIRE(errors.size() == 7);
  CHECK(errors[0] == R"(connect_to[0]: port "0" is not in 1..65535)");
  CHECK(errors[1] == R"(connect_to[1]: connect-to port "70000" is not in 1..65535)");
  CHECK(errors[2] == R"(connect_to[2]: port "+1" is not in 1..65535)");
  CHECK(errors[3] == R"(connect_to[3]: host "*.*.example" is not a host name, IP address or "*.domain")");
  CHECK(errors[4] == R"(connect_to[4]: host "bad host" is not a host name, IP address or "*.domain")");
  CHECK(errors[5] == R"(connect_to[5]: connect-to host "b\x0d\n" is not a host name or IP address)");
  CHECK(errors[6] == R"(connect_to[6]: host "*" is not a host name, IP address or "*.domain")");
  REQUIRE(table.rules().size() == 1);
  CHECK(target(table, "ok.example", 80) == "127.0.0.1 8080");
}

TEST_CASE("exact host and port rules match only themselves", "[proxy]") {
  const auto t = table_of({"tracker.example:443:127.0.0.1:9443"});
  CHECK(target(t, "tracker.example", 443) == "127.0.0.1 9443");
  CHECK(target(t, "tracker.example", 80) == "none");
  CHECK(target(t, "x.tracker.example", 443) == "none");
  CHECK(target(t, "atracker.example", 443) == "none");
  CHECK(target(t, "tracker.exampl", 443) == "none");
}

TEST_CASE("rule hosts are normalised: case, trailing dot, brackets", "[proxy]") {
  const auto t = table_of({"Tracker.Example.:443:LocalHost:1", "[2001:DB8::1]::[::1]:"});
  CHECK(target(t, "tracker.example", 443) == "localhost 1");
  CHECK(target(t, "2001:db8::1", 8080) == "::1 8080");
}

TEST_CASE("empty fields match any host or port and keep the original", "[proxy]") {
  const auto any_port = table_of({"a.example::127.0.0.1:"});
  CHECK(target(any_port, "a.example", 443) == "127.0.0.1 443");
  CHECK(target(any_port, "a.example", 8080) == "127.0.0.1 8080");
  CHECK(target(any_port, "b.example", 443) == "none");
  const auto any_host = table_of({":80::8080"});
  CHECK(target(any_host, "whatever.example", 80) == "whatever.example 8080");
  CHECK(target(any_host, "whatever.example", 443) == "none");
  const auto everything = table_of({"::127.0.0.2:"});
  CHECK(target(everything, "x", 1) == "127.0.0.2 1");
}

TEST_CASE("wildcards match strictly below the domain", "[proxy]") {
  const auto t = table_of({"*.tracker.example::127.0.0.1:8080"});
  CHECK(target(t, "a.tracker.example", 443) == "127.0.0.1 8080");
  CHECK(target(t, "b.a.tracker.example", 80) == "127.0.0.1 8080");
  CHECK(target(t, "tracker.example", 443) == "none");
  CHECK(target(t, "atracker.example", 443) == "none");
  CHECK(target(t, ".tracker.example", 443) == "none");
}

TEST_CASE("the first matching rule wins", "[proxy]") {
  const auto t = table_of({"a.example:443:127.0.0.1:1", "*.example::127.0.0.1:2", "::127.0.0.1:3"});
  CHECK(target(t, "a.example", 443) == "127.0.0.1 1");
  CHECK(target(t, "a.example", 80) == "127.0.0.1 2");
  CHECK(target(t, "b.example", 443) == "127.0.0.1 2");
  CHECK(target(t, "c.other", 443) == "127.0.0.1 3");
  CHECK(ConnectToTable{}.empty());
  CHECK_FALSE(ConnectToTable{}.lookup("a.example", 443));
}

TEST_CASE("connect-to parsing gives the same result whole and byte by byte of a prefix", "[proxy]") {
  // Every proper prefix of a valid spec is either refused or parses to different fields; no prefix crashes.
  const std::string spec = "[2001:db8::1]:443:[::1]:8443";
  for (std::size_t n = 0; n <= spec.size(); ++n) {
    const auto r = parse_connect_to(std::string_view(spec).substr(0, n));
    CHECK((r.value.has_value() != !r.error.empty()));
  }
  CHECK(parsed(spec).to_port == "8443");
}
