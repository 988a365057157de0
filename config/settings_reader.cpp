// The settings file (config/default.yaml): see docs/config.md for the format.
#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "config/readers.hpp"
#include "config/value_parsers.hpp"

namespace consent::config::detail {
namespace {

constexpr std::array<std::string_view, 18> settings_keys{
    "mode",       "listen",          "workers",       "log",  "log_all_exchanges", "log_full_urls",
    "connect_to", "allowed_clients", "connect_ports", "auth", "timeouts",          "limits",
    "data_dir",   "upstream_ca",     "policies",      "tls",  "gateway",           "dns"};
constexpr std::array<std::string_view, 6> dns_keys{"servers",       "timeout",       "tries",
                                                   "cache_entries", "max_cache_ttl", "cname_cloaking"};
// c-ares keeps at most this many rounds; a typo like 100 would hold a failing request for hours.
constexpr std::uint64_t max_dns_tries = 16;
constexpr std::uint64_t max_dns_cache_entries = 10'000'000;
constexpr std::array<std::string_view, 3> tls_keys{"intercept", "leaf_cache_entries", "passthrough"};
constexpr std::array<std::string_view, 13> gateway_keys{"routes",
                                                        "forwarded_headers",
                                                        "trusted_proxies",
                                                        "consent_header",
                                                        "csp",
                                                        "csp_allow",
                                                        "third_parties",
                                                        "health_path",
                                                        "csp_report_path",
                                                        "consent_records",
                                                        "consent_records_rotate_bytes",
                                                        "consent_records_keep",
                                                        "consent_records_key"};
constexpr std::array<std::string_view, 8> route_keys{"name",        "listen",      "hosts",     "upstream",
                                                     "certificate", "private_key", "csp_allow", "third_parties"};
constexpr std::array<std::string_view, 3> csp_mode_names{"off", "enforce", "report-only"};
// A leaf cache beyond this would hold gigabytes of certificates; a typo like 40960000 is refused.
constexpr std::uint64_t max_leaf_cache_entries = 10'000'000;
constexpr std::uint64_t max_consent_records_keep = 1000;
constexpr std::array<std::string_view, 3> auth_keys{"enabled", "realm", "users"};
constexpr std::array<std::string_view, 8> timeout_keys{"client_head", "connect",   "tls_handshake", "first_byte",
                                                       "idle",        "keepalive", "tunnel_idle",   "shutdown_grace"};
constexpr std::array<std::string_view, 10> limit_keys{
    "request_head_bytes", "response_head_bytes",    "header_count",        "uri_bytes",      "chunk_extension_bytes",
    "max_connections",    "upstream_pool_per_host", "upstream_pool_total", "ledger_entries", "log_queue_entries"};
constexpr std::array<std::string_view, 4> connect_to_keys{"host", "port", "to_host", "to_port"};
constexpr std::array<std::string_view, 3> mode_names{"enforce", "report-only", "gateway"};

// Hundreds of cores is already far more than this proxy can use; a typo like 80000 is refused.
constexpr std::uint64_t max_workers = 1024;

std::string resolve(const std::filesystem::path& base_dir, const std::string& path) {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (base_dir / p).lexically_normal().string();
}

void read_timeouts(Reader& r, const Field& f, Timeouts& t) {
  MapReader m(r, f, timeout_keys);
  const std::array<std::pair<std::string_view, std::chrono::milliseconds*>, 8> slots{{
      {"client_head", &t.client_head},
      {"connect", &t.connect},
      {"tls_handshake", &t.tls_handshake},
      {"first_byte", &t.first_byte},
      {"idle", &t.idle},
      {"keepalive", &t.keepalive},
      {"tunnel_idle", &t.tunnel_idle},
      {"shutdown_grace", &t.shutdown_grace},
  }};
  for (auto [key, slot] : slots) {
    if (auto v = m.get(key)) {
      if (auto d = read_duration(r, *v)) *slot = *d;
    }
  }
}

void read_limits(Reader& r, const Field& f, Limits& l) {
  MapReader m(r, f, limit_keys);
  const std::array<std::pair<std::string_view, std::size_t*>, 10> slots{{
      {"request_head_bytes", &l.request_head_bytes},
      {"response_head_bytes", &l.response_head_bytes},
      {"header_count", &l.header_count},
      {"uri_bytes", &l.uri_bytes},
      {"chunk_extension_bytes", &l.chunk_extension_bytes},
      {"max_connections", &l.max_connections},
      {"upstream_pool_per_host", &l.upstream_pool_per_host},
      {"upstream_pool_total", &l.upstream_pool_total},
      {"ledger_entries", &l.ledger_entries},
      {"log_queue_entries", &l.log_queue_entries},
  }};
  for (auto [key, slot] : slots) {
    auto v = m.get(key);
    if (!v) continue;
    // A limit of zero would refuse everything; "no limit" is deliberately not expressible (STYLE §1).
    constexpr std::uint64_t max = std::numeric_limits<std::uint32_t>::max();
    if (key.ends_with("_bytes") && v->node.IsScalar()) {
      std::string error;
      auto n = parse_byte_size(v->node.Scalar(), error);
      if (!n) {
        r.error(v->mark, v->path, std::move(error));
      } else if (*n < 1 || *n > max) {
        r.error(v->mark, v->path, "must be from 1 byte to 4GiB, got " + quote(v->node.Scalar()));
      } else {
        *slot = static_cast<std::size_t>(*n);
      }
    } else if (auto n = read_uint(r, *v, 1, max)) {
      *slot = static_cast<std::size_t>(*n);
    }
  }
}

void read_auth(Reader& r, const Field& f, ProxyAuth& auth) {
  MapReader m(r, f, auth_keys);
  if (auto v = m.get("enabled")) {
    if (auto b = read_bool(r, *v)) auth.enabled = *b;
  }
  if (auto v = m.get("realm")) {
    if (auto s = read_nonempty_string(r, *v)) {
      // The realm goes into a quoted-string in Proxy-Authenticate (RFC 9110 §11.6.1).
      if (s->find_first_of("\"\\\r\n") != std::string::npos) {
        r.error(v->mark, v->path, "must not contain quotes, backslashes or line breaks");
      } else {
        auth.realm = std::move(*s);
      }
    }
  }
  if (auto v = m.get("users")) {
    if (auto list = read_list(r, *v)) {
      for (const auto& e : *list) {
        auto s = read_nonempty_string(r, e);
        if (!s) continue;
        // Basic credentials split at the first ':' (RFC 7617 §2), so a user name cannot contain one.
        if (auto colon = s->find(':'); colon == std::string::npos || colon == 0) {
          r.error(e.mark, e.path, "expected \"user:password\"");  // never echo a password
          continue;
        }
        auth.users.push_back(std::move(*s));
      }
    }
  }
  if (m.is_map() && auth.enabled && auth.users.empty()) {
    r.error(m.self().mark, m.self().path, "auth is enabled but no users are listed");
  }
}

// A list of non-empty strings, each checked by parse(text, error) -> std::optional<T>: an entry that does
// not parse is reported at its own file:line:col and left out, so one typo does not hide the others.
// Returns the entries read (nullopt when the value is not a list) for checks about the list as a whole.
template <class T, class Parse>
std::optional<std::vector<Field>> read_parsed_list(Reader& r, const Field& f, std::vector<T>& out, Parse parse) {
  auto list = read_list(r, f);
  if (!list) return list;
  for (const auto& e : *list) {
    auto s = read_nonempty_string(r, e);
    if (!s) continue;
    std::string error;
    if (auto value = parse(*s, error)) {
      out.push_back(std::move(*value));
    } else {
      r.error(e.mark, e.path, std::move(error));
    }
  }
  return list;
}

void read_connect_to(Reader& r, const Field& f, std::vector<ConnectTo>& out) {
  auto list = read_list(r, f);
  if (!list) return;
  for (const auto& e : *list) {
    if (e.node.IsMap()) {
      MapReader m(r, e, connect_to_keys);
      ConnectTo rule;
      bool ok = true;
      const std::array<std::pair<std::string_view, std::string*>, 4> slots{
          {{"host", &rule.host}, {"port", &rule.port}, {"to_host", &rule.to_host}, {"to_port", &rule.to_port}}};
      for (auto [key, slot] : slots) {
        auto v = m.get(key);
        if (!v) continue;
        auto s = read_string(r, *v);
        if (!s) {
          ok = false;
          continue;
        }
        if (key.ends_with("port") && !valid_connect_to_port(*s)) {
          r.error(v->mark, v->path, "expected a port from 1 to 65535, got " + quote(*s));
          ok = false;
          continue;
        }
        if (key == "host" && !valid_connect_to_host(*s, true)) {
          r.error(v->mark, v->path, quote(*s) + " is not a host name, IP address or \"*.domain\"");
          ok = false;
          continue;
        }
        if (key == "to_host" && !valid_connect_to_host(*s, false)) {
          r.error(v->mark, v->path, quote(*s) + " is not a host name or IP address");
          ok = false;
          continue;
        }
        *slot = std::move(*s);
      }
      if (ok && m.is_map()) out.push_back(std::move(rule));
      continue;
    }
    if (!e.node.IsScalar()) {
      r.error(e.mark, e.path, "expected \"HOST:PORT:ADDRESS:PORT\" or a map, got " + describe(e.node));
      continue;
    }
    std::string error;
    if (auto rule = parse_connect_to(e.node.Scalar(), error)) {
      out.push_back(std::move(*rule));
    } else {
      r.error(e.mark, e.path, std::move(error));
    }
  }
}

void read_hosts(Reader& r, const Field& f, std::vector<std::string>& out) {
  read_parsed_list(r, f, out, parse_route_host);
}

void read_tls(Reader& r, const Field& f, Tls& tls) {
  MapReader m(r, f, tls_keys);
  if (auto v = m.get("intercept")) {
    if (auto b = read_bool(r, *v)) tls.intercept = *b;
  }
  if (auto v = m.get("leaf_cache_entries")) {
    if (auto n = read_uint(r, *v, 1, max_leaf_cache_entries)) tls.leaf_cache_entries = static_cast<std::size_t>(*n);
  }
  if (auto v = m.get("passthrough")) read_hosts(r, *v, tls.passthrough);
}

// A path the gateway serves itself: absolute, no query, fragment or spaces (it is compared to the
// request target's path byte for byte).
std::optional<std::string> read_local_path(Reader& r, const Field& f) {
  auto s = read_nonempty_string(r, f);
  if (!s) return std::nullopt;
  const bool ok = s->front() == '/' && std::all_of(s->begin(), s->end(), [](char c) {
                    return c > ' ' && c < 0x7f && c != '?' && c != '#' && c != '%';
                  });
  if (!ok) {
    r.error(f.mark, f.path, quote(*s) + " is not an absolute path such as \"/.consentgate/health\"");
    return std::nullopt;
  }
  return s;
}

void read_csp_allow(Reader& r, const Field& f, std::vector<std::string>& out) {
  read_parsed_list(r, f, out, parse_csp_source);
}

// The operator's certificate and key are read at start by the proxy (PEM parsing needs OpenSSL, which
// config/ does not use); here they must exist and be readable, so that a typo is a load-time error.
bool check_readable(Reader& r, const Field& f, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    r.error(f.mark, f.path, "cannot read " + quote(path) + ": is a directory");
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.error(f.mark, f.path, "cannot read " + quote(path) + ": " + std::strerror(errno));
    return false;
  }
  return true;
}

// A private key others can read is a leaked key. Group access is allowed: Debian's convention is
// /etc/ssl/private mode 0640, group ssl-cert.
void check_private(Reader& r, const Field& f, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // reported by check_readable
  if ((st.st_mode & 0007) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    r.error(f.mark, f.path, quote(path) + " is accessible to others (mode " + mode + "); run: chmod o-rwx " + path);
  }
}

void read_route(Reader& r, const Field& f, const std::filesystem::path& base_dir, GatewayRoute& route, bool& ok) {
  MapReader m(r, f, route_keys);
  ok = m.is_map();
  if (!ok) return;
  const auto errors_before = r.error_count();
  if (auto v = m.get("name")) {
    if (auto s = read_nonempty_string(r, *v)) route.name = std::move(*s);
  }
  if (auto v = m.require("listen")) {
    if (auto s = read_string(r, *v)) {
      std::string error;
      if (auto listen = parse_listen(*s, error)) {
        route.listen = std::move(*listen);
      } else {
        r.error(v->mark, v->path, std::move(error));
      }
    }
  }
  if (auto v = m.get("hosts")) {
    if (auto list = read_parsed_list(r, *v, route.hosts, parse_route_host)) {
      if (list->empty()) {
        r.error(v->mark, v->path, "must list at least one host; leave hosts out to serve any Host on this listen");
      }
    }
  }
  if (auto v = m.require("upstream")) {
    if (auto s = read_string(r, *v)) {
      std::string error;
      if (auto origin = parse_origin_url(*s, error)) {
        route.upstream = std::move(*s);
        route.origin = std::move(*origin);
      } else {
        r.error(v->mark, v->path, std::move(error));
      }
    }
  }
  auto cert = m.get("certificate");
  auto key = m.get("private_key");
  if (cert) {
    if (auto s = read_nonempty_string(r, *cert)) {
      route.certificate = resolve(base_dir, *s);
      check_readable(r, *cert, route.certificate);
    }
  }
  if (key) {
    if (auto s = read_nonempty_string(r, *key)) {
      route.private_key = resolve(base_dir, *s);
      if (check_readable(r, *key, route.private_key)) check_private(r, *key, route.private_key);
    }
  }
  if (cert && !key) r.error(m.self().mark, m.self().path, "certificate is set but private_key is missing");
  if (key && !cert) r.error(m.self().mark, m.self().path, "private_key is set but certificate is missing");
  if (auto v = m.get("csp_allow")) read_csp_allow(r, *v, route.csp_allow);
  if (auto v = m.get("third_parties")) read_hosts(r, *v, route.third_parties);
  if (route.name.empty()) route.name = route.hosts.empty() ? route.listen : route.hosts.front();
  ok = r.error_count() == errors_before;
}

// Where each route's listen and hosts were written, to point at the second of a duplicate.
struct RouteSeen {
  std::string listen;
  std::string host;        // "" = any Host
  std::string path;        // key path of the first occurrence
  std::string route_path;  // key path of its route
  bool is_https;
};

void read_routes(Reader& r, const Field& f, const std::filesystem::path& base_dir, std::vector<GatewayRoute>& out) {
  auto list = read_list(r, f);
  if (!list) return;
  std::vector<RouteSeen> seen;
  for (const auto& e : *list) {
    GatewayRoute route;
    bool ok = false;
    read_route(r, e, base_dir, route, ok);
    if (!ok) continue;
    const bool is_https = !route.certificate.empty();
    // Port 0 means "any free port": two such routes get two sockets, so they never collide.
    const bool shared_socket = !route.listen.ends_with(":0");
    bool clash = false;
    if (shared_socket) {
      auto other = std::find_if(seen.begin(), seen.end(), [&](const RouteSeen& s) { return s.listen == route.listen; });
      if (other != seen.end() && other->is_https != is_https) {
        r.error(e.mark, e.path,
                "listen " + quote(route.listen) + " is " + (is_https ? "HTTPS" : "plain HTTP") + " here but " +
                    (other->is_https ? "HTTPS" : "plain HTTP") + " in " + other->route_path +
                    "; routes sharing a listen address must all have a certificate or none");
        clash = true;
      }
    }
    const std::vector<std::string> any{""};
    const auto& hosts = route.hosts.empty() ? any : route.hosts;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      const std::string here = route.hosts.empty() ? e.path : index_path(child_path(e.path, "hosts"), i);
      auto dup = std::find_if(seen.begin(), seen.end(), [&](const RouteSeen& s) {
        return shared_socket && s.listen == route.listen && s.host == hosts[i];
      });
      if (dup != seen.end()) {
        const auto what = hosts[i].empty() ? std::string("a route for any Host") : "host " + quote(hosts[i]);
        r.error(e.mark, here, what + " on " + quote(route.listen) + " is already routed by " + dup->path);
        clash = true;
        continue;
      }
      seen.push_back(RouteSeen{route.listen, hosts[i], here, e.path, is_https});
    }
    if (!clash) out.push_back(std::move(route));
  }
}

