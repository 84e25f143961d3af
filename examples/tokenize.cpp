// tessera-tokenize: encode text to token ids (or decode ids to text) with a tokenizer.json,
// one line at a time or as JSON, the same ids and offsets as Hugging Face tokenizers.
#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "command_line.hpp"
#include "tessera/core/error.hpp"
#include "tessera/text/tokenizer.hpp"
#include "version_flag.hpp"

namespace {

using nlohmann::json;

json offsets_json(const tessera::Encoding& e) {
  json o = json::array();
  for (const auto& [b, en] : e.offsets) o.push_back({b, en});
  return o;
}

// An id for --decode must be a whole number in [0, vocab): Tokenizer::decode (as Hugging
// Face's) skips unknown ids, which would turn a typo into silently shorter text.
int32_t checked_id(std::string_view text, size_t vocab) {
  int64_t id = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec == std::errc::invalid_argument || end != text.data() + text.size())
    tessera::fail("'{}' is not a token id (expected whole numbers separated by spaces)", text);
  if (ec == std::errc::result_out_of_range || id < 0 || uint64_t(id) >= vocab)
    tessera::fail("token id {} is outside the vocabulary [0, {})", text, vocab);
  return int32_t(id);
}

// A line of --decode input: ids separated by spaces or tabs.
std::vector<int32_t> ids_from_line(const std::string& line, size_t vocab) {
  std::vector<int32_t> ids;
  for (size_t i = line.find_first_not_of(" \t\r"); i != std::string::npos; i = line.find_first_not_of(" \t\r", i)) {
    const size_t end = std::min(line.find_first_of(" \t\r", i), line.size());
    ids.push_back(checked_id(std::string_view(line).substr(i, end - i), vocab));
    i = end;
  }
  return ids;
}

// Element `index` of the --json --decode input: an array of ids (JSON integers).
std::vector<int32_t> ids_from_json(const json& row, size_t index, size_t vocab) {
  if (!row.is_array()) tessera::fail("--json --decode input [{}]: expected an array of token ids, found {}", index, row.dump());
  std::vector<int32_t> ids;
  for (const auto& x : row) {
    if (!x.is_number_integer())
      tessera::fail("--json --decode input [{}]: {} is not a token id (expected a whole number)", index, x.dump());
    try {
      ids.push_back(checked_id(x.dump(), vocab));
    } catch (const tessera::Error& e) {
      tessera::fail("--json --decode input [{}]: {}", index, e.what());
    }
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Tokenize text with a Hugging Face tokenizer.json.\n"
      "Reads lines from stdin and prints one line of space-separated ids for each; with --json, reads one JSON\n"
      "array of strings and writes one JSON array of id arrays (or of {ids, offsets, tokens} objects with\n"
      "--offsets/--tokens). --decode goes the other way: lines of ids (or a JSON array of id arrays) to text;\n"
      "every id must be a whole number in the vocabulary, or the line is an error.",
      "tessera-tokenize"};
  std::string model;
  bool as_json = false, offsets = false, char_offsets = false, tokens = false, decode = false, no_special = false,
       skip_special = false, pairs = false, single = false;
  app.add_option("MODEL", model, "tokenizer.json, or a model directory holding one")->required();
  app.add_flag("--json", as_json, "read a JSON array from stdin, write a JSON array");
  app.add_flag("--offsets", offsets, "also print each token's byte offsets [begin, end) into its input");
  app.add_flag("--char-offsets", char_offsets, "offsets in Unicode code points (as the Python/Node bindings)");
  app.add_flag("--tokens", tokens, "also print the token strings");
  app.add_flag("--decode", decode, "decode ids to text instead");
  app.add_flag("--no-special", no_special, "do not add the post-processor's special tokens ([CLS], <s>, ...)");
  app.add_flag("--skip-special", skip_special, "with --decode: leave special tokens out");
  app.add_flag("--pairs", pairs, "with --json: the input is an array of [text, pair] arrays");
  app.add_flag("--single", single, "with --json: encode each input on its own, not as one batch (padding per input)");
  tessera::tools::add_version_flag(app, "tessera-tokenize");
  TESSERA_PARSE_COMMAND_LINE(app, argc, argv);
  if (char_offsets) offsets = true;

  try {
    const auto tok = tessera::Tokenizer::from_file(model);
    const bool add_special = !no_special;
    const auto unit = char_offsets ? tessera::OffsetType::kChar : tessera::OffsetType::kByte;
    std::ios::sync_with_stdio(false);
    if (as_json) {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      const json in = json::parse(ss.str());
      if (!in.is_array()) throw tessera::Error("tessera-tokenize: --json input must be a JSON array");
      json out = json::array();
      if (decode) {
        std::vector<std::vector<int32_t>> ids;
        for (const auto& x : in) ids.push_back(ids_from_json(x, ids.size(), tok.vocab_size()));
        for (auto& s : tok.decode_batch(ids, skip_special)) out.push_back(std::move(s));
      } else {
        std::vector<tessera::Encoding> encs;
        if (pairs) {
          std::vector<std::pair<std::string, std::string>> ps;
          for (const auto& x : in) ps.emplace_back(x.at(0).get<std::string>(), x.at(1).get<std::string>());
          if (single) {
            for (const auto& [a, b] : ps) encs.push_back(tok.encode_pair(a, b, add_special, unit));
          } else {
            encs = tok.encode_pair_batch(ps, add_special, unit);
          }
        } else {
          std::vector<std::string> texts;
          for (const auto& x : in) texts.push_back(x.get<std::string>());
          if (single) {
            for (const auto& t : texts) encs.push_back(tok.encode(t, add_special, unit));
          } else {
            encs = tok.encode_batch(texts, add_special, unit);
          }
        }
        for (size_t i = 0; i < encs.size(); ++i) {
          const auto& e = encs[i];
          if (!offsets && !tokens && !pairs) {
            out.push_back(e.ids);
            continue;
          }
          json o = {{"ids", e.ids}};
          // For pairs, offsets are into the text each token came from.
          if (offsets) o["offsets"] = offsets_json(e);
          if (tokens) o["tokens"] = e.tokens;
          if (pairs) o["type_ids"] = e.type_ids;
          o["special_mask"] = e.special_mask;
          out.push_back(std::move(o));
        }
      }
      std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      return 0;
    }
    std::string line;
    int status = 0;
    size_t line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      try {
        if (decode) {
          std::cout << tok.decode(ids_from_line(line, tok.vocab_size()), skip_special) << "\n";
          continue;
        }
        const auto e = tok.encode(line, add_special, unit);
        const auto& offs = e.offsets;
        for (size_t i = 0; i < e.size(); ++i) {
          if (i) std::cout << ' ';
          std::cout << e.ids[i];
          if (tokens) std::cout << '/' << e.tokens[i];
          if (offsets) std::cout << '(' << offs[i].first << ',' << offs[i].second << ')';
        }
        std::cout << "\n";
      } catch (const tessera::Error& err) {
        std::cout << "\n";
        std::cerr << "tessera-tokenize: line " << line_no << ": " << err.what() << "\n";
        status = 1;
      }
    }
    return status;
  } catch (const std::exception& e) {
    std::cerr << "tessera-tokenize: " << e.what() << "\n";
    return 1;
  }
}
