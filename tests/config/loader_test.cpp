#include "config/loader.hpp"

#include <catch2/catch.hpp>
