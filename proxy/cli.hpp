#pragma once
// Each subcommand registers itself on the CLI11 app; its callback stores the process exit status in
// `exit_code`. Owners: check-config/explain (cli_check.cpp, cli_explain.cpp), run (cli_run.cpp).
namespace CLI {
class App;
}

namespace consent::proxy::cli {

void add_check_config(CLI::App& app, int& exit_code);
void add_explain(CLI::App& app, int& exit_code);
void add_run(CLI::App& app, int& exit_code);
void add_ca(CLI::App& app, int& exit_code);      // cli_ca.cpp
void add_report(CLI::App& app, int& exit_code);  // cli_report.cpp
void add_import(CLI::App& app, int& exit_code);  // cli_import.cpp

}  // namespace consent::proxy::cli
