// consentgate: a forward HTTP proxy that enforces privacy consent. Subcommands live in cli_*.cpp.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <string>

#include "proxy/cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"consentgate: enforce privacy consent (ePrivacy art. 5(3), CNIL) on the wire"};
  app.set_version_flag("--version", std::string("consentgate ") + CONSENT_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  consent::proxy::cli::add_run(app, exit_code);
  consent::proxy::cli::add_check_config(app, exit_code);
  consent::proxy::cli::add_explain(app, exit_code);
  consent::proxy::cli::add_ca(app, exit_code);
  consent::proxy::cli::add_report(app, exit_code);
  consent::proxy::cli::add_import(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (as documented for every subcommand); --help and --version stay 0.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    // Last resort: subcommands report their own errors; reaching here is a bug worth a clear line.
    std::cerr << "consentgate: internal error: " << e.what() << '\n';
    return 70;  // EX_SOFTWARE
  }
  return exit_code;
}
