#include "proxy/upstream_pool.hpp"

#include <sys/socket.h>

#include <algorithm>

namespace consent::proxy {

bool is_idle_connection_alive(tcp::socket& socket) noexcept {
  if (!socket.is_open()) return false;
  char byte = 0;
  // A peek that would block means "open and silent": the only state in which reuse is safe. Bytes before
  // a request was sent are a desynchronised or hostile upstream (issue 3: never reuse after stray bytes).
  const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::optional<beast::tcp_stream> UpstreamPool::take(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->key != key) {
      ++it;
      continue;
    }
    const bool expired = max_idle_.count() > 0 && now - it->since > max_idle_;
    if (expired || !is_idle_connection_alive(it->stream.socket())) {
      it = entries_.erase(it);
      continue;
    }
    beast::tcp_stream stream = std::move(it->stream);
    entries_.erase(it);
    ++reused_;
    return stream;
  }
  return std::nullopt;
}

void UpstreamPool::give(std::string key, beast::tcp_stream stream) {
  if (per_host_ == 0 || total_ == 0) return;
  stream.expires_never();
  const auto same = static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; }));
  if (same >= per_host_) {
    // Evict the oldest of this key.
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (it->key == key) {
        entries_.erase(std::next(it).base());
        break;
      }
    }
  }
  while (entries_.size() >= total_) entries_.pop_back();
  entries_.push_front(Entry{std::move(key), std::move(stream), std::chrono::steady_clock::now()});
}

}  // namespace consent::proxy
