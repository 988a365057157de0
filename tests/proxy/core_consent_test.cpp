// Enforcement through the real proxy with the repository's default policy: blocks, surrogates, cookie
// stripping, Set-Cookie filtering, the consent ledger, report-only mode, CONNECT policy and reload.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "core_test_support.hpp"

using namespace consent::test;

namespace {

std::string proxy_url(const ProxyProcess& p) { return "http://127.0.0.1:" + std::to_string(p.port()); }

std::string consent_cookie(const std::string& purposes) { return "eu-consent=" + purposes; }

CurlResult fetch(const ProxyProcess& p, const std::string& url, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"-x", proxy_url(p), "-D", "-"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  return run_curl(args);
}

std::vector<std::string> navigation(const std::string& cookie) {
  return {"-H", "Sec-Fetch-Dest: document", "-H", "Sec-Fetch-Mode: navigate", "-H", "Cookie: " + cookie};
}

}  // namespace

TEST_CASE("a tracker is blocked before consent and allowed after it", "[proxy][core][integration][consent]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const std::vector<std::string> from_site{"-H", "Referer: http://news.example/article"};
  const auto blocked = fetch(proxy, "http://www.google-analytics.com/g/collect?cid=secret-id", from_site);
  CHECK(blocked.out.rfind("HTTP/1.1 204", 0) == 0);
  CHECK(origin.request_count() == 0);  // no upstream connection for a block
  REQUIRE(proxy.wait_for_log("\"action\":\"block\""));
  const auto log = proxy.log_text();
  CHECK(log.find("www.google-analytics.com") != std::string::npos);
  CHECK(log.find("secret-id") == std::string::npos);  // never the query string

  // The visitor consents on the site: the navigation carries eu-consent, the ledger remembers it.
  const auto page = fetch(proxy, "http://news.example/", navigation(consent_cookie("audience-measurement:true")));
  CHECK(page.out.rfind("HTTP/1.1 200", 0) == 0);
  const auto allowed = fetch(proxy, "http://www.google-analytics.com/g/collect?cid=1", from_site);
  CHECK(allowed.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(origin.request_count() == 2);
}

TEST_CASE("tracker cookies are stripped once consent is withdrawn", "[proxy][core][integration][consent]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const auto granted = fetch(proxy, "http://news.example/cookie",
                             navigation(consent_cookie("advertising-personalised:true") + "; _fbp=fb.1.2; sid=abc"));
  CHECK(granted.out.find("_fbp=fb.1.2") != std::string::npos);
  const auto withdrawn = fetch(proxy, "http://news.example/cookie",
                               navigation(consent_cookie("advertising-personalised:false") + "; _fbp=fb.1.2; sid=abc"));
  const auto body = withdrawn.out.substr(withdrawn.out.find("\r\n\r\n") + 4);
  CHECK(body.find("_fbp") == std::string::npos);
  CHECK(body.find("sid=abc") != std::string::npos);
  REQUIRE(proxy.wait_for_log("\"action\":\"strip_cookie\""));
  CHECK(proxy.log_text().find("fb.1.2") == std::string::npos);  // names only, never values
}

