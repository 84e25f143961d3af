// Splits a Jinja template into tokens the way jinja2's lexer does with transformers' settings
// (trim_blocks, lstrip_blocks, keep_trailing_newline off): template text with the whitespace
// control of `{%-`, `-%}`, `{%+`, comments removed, `{% raw %}` kept verbatim, and the
// expression tokens inside `{{ }}` and `{% %}`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera::jinja {

enum class Tok { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, End };

struct Token {
  Tok type;
  std::string text;  // Data: the text; String: the unescaped value; Name/Op/Int/Float: as written
  int line = 1, column = 1;
};

// Throws Error "ORIGIN:LINE:COLUMN: ..." on unterminated tags, comments and strings.
std::vector<Token> tokenize(std::string_view source, const std::string& origin);

}  // namespace tessera::jinja
