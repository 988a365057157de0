// The settings file (config/default.yaml): see docs/config.md for the format.
#include <array>
#include <limits>

#include "config/readers.hpp"
#include "config/value_parsers.hpp"

namespace consent::config::detail {
namespace {

constexpr std::array<std::string_view, 15> settings_keys{
    "mode",          "listen",     "workers",         "log",           "log_all_exchanges",
    "log_full_urls", "connect_to", "allowed_clients", "connect_ports", "auth",
    "timeouts",      "limits",     "data_dir",        "upstream_ca",   "policies"};
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
