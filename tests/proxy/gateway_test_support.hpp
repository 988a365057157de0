#pragma once
// Gateway integration helpers: a website origin (cpp-httplib on 127.0.0.1:0) that sets tracker and
// exempt cookies and serves HTML with third-party tags, and the real consentgate binary started on a
// gateway config in a fresh directory. Clients (curl, raw sockets) come from core_test_support.
// Every wait has a deadline; only processes started here are signalled, by PID.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace consent::test {

using namespace std::chrono_literals;

// Routes:
//   /            HTML with <script src> / <img src> of third-party trackers; Set-Cookie _ga (analytics),
//                _ad (advertising), sid (strictly necessary)
//   /strict      HTML with its own "Content-Security-Policy: default-src 'none'; script-src 'self'"
//   /asset.js    JavaScript, no cookies
//   /vary        JSON with "Vary: Consent-Purposes"
//   anything     200 text "ok"
// Every request's headers are recorded (lower-cased names).
class GatewayOrigin {
 public:
  // `tls`: an HTTPS origin presenting a self-signed certificate for IP 127.0.0.1 (certificate()).
  explicit GatewayOrigin(bool tls = false);
  ~GatewayOrigin();
  GatewayOrigin(const GatewayOrigin&) = delete;
  GatewayOrigin& operator=(const GatewayOrigin&) = delete;
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] bool is_tls() const noexcept { return !dir_.empty(); }
  // The HTTPS origin's certificate (its own trust anchor); empty path for a plain origin.
  [[nodiscard]] std::filesystem::path certificate() const { return dir_.empty() ? dir_ : dir_ / "origin.pem"; }
  [[nodiscard]] std::size_t request_count() const;
  // Headers of the last request (lower-cased names; repeated ones joined with "\n").
  [[nodiscard]] std::map<std::string, std::string> last_headers() const;

 private:
  std::filesystem::path dir_;  // the HTTPS origin's certificate and key
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<std::map<std::string, std::string>> seen_;
};

struct GatewayOptions {
  std::uint16_t origin_port = 0;
  std::string csp = "enforce";
  bool https = false;              // adds an HTTPS route with a test certificate for shop.example
  std::string extra_gateway_yaml;  // lines under "gateway:" (indented two spaces)
  bool origin_tls = false;         // the upstream is https://127.0.0.1:origin_port
  std::string upstream_ca;         // trust anchor for the HTTPS upstream (empty: the system's only)
  std::string consent_records = "records.jsonl";
  std::string extra_routes_yaml;  // more route entries ("    - name: ...")
  std::string shop_hosts = "shop.example, \"*.shop.example\"";
};

// Options for an origin on `origin_port`; adjust fields afterwards.
inline GatewayOptions gateway_options(std::uint16_t origin_port, std::string csp = "enforce") {
  GatewayOptions o;
  o.origin_port = origin_port;
  o.csp = std::move(csp);
  return o;
}

// consentgate run on a generated gateway config: route "shop" for shop.example and *.shop.example on
// 127.0.0.1:0, trusted_proxies [127.0.0.2], csp_allow [https://cdn.shop-assets.example], consent records
// in dir/records.jsonl, data_dir dir/data, decision log dir/decisions.log, a small policy (purposes
// strictly-necessary, audience-measurement (analytics), advertising (ads); trackers: sid, _ga with
// google-analytics.com and googletagmanager.com, _ad with ads.example).
class GatewayProcess {
 public:
  explicit GatewayProcess(const GatewayOptions& options);
  ~GatewayProcess();
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return ports_.at(0); }
  [[nodiscard]] std::uint16_t https_port() const noexcept { return ports_.at(1); }
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] std::filesystem::path certificate() const { return dir_ / "shop.pem"; }
  [[nodiscard]] std::string read(const std::string& name) const;
  [[nodiscard]] std::string stderr_text() const { return read("stderr.log"); }
  // Rewrites the settings from `options` (same certificates), sends SIGHUP and waits (bounded) until
  // the process says the configuration was reloaded. False when it did not.
  bool reload(const GatewayOptions& options);
  // Waits (bounded) until file `name` in dir() contains `needle` `count` times.
  [[nodiscard]] bool wait_for(const std::string& name, const std::string& needle, std::size_t count = 1,
                              std::chrono::milliseconds limit = 3s) const;

 private:
  void write_settings(const GatewayOptions& options);
  pid_t pid_ = -1;
  std::size_t reloads_ = 0;
  std::vector<std::uint16_t> ports_;
  std::filesystem::path dir_;
};

}  // namespace consent::test
