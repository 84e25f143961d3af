// Builds the syntax tree of a Jinja template from its tokens, following jinja2's grammar and
// operator precedence (jinja2/parser.py). Syntax errors name the line and column.
#pragma once

#include <string>
#include <string_view>

#include "ast.hpp"

namespace tessera::jinja {

// Nesting deeper than max_depth (expressions in expressions, blocks in blocks) is an Error,
// so a hostile template cannot exhaust the stack while parsing or rendering.
Template parse_template(std::string_view source, const std::string& origin, int max_depth);

}  // namespace tessera::jinja
