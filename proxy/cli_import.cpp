// `consentgate import FORMAT LIST [-o FILE] [--map CATEGORY=PURPOSE]... [--purpose P] [--against PATH]...`
// (issue 5): turns a public tracker list into a policy file. The work is in config/importers (pure); this
// file reads inputs, prints problems and writes the output atomically, so that a failed import never
// leaves a truncated policy behind. Exit status: 0 written, 1 bad input (nothing written), 2 usage or I/O.
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/importers.hpp"
#include "config/loader.hpp"
#include "proxy/cli.hpp"

namespace consent::proxy::cli {
namespace {

constexpr int exit_bad_input = 1;
constexpr int exit_usage = 2;

struct ImportArgs {
  std::string format;
  std::string input;
  std::string output = "-";
  std::vector<std::string> maps;
  std::vector<std::string> against;
  std::string purpose;
  std::string id;
  std::string source;
  std::string licence;
  bool quiet = false;
};

int fail(const std::string& message) {
  std::cerr << "consentgate import: " << message << '\n';
  return exit_usage;
}

// Reads at most config::max_import_bytes + 1 bytes, so that an oversized input is refused, not loaded.
bool read_input(const std::string& path, std::string& out, std::string& error) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      error = "cannot read " + path + ": Is a directory";
      return false;
    }
    file.open(path, std::ios::binary);
    if (!file) {
      error = "cannot open " + path + ": " + std::strerror(errno);
      return false;
    }
    in = &file;
  }
  out.clear();
  char buffer[65536];
  while (out.size() <= config::max_import_bytes && in->read(buffer, sizeof buffer).gcount() > 0) {
    out.append(buffer, static_cast<std::size_t>(in->gcount()));
  }
  if (in->bad()) {
    error = "read error on " + path;
    return false;
  }
  return true;
}

