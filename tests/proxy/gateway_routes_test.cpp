// The gateway route table: listener + Host, exact and wildcard, port stripped, case-insensitive.
#include "proxy/gateway_routes.hpp"

#include <catch2/catch.hpp>

#include "proxy/http_parser.hpp"

using namespace consent;
using namespace consent::proxy;

namespace {

config::GatewayRoute route(std::string name, std::string listen, std::vector<std::string> hosts) {
  config::GatewayRoute r;
  r.name = std::move(name);
  r.listen = std::move(listen);
  r.hosts = std::move(hosts);
  r.upstream = "http://127.0.0.1:3000";
  r.origin = {false, "127.0.0.1", 3000};
  return r;
}

const std::vector<config::GatewayRoute> routes{
    route("shop", "0.0.0.0:80", {"shop.example", "www.shop.example"}),
    route("shop-subdomains", "0.0.0.0:80", {"*.shop.example"}),
    route("deep", "0.0.0.0:80", {"*.eu.shop.example"}),
    route("fallback", "0.0.0.0:80", {}),
    route("other-listener", "0.0.0.0:8080", {"shop.example"}),
};

std::string name_of(const config::GatewayRoute* r) { return r == nullptr ? "none" : r->name; }

RequestHead head(const std::string& raw) {
  RequestParser parser(config::Limits{});
  const auto step = parser.feed(raw);
  REQUIRE(step.event == ParseEvent::head);
  return parser.head();
}

}  // namespace

TEST_CASE("route hosts match exactly or as subdomains of a wildcard, never the bare domain", "[proxy][gateway]") {
  CHECK(route_host_matches("a.example", "a.example"));
  CHECK_FALSE(route_host_matches("a.example", "x.a.example"));
  CHECK_FALSE(route_host_matches("a.example", "ba.example"));
  CHECK(route_host_matches("*.a.example", "x.a.example"));
  CHECK(route_host_matches("*.a.example", "y.x.a.example"));
  CHECK_FALSE(route_host_matches("*.a.example", "a.example"));
  CHECK_FALSE(route_host_matches("*.a.example", "ba.example"));
  CHECK_FALSE(route_host_matches("*.a.example", ".a.example"));
}

TEST_CASE("routes sharing a listen share a listener, except any-free-port ones", "[proxy][gateway]") {
  CHECK(listener_of_routes(routes) == std::vector<std::size_t>{0, 0, 0, 0, 1});
  const std::vector<config::GatewayRoute> ports{
      route("a", "127.0.0.1:0", {"a.example"}), route("b", "127.0.0.1:81", {"b.example"}),
      route("c", "127.0.0.1:0", {"c.example"}), route("d", "127.0.0.1:81", {"d.example"})};
  CHECK(listener_of_routes(ports) == std::vector<std::size_t>{0, 1, 2, 1});
  CHECK(name_of(find_route(ports, 2, "c.example")) == "c");
  CHECK(name_of(find_route(ports, 0, "c.example")) == "none");
}

TEST_CASE("exact hosts beat the longest wildcard, which beats the any-host route", "[proxy][gateway]") {
  CHECK(name_of(find_route(routes, 0, "shop.example")) == "shop");
  CHECK(name_of(find_route(routes, 0, "www.shop.example")) == "shop");
  CHECK(name_of(find_route(routes, 0, "img.shop.example")) == "shop-subdomains");
  CHECK(name_of(find_route(routes, 0, "a.eu.shop.example")) == "deep");
  CHECK(name_of(find_route(routes, 0, "eu.shop.example")) == "shop-subdomains");
  CHECK(name_of(find_route(routes, 0, "unknown.example")) == "fallback");
  CHECK(name_of(find_route(routes, 1, "shop.example")) == "other-listener");
  CHECK(name_of(find_route(routes, 1, "www.shop.example")) == "none");
  CHECK(name_of(find_route(routes, 2, "shop.example")) == "none");
}

TEST_CASE("requests are routed by a normalised Host: case, port and trailing dot do not matter", "[proxy][gateway]") {
  for (const char* host : {"shop.example", "SHOP.Example", "shop.example:80", "shop.example.", "Shop.Example.:8080"}) {
    INFO(host);
    const auto h = head(std::string("GET /a?b=1 HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    const auto r = route_request(routes, 1, false, h);
    CHECK(r.miss == RouteMiss::none);
    CHECK(name_of(r.route) == "other-listener");
    CHECK(r.host == "shop.example");
    CHECK(r.path_and_query == "/a?b=1");
  }
  const auto r = route_request(routes, 1, false, head("GET / HTTP/1.1\r\nHost: shop.example:8080\r\n\r\n"));
  CHECK(r.port == 8080);
  CHECK(route_request(routes, 1, true, head("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n")).port == 443);
}

TEST_CASE("unknown hosts, missing or repeated Host and foreign targets are refused", "[proxy][gateway]") {
  const auto miss = [](const std::string& raw, bool is_https = false) {
    return route_request(routes, 1, is_https, head(raw)).miss;
  };
  CHECK(miss("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n") == RouteMiss::unknown_host);
  CHECK(miss("GET / HTTP/1.1\r\nHost: ashop.example\r\n\r\n") == RouteMiss::unknown_host);
  CHECK(miss("GET / HTTP/1.0\r\n\r\n") == RouteMiss::no_host);
  // Two Host lines never get here: the codec refuses them (RFC 9112 section 3.2). An invalid name does.
  CHECK(miss("GET / HTTP/1.1\r\nHost: x!y.example\r\n\r\n") == RouteMiss::bad_host);
  CHECK(miss("CONNECT shop.example:443 HTTP/1.1\r\nHost: shop.example:443\r\n\r\n") == RouteMiss::bad_target);
  CHECK(miss("OPTIONS * HTTP/1.1\r\nHost: shop.example\r\n\r\n") == RouteMiss::bad_target);
}

TEST_CASE("an absolute-form target is accepted only for a routed host and the listener's scheme", "[proxy][gateway]") {
  const auto r =
      route_request(routes, 1, false, head("GET http://shop.example/x HTTP/1.1\r\nHost: evil.example\r\n\r\n"));
  CHECK(r.miss == RouteMiss::none);
  CHECK(r.host == "shop.example");
  CHECK(r.path_and_query == "/x");
  // The URI's authority wins over Host (RFC 9112 section 3.2.2): a forward-proxy request elsewhere is refused.
  CHECK(route_request(routes, 1, false, head("GET http://tracker.example/x HTTP/1.1\r\nHost: shop.example\r\n\r\n"))
            .miss == RouteMiss::unknown_host);
  CHECK(
      route_request(routes, 1, false, head("GET https://shop.example/x HTTP/1.1\r\nHost: shop.example\r\n\r\n")).miss ==
      RouteMiss::bad_target);
  CHECK(route_request(routes, 1, false, head("GET http://shop.example HTTP/1.1\r\n\r\n")).path_and_query == "/");
}
