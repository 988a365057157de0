#pragma once
// Loading a config file and the policy files it names into validated plain structs. Every problem is
// collected (not only the first) with file:line:column and the key path.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "policy/diagnostic.hpp"
#include "policy/document.hpp"

namespace consent::config {

struct Config {
  std::filesystem::path source;  // the settings file as given
  Settings settings;
  policy::Document policy;  // all policy files merged, in the order listed
};

struct LoadResult {
  std::optional<Config> config;  // nullopt when diagnostics is non-empty
  std::vector<policy::Diagnostic> diagnostics;
};

// Reads `file` (settings) and the policies it lists. Does not build the Engine: callers run
// policy::Engine::build(config.policy) and report its diagnostics the same way.
[[nodiscard]] LoadResult load_config(const std::filesystem::path& file);

// Parses one policy YAML text (for tests and `consentgate import`); `name` is used in diagnostics.
[[nodiscard]] LoadResult load_policy_text(const std::string& text, const std::string& name);

}  // namespace consent::config
