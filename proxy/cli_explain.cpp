#include <CLI/CLI.hpp>

#include "proxy/cli.hpp"

namespace consent::proxy::cli {
void add_explain(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("explain", "show what the engine decides for a request");
  cmd->callback([&exit_code] { exit_code = 1; });
}
}  // namespace consent::proxy::cli
