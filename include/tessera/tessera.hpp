// One include for users: loading models, sessions, generation and tokenizers.
#pragma once

#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/core/tensor.hpp"
#include "tessera/generation/generate.hpp"
#include "tessera/generation/sampler.hpp"
#include "tessera/generation/text_generation.hpp"
#include "tessera/io/safetensors.hpp"
#include "tessera/models/embedding_pooling.hpp"
#include "tessera/models/encoder.hpp"
#include "tessera/models/load.hpp"
#include "tessera/models/model.hpp"
#include "tessera/models/registry.hpp"
#include "tessera/text/tokenizer.hpp"
#include "tessera/version.hpp"
