#include "proxy/interception.hpp"

#include <openssl/ssl.h>
#include <boost/asio/ssl/error.hpp>

#include <algorithm>
#include <cctype>

#include "policy/host.hpp"
#include "tls/contexts.hpp"

namespace consent::proxy {
namespace {

// Distinct client addresses remembered for the "install the CA" hint.
constexpr std::size_t untrusted_clients_max = 4096;

// Runs inside the handshake, after the ClientHello (SNI) was read: mints or fetches the leaf for the SNI
// name, or the CONNECT host when the client sent none or one that is not a host name.
int select_leaf(SSL* ssl, void* arg) {
  auto* selection = static_cast<LeafSelection*>(arg);
  auto* cache = static_cast<tls::LeafCache*>(SSL_get_app_data(ssl));
  if (selection == nullptr || cache == nullptr) return 0;
  std::string name = tls_name_of(ssl, selection->connect_host);
  selection->error = tls::use_leaf(ssl, *cache, name);
  if (!selection->error.empty()) return 0;
  selection->tls_name = std::move(name);
  return 1;
}

std::string lower_trimmed(std::string_view pattern) {
  std::string p(pattern);
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!p.empty() && p.back() == '.') p.pop_back();
  return p;
}

bool is_same_or_subdomain(std::string_view host, std::string_view domain) {
  if (domain.empty() || host.size() < domain.size()) return false;
  if (host.substr(host.size() - domain.size()) != domain) return false;
  return host.size() == domain.size() || host[host.size() - domain.size() - 1] == '.';
}

}  // namespace

std::string tls_name_of(const SSL* ssl, std::string_view connect_host) {
  if (const auto sni = tls::sni_name(ssl); !sni.empty()) {
    if (auto normalised = policy::normalise_host(sni)) return std::move(*normalised);
  }
  return std::string(connect_host);
}

Interception::Built Interception::build(const config::Settings& settings, bool with_ca) {
  Built out;
  auto value = std::make_shared<Interception>();
  auto upstream = tls::make_upstream_context(settings.upstream_ca);
  if (!upstream.context) out.errors.push_back("upstream TLS: " + upstream.error);
  value->upstream_ = std::move(upstream.context);
  if (with_ca) {
    const auto dir = settings.data_dir.empty() ? tls::default_data_dir() : std::filesystem::path(settings.data_dir);
    auto ca = tls::CertificateAuthority::load_or_create(dir);
    if (!ca.ca) {
      out.errors.push_back("interception CA in " + dir.string() + ": " + ca.error);
    } else {
      out.created_ca = ca.created;
      out.ca_path = ca.ca->cert_path().string();
      value->ca_ = ca.ca;
      value->leaves_ = std::make_unique<tls::LeafCache>(ca.ca, settings.tls.leaf_cache_entries);
      if (value->leaves_->leaf_key() == nullptr) out.errors.push_back("interception: cannot generate the leaf key");
      auto client = tls::make_client_facing_context();
      if (!client.context) out.errors.push_back("interception: " + client.error);
      value->client_facing_ = std::move(client.context);
    }
  }
  if (out.errors.empty()) out.value = std::move(value);
  return out;
}

tls::SslPtr Interception::new_client_facing(LeafSelection* selection) const {
  if (!client_facing_ || !leaves_) return {};
  tls::SslPtr ssl(SSL_new(client_facing_.get()));
  if (!ssl) return {};
  SSL_set_app_data(ssl.get(), leaves_.get());
  SSL_set_cert_cb(ssl.get(), select_leaf, selection);
  return ssl;
}

void Interception::end_selection(SSL* ssl) noexcept {
  if (ssl != nullptr) SSL_set_cert_cb(ssl, nullptr, nullptr);
}

tls::SslPtr Interception::new_upstream(std::string_view name) const {
  if (!upstream_) return {};
  tls::SslPtr ssl(SSL_new(upstream_.get()));
  if (!ssl || !tls::prepare_upstream(ssl.get(), name)) return {};
  return ssl;
}

bool Interception::is_first_untrusted(std::string_view client) const {
  std::lock_guard lock(untrusted_mutex_);
  if (untrusted_.size() >= untrusted_clients_max) untrusted_.clear();
  return untrusted_.emplace(client).second;
}

bool is_passthrough(const std::vector<std::string>& patterns, std::string_view host) {
  for (const auto& raw : patterns) {
    const auto pattern = lower_trimmed(raw);
    if (pattern.rfind("*.", 0) == 0) {
      const std::string_view domain = std::string_view(pattern).substr(2);
      if (host.size() > domain.size() && is_same_or_subdomain(host, domain)) return true;
    } else if (is_same_or_subdomain(host, pattern)) {
      return true;
    }
  }
  return false;
}

bool is_untrusted_ca_alert(const boost::system::error_code& ec) noexcept {
  if (ec.category() != boost::asio::error::get_ssl_category()) return false;
  const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN;
}

}  // namespace consent::proxy
