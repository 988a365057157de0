// The settings file, through the public loader.
#include "config/loader.hpp"

#include <catch2/catch.hpp>

#include "tests/config/test_files.hpp"

using namespace consent::config;
using consent::config::test::messages;
using consent::config::test::TempDir;
using namespace std::chrono_literals;
using Catch::Matchers::Equals;

namespace {

const std::string minimal_policy =
    "purposes:\n  - id: strictly-necessary\n    label: Necessary\n    exemption: always\n";

// Writes settings.yaml (with `text`) and p.yaml, loads, and returns the diagnostics as printed.
std::vector<std::string> settings_errors(const std::string& text) {
  TempDir dir;
  dir.write("p.yaml", minimal_policy);
  auto r = load_config(dir.write("settings.yaml", text));
  CHECK(r.config.has_value() == r.diagnostics.empty());
  return messages(r, dir.prefix());
}

}  // namespace

TEST_CASE("a settings file with only policies gets every default", "[config]") {
  TempDir dir;
  dir.write("p.yaml", minimal_policy);
  auto r = load_config(dir.write("settings.yaml", "policies: [p.yaml]\n"));
  REQUIRE(messages(r).empty());
  REQUIRE(r.config);
  const Settings& s = r.config->settings;
  const Settings defaults;
  CHECK(s.mode == Mode::enforce);
  CHECK(s.listen == "127.0.0.1:8080");
  CHECK(s.workers == 0);
  CHECK(s.log == "-");
  CHECK(s.allowed_clients == defaults.allowed_clients);
  CHECK(s.connect_ports == defaults.connect_ports);
  CHECK(s.timeouts.client_head == defaults.timeouts.client_head);
  CHECK(s.limits.request_head_bytes == defaults.limits.request_head_bytes);
  CHECK(s.policies == std::vector<std::string>{(dir.path() / "p.yaml").string()});
  REQUIRE(r.config->policy.purposes.size() == 1);
  CHECK(r.config->policy.purposes[0].id == "strictly-necessary");
}

