#include <CLI/CLI.hpp>

#include "proxy/cli.hpp"

namespace consent::proxy::cli {
void add_report(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("report", "summarise decision logs (JSON, HTML, text)");
  cmd->callback([&exit_code] { exit_code = 1; });
}
}  // namespace consent::proxy::cli
