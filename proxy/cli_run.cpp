#include <CLI/CLI.hpp>

#include "proxy/cli.hpp"

namespace consent::proxy::cli {
void add_run(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("run", "start the proxy");
  cmd->callback([&exit_code] { exit_code = 1; });
}
}  // namespace consent::proxy::cli
