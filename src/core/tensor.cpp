#include "tessera/core/tensor.hpp"
