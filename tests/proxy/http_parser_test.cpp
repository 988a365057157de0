#include "proxy/http_parser.hpp"

#include <catch2/catch.hpp>

using namespace consent::proxy;

TEST_CASE("llhttp is built in strict mode", "[proxy]") { CHECK(llhttp_is_strict()); }

TEST_CASE("a simple request parses", "[proxy]") {
  consent::config::Limits limits;
  RequestParser p{limits};
  std::string_view in = "GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n";
  auto s = p.feed(in);
  REQUIRE(s.event == ParseEvent::head);
  CHECK(s.consumed == in.size());
  CHECK(p.head().target == "http://a.example/x");
  s = p.feed(in.substr(s.consumed));
  CHECK(s.event == ParseEvent::message_complete);
}
