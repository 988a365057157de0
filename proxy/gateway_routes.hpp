#pragma once
// The gateway's route table (issue 6): which route serves a request, from the listener it arrived on and
// its Host. Pure functions over the configured routes; thread-safe; no allocation on lookup.
//
// Precedence on one listen address: an exact host, then the longest matching "*.domain" (subdomains only,
// never the domain itself), then a route without hosts (any Host). Hosts compare after
// policy::normalise_host (lower case, no port, no trailing dot), so "WWW.Shop.Example.:8080" finds
// "www.shop.example".
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "proxy/http_message.hpp"

namespace consent::proxy {

// True when a configured route host ("www.example.com" or "*.example.com", normalised) matches `host`
// (normalised).
[[nodiscard]] bool route_host_matches(std::string_view pattern, std::string_view host) noexcept;

// The listener serving each route, as positions in make_gateway_listeners' list: one listener per
// distinct `listen` in order of first appearance, except that every "ADDR:0" route ("any free port")
// gets a listener of its own (two such routes never share a socket, so their equal text means nothing).
[[nodiscard]] std::vector<std::size_t> listener_of_routes(const std::vector<config::GatewayRoute>& routes);

// The route for a normalised host on the listener at `listener_index`, or nullptr. The pointer is into
// `routes`.
[[nodiscard]] const config::GatewayRoute* find_route(const std::vector<config::GatewayRoute>& routes,
                                                     std::size_t listener_index, std::string_view host);
// The same with listener_of_routes(routes) computed once by the caller (no allocation per request).
[[nodiscard]] const config::GatewayRoute* find_route(const std::vector<config::GatewayRoute>& routes,
                                                     const std::vector<std::size_t>& listener_of,
                                                     std::size_t listener_index, std::string_view host);

// Why a request has no route; each maps to one local reply and reason code.
enum class RouteMiss {
  none,
  no_host,       // no Host header (HTTP/1.0) and no absolute URI: 400 missing_host
  bad_host,      // Host is not a host name or IP literal: 400 malformed_request
  unknown_host,  // no route on this listener serves it: 421 misdirected_request (RFC 9110 section 15.5.20)
  bad_target,    // asterisk-form, CONNECT, or an absolute URI whose scheme does not fit the listener: 400
};

// The route and the facts the exchange needs from a request head. `host` is normalised; `port` is the
// visitor-facing port (Host's, else the listener scheme's default).
struct RouteResult {
  const config::GatewayRoute* route = nullptr;
  RouteMiss miss = RouteMiss::none;
  std::string host;
  std::uint16_t port = 0;
  std::string path_and_query;  // origin-form, starts with '/'
};

// Routes `head` arriving on the listener at `listener_index` (`is_https`: the listener speaks TLS). Absolute-form
// targets are accepted only when they name a routed host (RFC 9112 section 3.2.2: the URI's authority wins over Host).
[[nodiscard]] RouteResult route_request(const std::vector<config::GatewayRoute>& routes, std::size_t listener_index,
                                        bool is_https, const RequestHead& head);
// The same with listener_of_routes(routes) computed once by the caller.
[[nodiscard]] RouteResult route_request(const std::vector<config::GatewayRoute>& routes,
                                        const std::vector<std::size_t>& listener_of, std::size_t listener_index,
                                        bool is_https, const RequestHead& head);

}  // namespace consent::proxy
