#include "proxy/http_writer.hpp"

#include <catch2/catch.hpp>

using namespace consent::proxy;

TEST_CASE("chunk header is lower-case hex with CRLF", "[proxy]") {
  ChunkHeaderBuffer buf;
  CHECK(format_chunk_header(0x1a2b, buf) == "1a2b\r\n");
}
