# llhttp is built from the released C sources that Debian's node-llhttp package ships; nothing is downloaded.
set(LLHTTP_SOURCE_DIR "/usr/share/llhttp" CACHE PATH "llhttp C sources (api.c http.c llhttp.c)")
set(LLHTTP_INCLUDE_DIR "/usr/share/include/llhttp" CACHE PATH "directory holding llhttp.h")
if(NOT EXISTS "${LLHTTP_SOURCE_DIR}/llhttp.c" OR NOT EXISTS "${LLHTTP_INCLUDE_DIR}/llhttp.h")
  message(FATAL_ERROR "llhttp sources not found: apt-get install node-llhttp (or set LLHTTP_SOURCE_DIR/LLHTTP_INCLUDE_DIR)")
endif()
add_library(llhttp STATIC ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c ${LLHTTP_SOURCE_DIR}/llhttp.c)
target_include_directories(llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
set_target_properties(llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
# Strict mode: llhttp's loose build accepts bytes after chunk data without CRLF, bare LF line ends and other
# shapes that smuggle requests past a policy; the proxy checks this at start (proxy::llhttp_is_strict()).
target_compile_definitions(llhttp PRIVATE LLHTTP_STRICT_MODE=1)
