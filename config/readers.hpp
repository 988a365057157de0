#pragma once
// The two file formats, read from a parsed YAML root into plain structs. Internal to config/.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/settings.hpp"
#include "config/yaml_reader.hpp"
#include "policy/document.hpp"

namespace consent::config::detail {

// One entry of the settings' `policies:` list, kept with its location so that an unreadable file is
// reported where it was named.
struct PolicyRef {
  std::string text;  // as written
  Field field;
};

// Reads the settings file's root map. Relative paths (log, data_dir, upstream_ca) are resolved against
// `base_dir`; policy entries are returned unresolved in `policies` for the loader to expand.
void read_settings(Reader& r, const YAML::Node& root, const std::filesystem::path& base_dir, Settings& out,
                   std::vector<PolicyRef>& policies);

// What one policy file contributed, with the locations the merge needs.
struct PolicyPart {
  policy::Document doc;
  std::optional<policy::SourceLocation> name_at, consent_at, caps_at, email_at;
  std::vector<std::pair<std::string, policy::SourceLocation>> user_override_at;  // key -> where written
};

void read_policy(Reader& r, const YAML::Node& root, PolicyPart& out);

}  // namespace consent::config::detail
