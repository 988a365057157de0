#include "proxy/runtime.hpp"

#include <iostream>
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
  std::lock_guard lock(mutex_);
  generation_ = std::move(generation);
}

}  // namespace consent::proxy
