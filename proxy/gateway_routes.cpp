#include "proxy/gateway_routes.hpp"

#include "policy/host.hpp"

namespace consent::proxy {

bool route_host_matches(std::string_view pattern, std::string_view host) noexcept {
  if (!pattern.starts_with("*.")) return pattern == host;
  const auto suffix = pattern.substr(1);  // ".example.com": at least one label must precede it
  return host.size() > suffix.size() && host.ends_with(suffix);
}

std::vector<std::size_t> listener_of_routes(const std::vector<config::GatewayRoute>& routes) {
  std::vector<std::size_t> out(routes.size());
  std::size_t listeners = 0;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    out[i] = listeners;
    if (!routes[i].listen.ends_with(":0")) {
      for (std::size_t j = 0; j < i; ++j) {
        if (routes[j].listen == routes[i].listen) {
          out[i] = out[j];
          break;
        }
      }
    }
    if (out[i] == listeners) ++listeners;
  }
  return out;
}

const config::GatewayRoute* find_route(const std::vector<config::GatewayRoute>& routes, std::size_t listener_index,
                                       std::string_view host) {
  return find_route(routes, listener_of_routes(routes), listener_index, host);
}

const config::GatewayRoute* find_route(const std::vector<config::GatewayRoute>& routes,
                                       const std::vector<std::size_t>& listener_of, std::size_t listener_index,
                                       std::string_view host) {
  const config::GatewayRoute* best_wildcard = nullptr;
  std::size_t best_wildcard_size = 0;
  const config::GatewayRoute* any_host = nullptr;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const auto& route = routes[i];
    if (listener_of[i] != listener_index) continue;
    if (route.hosts.empty()) {
      if (any_host == nullptr) any_host = &route;
      continue;
    }
    for (const auto& pattern : route.hosts) {
      if (!route_host_matches(pattern, host)) continue;
      if (!pattern.starts_with("*.")) return &route;
      if (pattern.size() > best_wildcard_size) {
        best_wildcard = &route;
        best_wildcard_size = pattern.size();
      }
    }
  }
  return best_wildcard != nullptr ? best_wildcard : any_host;
}

RouteResult route_request(const std::vector<config::GatewayRoute>& routes, std::size_t listener_index, bool is_https,
                          const RequestHead& head) {
  return route_request(routes, listener_of_routes(routes), listener_index, is_https, head);
}

RouteResult route_request(const std::vector<config::GatewayRoute>& routes, const std::vector<std::size_t>& listener_of,
                          std::size_t listener_index, bool is_https, const RequestHead& head) {
  RouteResult out;
  const auto target = head.parsed_target();
  if (!target || head.is_connect() || target->form == TargetForm::asterisk || target->form == TargetForm::authority) {
    out.miss = RouteMiss::bad_target;
    return out;
  }
  // A proxy-style absolute URI must not let a visitor reach another scheme than the listener's: an
  // "https://" URI on a plain listener would claim a TLS the visitor never had.
  if (target->form == TargetForm::absolute && target->is_https != is_https) {
    out.miss = RouteMiss::bad_target;
    return out;
  }
  // RFC 9112 section 3.2: a request with several Host lines, or an invalid one, gets a 400.
  const auto host_lines = head.headers.count("Host");
  if (host_lines > 1) {
    out.miss = RouteMiss::bad_host;
    return out;
  }
  const std::uint16_t default_port = is_https ? 443 : 80;
  const auto authority = head.authority(default_port);
  if (!authority || authority->host.empty()) {
    out.miss = target->form == TargetForm::origin && host_lines == 0 ? RouteMiss::no_host : RouteMiss::bad_host;
    return out;
  }
  auto host = policy::normalise_host(authority->host);
  if (!host) {
    out.miss = RouteMiss::bad_host;
    return out;
  }
  out.host = std::move(*host);
  out.port = authority->port;
  out.route = find_route(routes, listener_of, listener_index, out.host);
  if (out.route == nullptr) {
    out.miss = RouteMiss::unknown_host;
    return out;
  }
  out.path_and_query = target->path_and_query.empty() ? std::string("/") : std::string(target->path_and_query);
  if (out.path_and_query.front() == '?') out.path_and_query.insert(0, "/");
  return out;
}

}  // namespace consent::proxy
