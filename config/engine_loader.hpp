#pragma once
// Loading a config and building its policy Engine in one step, as `check-config`, `explain` and a
// reload (SIGHUP) all need. Load errors stop before the build; build diagnostics come back the same way.
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "config/loader.hpp"
#include "policy/diagnostic.hpp"
#include "policy/engine.hpp"

namespace consent::config {

struct EngineLoadResult {
  std::optional<Config> config;                  // set when the files loaded (even if the build failed)
  std::shared_ptr<const policy::Engine> engine;  // null when diagnostics is non-empty
  std::vector<policy::Diagnostic> diagnostics;   // load problems, else build problems
};

[[nodiscard]] EngineLoadResult load_engine(const std::filesystem::path& file);

}  // namespace consent::config