void read_gateway(Reader& r, const Field& f, const std::filesystem::path& base_dir, Gateway& g) {
  MapReader m(r, f, gateway_keys);
  if (!m.is_map()) return;
  if (auto v = m.get("routes")) read_routes(r, *v, base_dir, g.routes);
  if (auto v = m.get("forwarded_headers")) {
    if (auto b = read_bool(r, *v)) g.forwarded_headers = *b;
  }
  if (auto v = m.get("trusted_proxies")) {
    if (auto list = read_list(r, *v)) {
      for (const auto& e : *list) {
        auto s = read_string(r, e);
        if (!s) continue;
        std::string error;
        if (auto cidr = parse_cidr(*s, error)) {
          g.trusted_proxies.push_back(std::move(*cidr));
        } else {
          r.error(e.mark, e.path, std::move(error));
        }
      }
    }
  }
  if (auto v = m.get("consent_header")) {
    if (auto s = read_string(r, *v)) {
      if (s->empty() || valid_origin_header_name(*s)) {
        g.consent_header = std::move(*s);
      } else {
        r.error(v->mark, v->path,
                quote(*s) +
                    " is not a header name the gateway may set (a token, not Host, Cookie, Forwarded, "
                    "X-Forwarded-*, Proxy-* or a framing header); \"\" disables it");
      }
    }
  }
  if (auto v = m.get("csp")) {
    if (auto s = read_choice(r, *v, csp_mode_names)) {
      g.csp = *s == "off" ? CspMode::off : *s == "enforce" ? CspMode::enforce : CspMode::report_only;
    }
  }
  if (auto v = m.get("csp_allow")) read_csp_allow(r, *v, g.csp_allow);
  if (auto v = m.get("third_parties")) read_hosts(r, *v, g.third_parties);
  auto health = m.get("health_path");
  auto report = m.get("csp_report_path");
  if (health) {
    if (auto s = read_local_path(r, *health)) g.health_path = std::move(*s);
  }
  if (report) {
    if (auto s = read_local_path(r, *report)) g.csp_report_path = std::move(*s);
  }
  if (g.health_path == g.csp_report_path) {
    const Field& at = report ? *report : health ? *health : m.self();
    r.error(at.mark, at.path, "health_path and csp_report_path must differ");
  }
  if (auto v = m.get("consent_records")) {
    if (auto s = read_nonempty_string(r, *v)) g.consent_records = *s == "-" ? *s : resolve(base_dir, *s);
  }
  if (auto v = m.get("consent_records_rotate_bytes")) {
    if (v->node.IsScalar()) {
      std::string error;
      auto n = parse_byte_size(v->node.Scalar(), error);
      // Below 4KiB a file would hold a handful of lines and rotation would churn on every visitor.
      constexpr std::uint64_t min = 4096;
      constexpr std::uint64_t max = 1ULL << 40;
      if (!n) {
        r.error(v->mark, v->path, std::move(error));
      } else if (*n < min || *n > max) {
        r.error(v->mark, v->path, "must be from 4KiB to 1TiB, got " + quote(v->node.Scalar()));
      } else {
        g.consent_records_rotate_bytes = static_cast<std::size_t>(*n);
      }
    } else {
      r.error(v->mark, v->path, "expected a size such as 65536, \"64KiB\" or \"1MiB\", got " + describe(v->node));
    }
  }
  if (auto v = m.get("consent_records_keep")) {
    if (auto n = read_uint(r, *v, 1, max_consent_records_keep)) g.consent_records_keep = static_cast<unsigned>(*n);
  }
  if (auto v = m.get("consent_records_key")) {
    if (auto s = read_nonempty_string(r, *v)) {
      g.consent_records_key = resolve(base_dir, *s);
      if (check_readable(r, *v, g.consent_records_key)) check_private(r, *v, g.consent_records_key);
    }
  }
}

