#include "proxy/http_message.hpp"

#include <catch2/catch.hpp>

using namespace consent::proxy;

TEST_CASE("absolute-form target is split into authority and path", "[proxy]") {
  const auto t = parse_request_target("http://a.example:8080/p?q=1", Method::get);
  REQUIRE(t);
  CHECK(t->form == TargetForm::absolute);
  CHECK(t->authority.host == "a.example");
  CHECK(t->authority.port == 8080);
  CHECK(t->path_and_query == "/p?q=1");
}
