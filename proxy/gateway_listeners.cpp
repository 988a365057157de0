// make_gateway_listeners (issue 6): one listener per distinct route `listen`, HTTPS with the operator's
// certificates when its routes have them (SNI picks the route's certificate; the first is the default).
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/ssl/context.hpp>
#include <cctype>
#include <mutex>

#include "proxy/consent_record.hpp"
#include "proxy/decision_log.hpp"
#include "proxy/gateway.hpp"
#include "proxy/gateway_internal.hpp"
#include "proxy/gateway_routes.hpp"
#include "tls/certificate_authority.hpp"

namespace consent::proxy {
namespace {

namespace ssl = boost::asio::ssl;

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// One certificate of an HTTPS listener and the hosts it answers for.
struct SniEntry {
  std::vector<std::string> hosts;  // route hosts; empty = any
  std::shared_ptr<ssl::context> context;
};

// Owns the listener's default context and the per-certificate ones the SNI callback switches to.
struct TlsListener {
  std::shared_ptr<ssl::context> main;
  std::vector<SniEntry> entries;
};

// RFC 7301: offer http/1.1 only; a client offering nothing we speak gets no ALPN and HTTP/1.1.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  static constexpr unsigned char http11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned int i = 0;
  while (i < inlen) {
    const unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == sizeof http11 && std::equal(http11, http11 + sizeof http11, in + i + 1)) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int select_certificate(SSL* ssl_handle, int*, void* arg) {
  const auto* listener = static_cast<const TlsListener*>(arg);
  const char* name = SSL_get_servername(ssl_handle, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;  // no SNI: the default (first) certificate
  std::string host(name);
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!host.empty() && host.back() == '.') host.pop_back();
  const SniEntry* any = nullptr;
  for (const auto& e : listener->entries) {
    if (e.hosts.empty()) {
      if (any == nullptr) any = &e;
      continue;
    }
    for (const auto& pattern : e.hosts) {
      if (route_host_matches(pattern, host)) {
        SSL_set_SSL_CTX(ssl_handle, e.context->native_handle());
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  if (any != nullptr) SSL_set_SSL_CTX(ssl_handle, any->context->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

std::shared_ptr<ssl::context> make_context(const config::GatewayRoute& route, std::string& error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle keep-alive connections keep no read/write buffers (memory per connection, issue 4).
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, route.certificate.c_str()) != 1) {
    error = "gateway route " + route.name + ": cannot load certificate " + route.certificate + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(native, route.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "gateway route " + route.name + ": cannot load private key " + route.private_key + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    error = "gateway route " + route.name + ": private key " + route.private_key + " does not match certificate " +
            route.certificate;
    return nullptr;
  }
  return ctx;
}

// The consent-record settings the running log was opened with: a reload reopens it only when they change,
// so the deduplication memory survives reloads that do not touch it.
struct RecordSettings {
  std::string path;
  std::string key_file;
  std::string data_dir;
  std::size_t rotate_bytes = 0;
  unsigned keep = 0;
  bool operator==(const RecordSettings&) const = default;
};

std::mutex active_mutex;
RecordSettings active_records;

RecordSettings record_settings_of(const config::Settings& settings) {
  const auto& g = settings.gateway;
  return {g.consent_records, g.consent_records_key, settings.data_dir, g.consent_records_rotate_bytes,
          g.consent_records_keep};
}

// Opens the log `settings` ask for (or none) and installs it; on error installs nothing and returns false.
bool open_consent_records(const config::Settings& settings, std::vector<std::string>& errors) {
  const auto& g = settings.gateway;
  const auto wanted = record_settings_of(settings);
  if (g.consent_records.empty()) {
    set_consent_record_log(nullptr);
  } else {
    std::string error;
    const std::filesystem::path data_dir =
        settings.data_dir.empty() ? tls::default_data_dir() : std::filesystem::path(settings.data_dir);
    auto key = load_consent_record_key(g.consent_records_key, data_dir, error);
    if (key.empty()) {
      errors.push_back(error);
      return false;
    }
    ConsentRecordLog::Options options;
    options.path = g.consent_records;
    options.rotate_bytes = g.consent_records_rotate_bytes;
    options.keep = g.consent_records_keep;
    options.key = std::move(key);
    auto log = ConsentRecordLog::open(std::move(options), error);
    if (!log) {
      errors.push_back("gateway.consent_records: " + error);
      return false;
    }
    set_consent_record_log(std::shared_ptr<ConsentRecordLog>(std::move(log)));
  }
  std::lock_guard lock(active_mutex);
  active_records = wanted;
  return true;
}

// The certificate and key files of each listener, for telling a reload that changed them.
std::vector<std::vector<std::string>> tls_files(const std::vector<config::GatewayRoute>& routes) {
  const auto listener_of = listener_of_routes(routes);
  std::vector<std::vector<std::string>> out;
  for (std::size_t k = 0; k < routes.size(); ++k) {
    if (listener_of[k] >= out.size()) out.resize(listener_of[k] + 1);
    if (!routes[k].certificate.empty()) {
      out[listener_of[k]].push_back(routes[k].certificate + "|" + routes[k].private_key);
    }
  }
  return out;
}

std::vector<std::string> listens_of(const std::vector<config::GatewayRoute>& routes) {
  const auto listener_of = listener_of_routes(routes);
  std::vector<std::string> out;
  for (std::size_t k = 0; k < routes.size(); ++k) {
    if (listener_of[k] == out.size()) out.push_back(routes[k].listen);
  }
  return out;
}

}  // namespace

std::vector<std::string> reload_gateway(const config::Settings& previous, const config::Settings& next) {
  std::vector<std::string> notes;
  const bool was_gateway = previous.mode == config::Mode::gateway;
  const bool is_gateway = next.mode == config::Mode::gateway;
  if (was_gateway != is_gateway) {
    notes.push_back(std::string("mode changed to ") + std::string(to_string(next.mode)) +
                    ": needs restart (the listeners keep their kind until then)");
  }
  if (!was_gateway || !is_gateway) return notes;
  // Sockets are bound once, at start. Routes on a listen address that is not bound reach nothing, and a
  // bound address no route names any more answers 421, until a restart.
  const auto before = listens_of(previous.gateway.routes);
  const auto after = listens_of(next.gateway.routes);
  // Compared as multisets: every "ADDR:0" route has a listener of its own, so one text may be several.
  const auto count = [](const std::vector<std::string>& v, const std::string& l) {
    return std::count(v.begin(), v.end(), l);
  };
  for (std::size_t i = 0; i < after.size(); ++i) {
    const auto& l = after[i];
    if (std::count(after.begin(), after.begin() + static_cast<std::ptrdiff_t>(i), l) >= count(before, l)) {
      notes.push_back("listener " + l + " is new: needs restart (its routes are not served until then)");
    }
  }
  for (std::size_t i = 0; i < before.size(); ++i) {
    const auto& l = before[i];
    if (std::count(before.begin(), before.begin() + static_cast<std::ptrdiff_t>(i), l) >= count(after, l)) {
      notes.push_back("listener " + l + " left the configuration: needs restart (it answers 421 until then)");
    }
  }
  if (tls_files(previous.gateway.routes) != tls_files(next.gateway.routes)) {
    notes.push_back("certificates or private keys changed: needs restart (listeners keep the ones loaded at start)");
  }
  const auto wanted = record_settings_of(next);
  bool same = false;
  {
    std::lock_guard lock(active_mutex);
    // Off before and after: only the unused settings around it changed.
    if (active_records.path.empty() && wanted.path.empty()) active_records = wanted;
    same = active_records == wanted;
  }
  if (!same) {
    std::vector<std::string> errors;
    if (open_consent_records(next, errors)) {
      notes.push_back(next.gateway.consent_records.empty() ? "consent records: off"
                                                           : "consent records: now " + next.gateway.consent_records);
    } else {
      for (const auto& e : errors) notes.push_back(e + "; the previous consent-record log stays in use");
    }
  }
  return notes;
}

GatewayListeners make_gateway_listeners(const config::Settings& settings) {
  GatewayListeners out;
  const auto& routes = settings.gateway.routes;
  if (routes.empty()) out.errors.push_back("gateway mode needs at least one route in gateway.routes");
  const auto listener_of = listener_of_routes(routes);
  const std::size_t count = routes.empty() ? 0 : *std::max_element(listener_of.begin(), listener_of.end()) + 1;
  for (std::size_t i = 0; i < count; ++i) {
    ListenerContext l;
    l.kind = ListenerKind::gateway;
    l.index = i;
    auto holder = std::make_shared<TlsListener>();
    bool failed = false;
    for (std::size_t k = 0; k < routes.size(); ++k) {
      if (listener_of[k] != i) continue;
      const auto& r = routes[k];
      if (l.listen.empty()) l.listen = r.listen;
      if (r.certificate.empty()) continue;
      std::string error;
      auto ctx = make_context(r, error);
      if (!ctx) {
        out.errors.push_back(std::move(error));
        failed = true;
        continue;
      }
      holder->entries.push_back(SniEntry{r.hosts, ctx});
    }
    if (!failed && !holder->entries.empty()) {
      holder->main = holder->entries.front().context;
      // The callback is installed on the default context; the others only serve the handshake it chose.
      // SSL_CTX_set_tlsext_servername_callback() is a macro with an old-style cast; this is its expansion.
      SSL_CTX_callback_ctrl(holder->main->native_handle(), SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                            reinterpret_cast<void (*)()>(select_certificate));
      SSL_CTX_set_tlsext_servername_arg(holder->main->native_handle(), holder.get());
      // Aliasing: the listener's context keeps every SNI context (and the table) alive.
      l.tls = std::shared_ptr<ssl::context>(holder, holder->main.get());
    }
    out.listeners.push_back(std::move(l));
  }

  std::vector<std::string> listens;
  for (const auto& l : out.listeners) listens.push_back(l.listen);
  set_running_listeners(std::move(listens));
  open_consent_records(settings, out.errors);
  return out;
}

}  // namespace consent::proxy
