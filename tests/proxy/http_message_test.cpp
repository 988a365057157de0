#include "proxy/http_message.hpp"

#include <catch2/catch.hpp>

using namespace consent::proxy;

TEST_CASE("absolute-form target is split into authority and path", "[proxy]") {
  const auto t = parse_request_target("http://a.example:8080/p?q=1", Method::get);
  REQUIRE(t);
  CHECK(t->form == TargetForm::absolute);
  CHECK_FALSE(t->is_https);
  CHECK(t->authority_text == "a.example:8080");
  CHECK(t->authority.host == "a.example");
  CHECK(t->authority.port == 8080);
  CHECK(t->authority.has_port);
  CHECK(t->path_and_query == "/p?q=1");
}

TEST_CASE("absolute-form: scheme case, default ports, empty path, query without path", "[proxy]") {
  auto t = parse_request_target("HTTPS://A.Example", Method::get);
  REQUIRE(t);
  CHECK(t->is_https);
  CHECK(t->authority.host == "A.Example");  // case is kept; normalisation is the caller's single step
  CHECK(t->authority.port == 443);
  CHECK_FALSE(t->authority.has_port);
  CHECK(t->path_and_query.empty());
  t = parse_request_target("http://a.example?x=1", Method::get);
  REQUIRE(t);
  CHECK(t->authority.port == 80);
  CHECK(t->path_and_query == "?x=1");
}

TEST_CASE("absolute-form: IPv6 literals with and without port", "[proxy]") {
  auto t = parse_request_target("http://[::1]:8080/x", Method::get);
  REQUIRE(t);
  CHECK(t->authority.host == "::1");
  CHECK(t->authority.is_ipv6);
  CHECK(t->authority.port == 8080);
  CHECK(t->authority_text == "[::1]:8080");
  t = parse_request_target("http://[2001:db8::a:1]/", Method::get);
  REQUIRE(t);
  CHECK(t->authority.host == "2001:db8::a:1");
  CHECK(t->authority.port == 80);
  t = parse_request_target("http://[::ffff:192.0.2.1]/", Method::get);
  REQUIRE(t);
  CHECK(t->authority.host == "::ffff:192.0.2.1");
}

TEST_CASE("absolute-form refusals: userinfo, bad ports, bad hosts, other schemes", "[proxy]") {
  for (const char* target : {"http://user@a.example/",
                             "http://u:p@a.example/",
                             "http://a.example@b.example/",
                             "http://a.example:/",
                             "http://a.example:0/",
                             "http://a.example:65536/",
                             "http://a.example:99999999/",
                             "http://a.example:8o/",
                             "http://a.example:-1/",
                             "http:///x",
                             "http://",
                             "http://[::1/",
                             "http://[::1]x/",
                             "http://[]/",
                             "http://[fe80::1%25eth0]/",
                             "http://[v1.x]/",
                             "http://a b/",
                             "http://a\"b/",
                             "http://a<b>/",
                             "ftp://a.example/",
                             "a.example/",
                             "http:/a.example/",
                             "http://a.example/#frag",
                             ""}) {
    INFO(target);
    CHECK_FALSE(parse_request_target(target, Method::get));
  }
  // RFC 9112 3.2.1: "//a.example/" is an origin-form path with an empty first segment, not an authority.
  const auto t = parse_request_target("//a.example/", Method::get);
  REQUIRE(t);
  CHECK(t->form == TargetForm::origin);
  CHECK(t->authority.host.empty());
}

TEST_CASE("origin-form, asterisk and authority-form are tied to their methods", "[proxy]") {
  auto t = parse_request_target("/p?q", Method::post);
  REQUIRE(t);
  CHECK(t->form == TargetForm::origin);
  CHECK(t->path_and_query == "/p?q");
  CHECK(t->authority.host.empty());

  t = parse_request_target("*", Method::options);
  REQUIRE(t);
  CHECK(t->form == TargetForm::asterisk);
  CHECK_FALSE(parse_request_target("*", Method::get));

  t = parse_request_target("a.example:443", Method::connect);
  REQUIRE(t);
  CHECK(t->form == TargetForm::authority);
  CHECK(t->authority.host == "a.example");
  CHECK(t->authority.port == 443);
  t = parse_request_target("[::1]:8443", Method::connect);
  REQUIRE(t);
  CHECK(t->authority.host == "::1");
  CHECK(t->authority.port == 8443);
  CHECK_FALSE(parse_request_target("a.example", Method::connect));  // port required
  CHECK_FALSE(parse_request_target("/x", Method::connect));         // only authority-form
  CHECK_FALSE(parse_request_target("http://a.example/", Method::connect));
  CHECK_FALSE(parse_request_target("u@a.example:443", Method::connect));
  CHECK_FALSE(parse_request_target("a.example:443", Method::get));
}

TEST_CASE("parse_authority accepts reg-names, IPv4 and pct-encoding", "[proxy]") {
  auto a = parse_authority("a-b.c_d~e.example", 80);
  REQUIRE(a);
  CHECK(a->port == 80);
  a = parse_authority("192.0.2.1:81", 80);
  REQUIRE(a);
  CHECK(a->host == "192.0.2.1");
  CHECK(a->port == 81);
  CHECK(parse_authority("xn--caf-dma.example", 80));
  CHECK(parse_authority("a%2Eb", 80));
  CHECK_FALSE(parse_authority("a%2", 80));
  CHECK_FALSE(parse_authority("a%zz", 80));
  CHECK_FALSE(parse_authority("", 80));
  CHECK_FALSE(parse_authority(":80", 80));
  CHECK_FALSE(parse_authority("a:80:81", 80));
  CHECK_FALSE(parse_authority("caf\xc3\xa9.example", 80));  // raw UTF-8: the client must send an A-label
}

TEST_CASE("a request head's authority comes from the absolute URI first, Host otherwise", "[proxy]") {
  RequestHead h;
  h.target = "http://uri.example:8080/x";
  REQUIRE(h.headers.add("Host", "header.example"));
  auto a = h.authority();
  REQUIRE(a);
  CHECK(a->host == "uri.example");
  CHECK(a->port == 8080);
  CHECK(h.authority_text() == "uri.example:8080");

  h.target = "/x";
  a = h.authority(443);
  REQUIRE(a);
  CHECK(a->host == "header.example");
  CHECK(a->port == 443);
  CHECK(h.authority_text() == "header.example");

  h.headers.clear();
  CHECK_FALSE(h.authority());
  CHECK(h.authority_text().empty());
}

TEST_CASE("method names come from llhttp", "[proxy]") {
  CHECK(method_name(Method::get) == "GET");
  CHECK(method_name(Method::connect) == "CONNECT");
  CHECK(method_name(Method::delete_) == "DELETE");
  CHECK(method_name(Method::patch) == "PATCH");
  CHECK(method_name(static_cast<Method>(24)) == "M-SEARCH");
}
