// `consentgate check-config [FILE]`: load a config and its policies, build the Engine, and either list
// every problem (stderr, one per line, exit 1) or print a short summary (stdout, exit 0).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "config/engine_loader.hpp"
#include "proxy/cli.hpp"

namespace consent::proxy::cli {
namespace {

std::string_view exemption_text(policy::Exemption e) {
  switch (e) {
    case policy::Exemption::always:
      return "exempt";
    case policy::Exemption::first_party_audience:
      return "exempt when first-party, cookies <= 13 months";
    case policy::Exemption::none:
      break;
  }
  return "needs consent";
}

int check_config(const std::string& file) {
  auto loaded = config::load_engine(file);
  if (!loaded.engine) {
    for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << '\n';
    std::cerr << file << ": " << loaded.diagnostics.size()
              << (loaded.diagnostics.size() == 1 ? " problem" : " problems") << '\n';
    return 1;
  }
  const policy::Engine& engine = *loaded.engine;
  const auto& doc = engine.document();
  const auto summary = engine.summary();
  std::cout << file << ": OK\n";
  std::cout << "policy: " << (doc.name.empty() ? "(unnamed)" : doc.name);
  if (!doc.version.empty()) std::cout << ' ' << doc.version;
  std::cout << ", hash " << engine.policy_hash() << '\n';
  std::cout << "files:\n";
  for (const auto& p : loaded.config->settings.policies) std::cout << "  " << p << '\n';
  std::cout << "purposes (" << engine.purpose_count() << "):\n";
  std::size_t id_width = 0;
  std::size_t label_width = 0;
  for (std::size_t i = 0; i < engine.purpose_count(); ++i) {
    const auto p = static_cast<policy::PurposeIndex>(i);
    id_width = std::max(id_width, engine.purpose_id(p).size());
    label_width = std::max(label_width, engine.purpose_label(p).size());
  }
  for (std::size_t i = 0; i < engine.purpose_count(); ++i) {
    const auto p = static_cast<policy::PurposeIndex>(i);
    const auto id = engine.purpose_id(p);
    const auto label = engine.purpose_label(p);
    std::cout << "  " << id << std::string(id_width - id.size() + 2, ' ') << label
              << std::string(label_width - label.size() + 2, ' ') << exemption_text(engine.purpose_exemption(p))
              << '\n';
  }
  std::cout << "rules: " << summary.trackers << " trackers, " << summary.domains << " domains, "
            << summary.cookie_patterns << " cookie patterns, " << summary.url_patterns << " URL patterns\n";
  std::cout << "allow-listed domains: " << doc.allow_domains.size() << '\n';
  return 0;
}

}  // namespace

void add_check_config(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("check-config", "validate a config and its policies, and summarise them");
  auto file = std::make_shared<std::string>("config/default.yaml");
  cmd->add_option("file", *file, "settings file")->capture_default_str();
  cmd->callback([&exit_code, file] { exit_code = check_config(*file); });
}

}  // namespace consent::proxy::cli
