# The HTTPS load client of the interception benchmark (bench/tls/run.py drives it).
add_executable(tls_load ${CMAKE_CURRENT_LIST_DIR}/tls_load.cpp)
target_link_libraries(tls_load PRIVATE OpenSSL::SSL OpenSSL::Crypto Threads::Threads)

# Leaf minting time (issue 4: under 1 ms median), through the cache a handshake uses on a miss.
add_executable(leaf_mint_bench ${CMAKE_CURRENT_LIST_DIR}/tls/leaf_mint.cpp)
target_link_libraries(leaf_mint_bench PRIVATE consent::tls consent::warnings)
