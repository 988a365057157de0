#include <cstddef>
#include <cstdint>
// placeholder: the owner of the parser writes this target
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
