// `consentgate run`: load the configuration, bind, print the bound address, serve until SIGTERM/SIGINT.
// SIGHUP re-reads the config and policies; one that fails is reported and the running one is kept.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "proxy/cli.hpp"
#include "proxy/connect_to.hpp"
#include "proxy/consent_ledger.hpp"
#include "proxy/decision_log.hpp"
#include "proxy/dns_resolver.hpp"
#include "proxy/filter.hpp"
#include "proxy/gateway.hpp"
#include "proxy/interception.hpp"
#include "proxy/listener.hpp"
#include "proxy/runtime.hpp"
#include "proxy/server.hpp"

namespace consent::proxy::cli {
namespace {

struct RunArgs {
  RunOptions options;
  std::string mode;
  std::vector<std::string> connect_to;
  unsigned workers = 0;
  bool has_workers = false;
  std::vector<std::string> dns;  // --dns ADDR[:PORT], repeatable: replaces dns.servers
};

void report(const std::vector<std::string>& errors, std::string_view prefix) {
  for (const auto& e : errors) std::cerr << prefix << e << '\n';
}

// The DNS servers the workers use (issue 5): --dns, else the file's dns.servers, else the system's, read
// here on the control thread (at start and on each reload) so that no worker reads /etc/resolv.conf.
// Replaces loaded.generation with a copy whose dns.servers is never empty; false (with loaded.errors) when
// the system's servers cannot be read.
bool settle_dns_servers(LoadOutcome& loaded, const std::vector<std::string>& flags) {
  if (!loaded.generation) return false;
  auto generation = std::make_shared<Generation>(*loaded.generation);
  auto& servers = generation->settings.dns.servers;
  if (!flags.empty()) servers = flags;
  if (servers.empty()) {
    std::string error;
    servers = system_dns_servers(error);
    if (servers.empty()) {
      loaded.errors.push_back("dns: cannot read the system's DNS servers (" +
                              (error.empty() ? std::string("none listed") : error) + "); name them with --dns");
      loaded.generation = nullptr;
      return false;
    }
  }
  loaded.generation = std::move(generation);
  return true;
}

int run(RunArgs& args) {
  if (!args.mode.empty()) {
    if (args.mode == "enforce") {
      args.options.mode = config::Mode::enforce;
    } else if (args.mode == "report-only") {
      args.options.mode = config::Mode::report_only;
    } else {
      std::cerr << "consentgate run: --mode must be enforce or report-only, not \"" << args.mode << "\"\n";
      return 2;
    }
  }
  for (const auto& spec : args.connect_to) {
    auto parsed = parse_connect_to(spec);
    if (!parsed.value) {
      std::cerr << "consentgate run: --connect-to " << spec << ": " << parsed.error << '\n';
      return 2;
    }
    args.options.connect_to.push_back(*parsed.value);
  }
  if (args.has_workers) args.options.workers = args.workers;
  for (const auto& server : args.dns) {
    if (auto why = check_dns_server(server); !why.empty()) {
      std::cerr << "consentgate run: --dns " << why << '\n';
      return 2;
    }
  }

  auto loaded = load_generation(args.options, 1);
  settle_dns_servers(loaded, args.dns);
  if (!loaded.generation) {
    report(loaded.errors, "");
    std::cerr << "consentgate run: configuration refused (" << loaded.errors.size() << " problem(s))\n";
    return 1;
  }
  const auto& settings = loaded.generation->settings;
  const bool is_gateway = settings.mode == config::Mode::gateway;
  std::vector<ListenerContext> listeners;
  if (is_gateway) {
    auto made = make_gateway_listeners(settings);
    if (!made.errors.empty() || made.listeners.empty()) {
      report(made.errors, "consentgate run: gateway: ");
      if (made.errors.empty()) std::cerr << "consentgate run: gateway: no listener configured\n";
      return 1;
    }
    listeners = std::move(made.listeners);
  } else {
    if (!parse_listen_address(settings.listen)) {
      std::cerr << "consentgate run: listen address \"" << settings.listen << "\" is not ADDR:PORT\n";
      return 1;
    }
    ListenerContext forward;
    forward.kind = ListenerKind::forward;
    forward.listen = settings.listen;
    listeners.push_back(std::move(forward));
  }
  DecisionLog::Options log_options;
  log_options.path = settings.log;
  log_options.queue_entries = settings.limits.log_queue_entries;
  log_options.log_full_urls = settings.log_full_urls;
  std::string log_error;
  auto log = DecisionLog::open(log_options, log_error);
  if (!log) {
    std::cerr << "consentgate run: decision log: " << log_error << '\n';
    return 1;
  }
  // The CA (created on first start), the leaf cache and both TLS contexts: blocking file reads, here,
  // before any I/O thread runs. Gateway mode and --no-intercept need only the upstream side.
  auto tls = Interception::build(settings, !is_gateway && settings.tls.intercept);
  if (!tls.value) {
    report(tls.errors, "consentgate run: ");
    return 1;
  }
  if (tls.created_ca) {
    std::cerr << "consentgate: created a new interception CA " << tls.ca_path
              << "; make your browser trust it: consentgate ca install-help\n";
  }
  auto ledger = std::make_unique<ConsentLedger>(settings.limits.ledger_entries);
  auto runtime = std::make_shared<Runtime>(loaded.generation, std::move(ledger), std::move(log));
  runtime->interception = std::move(tls.value);

  // A client or a closed stdout must never kill the proxy: Asio's sockets already write with
  // MSG_NOSIGNAL, this covers the rest (stdout after the listening line).
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context control;
  asio::signal_set signals(control, SIGHUP, SIGTERM, SIGINT);

  Server server(runtime, settings.workers);
  if (auto error = server.listen(std::move(listeners)); !error.empty()) {
    std::cerr << "consentgate run: " << error << '\n';
    return 1;
  }
  // One line per listener, in configuration order, flushed: scripts read them.
  for (std::size_t i = 0; i < server.listener_count(); ++i) {
    std::cout << "listening on " << server.local_endpoint(i) << '\n';
  }
  std::cout.flush();
  std::cerr << "consentgate: filters " << describe(is_gateway ? gateway_chain() : default_chain()) << "; policy "
            << loaded.generation->engine->policy_hash() << "; mode " << to_string(settings.mode) << '\n';
  {
    const auto& dns = settings.dns;
    std::cerr << "consentgate: dns servers";
    for (const auto& server_address : dns.servers) std::cerr << ' ' << server_address;
    std::cerr << "; cname cloaking " << (dns.cname_cloaking ? "judged" : "off") << '\n';
  }
  server.start();

  std::uint64_t generation_number = 1;
  std::function<void(const error_code&, int)> on_signal = [&](const error_code& ec, int number) {
    if (ec) return;
    if (number == SIGHUP) {
      auto reloaded = load_generation(args.options, ++generation_number);
      settle_dns_servers(reloaded, args.dns);
      runtime->stats().reloads.fetch_add(1, std::memory_order_relaxed);
      if (!reloaded.generation) {
        runtime->stats().reload_failures.fetch_add(1, std::memory_order_relaxed);
        report(reloaded.errors, "");
        std::cerr << "consentgate: reload refused (" << reloaded.errors.size()
                  << " problem(s)); the previous configuration keeps running\n";
      } else {
        runtime->replace(reloaded.generation);
        if (runtime->decision_log() != nullptr) runtime->decision_log()->reopen();
        std::cerr << "consentgate: configuration reloaded (policy " << reloaded.generation->engine->policy_hash()
                  << ")\n";
      }
      signals.async_wait(on_signal);
      return;
    }
    std::cerr << "consentgate: draining\n";
    server.drain();
  };
  signals.async_wait(on_signal);
  std::thread control_thread([&control] { control.run(); });
  server.wait();
  control.stop();
  control_thread.join();
  if (runtime->decision_log() != nullptr) runtime->decision_log()->flush();
  return 0;
}

}  // namespace

void add_run(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "start the proxy");
  cmd->add_option("--config", args->options.config_path, "settings file (default config/default.yaml)");
  cmd->add_option_function<std::string>(
      "--listen", [args](const std::string& v) { args->options.listen = v; }, "ADDR:PORT to listen on");
  cmd->add_option_function<std::string>(
      "--log", [args](const std::string& v) { args->options.log = v; }, "decision log file, or - for stdout");
  cmd->add_option("--mode", args->mode, "enforce | report-only");
  cmd->add_option("--connect-to", args->connect_to, "HOST:PORT:ADDR:PORT (repeatable)");
  cmd->add_option_function<std::string>(
      "--data-dir", [args](const std::string& v) { args->options.data_dir = v; },
      "where the interception CA lives (default $XDG_DATA_HOME/consentgate)");
  cmd->add_option("--upstream-ca", args->options.upstream_ca,
                  "PEM file of extra trust anchors for upstream TLS (repeatable)");
  cmd->add_option("--passthrough", args->options.passthrough,
                  "HOST tunnelled without interception, with its subdomains; *.HOST for subdomains only (repeatable)");
  cmd->add_option("--dns", args->dns,
                  "DNS server ADDR, ADDR:PORT or [V6ADDR]:PORT for upstream names (repeatable; replaces dns.servers; "
                  "default: /etc/resolv.conf)");
  cmd->add_flag("--no-intercept", args->options.no_intercept, "tunnel every CONNECT blind (no TLS interception)");
  cmd->add_option_function<unsigned>(
      "--workers",
      [args](unsigned v) {
        args->workers = v;
        args->has_workers = true;
      },
      "worker threads (default: cores)");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace consent::proxy::cli
