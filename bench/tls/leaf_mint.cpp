// leaf_mint: how long consentgate takes to mint one leaf certificate (issue 4 target: under 1 ms median).
//
//   leaf_mint [--hosts 500] [--rounds 3]
//
// Creates a CA in a private temporary directory, then mints a leaf for `hosts` distinct host names through
// LeafCache::get (the path a handshake takes on a cache miss), `rounds` times with a fresh cache each
// round, and prints one JSON line: median / p99 / mean microseconds per mint, and the cached lookup.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tls/certificate_authority.hpp"
#include "tls/leaf_cache.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  int hosts = 500;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--hosts") {
      hosts = std::max(1, std::atoi(argv[i + 1]));
    } else if (k == "--rounds") {
      rounds = std::max(1, std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const auto dir = std::filesystem::temp_directory_path() / ("consentgate-leaf-mint-" + std::to_string(::getpid()));
  auto ca = consent::tls::CertificateAuthority::load_or_create(dir);
  if (!ca.ca) {
    std::fprintf(stderr, "%s\n", ca.error.c_str());
    return 1;
  }
  std::vector<double> mint_us;
  std::vector<double> hit_us;
  long failed = 0;
  for (int r = 0; r < rounds; ++r) {
    consent::tls::LeafCache cache(ca.ca, static_cast<std::size_t>(hosts) + 1);
    for (int h = 0; h < hosts; ++h) {
      const std::string host = "h" + std::to_string(h) + "-r" + std::to_string(r) + ".bench.test";
      const auto t0 = Clock::now();
      const auto leaf = cache.get(host);
      mint_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      if (!leaf->certificate) ++failed;
    }
    for (int h = 0; h < hosts; ++h) {
      const std::string host = "h" + std::to_string(h) + "-r" + std::to_string(r) + ".bench.test";
      const auto t0 = Clock::now();
      const auto leaf = cache.get(host);
      hit_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
  }
  double sum = 0;
  for (const double v : mint_us) sum += v;
  std::printf(
      "{\"hosts\":%d,\"rounds\":%d,\"failed\":%ld,\"mint_median_us\":%.1f,\"mint_p99_us\":%.1f,\"mint_mean_us\":%.1f,"
      "\"cached_median_us\":%.2f}\n",
      hosts, rounds, failed, percentile(mint_us, 0.5), percentile(mint_us, 0.99),
      sum / static_cast<double>(mint_us.size()), percentile(hit_us, 0.5));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return failed == 0 ? 0 : 1;
}
