#include "proxy/runtime.hpp"

#include <iostream>
#include <string_view>
#include <utility>

#include "config/loader.hpp"
#include "proxy/consent_ledger.hpp"
#include "proxy/decision_log.hpp"
#include "proxy/gateway.hpp"

namespace consent::proxy {

LoadOutcome load_generation(const RunOptions& options, std::uint64_t number) {
  LoadOutcome out;
  auto loaded = config::load_config(options.config_path);
  for (const auto& d : loaded.diagnostics) out.errors.push_back(d.to_string());
  if (!loaded.config) {
    if (out.errors.empty()) out.errors.push_back(options.config_path.string() + ": cannot load configuration");
    return out;
  }
  auto generation = std::make_shared<Generation>();
  generation->number = number;
  generation->settings = std::move(loaded.config->settings);
  auto& s = generation->settings;
  if (options.listen) s.listen = *options.listen;
  if (options.log) s.log = *options.log;
  if (options.mode) s.mode = *options.mode;
  if (options.workers) s.workers = *options.workers;
  if (options.data_dir) s.data_dir = *options.data_dir;
  s.upstream_ca.insert(s.upstream_ca.end(), options.upstream_ca.begin(), options.upstream_ca.end());
  s.tls.passthrough.insert(s.tls.passthrough.end(), options.passthrough.begin(), options.passthrough.end());
  if (options.no_intercept) s.tls.intercept = false;
  if (!options.connect_to.empty()) {
    auto rules = options.connect_to;
    rules.insert(rules.end(), s.connect_to.begin(), s.connect_to.end());
    s.connect_to = std::move(rules);
  }
  generation->connect_to = ConnectToTable::build(s.connect_to, out.errors);
  generation->client_acl = ClientAcl::build(s.allowed_clients, out.errors);
  generation->auth = ProxyAuth::build(s.auth, out.errors);
  auto built = policy::Engine::build(loaded.config->policy);
  for (const auto& d : built.diagnostics) out.errors.push_back(d.to_string());
  if (!built.engine || !out.errors.empty()) return out;
  generation->engine = std::move(built.engine);
  out.generation = std::move(generation);
  return out;
}

Runtime::Runtime(std::shared_ptr<const Generation> generation, std::unique_ptr<ConsentLedger> ledger,
                 std::unique_ptr<DecisionLog> log)
    : generation_(std::move(generation)),
      ledger_(std::move(ledger)),
      log_(std::move(log)),
      stats_(std::make_unique<Stats>()),
      exchange_ids_(std::make_unique<std::atomic<std::uint64_t>>(0)),
      connections_(std::make_unique<std::atomic<std::size_t>>(0)) {}

Runtime::~Runtime() = default;

std::shared_ptr<const Generation> Runtime::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

std::vector<std::string> restart_only_changes(const config::Settings& before, const config::Settings& after) {
  std::vector<std::string> out;
  const auto note = [&out](std::string_view key, const std::string& was, const std::string& is) {
    if (was != is) out.push_back(std::string(key) + ": " + was + " -> " + is + " needs restart");
  };
  const auto join = [](const std::vector<std::string>& items) {
    std::string text = "[";
    for (const auto& item : items) text += (text.size() > 1 ? ", " : "") + item;
    return text + "]";
  };
  note("listen", before.listen, after.listen);
  note("workers", std::to_string(before.workers), std::to_string(after.workers));
  note("limits.upstream_pool_per_host", std::to_string(before.limits.upstream_pool_per_host),
       std::to_string(after.limits.upstream_pool_per_host));
  note("limits.upstream_pool_total", std::to_string(before.limits.upstream_pool_total),
       std::to_string(after.limits.upstream_pool_total));
  note("limits.log_queue_entries", std::to_string(before.limits.log_queue_entries),
       std::to_string(after.limits.log_queue_entries));
  note("limits.ledger_entries", std::to_string(before.limits.ledger_entries),
       std::to_string(after.limits.ledger_entries));
  note("log_full_urls", before.log_full_urls ? "true" : "false", after.log_full_urls ? "true" : "false");
  note("data_dir", before.data_dir, after.data_dir);
  note("upstream_ca", join(before.upstream_ca), join(after.upstream_ca));
  return out;
}

void Runtime::replace(std::shared_ptr<const Generation> generation) {
  // --- gateway reload (owner: gateway, issue 6) ---------------------------------------------------
  // The consent-record log follows the new settings and listener changes that need a restart are named.
  // Blocking file I/O: here, before the lock every exchange takes.
  if (const auto previous = this->generation(); previous && generation) {
    for (const auto& note : reload_gateway(previous->settings, generation->settings)) {
      std::cerr << "consentgate: gateway: " << note << '\n';
    }
  }
  // --- end gateway reload ---------------------------------------------------------------------------
  std::shared_ptr<const Generation> before;
  {
    std::lock_guard lock(mutex_);
    before = std::exchange(generation_, generation);
  }
  if (!before || !generation) return;
  for (const auto& line : restart_only_changes(before->settings, generation->settings)) {
    std::cerr << "consentgate: reload: " << line << " (the running value stays in force)\n";
  }
  if (log_ && before->settings.log != generation->settings.log) {
    std::cerr << "consentgate: reload: decision log " << before->settings.log << " -> " << generation->settings.log
              << '\n';
    log_->reopen_as(generation->settings.log);
  }
}

}  // namespace consent::proxy
