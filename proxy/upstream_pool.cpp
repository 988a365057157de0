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

std::unique_ptr<Stream> UpstreamPool::take(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->key != key) {
      ++it;
      continue;
    }
    const bool expired = max_idle_.count() > 0 && now - it->since > max_idle_;
    // Bytes before a request was sent are a desynchronised or hostile upstream (issue 3).
    if (expired || !it->stream->is_idle_alive()) {
      auto next = std::next(it);
      erase(it);
      it = next;
      continue;
    }
    auto stream = std::move(it->stream);
    erase(it);
    ++reused_;
    return stream;
  }
  return nullptr;
}

void UpstreamPool::give(std::string key, std::unique_ptr<Stream> stream) {
  if (per_host_ == 0 || total_ == 0 || !stream) return;
  stream->disarm();
  const auto found = per_key_.find(key);
  if (found != per_key_.end() && found->second >= per_host_) {
    // Evict the oldest of this key.
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (it->key == key) {
        erase(std::next(it).base());
        break;
      }
    }
  }
  while (entries_.size() >= total_) erase(std::prev(entries_.end()));
  ++per_key_[key];
  entries_.push_front(Entry{std::move(key), std::move(stream), std::chrono::steady_clock::now()});
}

void UpstreamPool::erase(std::list<Entry>::iterator it) {
  const auto count = per_key_.find(it->key);
  if (count != per_key_.end() && --count->second == 0) per_key_.erase(count);
  entries_.erase(it);
}

}  // namespace consent::proxy
