// Replays a fuzz target without libFuzzer (g++ builds): every file of a corpus directory, then
// `iterations` deterministic mutations of them (byte flips, truncations, splices, repeats). Bounded in
// count and size; exits non-zero only if the target itself aborts (ASan/UBSan/assert do that).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
constexpr std::size_t max_input_bytes = 64 * 1024;

void run(const std::string& input) {
  // Copy into an exact-size heap buffer so ASan catches reads one past the end.
  std::vector<std::uint8_t> buf(input.begin(), input.end());
  LLVMFuzzerTestOneInput(buf.empty() ? nullptr : buf.data(), buf.size());
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> corpus;
  if (argc > 1 && std::filesystem::is_directory(argv[1])) {
    for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (s.size() > max_input_bytes) s.resize(max_input_bytes);
      corpus.push_back(std::move(s));
    }
  }
  std::sort(corpus.begin(), corpus.end());  // directory order is not stable; runs must be
  corpus.emplace_back();
  const long iterations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 10000;
  for (const auto& s : corpus) run(s);
  std::mt19937_64 rng(0xC0FFEE);
  for (long i = 0; i < iterations; ++i) {
    std::string s = corpus[rng() % corpus.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 6) {
        case 0:
          if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng());
          break;
        case 1:
          if (!s.empty()) s.resize(rng() % s.size());
          break;
        case 2:
          s.insert(rng() % (s.size() + 1), 1, static_cast<char>(rng()));
          break;
        case 3: {
          const auto& o = corpus[rng() % corpus.size()];
          s += o.substr(0, rng() % (o.size() + 1));
          break;
        }
        case 4:
          if (!s.empty() && s.size() < max_input_bytes / 2) {
            auto p = rng() % s.size();
            s.insert(p, s.substr(p, rng() % 64));
          }
          break;
        default:
          if (!s.empty()) s.erase(rng() % s.size(), 1 + rng() % 8);
          break;
      }
    }
    if (s.size() > max_input_bytes) s.resize(max_input_bytes);
    run(s);
  }
  std::cout << "ran " << corpus.size() << " corpus inputs and " << iterations << " mutations\n";
  return 0;
}
