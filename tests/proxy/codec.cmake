# The codec tests compile the codec sources directly instead of linking consent::proxy: they only need llhttp and
# Boost headers, and stay buildable while the rest of the proxy library is being written in parallel.
include(${PROJECT_SOURCE_DIR}/proxy/codec_sources.cmake)
add_executable(proxy_codec_tests
  ${CMAKE_CURRENT_LIST_DIR}/http_headers_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_message_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_parser_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_writer_test.cpp
  ${CONSENT_PROXY_CODEC_SOURCES})
target_include_directories(proxy_codec_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(proxy_codec_tests PRIVATE llhttp Boost::headers consent::warnings Catch2::Catch2WithMain)
catch_discover_tests(proxy_codec_tests TEST_PREFIX "proxy.codec." PROPERTIES LABELS proxy)
