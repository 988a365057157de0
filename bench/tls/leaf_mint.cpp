// leaf_mint: how long consentgate takes to mint one leaf certificate (issue 4 target: under 1 ms median).
//
//   leaf_mint [--hosts 500] [--rounds 3]
//
// Creates a CA in a private temporary directory, then mints a leaf for `hosts` distinct host names through
// LeafCache::get (the path a handshake takes on a cache miss), `rounds` times with a fresh cache each
// round, and prints one JSON line: median / p99 / mean wall microseconds per mint, the median and p99 of
// the thread's CPU time per mint, the cached lookup, and the what-if below.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tls/certificate_authority.hpp"
#include "tls/leaf_cache.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// CPU time of this thread: on a shared machine wall time also counts the time other processes ran.
double thread_cpu_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

// What-if for the hot spot in LeafCache::mint: setting the shared leaf key on each new certificate.
// X509_set_pubkey() on an OpenSSL 3 provider key encodes the key with OSSL_ENCODER and decodes the DER back
// with OSSL_DECODER (provider lookups under locks); X509_PUBKEY_set0_param() with the encoded point
// computed once does the same job without either. Returns {set_pubkey CPU us, set0_param CPU us} medians.
std::pair<double, double> pubkey_what_if(EVP_PKEY* key, int n) {
  std::size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0, &len);
  std::vector<unsigned char> point(len);
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(), point.size(), &len);
  std::vector<double> slow, fast;
  for (int i = 0; i < n; ++i) {
    X509* x = X509_new();
    const double c0 = thread_cpu_us();
    X509_set_pubkey(x, key);
    slow.push_back(thread_cpu_us() - c0);
    X509_free(x);
  }
  for (int i = 0; i < n; ++i) {
    X509* x = X509_new();
    const double c0 = thread_cpu_us();
    auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(point.size()));
    std::memcpy(copy, point.data(), point.size());
    X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                           OBJ_nid2obj(NID_X9_62_prime256v1), copy, static_cast<int>(point.size()));
    fast.push_back(thread_cpu_us() - c0);
    X509_free(x);
  }
  return {percentile(slow, 0.5), percentile(fast, 0.5)};
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
  std::vector<double> mint_cpu_us;
  std::vector<double> hit_us;
  long failed = 0;
  for (int r = 0; r < rounds; ++r) {
    consent::tls::LeafCache cache(ca.ca, static_cast<std::size_t>(hosts) + 1);
    for (int h = 0; h < hosts; ++h) {
      const std::string host = "h" + std::to_string(h) + "-r" + std::to_string(r) + ".bench.test";
      const auto t0 = Clock::now();
      const double c0 = thread_cpu_us();
      const auto leaf = cache.get(host);
      mint_cpu_us.push_back(thread_cpu_us() - c0);
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
  consent::tls::LeafCache probe(ca.ca, 1);
  const auto [set_pubkey_us, set0_param_us] = pubkey_what_if(probe.leaf_key(), hosts);
  double sum = 0;
  for (const double v : mint_us) sum += v;
  std::printf(
      "{\"hosts\":%d,\"rounds\":%d,\"failed\":%ld,\"mint_median_us\":%.1f,\"mint_p99_us\":%.1f,\"mint_mean_us\":%.1f,"
      "\"mint_cpu_median_us\":%.1f,\"mint_cpu_p99_us\":%.1f,\"cached_median_us\":%.2f,\"x509_set_pubkey_cpu_median_"
      "us\":%.1f,"
      "\"x509_pubkey_set0_param_cpu_median_us\":%.1f}\n",
      hosts, rounds, failed, percentile(mint_us, 0.5), percentile(mint_us, 0.99),
      sum / static_cast<double>(mint_us.size()), percentile(mint_cpu_us, 0.5), percentile(mint_cpu_us, 0.99),
      percentile(hit_us, 0.5), set_pubkey_us, set0_param_us);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return failed == 0 ? 0 : 1;
}