TEST_CASE("Set-Cookie of a non-consented tracker is dropped", "[proxy][core][integration][consent]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const auto r = fetch(proxy, "http://news.example/set-cookie?c=_fbp&c=sid", navigation("x=1"));
  CHECK(r.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(r.out.find("Set-Cookie: sid=v1") != std::string::npos);
  CHECK(r.out.find("_fbp") == std::string::npos);
  CHECK(proxy.wait_for_log("\"action\":\"drop_set_cookie\""));
}

TEST_CASE("a consent cookie set by the site updates the ledger", "[proxy][core][integration][consent]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const std::vector<std::string> from_site{"-H", "Referer: http://news.example/"};
  CHECK(fetch(proxy, "http://www.google-analytics.com/collect", from_site).out.rfind("HTTP/1.1 204", 0) == 0);
  const auto set = fetch(proxy, "http://news.example/set-consent?v=audience-measurement:true", navigation("x=1"));
  CHECK(set.out.find("Set-Cookie: eu-consent=") != std::string::npos);
  CHECK(fetch(proxy, "http://www.google-analytics.com/collect", from_site).out.rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("report-only mode changes nothing and logs what it would do", "[proxy][core][integration][consent]") {
  TestOrigin origin;
  auto options = options_for(origin.port());
  options.mode = "report-only";
  ProxyProcess proxy(options);
  const auto r = fetch(proxy, "http://www.google-analytics.com/collect", {"-H", "Referer: http://news.example/"});
  CHECK(r.out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(origin.request_count() == 1);
  CHECK(proxy.wait_for_log("\"action\":\"would_block\""));
}

TEST_CASE("CONNECT to a non-consented tracker host is refused with 403", "[proxy][core][integration][consent]") {
  TestOrigin origin;
  // Blind tunnels are judged by host at CONNECT; intercepted ones per inner request (tests/proxy/tls_*).
  auto options = options_for(origin.port());
  options.extra_args = {"--no-intercept"};
  ProxyProcess proxy(options);
  const auto r =
      run_curl({"-x", proxy_url(proxy), "-o", "/dev/null", "-w", "%{http_connect}", "https://stats.doubleclick.net/"});
  CHECK(r.out == "403");
  CHECK(origin.connections() == 0);
}

TEST_CASE("SIGHUP with a broken policy keeps the running one", "[proxy][core][integration][consent]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const std::vector<std::string> from_site{"-H", "Referer: http://news.example/"};
  CHECK(fetch(proxy, "http://www.google-analytics.com/collect", from_site).out.rfind("HTTP/1.1 204", 0) == 0);
  const auto trackers = proxy.policy_dir() / "trackers.yaml";
  std::string original;
  {
    std::ifstream in(trackers);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream broken(trackers, std::ios::app);
    broken << "\n  - id: broken\n    purpose: no-such-purpose\n    domains: [\"*..bad\"]\n";
  }
  proxy.signal(SIGHUP);
  REQUIRE(proxy.wait_for_stderr("reload refused"));
  CHECK(fetch(proxy, "http://www.google-analytics.com/collect", from_site).out.rfind("HTTP/1.1 204", 0) == 0);
  CHECK(fetch(proxy, "http://news.example/hello").out.find("hello") != std::string::npos);

  // Repaired, with google-analytics removed: the next reload is taken and applies to new exchanges.
  {
    std::ofstream repaired(trackers, std::ios::trunc);
    auto text = original;
    const auto at = text.find("  - id: google-analytics");
    const auto next = text.find("  - id: ", at + 1);
    REQUIRE(at != std::string::npos);
    text.erase(at, next - at);
    repaired << text;
  }
  proxy.signal(SIGHUP);
  REQUIRE(proxy.wait_for_stderr("configuration reloaded"));
  CHECK(fetch(proxy, "http://www.google-analytics.com/collect", from_site).out.rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("SIGHUP with a new log path moves the decision log; a new listen address needs a restart",
          "[proxy][core][integration][consent]") {
  TestOrigin origin;
  ProxyProcess proxy(options_for(origin.port()));
  const std::vector<std::string> from_site{"-H", "Referer: http://news.example/"};
  CHECK(fetch(proxy, "http://www.google-analytics.com/collect", from_site).out.rfind("HTTP/1.1 204", 0) == 0);
  REQUIRE(proxy.wait_for_log("www.google-analytics.com"));
  const auto settings_path = proxy.dir() / "settings.yaml";
  std::string settings;
  {
    std::ifstream in(settings_path);
    settings.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto moved = proxy.dir() / "moved.log";
  const auto old_log = "log: " + proxy.log_path().string() + "\n";
  const auto at = settings.find(old_log);
  REQUIRE(at != std::string::npos);
  settings.replace(at, old_log.size(), "log: " + moved.string() + "\n");
  const auto listen_at = settings.find("listen: 127.0.0.1:0\n");
  REQUIRE(listen_at != std::string::npos);
  settings.replace(listen_at, 20, "listen: 127.0.0.1:1\n");
  {
    std::ofstream out(settings_path, std::ios::trunc);
    out << settings;
  }
  proxy.signal(SIGHUP);
  REQUIRE(proxy.wait_for_stderr("configuration reloaded"));
  CHECK(proxy.stderr_text().find("listen: 127.0.0.1:0 -> 127.0.0.1:1 needs restart") != std::string::npos);
  // Still serving on the address it had, and logging to the new file only.
  CHECK(fetch(proxy, "http://www.doubleclick.net/pixel", from_site).out.rfind("HTTP/1.1 ", 0) == 0);
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  std::string moved_text;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(moved);
    moved_text.assign(std::istreambuf_iterator<char>(in), {});
    if (moved_text.find("doubleclick") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(moved_text.find("doubleclick") != std::string::npos);
  CHECK(proxy.log_text().find("doubleclick") == std::string::npos);
}
