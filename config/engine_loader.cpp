#include "config/engine_loader.hpp"

namespace consent::config {

EngineLoadResult load_engine(const std::filesystem::path& file) {
  EngineLoadResult result;
  auto loaded = load_config(file);
  if (!loaded.config) {
    result.diagnostics = std::move(loaded.diagnostics);
    return result;
  }
  auto built = policy::Engine::build(loaded.config->policy);
  result.config = std::move(loaded.config);
  result.diagnostics = std::move(built.diagnostics);
  if (result.diagnostics.empty()) result.engine = std::move(built.engine);
  return result;
}

}  // namespace consent::config
