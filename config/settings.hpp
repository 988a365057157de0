#pragma once
// Proxy settings, as loaded from config/default.yaml and overridden by command-line flags. Plain values;
// the YAML keys have the same names (timeouts.client_head, limits.request_head_bytes, ...).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace consent::config {

enum class Mode { enforce, report_only, gateway };

struct Timeouts {
  std::chrono::milliseconds client_head{15'000};    // whole request head from the client (one deadline)
  std::chrono::milliseconds connect{5'000};         // resolve + TCP connect upstream
  std::chrono::milliseconds tls_handshake{10'000};  // each side
  std::chrono::milliseconds first_byte{30'000};     // upstream starts answering
  std::chrono::milliseconds idle{60'000};           // no bytes either way during an exchange
  std::chrono::milliseconds keepalive{30'000};      // between exchanges
  std::chrono::milliseconds tunnel_idle{300'000};   // CONNECT we do not inspect
  std::chrono::milliseconds shutdown_grace{10'000};
};

struct Limits {
  std::size_t request_head_bytes = 64 * 1024;
  std::size_t response_head_bytes = 64 * 1024;
  std::size_t header_count = 128;
  std::size_t uri_bytes = 8 * 1024;
  std::size_t chunk_extension_bytes = 256;
  std::size_t max_connections = 4096;       // more are answered 503 and closed
  std::size_t upstream_pool_per_host = 64;  // idle keep-alive connections kept per host:port (per worker)
  std::size_t upstream_pool_total = 1024;
  std::size_t ledger_entries = 100'000;    // consent ledger LRU size
  std::size_t log_queue_entries = 65'536;  // decision-log lines waiting for the writer
};

// curl's --connect-to: HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT. Empty host/port = any; "*.example" allowed.
struct ConnectTo {
  std::string host;
  std::string port;
  std::string to_host;
  std::string to_port;
};

struct ProxyAuth {
  bool enabled = false;
  std::string realm = "consentgate";
  std::vector<std::string> users;  // "user:password" pairs, compared in constant time
};

// TLS interception (forward mode) and upstream TLS (both modes). Owner: tls integration.
struct Tls {
  bool intercept = true;                  // forward mode: false = CONNECT is always a blind tunnel
  std::size_t leaf_cache_entries = 4096;  // minted leaf certificates kept (LRU)
  // Hosts tunnelled without interception (pinned apps, banking): "bank.example" (and its subdomains),
  // "*.apple.com". A passthrough host that is a non-consented tracker is still refused at CONNECT.
  std::vector<std::string> passthrough;
};

// A gateway route's origin, split from its URL: "https://origin.internal:8443" -> {true, "origin.internal",
// 8443}. The host is normalised (lower case, IPv6 without brackets); the port is explicit or the scheme's.
struct OriginUrl {
  bool is_tls = false;
  std::string host;
  std::uint16_t port = 0;
};

// One gateway route: visitors reaching `listen` with a Host in `hosts` are served from `upstream`.
struct GatewayRoute {
  std::string name;                    // for logs; defaults to the first host, or the listen address
  std::string listen;                  // "0.0.0.0:443"; routes sharing a listen share the socket
  std::vector<std::string> hosts;      // normalised Host values ("www.example.com", "*.example.com"); empty = any
  std::string upstream;                // origin: "http://127.0.0.1:3000" or "https://origin.internal:8443"
  OriginUrl origin;                    // `upstream`, parsed by the loader
  std::string certificate;             // PEM chain for an HTTPS listener (operator's own); empty = plain HTTP
  std::string private_key;             // PEM key for `certificate` (must not be readable by others)
  std::vector<std::string> csp_allow;  // extra CSP sources this site needs whatever the consent
  // Third-party hosts this site's pages load ("www.googletagmanager.com", "*.doubleclick.net"): each is
  // allowed by the consent CSP only while the visitor's consent covers it (a host no tracker rule knows
  // is always allowed). Scales where listing every tracker domain of a purpose would not.
  std::vector<std::string> third_parties;
};

enum class CspMode { off, enforce, report_only };

struct Gateway {
  std::vector<GatewayRoute> routes;
  bool forwarded_headers = true;                    // X-Forwarded-For/-Proto/-Host and Forwarded towards the origin
  std::vector<std::string> trusted_proxies;         // CIDRs (CDN, load balancer) whose X-Forwarded-For is extended
  std::string consent_header = "Consent-Purposes";  // effective consent told to the origin; empty = none
  CspMode csp = CspMode::enforce;
  std::vector<std::string> csp_allow;      // extra CSP sources for every route
  std::vector<std::string> third_parties;  // as GatewayRoute::third_parties, for every route
  std::string health_path = "/.consentgate/health";
  std::string csp_report_path = "/.consentgate/csp-report";
  std::string consent_records;  // consent-record log path ("" = off, "-" = stdout)
  std::size_t consent_records_rotate_bytes = 64 * 1024 * 1024;
  unsigned consent_records_keep = 10;  // rotated files kept
  // HMAC-SHA256 key for the records' visitor hashes: a file holding at least 32 bytes, not readable by
  // others. Empty = "consent-records.key" in data_dir, generated (0600) on first start.
  std::string consent_records_key;
};

// Upstream name resolution with c-ares (issue 5, CNAME cloaking): docs/dns.md. `--dns` replaces `servers`.
struct Dns {
  // "ADDRESS" (port 53), "ADDRESS:PORT" or "[IPV6]:PORT"; IP addresses only. Empty: the system's
  // resolvers (/etc/resolv.conf), read at start and on reload, never on an I/O thread.
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2'000};          // per try; c-ares doubles it on each round
  unsigned tries = 2;                                // rounds over the server list
  std::size_t cache_entries = 4096;                  // answers kept per worker (LRU); 0 = no cache
  std::chrono::milliseconds max_cache_ttl{300'000};  // an answer is kept min(its TTL, this); 0 = no cache
  // Judge a host whose CNAME chain reaches a tracker domain as that tracker (reason cname_cloaked).
  bool cname_cloaking = true;
  bool operator==(const Dns&) const = default;
};

struct Settings {
  Mode mode = Mode::enforce;
  std::string listen = "127.0.0.1:8080";
  unsigned workers = 0;            // 0 = number of cores
  std::string log = "-";           // decision log: a file path, or "-" for stdout
  bool log_all_exchanges = false;  // also log allowed exchanges
  bool log_full_urls = false;      // debug only: keep query strings in the log
  std::vector<ConnectTo> connect_to;
  std::vector<std::string> allowed_clients{"127.0.0.0/8", "::1/128"};  // CIDR
  std::vector<std::uint16_t> connect_ports{443};
  ProxyAuth auth;
  Timeouts timeouts;
  Limits limits;
  std::string data_dir;                  // CA and state; empty = $XDG_DATA_HOME/consentgate
  std::vector<std::string> upstream_ca;  // extra trust anchors (PEM files)
  std::vector<std::string> policies;     // policy files/dirs, relative to the config file
  Tls tls;
  Gateway gateway;
  Dns dns;
};

}  // namespace consent::config
