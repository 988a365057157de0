#include <catch2/catch.hpp>
// placeholder: tests written by the owner of policy/engine
