// placeholder: owner pack. `consentgate import`: tracker lists (Disconnect, Open Cookie Database, hosts/ABP) into policy YAML.
#include <CLI/CLI.hpp>

#include "proxy/cli.hpp"

namespace consent::proxy::cli {

void add_import(CLI::App&, int&) {}

}  // namespace consent::proxy::cli
