#pragma once
// What every session shares: the current configuration generation (settings + policy Engine, swapped as
// a whole by SIGHUP), the consent ledger, the decision log and the counters.
//
// Threads: Runtime is shared by every worker thread. generation() and replace() lock a mutex for the
// pointer copy only; a session takes one snapshot per exchange and keeps it until that exchange ends,
// so a reload never changes the rules under an exchange in flight (STYLE section 3).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "policy/engine.hpp"
#include "proxy/client_acl.hpp"
#include "proxy/connect_to.hpp"
#include "proxy/proxy_auth.hpp"

namespace consent::proxy {

class ConsentLedger;
class DecisionLog;
class Interception;

// Command-line overrides, re-applied on every reload so a flag always beats the file.
struct RunOptions {
  std::filesystem::path config_path = "config/default.yaml";
  std::optional<std::string> listen;
  std::optional<std::string> log;
  std::optional<config::Mode> mode;
  std::vector<config::ConnectTo> connect_to;  // appended before the file's rules: flags match first
  std::optional<unsigned> workers;
  std::optional<std::string> data_dir;   // --data-dir: where the interception CA lives
  std::vector<std::string> upstream_ca;  // --upstream-ca: appended to the file's trust anchors
  std::vector<std::string> passthrough;  // --passthrough: appended to tls.passthrough
  bool no_intercept = false;             // --no-intercept: tls.intercept = false
};

// One immutable configuration: what a reload replaces as a whole.
struct Generation {
  config::Settings settings;
  std::shared_ptr<const policy::Engine> engine;
  ConnectToTable connect_to;
  ClientAcl client_acl;
  ProxyAuth auth;
  std::uint64_t number = 0;
  [[nodiscard]] bool is_report_only() const noexcept { return settings.mode == config::Mode::report_only; }
};

struct LoadOutcome {
  std::shared_ptr<const Generation> generation;  // null when errors is non-empty
  std::vector<std::string> errors;               // "file:line:col: key: message", one per problem
};

// What a reload cannot apply to a running process, one line each ("listen: 127.0.0.1:8080 -> 127.0.0.1:9090
// needs restart"): the listening sockets, the worker threads, the per-worker upstream pools, the decision
// log's queue size and URL mode, and the interception CA and trust anchors are set up once at start.
// Everything else -- policies, mode, timeouts, limits read per exchange, client ACL, auth, connect-to,
// passthrough, and the decision log path (reopened) -- applies from the next exchange.
[[nodiscard]] std::vector<std::string> restart_only_changes(const config::Settings& before,
                                                            const config::Settings& after);

// Reads the config file and its policies, applies `options`, builds the Engine. Blocking file I/O:
// never call it on an I/O thread.
[[nodiscard]] LoadOutcome load_generation(const RunOptions& options, std::uint64_t number);

// Counters (relaxed atomics: statistics, not synchronisation).
struct Stats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_refused_limit{0};
  std::atomic<std::uint64_t> connections_refused_acl{0};
  std::atomic<std::uint64_t> exchanges{0};
  std::atomic<std::uint64_t> blocks{0};
  std::atomic<std::uint64_t> cookie_strips{0};
  std::atomic<std::uint64_t> set_cookie_drops{0};
  std::atomic<std::uint64_t> upstream_connects{0};
  std::atomic<std::uint64_t> upstream_reuses{0};
  std::atomic<std::uint64_t> tunnels{0};
  std::atomic<std::uint64_t> intercepted_connections{0};  // CONNECTs answered with our own TLS
  std::atomic<std::uint64_t> client_tls_failures{0};      // client-facing handshakes that failed
  std::atomic<std::uint64_t> upstream_tls_failures{0};    // upstream handshakes/verifications that failed
  std::atomic<std::uint64_t> malformed_requests{0};
  std::atomic<std::uint64_t> client_head_timeouts{0};
  std::atomic<std::uint64_t> upstream_errors{0};
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<std::uint64_t> reload_failures{0};
};

class Runtime {
 public:
  Runtime(std::shared_ptr<const Generation> generation, std::unique_ptr<ConsentLedger> ledger,
          std::unique_ptr<DecisionLog> log);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  [[nodiscard]] std::shared_ptr<const Generation> generation() const;
  // Swaps in a reloaded configuration. A changed decision-log path is reopened (DecisionLog::reopen_as);
  // settings that need a restart keep their running values and are reported on stderr, one line each
  // (restart_only_changes()).
  void replace(std::shared_ptr<const Generation> generation);

  // Thread-safe objects, usable through a const Runtime.
  [[nodiscard]] ConsentLedger& ledger() const noexcept { return *ledger_; }
  [[nodiscard]] DecisionLog* decision_log() const noexcept { return log_.get(); }
  [[nodiscard]] Stats& stats() const noexcept { return *stats_; }

  [[nodiscard]] std::uint64_t next_exchange_id() const noexcept {
    return exchange_ids_->fetch_add(1, std::memory_order_relaxed) + 1;
  }

  // Live client connections, for the connection limit.
  [[nodiscard]] std::atomic<std::size_t>& connections() const noexcept { return *connections_; }

  // CA, leaf cache and TLS contexts (null: no TLS at all, e.g. unit tests). Set once before the workers
  // start; never replaced by a reload.
  std::shared_ptr<const Interception> interception;

  // The bound listening ports, for loop refusal. Set once before the workers start.
  std::vector<std::uint16_t> listen_ports;
  [[nodiscard]] bool is_listen_port(std::uint16_t port) const noexcept {
    for (const auto p : listen_ports) {
      if (p == port) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Generation> generation_;
  std::unique_ptr<ConsentLedger> ledger_;
  std::unique_ptr<DecisionLog> log_;
  std::unique_ptr<Stats> stats_;
  std::unique_ptr<std::atomic<std::uint64_t>> exchange_ids_;
  std::unique_ptr<std::atomic<std::size_t>> connections_;
};

}  // namespace consent::proxy
