#pragma once
// How to make a system or browser trust consentgate's CA, per platform. Shared by `consentgate ca
// install-help` and the page the proxy serves at http://consentgate.ca/.
#include <string>

namespace consent::tls {

// Plain-text instructions; `cert_path` is the PEM file to install, `name` the CA's subject name.
[[nodiscard]] std::string install_instructions(const std::string& cert_path, const std::string& name);

}  // namespace consent::tls
