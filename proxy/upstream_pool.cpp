#include "proxy/upstream_pool.hpp"

#include <algorithm>

namespace consent::proxy {

std::string upstream_key(std::string_view address_key, bool is_tls, std::string_view tls_name) {
  std::string key(address_key);
  if (is_tls) {
    key += " tls=";
    key += tls_name;
  }
  return key;
}

std::optional<Stream> UpstreamPool::take(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->key != key) {
      ++it;
      continue;
    }
    const bool expired = max_idle_.count() > 0 && now - it->since > max_idle_;
    // Bytes before a request was sent are a desynchronised or hostile upstream (issue 3).
    if (expired || !it->stream.is_idle_alive()) {
      it = entries_.erase(it);
      continue;
    }
    Stream stream = std::move(it->stream);
    entries_.erase(it);
    ++reused_;
    return stream;
  }
  return std::nullopt;
}

void UpstreamPool::give(std::string key, Stream stream) {
  if (per_host_ == 0 || total_ == 0) return;
  stream.disarm();
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
