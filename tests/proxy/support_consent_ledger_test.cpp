#include "proxy/consent_ledger.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

using consent::policy::ConsentSource;
using consent::policy::ConsentState;
using consent::policy::ConsentStatus;
using consent::policy::PurposeSet;
using consent::proxy::ConsentLedger;

namespace {

ConsentState granted(std::uint64_t bits, std::int64_t timestamp = 0) {
  ConsentState s;
  s.granted = PurposeSet::from_bits(bits);
  s.status = ConsentStatus::valid;
  s.source = ConsentSource::eu_consent;
  s.timestamp = timestamp;
  return s;
}

constexpr std::int64_t day = 86'400;
constexpr std::int64_t six_months = 182 * day;

}  // namespace

TEST_CASE("the ledger returns what was recorded for the same client and site only", "[proxy]") {
  ConsentLedger ledger(100);
  ledger.update("10.0.0.1", "news.example", granted(0b101), 1000, six_months);
  const auto hit = ledger.lookup("10.0.0.1", "news.example", 1001);
  REQUIRE(hit);
  CHECK(hit->granted.bits() == 0b101);
  CHECK(hit->status == ConsentStatus::valid);
  CHECK(hit->source == ConsentSource::ledger);
  CHECK_FALSE(ledger.lookup("10.0.0.2", "news.example", 1001));
  CHECK_FALSE(ledger.lookup("10.0.0.1", "other.example", 1001));
  CHECK_FALSE(ledger.lookup("10.0.0.1", "news.exampl", 1001));
  CHECK_FALSE(ledger.lookup("10.0.0.1", "", 1001));
  // The separator cannot be forged: "a" + "bc" and "ab" + "c" are different keys.
  ledger.update("a", "bc", granted(1), 1000, six_months);
  CHECK_FALSE(ledger.lookup("ab", "c", 1000));
}

TEST_CASE("withdrawal replaces the entry at once", "[proxy]") {
  ConsentLedger ledger(100);
  ledger.update("::1", "shop.example", granted(0b111, 5000), 5000, six_months);
  ledger.update("::1", "shop.example", granted(0b001, 4000), 5001, six_months);  // older timestamp still wins
  const auto hit = ledger.lookup("::1", "shop.example", 5002);
  REQUIRE(hit);
  CHECK(hit->granted.bits() == 0b001);
  CHECK(ledger.size() == 1);
}

TEST_CASE("the ledger remembers which purposes were withdrawn until granted again", "[proxy]") {
  ConsentLedger ledger(100);
  CHECK(ledger.withdrawn("::1", "shop.example", 5000).empty());
  ledger.update("::1", "shop.example", granted(0b111, 5000), 5000, six_months);
  CHECK(ledger.withdrawn("::1", "shop.example", 5000).empty());
  ledger.update("::1", "shop.example", granted(0b001, 5001), 5001, six_months);
  CHECK(ledger.withdrawn("::1", "shop.example", 5002).bits() == 0b110);
  // The same choice seen again keeps the history; granting one back removes it from the withdrawn set.
  ledger.update("::1", "shop.example", granted(0b001, 5001), 5003, six_months);
  CHECK(ledger.withdrawn("::1", "shop.example", 5004).bits() == 0b110);
  ledger.update("::1", "shop.example", granted(0b011, 5005), 5005, six_months);
  CHECK(ledger.withdrawn("::1", "shop.example", 5006).bits() == 0b100);
  CHECK(ledger.withdrawn("::2", "shop.example", 5006).empty());
  CHECK(ledger.withdrawn("::1", "other.example", 5006).empty());
  // Expired entries remember nothing.
  CHECK(ledger.withdrawn("::1", "shop.example", 5005 + six_months).empty());
  ledger.erase("::1", "shop.example");
  CHECK(ledger.withdrawn("::1", "shop.example", 5006).empty());
}

TEST_CASE("entries expire with the consent lifetime", "[proxy]") {
  ConsentLedger ledger(100);
  // A choice made at t=1000 with a lifetime of 100 s lives until t=1100 exclusive.
  ledger.update("c", "a.example", granted(1, 1000), 1050, 100);
  CHECK(ledger.lookup("c", "a.example", 1099));
  CHECK_FALSE(ledger.lookup("c", "a.example", 1100));
  CHECK(ledger.expirations() == 1);
  CHECK(ledger.size() == 0);

  // Without a timestamp the lifetime starts at the observation.
  ledger.update("c", "b.example", granted(1), 2000, 100);
  CHECK(ledger.lookup("c", "b.example", 2099));
  CHECK_FALSE(ledger.lookup("c", "b.example", 2100));

  // An observation that is already expired removes the entry instead of storing it.
  ledger.update("c", "d.example", granted(1), 3000, 100);
  ledger.update("c", "d.example", granted(1, 10), 3000, 100);
  CHECK_FALSE(ledger.lookup("c", "d.example", 3000));

  // No lifetime: lives until evicted or replaced.
  ledger.update("c", "e.example", granted(1), 0, 0);
  CHECK(ledger.lookup("c", "e.example", INT64_MAX));
  // No overflow near the end of time.
  ledger.update("c", "f.example", granted(1, INT64_MAX - 5), 0, six_months);
  CHECK(ledger.lookup("c", "f.example", INT64_MAX - 1));
}

