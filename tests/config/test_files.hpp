#pragma once
// A scratch directory for loader tests: files are written on demand and removed with the directory.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace consent::config::test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("consentgate-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `name` (relative, parents created) and returns the full path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  // Diagnostics show paths as given; tests compare them relative to the directory.
  [[nodiscard]] std::string prefix() const { return path_.string() + "/"; }

 private:
  std::filesystem::path path_;
};

// Every diagnostic as printed, with the scratch directory's prefix removed.
inline std::vector<std::string> messages(const LoadResult& r, const std::string& strip = {}) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) {
    auto s = d.to_string();
    if (!strip.empty()) {
      for (auto pos = s.find(strip); pos != std::string::npos; pos = s.find(strip)) s.erase(pos, strip.size());
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace consent::config::test