// One dns.servers entry, as proxy/dns_resolver.cpp reads it: an IP address (a DNS server cannot be a name:
// it would need DNS to be found), with an optional port; IPv6 with a port in brackets.
bool is_dns_server(std::string_view text) {
  std::string_view host = text;
  std::string_view port;
  bool is_bracketed = false;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
    is_bracketed = true;
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) return false;  // IPv6 needs brackets
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return false;
  }
  const std::string address(host);
  unsigned char bytes[16];
  const bool is_v4 = ::inet_pton(AF_INET, address.c_str(), bytes) == 1;
  const bool is_v6 = !is_v4 && ::inet_pton(AF_INET6, address.c_str(), bytes) == 1;
  if ((!is_v4 && !is_v6) || is_bracketed != is_v6) return false;
  if (port.empty()) return true;
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const auto n = std::stoul(std::string(port));
  return n >= 1 && n <= 65535;
}

void read_dns(Reader& r, const Field& f, Dns& dns) {
  MapReader m(r, f, dns_keys);
  if (auto v = m.get("servers")) {
    read_parsed_list(r, *v, dns.servers, [](const std::string& s, std::string& error) -> std::optional<std::string> {
      if (is_dns_server(s)) return s;
      error = quote(s) +
              " is not a DNS server: expected an IP address, ADDRESS:PORT or [IPV6]:PORT (e.g. \"9.9.9.9\", "
              "\"127.0.0.1:5353\", \"[::1]:53\")";
      return std::nullopt;
    });
  }
  if (auto v = m.get("timeout")) {
    if (auto d = read_duration(r, *v)) {
      if (d->count() <= 0) {
        r.error(v->mark, v->path, "must be more than 0 (a DNS query cannot wait forever)");
      } else {
        dns.timeout = *d;
      }
    }
  }
  if (auto v = m.get("tries")) {
    if (auto n = read_uint(r, *v, 1, max_dns_tries)) dns.tries = static_cast<unsigned>(*n);
  }
  if (auto v = m.get("cache_entries")) {
    if (auto n = read_uint(r, *v, 0, max_dns_cache_entries)) dns.cache_entries = static_cast<std::size_t>(*n);
  }
  if (auto v = m.get("max_cache_ttl")) {
    if (auto d = read_duration(r, *v)) dns.max_cache_ttl = *d;
  }
  if (auto v = m.get("cname_cloaking")) {
    if (auto b = read_bool(r, *v)) dns.cname_cloaking = *b;
  }
}

}  // namespace

