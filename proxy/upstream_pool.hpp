#pragma once
// Idle keep-alive upstream connections, bounded per host:port and in total, oldest evicted first.
// One pool per worker io_context: every session of a worker runs on that worker's single thread, so the
// pool takes no lock and must never be touched from another thread.
#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>

#include "proxy/asio_fwd.hpp"

namespace consent::proxy {

class UpstreamPool {
 public:
  UpstreamPool(std::size_t per_host, std::size_t total, std::chrono::milliseconds max_idle)
      : per_host_(per_host), total_(total), max_idle_(max_idle) {}

  // A live idle connection for `key`, or nullopt. Connections that the upstream closed meanwhile, that
  // received stray bytes, or that idled longer than max_idle are discarded here, never handed out.
  std::optional<beast::tcp_stream> take(const std::string& key);

  // Keeps `stream` for reuse. Only call after a complete, unambiguous response with keep-alive.
  void give(std::string key, beast::tcp_stream stream);

  [[nodiscard]] std::size_t idle_count() const noexcept { return entries_.size(); }
  void clear() { entries_.clear(); }

  // Counters for tests and stats.
  [[nodiscard]] std::size_t reused() const noexcept { return reused_; }

 private:
  struct Entry {
    std::string key;
    beast::tcp_stream stream;
    std::chrono::steady_clock::time_point since;
  };
  std::size_t per_host_;
  std::size_t total_;
  std::chrono::milliseconds max_idle_;
  std::list<Entry> entries_;  // front = most recently given
  std::size_t reused_ = 0;
};

// True when an idle connection is still usable: no EOF, no error and no unsolicited bytes waiting.
[[nodiscard]] bool is_idle_connection_alive(tcp::socket& socket) noexcept;

}  // namespace consent::proxy