TEST_CASE("the least recently used entry is evicted when full", "[proxy]") {
  ConsentLedger ledger(3, 1);
  ledger.update("c", "a.example", granted(1), 0, 0);
  ledger.update("c", "b.example", granted(2), 0, 0);
  ledger.update("c", "c.example", granted(3), 0, 0);
  CHECK(ledger.lookup("c", "a.example", 0));  // a becomes the most recent; b is now the oldest
  ledger.update("c", "d.example", granted(4), 0, 0);
  CHECK(ledger.size() == 3);
  CHECK(ledger.evictions() == 1);
  CHECK_FALSE(ledger.lookup("c", "b.example", 0));
  CHECK(ledger.lookup("c", "a.example", 0));
  CHECK(ledger.lookup("c", "c.example", 0));
  CHECK(ledger.lookup("c", "d.example", 0));
  // Updating an existing entry does not evict.
  ledger.update("c", "c.example", granted(7), 0, 0);
  CHECK(ledger.evictions() == 1);
}

TEST_CASE("the ledger never grows past its capacity", "[proxy]") {
  ConsentLedger ledger(1024);  // 16 shards of 64
  for (int i = 0; i < 5000; ++i) ledger.update("c", "s" + std::to_string(i) + ".example", granted(1), 0, 0);
  CHECK(ledger.size() <= 1024);
  CHECK(ledger.size() > 900);  // the hash spreads keys: every shard fills up
  CHECK(ledger.evictions() == 5000 - ledger.size());
  ConsentLedger small(100);  // below 2 * min_shard_entries: one shard, exact LRU and exact capacity
  for (int i = 0; i < 500; ++i) small.update("c", "s" + std::to_string(i) + ".example", granted(1), 0, 0);
  CHECK(small.size() == 100);
  CHECK(small.lookup("c", "s499.example", 0));
  CHECK(small.lookup("c", "s400.example", 0));
  CHECK_FALSE(small.lookup("c", "s399.example", 0));
}

TEST_CASE("a zero-capacity ledger stores nothing and oversized keys are refused", "[proxy]") {
  ConsentLedger none(0);
  none.update("c", "a.example", granted(1), 0, 0);
  CHECK_FALSE(none.lookup("c", "a.example", 0));

  ConsentLedger ledger(10);
  const std::string long_client(ConsentLedger::max_client_bytes + 1, 'x');
  const std::string long_site(ConsentLedger::max_site_bytes + 1, 'y');
  ledger.update(long_client, "a.example", granted(1), 0, 0);
  ledger.update("c", long_site, granted(1), 0, 0);
  ledger.update("c", "", granted(1), 0, 0);
  CHECK(ledger.size() == 0);
  const std::string max_client(ConsentLedger::max_client_bytes, 'x');
  const std::string max_site(ConsentLedger::max_site_bytes, 'y');
  ledger.update(max_client, max_site, granted(1), 0, 0);
  CHECK(ledger.lookup(max_client, max_site, 0));
}

TEST_CASE("erase removes one entry", "[proxy]") {
  ConsentLedger ledger(10);
  ledger.update("c", "a.example", granted(1), 0, 0);
  ledger.update("c", "b.example", granted(1), 0, 0);
  ledger.erase("c", "a.example");
  ledger.erase("c", "zzz.example");
  CHECK_FALSE(ledger.lookup("c", "a.example", 0));
  CHECK(ledger.lookup("c", "b.example", 0));
}

TEST_CASE("concurrent lookups and updates stay consistent", "[proxy]") {
  ConsentLedger ledger(256);
  constexpr int threads = 4;
  constexpr int iterations = 2000;
  std::atomic<int> bad{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const std::string client = "10.0.0." + std::to_string(t);
      for (int i = 0; i < iterations; ++i) {
        const std::string site = "s" + std::to_string(i % 50) + ".example";
        // Each thread writes bits that encode its own id, so a torn or crossed entry is visible.
        ledger.update(client, site, granted(std::uint64_t{1} << t), i, six_months);
        if (const auto hit = ledger.lookup(client, site, i); hit && hit->granted.bits() != (std::uint64_t{1} << t)) {
          bad.fetch_add(1);
        }
        (void)ledger.lookup("10.0.0." + std::to_string((t + 1) % threads), site, i);
        if (i % 97 == 0) ledger.erase(client, site);
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(bad.load() == 0);
  CHECK(ledger.size() <= 256);
}
