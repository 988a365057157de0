#pragma once
// Idle keep-alive upstream connections, bounded per key and in total, oldest evicted first. The key names
// the address and, for TLS, the verified name (upstream_key()): a connection verified for one name is never
// handed to an exchange for another.
// One pool per worker io_context: every session of a worker runs on that worker's single thread, so the
// pool takes no lock and must never be touched from another thread.
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "proxy/asio_fwd.hpp"
#include "proxy/stream.hpp"

namespace consent::proxy {

class UpstreamPool {
 public:
  UpstreamPool(std::size_t per_host, std::size_t total, std::chrono::milliseconds max_idle)
      : per_host_(per_host), total_(total), max_idle_(max_idle) {}

  // A live idle connection for `key`, or null. Connections that the upstream closed meanwhile, that
  // received stray bytes, or that idled longer than max_idle are discarded here, never handed out.
  // Streams live behind a pointer: moving a beast::tcp_stream allocates a new implementation (and two
  // timers) every time, which a pooled exchange did about five times (bench profile).
  std::unique_ptr<Stream> take(const std::string& key);

  // Keeps `stream` (non-null) for reuse. Only call after a complete, unambiguous response with keep-alive.
  void give(std::string key, std::unique_ptr<Stream> stream);

  [[nodiscard]] std::size_t idle_count() const noexcept { return entries_.size(); }
  void clear() {
    entries_.clear();
    per_key_.clear();
  }

  // Counters for tests and stats.
  [[nodiscard]] std::size_t reused() const noexcept { return reused_; }

 private:
  struct Entry {
    std::string key;
    std::unique_ptr<Stream> stream;
    std::chrono::steady_clock::time_point since;
  };
  std::size_t per_host_;
  std::size_t total_;
  std::chrono::milliseconds max_idle_;
  void erase(std::list<Entry>::iterator it);

  std::list<Entry> entries_;                              // front = most recently given
  std::unordered_map<std::string, std::size_t> per_key_;  // idle entries per key: give() counts without a scan
  std::size_t reused_ = 0;
};

// "host:port" plain, "host:port tls=NAME" for TLS verified for NAME.
[[nodiscard]] std::string upstream_key(std::string_view address_key, bool is_tls, std::string_view tls_name);

}  // namespace consent::proxy