// The policy files of an --against path: the file itself, or a directory's *.yaml in name order (as the
// loader reads a policies directory).
std::vector<std::filesystem::path> policy_files(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return {path};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool write_output(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text << std::flush;
    return static_cast<bool>(std::cout);
  }
  // Same directory, then rename: readers (and a SIGHUP reload) see the old file or the whole new one.
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) out << text;
    if (out) out.close();
    if (!out) {
      std::cerr << "consentgate import: cannot write " << tmp << ": " << std::strerror(errno) << '\n';
      std::remove(tmp.c_str());
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::cerr << "consentgate import: cannot write " << path << ": " << ec.message() << '\n';
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

int run_import(const ImportArgs& args) {
  config::ImportOptions options;
  options.file = args.input;
  options.purpose = args.purpose;
  options.id = args.id;
  options.source = args.source;
  options.licence = args.licence;
  for (const auto& m : args.maps) {
    const auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      return fail("--map expects CATEGORY=PURPOSE (or CATEGORY=skip), got \"" + m + "\"");
    }
    options.purposes[m.substr(0, eq)] = m.substr(eq + 1);
  }
  const bool is_hosts = args.format == "hosts" || args.format == "abp";
  if (is_hosts && args.purpose.empty()) return fail("hosts and ABP lists need --purpose PURPOSE");
  if (!is_hosts && !args.purpose.empty()) return fail("--purpose is for hosts and ABP lists; use --map here");
  if (!args.id.empty()) {
    const bool valid = std::all_of(args.id.begin(), args.id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    });
    if (!valid || args.id.front() == '-') return fail("--id must be lower-case letters, digits, '-', '.', '_'");
  }

  // The pack to deduplicate against is read first: a broken one is reported before any long import.
  config::PackIndex pack;
  std::set<std::string> known_purposes;
  for (const auto& path : args.against) {
    const auto files = policy_files(path);
    if (files.empty()) return fail("--against " + path + ": no *.yaml file");
    for (const auto& file : files) {
      std::string text;
      std::string error;
      if (!read_input(file.string(), text, error)) return fail("--against: " + error);
      const auto loaded = config::load_policy_text(text, file.string());
      if (!loaded.config) {
        for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << '\n';
        return fail("--against: " + file.string() + " does not load");
      }
      pack.add(loaded.config->policy);
      for (const auto& p : loaded.config->policy.purposes) {
        known_purposes.insert(p.id);
        known_purposes.insert(p.aliases.begin(), p.aliases.end());
      }
    }
  }

  std::string text;
  std::string error;
  if (!read_input(args.input, text, error)) return fail(error);
  config::ImportResult result;
  if (args.format == "disconnect") {
    result = config::import_disconnect(text, options);
  } else if (args.format == "ocd") {
    result = config::import_open_cookie_database(text, options);
  } else {
    result = config::import_host_list(text, options);
  }
  for (const auto& p : result.problems) std::cerr << p.to_string() << '\n';
  if (result.problems_not_kept != 0) {
    std::cerr << args.input << ": and " << result.problems_not_kept << " more problems\n";
  }
  if (result.has_errors()) {
    std::cerr << "consentgate import: " << args.input << " is not a usable " << args.format
              << " list; nothing written\n";
    return exit_bad_input;
  }
  if (!known_purposes.empty()) {
    std::set<std::string> unknown;
    for (const auto& t : result.trackers) {
      if (known_purposes.count(t.purpose) == 0) unknown.insert(t.purpose);
    }
    for (const auto& u : unknown) {
      std::cerr << "consentgate import: purpose \"" << u
                << "\" is not defined by the --against policy (map it with --map or --purpose)\n";
    }
    if (!unknown.empty()) return exit_bad_input;
  }
  const std::size_t before_domains = result.domain_count();
  const std::size_t before_cookies = result.cookie_count();
  if (!pack.empty()) config::remove_covered(result, pack);

  std::vector<std::string> header{
      "Imported by `consentgate import " + args.format + "` from " +
          std::filesystem::path(args.input).filename().string() + " (" + std::to_string(text.size()) +
          " bytes). Re-run the import rather than editing this file; see docs/pack.md.",
  };
  if (!args.licence.empty()) header.push_back("licence: " + args.licence);
  if (!args.against.empty()) {
    std::string list;
    for (const auto& a : args.against) list += (list.empty() ? "" : ", ") + a;
    header.push_back("without what " + list + " already recognises");
  }
  if (!write_output(args.output, config::to_policy_yaml(result, header))) return exit_usage;

  if (!args.quiet) {
    std::ostringstream summary;
    summary << "consentgate import: " << result.trackers.size() << " trackers, " << result.domain_count() << " of "
            << before_domains << " domains, " << result.cookie_count() << " of " << before_cookies << " cookies";
    if (args.output != "-") summary << " -> " << args.output;
    summary << '\n';
    for (const auto& [reason, count] : result.skipped) summary << "  skipped " << count << ": " << reason << '\n';
    std::cerr << summary.str();
  }
  return 0;
}

}  // namespace

void add_import(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand("import", "turn a public tracker list into a policy file (docs/pack.md)");
  cmd->add_option("format", args->format, "disconnect (services.json), ocd (Open Cookie Database CSV), hosts or abp")
      ->required()
      ->check(CLI::IsMember({"disconnect", "ocd", "hosts", "abp"}));
  cmd->add_option("list", args->input, "the list to import ('-' = stdin)")->required();
  cmd->add_option("-o,--output", args->output, "policy file to write ('-' = stdout)")->capture_default_str();
  cmd->add_option("--map", args->maps, "CATEGORY=PURPOSE or CATEGORY=skip, over the format's defaults (repeatable)");
  cmd->add_option("--purpose", args->purpose, "hosts/abp: the purpose of every domain of the list");
  cmd->add_option("--id", args->id, "hosts/abp: the tracker id (default: import-<file name>)");
  cmd->add_option("--source", args->source, "provenance written on each rule (default: from the list)");
  cmd->add_option("--licence", args->licence, "licence line for the file's header (default: what the list declares)");
  cmd->add_option("--against", args->against,
                  "policy file or directory (e.g. config/policies): import only what it does not recognise yet "
                  "(repeatable)");
  cmd->add_flag("-q,--quiet", args->quiet, "no summary on stderr");
  cmd->callback([&exit_code, args] { exit_code = run_import(*args); });
}

}  // namespace consent::proxy::cli
