#pragma once
// A configuration problem found at load or build time. Printed as
//   policies/analytics.yaml:14:9: trackers[2].domains[1]: "*.stats..example" is not a domain pattern (empty label)
#include <string>

#include "policy/document.hpp"

namespace consent::policy {

struct Diagnostic {
  SourceLocation where;
  std::string key_path;  // "trackers[2].domains[1]", "purposes.analytics"; may be empty
  std::string message;

  [[nodiscard]] std::string to_string() const {
    std::string out;
    if (!where.file.empty()) {
      out += where.file;
      if (where.line > 0) out += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
      out += ": ";
    }
    if (!key_path.empty()) out += key_path + ": ";
    out += message;
    return out;
  }
};

}  // namespace consent::policy
