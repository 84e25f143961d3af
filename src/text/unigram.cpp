// Unigram model (T5, Marian, XLM-R): Viterbi over the vocabulary's log-probabilities.
#include "components.hpp"

namespace tessera::text {

std::unique_ptr<Model> make_unigram(const json& j, const JsonPath& p) {
  p.fail("Unigram models are not supported yet");
}

}  // namespace tessera::text