void read_settings(Reader& r, const YAML::Node& root, const std::filesystem::path& base_dir, Settings& out,
                   std::vector<PolicyRef>& policies) {
  MapReader m(r, Field{root, root.Mark(), ""}, settings_keys);
  if (!m.is_map()) return;
  if (auto v = m.get("mode")) {
    if (auto s = read_choice(r, *v, mode_names)) {
      out.mode = *s == "enforce" ? Mode::enforce : *s == "report-only" ? Mode::report_only : Mode::gateway;
    }
  }
  if (auto v = m.get("listen")) {
    if (auto s = read_string(r, *v)) {
      std::string error;
      if (auto listen = parse_listen(*s, error)) {
        out.listen = std::move(*listen);
      } else {
        r.error(v->mark, v->path, std::move(error));
      }
    }
  }
  if (auto v = m.get("workers")) {
    if (auto n = read_uint(r, *v, 0, max_workers)) out.workers = static_cast<unsigned>(*n);
  }
  if (auto v = m.get("log")) {
    if (auto s = read_nonempty_string(r, *v)) out.log = *s == "-" ? *s : resolve(base_dir, *s);
  }
  if (auto v = m.get("log_all_exchanges")) {
    if (auto b = read_bool(r, *v)) out.log_all_exchanges = *b;
  }
  if (auto v = m.get("log_full_urls")) {
    if (auto b = read_bool(r, *v)) out.log_full_urls = *b;
  }
  if (auto v = m.get("connect_to")) read_connect_to(r, *v, out.connect_to);
  if (auto v = m.get("allowed_clients")) {
    // An explicit list replaces the default (loopback only); an empty list would refuse every client.
    out.allowed_clients.clear();
    if (auto list = read_list(r, *v)) {
      for (const auto& e : *list) {
        auto s = read_string(r, e);
        if (!s) continue;
        std::string error;
        if (auto cidr = parse_cidr(*s, error)) {
          out.allowed_clients.push_back(std::move(*cidr));
        } else {
          r.error(e.mark, e.path, std::move(error));
        }
      }
      if (list->empty()) r.error(v->mark, v->path, "must list at least one network (\"127.0.0.0/8\" is loopback)");
    }
  }
  if (auto v = m.get("connect_ports")) {
    out.connect_ports.clear();
    if (auto list = read_list(r, *v)) {
      for (const auto& e : *list) {
        if (auto n = read_uint(r, e, 1, 65535)) out.connect_ports.push_back(static_cast<std::uint16_t>(*n));
      }
    }
  }
  if (auto v = m.get("auth")) read_auth(r, *v, out.auth);
  if (auto v = m.get("timeouts")) read_timeouts(r, *v, out.timeouts);
  if (auto v = m.get("limits")) read_limits(r, *v, out.limits);
  if (auto v = m.get("data_dir")) {
    if (auto s = read_nonempty_string(r, *v)) out.data_dir = resolve(base_dir, *s);
  }
  if (auto v = m.get("upstream_ca")) {
    for (auto& s : read_string_list(r, *v)) out.upstream_ca.push_back(resolve(base_dir, s));
  }
  if (auto v = m.get("tls")) read_tls(r, *v, out.tls);
  if (auto v = m.get("dns")) read_dns(r, *v, out.dns);
  std::optional<Field> gateway = m.get("gateway");
  if (gateway) read_gateway(r, *gateway, base_dir, out.gateway);
  if (out.mode == Mode::gateway && out.gateway.routes.empty()) {
    // Errors inside a route already said what is wrong; say this only when no route was written at all.
    bool routes_written = false;
    if (gateway && gateway->node.IsMap()) {
      const YAML::Node node = gateway->node;  // const: operator[] must not add a key
      routes_written = node["routes"] && node["routes"].IsSequence() && node["routes"].size() > 0;
    }
    if (!routes_written) {
      auto mode = m.get("mode");
      r.error(mode->mark, mode->path, "gateway mode needs at least one route in gateway.routes");
    }
  }
  if (auto v = m.require("policies")) {
    if (auto list = read_list(r, *v)) {
      for (const auto& e : *list) {
        if (auto s = read_nonempty_string(r, e)) policies.push_back(PolicyRef{std::move(*s), e});
      }
      if (list->empty()) r.error(v->mark, v->path, "must list at least one policy file or directory");
    }
  }
}

}  // namespace consent::config::detail
