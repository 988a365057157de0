#pragma once
// Shared between the gateway's translation units; not for other callers.
#include <memory>

namespace consent::proxy {

class ConsentRecordLog;

// Installs the process's consent-record log (null = off). Called at start by make_gateway_listeners.
void set_consent_record_log(std::shared_ptr<ConsentRecordLog> log);

}  // namespace consent::proxy
