// Policy files, through the public loader.
#include "config/loader.hpp"

#include <catch2/catch.hpp>
