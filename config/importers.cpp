// placeholder: owner pack.
#include "config/importers.hpp"