TEST_CASE("every settings key is read into its field", "[config]") {
  TempDir dir;
  dir.write("pol/b.yaml", "trackers:\n  - id: t\n    purpose: ads\n    domains: [t.example]\n");
  dir.write("pol/a.yaml", minimal_policy);
  dir.write("pol/ignored.yml", "not: loaded");
  auto r = load_config(dir.write("conf/settings.yaml", R"(
mode: report-only
listen: "[::1]:0"
workers: 4
log: logs/decisions.jsonl
log_all_exchanges: true
log_full_urls: true
connect_to:
  - "tracker.example:443:127.0.0.1:8443"
  - {host: "*.example", port: 80, to_host: "::1", to_port: "8080"}
allowed_clients: [10.0.0.0/8, 192.168.1.7, "fd00::/8"]
connect_ports: [443, 8443]
auth:
  enabled: true
  realm: office
  users: ["alice:s3cret:with:colons"]
timeouts:
  client_head: 500ms
  connect: 0
  tls_handshake: 2s
  first_byte: 1m
  idle: 1h
  keepalive: 0s
  tunnel_idle: 1d
  shutdown_grace: 3s
limits:
  request_head_bytes: 32KiB
  response_head_bytes: 1MiB
  header_count: 64
  uri_bytes: 4096
  chunk_extension_bytes: 128
  max_connections: 10
  upstream_pool_per_host: 2
  upstream_pool_total: 20
  ledger_entries: 1000
  log_queue_entries: 100
data_dir: /var/lib/consentgate
upstream_ca: [ca/extra.pem]
policies: [../pol]
)"));
  REQUIRE(messages(r).empty());
  const Settings& s = r.config->settings;
  CHECK(s.mode == Mode::report_only);
  CHECK(s.listen == "[::1]:0");
  CHECK(s.workers == 4);
  CHECK(s.log == (dir.path() / "conf/logs/decisions.jsonl").string());
  CHECK(s.log_all_exchanges);
  CHECK(s.log_full_urls);
  REQUIRE(s.connect_to.size() == 2);
  CHECK(s.connect_to[0].host == "tracker.example");
  CHECK(s.connect_to[0].to_port == "8443");
  CHECK(s.connect_to[1].host == "*.example");
  CHECK(s.connect_to[1].port == "80");
  CHECK(s.connect_to[1].to_host == "::1");
  CHECK(s.connect_to[1].to_port == "8080");
  CHECK(s.allowed_clients == std::vector<std::string>{"10.0.0.0/8", "192.168.1.7/32", "fd00::/8"});
  CHECK(s.connect_ports == std::vector<std::uint16_t>{443, 8443});
  CHECK(s.auth.enabled);
  CHECK(s.auth.realm == "office");
  CHECK(s.auth.users == std::vector<std::string>{"alice:s3cret:with:colons"});
  CHECK(s.timeouts.client_head == 500ms);
  CHECK(s.timeouts.connect == 0ms);
  CHECK(s.timeouts.tls_handshake == 2s);
  CHECK(s.timeouts.first_byte == 1min);
  CHECK(s.timeouts.idle == 1h);
  CHECK(s.timeouts.keepalive == 0ms);
  CHECK(s.timeouts.tunnel_idle == 24h);
  CHECK(s.timeouts.shutdown_grace == 3s);
  CHECK(s.limits.request_head_bytes == 32 * 1024);
  CHECK(s.limits.response_head_bytes == 1024 * 1024);
  CHECK(s.limits.header_count == 64);
  CHECK(s.limits.uri_bytes == 4096);
  CHECK(s.limits.chunk_extension_bytes == 128);
  CHECK(s.limits.max_connections == 10);
  CHECK(s.limits.upstream_pool_per_host == 2);
  CHECK(s.limits.upstream_pool_total == 20);
  CHECK(s.limits.ledger_entries == 1000);
  CHECK(s.limits.log_queue_entries == 100);
  CHECK(s.data_dir == "/var/lib/consentgate");
  CHECK(s.upstream_ca == std::vector<std::string>{(dir.path() / "conf/ca/extra.pem").string()});
  // A directory loads its *.yaml files in name order, and only those.
  CHECK(s.policies ==
        std::vector<std::string>{(dir.path() / "pol/a.yaml").string(), (dir.path() / "pol/b.yaml").string()});
  REQUIRE(r.config->policy.trackers.size() == 1);
  CHECK(r.config->policy.trackers[0].id == "t");
}

TEST_CASE("settings errors are all reported at once, each with file:line:col and key path", "[config]") {
  CHECK_THAT(
      settings_errors(R"(mode: enforse
listen: localhost:8080
workers: -1
log: ""
log_all_exchanges: yes
connect_to: ["a:1:b", {host: x, port: 99999}, [1], {host: "a b", to_host: "x:80"}]
allowed_clients: [10.0.0.1/8, 10.0.0.0/33]
connect_ports: [0, 443, "https"]
timeouts:
  client_head: 15 seconds
  connect: 5
  idle: [1s]
limits:
  request_head_bytes: 64KB
  header_count: 0
  uri_bytes: 0
policies: [p.yaml]
)"),
      Equals(std::vector<std::string>{
          R"(settings.yaml:1:7: mode: expected one of enforce, report-only, gateway, got "enforse"; did you mean "enforce"?)",
          R"(settings.yaml:2:9: listen: "localhost:8080" is not ADDRESS:PORT with an IP address (e.g. "127.0.0.1:8080", "[::1]:8080"))",
          R"(settings.yaml:3:10: workers: expected a whole number from 0 to 1024, got "-1")",
          R"(settings.yaml:4:6: log: must not be empty)",
          R"(settings.yaml:5:20: log_all_exchanges: expected true or false, got "yes")",
          R"(settings.yaml:6:14: connect_to[0]: "a:1:b" is not HOST:PORT:ADDRESS:PORT (e.g. "tracker.example:443:127.0.0.1:8443"))",
          R"(settings.yaml:6:39: connect_to[1].port: expected a port from 1 to 65535, got "99999")",
          R"(settings.yaml:6:47: connect_to[2]: expected "HOST:PORT:ADDRESS:PORT" or a map, got a list)",
          R"(settings.yaml:6:59: connect_to[3].host: "a b" is not a host name, IP address or "*.domain")",
          R"(settings.yaml:6:75: connect_to[3].to_host: "x:80" is not a host name or IP address)",
          R"(settings.yaml:7:19: allowed_clients[0]: "10.0.0.1/8" has host bits set; did you mean "10.0.0.0/8"?)",
          R"(settings.yaml:7:31: allowed_clients[1]: "10.0.0.0/33" is not an IP network in CIDR notation (e.g. "192.168.0.0/16", "fd00::/8"))",
          R"(settings.yaml:8:17: connect_ports[0]: expected a whole number from 1 to 65535, got "0")",
          R"(settings.yaml:8:25: connect_ports[2]: expected a whole number from 1 to 65535, got "https")",
          R"(settings.yaml:10:16: timeouts.client_head: expected a duration such as "15s", "500ms" or "5m" (0 disables), got "15 seconds")",
          R"(settings.yaml:11:12: timeouts.connect: expected a duration such as "15s", "500ms" or "5m" (0 disables), got "5")",
          R"(settings.yaml:12:9: timeouts.idle: expected a duration such as "15s", "500ms" or "5m" (0 disables), got a list)",
          R"(settings.yaml:14:23: limits.request_head_bytes: expected a size such as 65536, "64KiB" or "1MiB", got "64KB")",
          R"(settings.yaml:15:17: limits.header_count: expected a whole number from 1 to 4294967295, got "0")",
          R"(settings.yaml:16:14: limits.uri_bytes: must be from 1 byte to 4GiB, got "0")",
      }));
}

TEST_CASE("unknown settings keys are errors with a suggestion or the list of keys", "[config]") {
  CHECK_THAT(
      settings_errors("lisen: 127.0.0.1:1\ntimeouts:\n  conect: 1s\n  frobnicate: 2s\npolicies: [p.yaml]\n"),
      Equals(std::vector<std::string>{
          R"(settings.yaml:1:1: unknown key "lisen"; did you mean "listen"?)",
          R"(settings.yaml:3:3: unknown key "conect" in timeouts; did you mean "connect"?)",
          R"(settings.yaml:4:3: unknown key "frobnicate" in timeouts; expected one of: client_head, connect, tls_handshake, first_byte, idle, keepalive, tunnel_idle, shutdown_grace)",
      }));
}

TEST_CASE("duplicate settings keys are errors pointing at the second one", "[config]") {
  CHECK_THAT(settings_errors(
                 "listen: 127.0.0.1:1\npolicies: [p.yaml]\nlisten: 127.0.0.1:2\ntimeouts:\n  idle: 1s\n  idle: 2s\n"),
             Equals(std::vector<std::string>{
                 R"(settings.yaml:3:1: duplicate key "listen" (first at line 1))",
                 R"(settings.yaml:6:3: duplicate key "idle" in timeouts (first at line 5))",
             }));
}

TEST_CASE("policies is required and must name readable files", "[config]") {
  CHECK_THAT(settings_errors("listen: 127.0.0.1:1\n"),
             Equals(std::vector<std::string>{R"(settings.yaml:1:1: missing required key "policies")"}));
  CHECK_THAT(settings_errors("policies: []\n"),
             Equals(std::vector<std::string>{
                 R"(settings.yaml:1:11: policies: must list at least one policy file or directory)"}));
  CHECK_THAT(settings_errors("policies: p.yaml\n"),
             Equals(std::vector<std::string>{R"(settings.yaml:1:11: policies: expected a list, got "p.yaml")"}));
  CHECK_THAT(settings_errors("policies:\n  - p.yaml\n  - missing.yaml\n  - p.yaml\n"),
             Equals(std::vector<std::string>{
                 R"(settings.yaml:3:5: policies[1]: cannot read "missing.yaml": No such file or directory)",
                 R"(settings.yaml:4:5: policies[2]: "p.yaml" is already loaded by policies[0])",
             }));
}

TEST_CASE("an empty policy directory is an error", "[config]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "empty");
  auto r = load_config(dir.write("settings.yaml", "policies: [empty]\n"));
  CHECK_FALSE(r.config);
  CHECK_THAT(messages(r, dir.prefix()),
             Equals(std::vector<std::string>{R"(settings.yaml:1:12: policies[0]: no *.yaml files in "empty")"}));
}

TEST_CASE("auth needs users when enabled and never echoes a password", "[config]") {
  CHECK_THAT(settings_errors("auth: {enabled: true}\npolicies: [p.yaml]\n"),
             Equals(std::vector<std::string>{R"(settings.yaml:1:7: auth: auth is enabled but no users are listed)"}));
  CHECK_THAT(settings_errors("auth:\n  users: [nopassword, \":secret\"]\n  realm: 'a\"b'\npolicies: [p.yaml]\n"),
             Equals(std::vector<std::string>{
                 R"(settings.yaml:2:11: auth.users[0]: expected "user:password")",
                 R"(settings.yaml:2:23: auth.users[1]: expected "user:password")",
                 R"(settings.yaml:3:10: auth.realm: must not contain quotes, backslashes or line breaks)",
             }));
}

TEST_CASE("an empty allowed_clients list would refuse everyone and is an error", "[config]") {
  CHECK_THAT(
      settings_errors("allowed_clients: []\npolicies: [p.yaml]\n"),
      Equals(std::vector<std::string>{
          R"(settings.yaml:1:18: allowed_clients: must list at least one network ("127.0.0.0/8" is loopback))"}));
}

TEST_CASE("an unreadable settings file is reported without a line", "[config]") {
  TempDir dir;
  auto r = load_config(dir.path() / "nope.yaml");
  CHECK_THAT(messages(r, dir.prefix()),
             Equals(std::vector<std::string>{"nope.yaml: cannot read file: No such file or directory"}));
  r = load_config(dir.path());
  CHECK_THAT(messages(r), Equals(std::vector<std::string>{dir.path().string() + ": cannot read file: is a directory"}));
}

TEST_CASE("syntax errors, empty files, second documents and bad UTF-8 are reported with a location", "[config]") {
  CHECK_THAT(
      settings_errors("policies: [p.yaml\n"),
      Equals(std::vector<std::string>{R"(settings.yaml:2:1: YAML syntax error: end of sequence flow not found)"}));
  CHECK_THAT(settings_errors("a: 1\n b: 2\n"),
             Equals(std::vector<std::string>{R"(settings.yaml:2:3: YAML syntax error: illegal map value)"}));
  CHECK_THAT(settings_errors(""), Equals(std::vector<std::string>{"settings.yaml: the file is empty"}));
  CHECK_THAT(settings_errors("# only a comment\n"),
             Equals(std::vector<std::string>{"settings.yaml: the file is empty"}));
  CHECK_THAT(settings_errors("policies: [p.yaml]\n---\nlisten: 1\n"),
             Equals(std::vector<std::string>{
                 R"(settings.yaml:3:1: a second YAML document starts here; a file holds exactly one)"}));
  CHECK_THAT(settings_errors("policies: [p.yaml]\nlog: \"caf\xe9\"\n"),
             Equals(std::vector<std::string>{R"(settings.yaml:2:10: the file is not valid UTF-8)"}));
  CHECK_THAT(settings_errors(std::string("policies: [p.yaml]\0\n", 20)),
             Equals(std::vector<std::string>{R"(settings.yaml:1:19: the file is not valid UTF-8)"}));
  CHECK_THAT(settings_errors("- policies\n"),
             Equals(std::vector<std::string>{R"(settings.yaml:1:1: expected a map, got a list)"}));
  CHECK_THAT(settings_errors("[a]: 1\npolicies: [p.yaml]\n"),
             Equals(std::vector<std::string>{R"(settings.yaml:1:1: keys must be plain strings, got a list)"}));
}

TEST_CASE("deeply nested YAML is refused, not a stack overflow", "[config]") {
  CHECK_THAT(settings_errors(std::string(100'000, '[') + std::string(100'000, ']')),
             Equals(std::vector<std::string>{"settings.yaml:1:1: YAML nesting is too deep"}));
  // Deeper than the formats ever nest, yet within yaml-cpp's own guard.
  std::string nested;
  for (int i = 0; i < 100; ++i) nested += std::string(static_cast<std::size_t>(i) * 2, ' ') + "a:\n";
  CHECK_THAT(settings_errors(nested),
             Equals(std::vector<std::string>{
                 "settings.yaml: YAML nesting is too deep (more than 64 levels, counting aliases)"}));
}

TEST_CASE("a policy file larger than the limit is refused", "[config]") {
  TempDir dir;
  dir.write("big.yaml", "# " + std::string(17 * 1024 * 1024, 'x') + "\n");
  auto r = load_config(dir.write("settings.yaml", "policies: [big.yaml]\n"));
  CHECK_THAT(messages(r, dir.prefix()),
             Equals(std::vector<std::string>{
                 R"(settings.yaml:1:12: policies[0]: cannot read "big.yaml": larger than 16MiB)"}));
}

namespace {

// Writes a PEM-looking file with the given mode (the loader checks presence and permissions only).
void write_private(const TempDir& dir, const std::string& name, std::filesystem::perms perms) {
  auto p = dir.write(name, "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n");
  std::filesystem::permissions(p, perms);
}

constexpr auto owner_only = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;

}  // namespace

TEST_CASE("every tls and gateway key is read into its field", "[config]") {
  TempDir dir;
  dir.write("p.yaml", minimal_policy);
  dir.write("tls/shop.pem", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
  write_private(dir, "tls/shop.key", owner_only | std::filesystem::perms::group_read);
  write_private(dir, "keys/records.key", owner_only);
  auto r = load_config(dir.write("settings.yaml", R"(
mode: gateway
tls:
  intercept: false
  leaf_cache_entries: 100
  passthrough: [Bank.Example, "*.apple.com"]
gateway:
  routes:
    - name: shop
      listen: 0.0.0.0:8443
      hosts: [WWW.shop.example, "*.shop.example"]
      upstream: https://origin.internal:9443
      certificate: tls/shop.pem
      private_key: tls/shop.key
      csp_allow: [https://cdn.shop.example]
      third_parties: [www.googletagmanager.com, "*.Doubleclick.net"]
    - listen: "[::1]:8080"
      upstream: http://127.0.0.1:3000/
  forwarded_headers: false
  trusted_proxies: [10.0.0.0/8, 192.0.2.7]
  consent_header: X-Consent
  csp: report-only
  csp_allow: ["'self'", "data:"]
  third_parties: [connect.facebook.net]
  health_path: /healthz
  csp_report_path: /csp
  consent_records: records/consent.jsonl
  consent_records_rotate_bytes: 1MiB
  consent_records_keep: 3
  consent_records_key: keys/records.key
policies: [p.yaml]
)"));
  REQUIRE(messages(r).empty());
  const Settings& s = r.config->settings;
  CHECK(s.mode == Mode::gateway);
  CHECK_FALSE(s.tls.intercept);
  CHECK(s.tls.leaf_cache_entries == 100);
  CHECK(s.tls.passthrough == std::vector<std::string>{"bank.example", "*.apple.com"});
  const Gateway& g = s.gateway;
  REQUIRE(g.routes.size() == 2);
  CHECK(g.routes[0].name == "shop");
  CHECK(g.routes[0].listen == "0.0.0.0:8443");
  CHECK(g.routes[0].hosts == std::vector<std::string>{"www.shop.example", "*.shop.example"});
  CHECK(g.routes[0].upstream == "https://origin.internal:9443");
  CHECK(g.routes[0].origin.is_tls);
  CHECK(g.routes[0].origin.host == "origin.internal");
  CHECK(g.routes[0].origin.port == 9443);
  CHECK(g.routes[0].certificate == (dir.path() / "tls/shop.pem").string());
  CHECK(g.routes[0].private_key == (dir.path() / "tls/shop.key").string());
  CHECK(g.routes[0].csp_allow == std::vector<std::string>{"https://cdn.shop.example"});
  CHECK(g.routes[0].third_parties == std::vector<std::string>{"www.googletagmanager.com", "*.doubleclick.net"});
  CHECK(g.third_parties == std::vector<std::string>{"connect.facebook.net"});
  CHECK(g.routes[1].name == "[::1]:8080");  // no name, no hosts: the listen address names it
  CHECK(g.routes[1].hosts.empty());
  CHECK_FALSE(g.routes[1].origin.is_tls);
  CHECK(g.routes[1].origin.host == "127.0.0.1");
  CHECK(g.routes[1].origin.port == 3000);
  CHECK(g.routes[1].certificate.empty());
  CHECK_FALSE(g.forwarded_headers);
  CHECK(g.trusted_proxies == std::vector<std::string>{"10.0.0.0/8", "192.0.2.7/32"});
  CHECK(g.consent_header == "X-Consent");
  CHECK(g.csp == CspMode::report_only);
  CHECK(g.csp_allow == std::vector<std::string>{"'self'", "data:"});
  CHECK(g.health_path == "/healthz");
  CHECK(g.csp_report_path == "/csp");
  CHECK(g.consent_records == (dir.path() / "records/consent.jsonl").string());
  CHECK(g.consent_records_rotate_bytes == 1024 * 1024);
  CHECK(g.consent_records_keep == 3);
  CHECK(g.consent_records_key == (dir.path() / "keys/records.key").string());
}

TEST_CASE("gateway defaults: forwarded headers on, CSP enforced, records off", "[config]") {
  const Gateway g;
  CHECK(g.forwarded_headers);
  CHECK(g.consent_header == "Consent-Purposes");
  CHECK(g.csp == CspMode::enforce);
  CHECK(g.health_path == "/.consentgate/health");
  CHECK(g.csp_report_path == "/.consentgate/csp-report");
  CHECK(g.consent_records.empty());
  const Tls t;
  CHECK(t.intercept);
  CHECK(t.passthrough.empty());
}

TEST_CASE("gateway mode needs a route", "[config]") {
  CHECK_THAT(settings_errors("mode: gateway\npolicies: [p.yaml]\n"),
             Equals(std::vector<std::string>{
                 R"(settings.yaml:1:7: mode: gateway mode needs at least one route in gateway.routes)"}));
  CHECK_THAT(settings_errors("mode: gateway\ngateway:\n  routes: []\npolicies: [p.yaml]\n"),
             Equals(std::vector<std::string>{
                 R"(settings.yaml:1:7: mode: gateway mode needs at least one route in gateway.routes)"}));
  // Routes are kept (and checked) in the other modes too, so switching mode is a one-line change.
  CHECK(settings_errors("mode: enforce\ngateway:\n  routes: [{listen: 127.0.0.1:1, upstream: http://a}]\n"
                        "policies: [p.yaml]\n")
            .empty());
}

TEST_CASE("gateway and tls errors are all reported with file:line:col and key path", "[config]") {
  CHECK_THAT(
      settings_errors(R"(mode: gateway
tls:
  intercept: 1
  leaf_cache_entries: 0
  passthrough: ["bank.example:443", "*"]
gateway:
  routes:
    - listen: localhost:80
      upstream: http://origin.example/app
    - listen: 127.0.0.1:80
      hosts: []
      upstream: ftp://origin.example
    - listen: 127.0.0.1:80
      hosts: [a.example, "a.example:80"]
      upstream: http://[::1
      csp_allow: ["*", "https:", "a;b"]
    - {hosts: [x.example]}
    - [not, a, map]
  trusted_proxies: [10.0.0.1/8]
  consent_header: Cookie
  csp: enforced
  csp_allow: ["'unsafe-everything'"]
  health_path: healthz
  csp_report_path: /x?y
  consent_records: ""
  consent_records_rotate_bytes: 1KiB
  consent_records_keep: 0
policies: [p.yaml]
)"),
      Equals(std::vector<std::string>{
          R"(settings.yaml:3:14: tls.intercept: expected true or false, got "1")",
          R"(settings.yaml:4:23: tls.leaf_cache_entries: expected a whole number from 1 to 10000000, got "0")",
          R"(settings.yaml:5:17: tls.passthrough[0]: "bank.example:443" is not a host name, IP address or "*.domain" (without a port))",
          R"(settings.yaml:5:37: tls.passthrough[1]: "*" is not a host name, IP address or "*.domain" (without a port))",
          R"(settings.yaml:8:15: gateway.routes[0].listen: "localhost:80" is not ADDRESS:PORT with an IP address (e.g. "127.0.0.1:8080", "[::1]:8080"))",
          R"(settings.yaml:9:17: gateway.routes[0].upstream: "http://origin.example/app" is not an origin URL "http(s)://HOST[:PORT]" with no user info, path, query or fragment (e.g. "http://127.0.0.1:3000"))",
          R"(settings.yaml:11:14: gateway.routes[1].hosts: must list at least one host; leave hosts out to serve any Host on this listen)",
          R"(settings.yaml:12:17: gateway.routes[1].upstream: "ftp://origin.example" is not an origin URL "http(s)://HOST[:PORT]" (e.g. "http://127.0.0.1:3000"))",
          R"(settings.yaml:14:26: gateway.routes[2].hosts[1]: "a.example:80" is not a host name, IP address or "*.domain" (without a port))",
          R"(settings.yaml:15:17: gateway.routes[2].upstream: "http://[::1" is not an origin URL "http(s)://HOST[:PORT]" (e.g. "http://127.0.0.1:3000"))",
          R"(settings.yaml:16:19: gateway.routes[2].csp_allow[0]: "*" would allow every host, and so every tracker, whatever the consent)",
          R"(settings.yaml:16:24: gateway.routes[2].csp_allow[1]: "https:" would allow every host, and so every tracker, whatever the consent)",
          R"(settings.yaml:16:34: gateway.routes[2].csp_allow[2]: "a;b" is not a CSP source (a host such as "cdn.example" or "https://*.cdn.example", "data:", or a keyword such as "'self'"))",
          R"(settings.yaml:17:7: gateway.routes[3]: missing required key "listen")",
          R"(settings.yaml:17:7: gateway.routes[3]: missing required key "upstream")",
          R"(settings.yaml:18:7: gateway.routes[4]: expected a map, got a list)",
          R"(settings.yaml:19:21: gateway.trusted_proxies[0]: "10.0.0.1/8" has host bits set; did you mean "10.0.0.0/8"?)",
          R"(settings.yaml:20:19: gateway.consent_header: "Cookie" is not a header name the gateway may set (a token, not Host, Cookie, Forwarded, X-Forwarded-*, Proxy-* or a framing header); "" disables it)",
          R"(settings.yaml:21:8: gateway.csp: expected one of off, enforce, report-only, got "enforced"; did you mean "enforce"?)",
          R"(settings.yaml:22:15: gateway.csp_allow[0]: "'unsafe-everything'" is not a CSP source (a host such as "cdn.example" or "https://*.cdn.example", "data:", or a keyword such as "'self'"))",
          R"(settings.yaml:23:16: gateway.health_path: "healthz" is not an absolute path such as "/.consentgate/health")",
          R"(settings.yaml:24:20: gateway.csp_report_path: "/x?y" is not an absolute path such as "/.consentgate/health")",
          R"(settings.yaml:25:20: gateway.consent_records: must not be empty)",
          R"(settings.yaml:26:33: gateway.consent_records_rotate_bytes: must be from 4KiB to 1TiB, got "1KiB")",
          R"(settings.yaml:27:25: gateway.consent_records_keep: expected a whole number from 1 to 1000, got "0")",
      }));
}

TEST_CASE("duplicate listen and host pairs point at the first route", "[config]") {
  CHECK_THAT(
      settings_errors(R"(gateway:
  routes:
    - {listen: 127.0.0.1:80, hosts: [a.example, "*.a.example"], upstream: http://o1}
    - {listen: 127.0.0.1:80, hosts: [b.example, A.Example.], upstream: http://o2}
    - {listen: 127.0.0.1:81, hosts: [a.example], upstream: http://o3}
    - {listen: 127.0.0.1:82, upstream: http://o4}
    - {listen: 127.0.0.1:82, upstream: http://o5}
    - {listen: 127.0.0.1:0, upstream: http://o6}
    - {listen: 127.0.0.1:0, upstream: http://o7}
policies: [p.yaml]
)"),
      Equals(std::vector<std::string>{
          R"(settings.yaml:4:7: gateway.routes[1].hosts[1]: host "a.example" on "127.0.0.1:80" is already routed by gateway.routes[0].hosts[0])",
          R"(settings.yaml:7:7: gateway.routes[4]: a route for any Host on "127.0.0.1:82" is already routed by gateway.routes[3])",
      }));
}

TEST_CASE("routes sharing a listen are all HTTPS or all plain, and keys are private", "[config]") {
  TempDir dir;
  dir.write("p.yaml", minimal_policy);
  dir.write("c.pem", "cert");
  write_private(dir, "ok.key", owner_only);
  write_private(dir, "open.key", owner_only | std::filesystem::perms::others_read);
  std::filesystem::create_directories(dir.path() / "sub");
  auto r = load_config(dir.write("settings.yaml", R"(gateway:
  routes:
    - {listen: 127.0.0.1:443, hosts: [a.example], upstream: http://o, certificate: c.pem, private_key: ok.key}
    - {listen: 127.0.0.1:443, hosts: [b.example], upstream: http://o}
    - {listen: 127.0.0.1:444, upstream: http://o, certificate: c.pem, private_key: open.key}
    - {listen: 127.0.0.1:445, upstream: http://o, certificate: missing.pem, private_key: sub}
    - {listen: 127.0.0.1:446, upstream: http://o, certificate: c.pem}
    - {listen: 127.0.0.1:447, upstream: http://o, private_key: ok.key}
  consent_records_key: open.key
policies: [p.yaml]
)"));
  CHECK_THAT(
      messages(r, dir.prefix()),
      Equals(std::vector<std::string>{
          R"(settings.yaml:4:7: gateway.routes[1]: listen "127.0.0.1:443" is plain HTTP here but HTTPS in gateway.routes[0]; routes sharing a listen address must all have a certificate or none)",
          R"(settings.yaml:5:84: gateway.routes[2].private_key: "open.key" is accessible to others (mode 0604); run: chmod o-rwx open.key)",
          R"(settings.yaml:6:64: gateway.routes[3].certificate: cannot read "missing.pem": No such file or directory)",
          R"(settings.yaml:6:90: gateway.routes[3].private_key: cannot read "sub": is a directory)",
          R"(settings.yaml:7:7: gateway.routes[4]: certificate is set but private_key is missing)",
          R"(settings.yaml:8:7: gateway.routes[5]: private_key is set but certificate is missing)",
          R"(settings.yaml:9:24: gateway.consent_records_key: "open.key" is accessible to others (mode 0604); run: chmod o-rwx open.key)",
      }));
}

TEST_CASE("unknown gateway keys are errors with a suggestion", "[config]") {
  CHECK_THAT(
      settings_errors("gateway:\n  route: []\n  routes:\n    - {listen: 127.0.0.1:1, upstrem: http://a}\n"
                      "tls:\n  passthru: []\npolicies: [p.yaml]\ngatway: {}\n"),
      Equals(std::vector<std::string>{
          R"(settings.yaml:2:3: unknown key "route" in gateway; did you mean "routes"?)",
          R"(settings.yaml:4:7: gateway.routes[0]: missing required key "upstream")",
          R"(settings.yaml:4:29: unknown key "upstrem" in gateway.routes[0]; did you mean "upstream"?)",
          R"(settings.yaml:6:3: unknown key "passthru" in tls; expected one of: intercept, leaf_cache_entries, passthrough)",
          R"(settings.yaml:8:1: unknown key "gatway"; did you mean "gateway"?)",
      }));
}

TEST_CASE("every dns key is read into its field, and the defaults use the system's resolvers", "[config]") {
  TempDir dir;
  dir.write("p.yaml", minimal_policy);
  auto defaults = load_config(dir.write("default.yaml", "policies: [p.yaml]\n"));
  REQUIRE(defaults.config);
  const Dns& d = defaults.config->settings.dns;
  CHECK(d.servers.empty());
  CHECK(d.timeout == 2s);
  CHECK(d.tries == 2);
  CHECK(d.cache_entries == 4096);
  CHECK(d.max_cache_ttl == 300s);
  CHECK(d.cname_cloaking);

  auto r = load_config(dir.write("settings.yaml", R"(dns:
  servers: ["127.0.0.1:5353", 9.9.9.9, "[::1]:53", "[::1]"]
  timeout: 250ms
  tries: 3
  cache_entries: 0
  max_cache_ttl: 1m
  cname_cloaking: false
policies: [p.yaml]
)"));
  CHECK_THAT(messages(r), Equals(std::vector<std::string>{}));
  REQUIRE(r.config);
  const Dns& s = r.config->settings.dns;
  CHECK(s.servers == std::vector<std::string>{"127.0.0.1:5353", "9.9.9.9", "[::1]:53", "[::1]"});
  CHECK(s.timeout == 250ms);
  CHECK(s.tries == 3);
  CHECK(s.cache_entries == 0);
  CHECK(s.max_cache_ttl == 60s);
  CHECK_FALSE(s.cname_cloaking);
}

TEST_CASE("dns errors are reported with file:line:col and key path", "[config]") {
  CHECK_THAT(
      settings_errors(R"(dns:
  servers: [dns.example, "127.0.0.1:", "127.0.0.1:70000", "::1:53", "[127.0.0.1]:53", "", "[::1", 53]
  timeout: 0
  tries: 0
  cache_entries: -1
  max_cache_ttl: forever
  cname_cloaking: maybe
  resolver: x
policies: [p.yaml]
)"),
      Equals(std::vector<std::string>{
          R"(settings.yaml:2:13: dns.servers[0]: "dns.example" is not a DNS server: expected an IP address, ADDRESS:PORT or [IPV6]:PORT (e.g. "9.9.9.9", "127.0.0.1:5353", "[::1]:53"))",
          R"(settings.yaml:2:26: dns.servers[1]: "127.0.0.1:" is not a DNS server: expected an IP address, ADDRESS:PORT or [IPV6]:PORT (e.g. "9.9.9.9", "127.0.0.1:5353", "[::1]:53"))",
          R"(settings.yaml:2:40: dns.servers[2]: "127.0.0.1:70000" is not a DNS server: expected an IP address, ADDRESS:PORT or [IPV6]:PORT (e.g. "9.9.9.9", "127.0.0.1:5353", "[::1]:53"))",
          R"(settings.yaml:2:59: dns.servers[3]: "::1:53" is not a DNS server: expected an IP address, ADDRESS:PORT or [IPV6]:PORT (e.g. "9.9.9.9", "127.0.0.1:5353", "[::1]:53"))",
          R"(settings.yaml:2:69: dns.servers[4]: "[127.0.0.1]:53" is not a DNS server: expected an IP address, ADDRESS:PORT or [IPV6]:PORT (e.g. "9.9.9.9", "127.0.0.1:5353", "[::1]:53"))",
          R"(settings.yaml:2:87: dns.servers[5]: must not be empty)",
          R"(settings.yaml:2:91: dns.servers[6]: "[::1" is not a DNS server: expected an IP address, ADDRESS:PORT or [IPV6]:PORT (e.g. "9.9.9.9", "127.0.0.1:5353", "[::1]:53"))",
          R"(settings.yaml:2:99: dns.servers[7]: "53" is not a DNS server: expected an IP address, ADDRESS:PORT or [IPV6]:PORT (e.g. "9.9.9.9", "127.0.0.1:5353", "[::1]:53"))",
          R"(settings.yaml:3:12: dns.timeout: must be more than 0 (a DNS query cannot wait forever))",
          R"(settings.yaml:4:10: dns.tries: expected a whole number from 1 to 16, got "0")",
          R"(settings.yaml:5:18: dns.cache_entries: expected a whole number from 0 to 10000000, got "-1")",
          R"(settings.yaml:6:18: dns.max_cache_ttl: expected a duration such as "15s", "500ms" or "5m" (0 disables), got "forever")",
          R"(settings.yaml:7:19: dns.cname_cloaking: expected true or false, got "maybe")",
          R"(settings.yaml:8:3: unknown key "resolver" in dns; expected one of: servers, timeout, tries, cache_entries, max_cache_ttl, cname_cloaking)",
      }));
}
