# The HTTPS load client of the interception benchmark (bench/tls/run.py drives it).
add_executable(tls_load ${CMAKE_CURRENT_LIST_DIR}/tls_load.cpp)
target_link_libraries(tls_load PRIVATE OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
