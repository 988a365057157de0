#include <CLI/CLI.hpp>

#include "proxy/cli.hpp"

namespace consent::proxy::cli {
void add_check_config(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("check-config", "validate a config and its policies");
  cmd->callback([&exit_code] { exit_code = 1; });
}
}  // namespace consent::proxy::cli
