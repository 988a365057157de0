#include "tests/proxy/gateway_test_support.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/proxy/core_test_support.hpp"

namespace consent::test {
namespace {

using Clock = std::chrono::steady_clock;

const char* const page_html =
    "<!doctype html><html><head><title>shop</title>"
    "<script async src=\"https://www.googletagmanager.com/gtag/js?id=G-TEST\"></script>"
    "<script src=\"https://cdn.shop-assets.example/app.js\"></script></head>"
    "<body><img src=\"https://ads.example/pixel.gif\"><p>welcome</p></body></html>\n";

const char* const policy_yaml = R"(purposes:
  - id: strictly-necessary
    label: Necessary
    exemption: always
  - id: audience-measurement
    label: Audience measurement
    aliases: [analytics]
  - id: advertising
    label: Advertising
    aliases: [ads]
trackers:
  - id: session
    purpose: strictly-necessary
    cookies: [sid]
  - id: ga
    purpose: audience-measurement
    domains: [google-analytics.com, googletagmanager.com]
    cookies: [_ga]
  - id: ads
    purpose: advertising
    domains: [ads.example]
    cookies: [_ad]
)";

int run_command(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    std::vector<char*> argv;
    for (auto a : args) argv.push_back(::strdup(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::filesystem::path fresh_dir(const std::string& what) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("consentgate-gateway-it-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A self-signed P-256 certificate and key (0600) for the given subjectAltName.
void make_certificate(const std::filesystem::path& cert, const std::filesystem::path& key, const std::string& cn,
                      const std::string& san) {
  const int rc = run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                              "-nodes", "-keyout", key.string(), "-out", cert.string(), "-days", "2", "-subj",
                              "/CN=" + cn, "-addext", "subjectAltName=" + san});
  if (rc != 0) throw std::runtime_error("openssl req failed");
  std::filesystem::permissions(key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace

GatewayOrigin::GatewayOrigin(bool tls) {
  if (tls) {
    dir_ = fresh_dir("origin");
    make_certificate(dir_ / "origin.pem", dir_ / "origin.key", "origin", "IP:127.0.0.1");
    server_ = std::make_unique<httplib::SSLServer>((dir_ / "origin.pem").c_str(), (dir_ / "origin.key").c_str());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  auto record = [this](const httplib::Request& req) {
    std::map<std::string, std::string> h;
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto& slot = h[lower];
      if (!slot.empty()) slot += "\n";
      slot += value;
    }
    std::lock_guard lock(mutex_);
    seen_.push_back(std::move(h));
  };
  server_->Get("/", [record](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_header("Set-Cookie", "_ga=GA1.1.42; Max-Age=63072000; Path=/");
    res.headers.emplace("Set-Cookie", "_ad=track-me; Max-Age=63072000; Path=/");
    res.headers.emplace("Set-Cookie", "sid=s3ss10n; Path=/; HttpOnly");
    res.set_content(page_html, "text/html; charset=utf-8");
  });
  server_->Get("/strict", [record](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_header("Content-Security-Policy", "default-src 'none'; script-src 'self'");
    res.set_content(page_html, "text/html");
  });
  server_->Get("/asset.js", [record](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_content("console.log(1);\n", "text/javascript");
  });
  server_->Get("/vary", [record](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_header("Vary", "Consent-Purposes");
    res.set_content("{}", "application/json");
  });
  server_->Get(".*", [record](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_content("ok", "text/plain");
  });
  const int port = server_->bind_to_any_port("127.0.0.1");
  if (port <= 0) throw std::runtime_error("origin cannot bind");
  port_ = static_cast<std::uint16_t>(port);
  // bind_to_any_port() already listens: connections queue until the thread accepts them.
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

GatewayOrigin::~GatewayOrigin() {
  server_->stop();
  thread_.join();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::size_t GatewayOrigin::request_count() const {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

std::map<std::string, std::string> GatewayOrigin::last_headers() const {
  std::lock_guard lock(mutex_);
  return seen_.empty() ? std::map<std::string, std::string>{} : seen_.back();
}

void GatewayProcess::write_settings(const GatewayOptions& options) {
  const std::string upstream =
      std::string(options.origin_tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(options.origin_port);
  std::string routes = "    - name: shop\n      listen: 127.0.0.1:0\n      hosts: [" + options.shop_hosts +
                       "]\n      upstream: " + upstream + "\n      csp_allow: [https://cdn.shop-assets.example]\n";
  if (options.https) {
    routes +=
        "    - name: shop-https\n      listen: 127.0.0.1:0\n      hosts: [shop.example, \"*.shop.example\"]\n"
        "      upstream: " +
        upstream + "\n      certificate: shop.pem\n      private_key: shop.key\n";
  }
  routes += options.extra_routes_yaml;
  std::ofstream out(dir_ / "settings.yaml", std::ios::trunc);
  out << "mode: gateway\nlog: decisions.log\nlog_all_exchanges: false\n"
      << "allowed_clients: [127.0.0.0/8]\ndata_dir: data\n"
      << "timeouts:\n  client_head: 2s\n  connect: 2s\n  first_byte: 3s\n"
      << "  idle: 5s\n  keepalive: 5s\n  shutdown_grace: 2s\n";
  if (!options.upstream_ca.empty()) out << "upstream_ca: [" << options.upstream_ca << "]\n";
  out << "gateway:\n  routes:\n" << routes << "  trusted_proxies: [127.0.0.2]\n  csp: " << options.csp << "\n";
  if (!options.consent_records.empty()) out << "  consent_records: " << options.consent_records << "\n";
  out << options.extra_gateway_yaml << "policies: [policy.yaml]\n";
}

GatewayProcess::GatewayProcess(const GatewayOptions& options) {
  dir_ = fresh_dir("gw");
  std::ofstream(dir_ / "policy.yaml") << policy_yaml;
  if (options.https)
    make_certificate(dir_ / "shop.pem", dir_ / "shop.key", "shop.example", "DNS:shop.example,DNS:*.shop.example");
  write_settings(options);

  std::vector<std::string> args{CONSENTGATE_BINARY, "run", "--config", (dir_ / "settings.yaml").string()};
  const int out_fd = spawn_with_stdout(args, dir_ / "stderr.log", pid_);
  // One "listening on 127.0.0.1:PORT" line per listener, in route order.
  const std::size_t expected = options.https ? 2 : 1;
  const auto deadline = Clock::now() + 20s;
  std::string text;
  const std::string prefix = "listening on 127.0.0.1:";
  while (ports_.size() < expected && Clock::now() < deadline) {
    pollfd p{out_fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(left, 0))) <= 0) break;
    char c = 0;
    if (::read(out_fd, &c, 1) != 1) break;
    if (c != '\n') {
      text += c;
      continue;
    }
    if (text.rfind(prefix, 0) == 0) ports_.push_back(static_cast<std::uint16_t>(std::stoi(text.substr(prefix.size()))));
    text.clear();
  }
  ::close(out_fd);
  if (ports_.size() < expected) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    throw std::runtime_error("consentgate did not start in gateway mode; stderr: " + stderr_text());
  }
}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + 10s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool GatewayProcess::reload(const GatewayOptions& options) {
  write_settings(options);
  const auto reloaded_before = count_of(stderr_text(), "consentgate: configuration reloaded");
  ::kill(pid_, SIGHUP);
  ++reloads_;
  // Done when the process has answered every SIGHUP sent so far, accepted or refused.
  const auto deadline = Clock::now() + 10s;
  for (;;) {
    const auto text = stderr_text();
    const auto reloaded = count_of(text, "consentgate: configuration reloaded");
    if (reloaded + count_of(text, "consentgate: reload refused") >= reloads_) return reloaded > reloaded_before;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

std::string GatewayProcess::read(const std::string& name) const {
  std::ifstream in(dir_ / name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool GatewayProcess::wait_for(const std::string& name, const std::string& needle, std::size_t count,
                              std::chrono::milliseconds limit) const {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    if (count_of(read(name), needle) >= count) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace consent::test
