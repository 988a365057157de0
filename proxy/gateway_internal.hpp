#pragma once
// Shared between the gateway's translation units; not for other callers.
#include <memory>
#include <string>
#include <vector>

namespace consent::proxy {

class ConsentRecordLog;

// Installs the process's consent-record log (null = off). Called at start by make_gateway_listeners.
void set_consent_record_log(std::shared_ptr<ConsentRecordLog> log);

// Records the listen address of each bound gateway listener, in make_gateway_listeners' order, so that
// exchanges under a reloaded configuration find their routes by address. Called at start.
void set_running_listeners(std::vector<std::string> listens);

}  // namespace consent::proxy
