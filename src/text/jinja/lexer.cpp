// jinja2's lexer rules (jinja2/lexer.py) with trim_blocks and lstrip_blocks on.
#include "lexer.hpp"

#include <cctype>

#include "tessera/core/error.hpp"
#include "value.hpp"

namespace tessera::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Python's str.rstrip(): every trailing whitespace code point.
std::string rstrip_py(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t i = start;
    if (!is_py_space(next_code_point(s, i))) break;
    end = start;
  }
  return std::string(s.substr(0, end));
}

bool all_space_py(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  while (i < s.size())
    if (!is_py_space(next_code_point(s, i))) return false;
  return true;
}

class Lexer {
 public:
  Lexer(std::string_view src, const std::string& origin) : origin_(origin) {
    // jinja2 normalises \r\n and \r to \n and drops one trailing newline before lexing.
    src_.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
      if (src[i] == '\r') {
        src_ += '\n';
        if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
      } else {
        src_ += src[i];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
  }

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t q = pos_;
      while ((q = src_.find('{', q)) != std::string::npos) {
        if (q + 1 < src_.size() && (src_[q + 1] == '{' || src_[q + 1] == '%' || src_[q + 1] == '#')) break;
        ++q;
      }
      if (q == std::string::npos) {
        emit_data(src_.substr(pos_), pos_);
        pos_ = src_.size();
        break;
      }
      const char kind = src_[q + 1];
      const char sign = q + 2 < src_.size() && (src_[q + 2] == '-' || src_[q + 2] == '+') ? src_[q + 2] : 0;
      std::string text = src_.substr(pos_, q - pos_);
      if (sign == '-') {
        text = rstrip_py(text);
      } else if (sign != '+' && kind != '{') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && all_space_py(std::string_view(text).substr(l_pos))) text.resize(l_pos);
      }
      emit_data(std::move(text), pos_);
      size_t after = q + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        pos_ = comment_end(q, after);
      } else if (kind == '%' && raw_block(q, after)) {
        // raw_block consumed it
      } else {
        push(kind == '{' ? Tok::VarBegin : Tok::BlockBegin, kind == '{' ? "{{" : "{%", q);
        pos_ = after;
        expression(kind == '{');
      }
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
    }
    push(Tok::End, "", src_.size());
    return std::move(tokens_);
  }

 private:
  std::string src_;
  const std::string& origin_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;

  void where(size_t offset, int& line, int& column) const {
    line = 1;
    column = 1;
    for (size_t i = 0; i < offset && i < src_.size(); ++i) {
      if (src_[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(src_[i]) & 0xC0) != 0x80) {
        ++column;
      }
    }
  }
  [[noreturn]] void error(size_t offset, const std::string& what) const {
    int line, column;
    where(offset, line, column);
    fail("{}:{}:{}: syntax error: {}", origin_, line, column, what);
  }
  void push(Tok t, std::string text, size_t offset) {
    Token tok{t, std::move(text), 1, 1};
    // Positions are computed lazily from the previous token's to keep lexing linear.
    if (!tokens_.empty() && last_offset_ <= offset) {
      tok.line = tokens_.back().line;
      tok.column = tokens_.back().column;
      for (size_t i = last_offset_; i < offset; ++i) {
        if (src_[i] == '\n') {
          ++tok.line;
          tok.column = 1;
        } else if ((static_cast<unsigned char>(src_[i]) & 0xC0) != 0x80) {
          ++tok.column;
        }
      }
    } else {
      where(offset, tok.line, tok.column);
    }
    last_offset_ = offset;
    tokens_.push_back(std::move(tok));
  }
  size_t last_offset_ = 0;

  void emit_data(std::string text, size_t offset) {
    if (!text.empty()) push(Tok::Data, std::move(text), offset);
  }

  // The position after the whitespace at p (Python's \s: Unicode spaces too), as the
  // `\s*` after "-%}", "-}}" and "-#}" consumes it.
  size_t skip_py_space(size_t p) const {
    while (p < src_.size()) {
      size_t q = p;
      if (!is_py_space(next_code_point(src_, q))) break;
      p = q;
    }
    return p;
  }

  // After "#}": "-#}" strips the whitespace that follows, "+#}" keeps it, "#}" drops one newline.
  size_t comment_end(size_t start, size_t from) {
    const size_t e = src_.find("#}", from);
    if (e == std::string::npos) error(start, "missing end of comment tag");
    size_t p = e + 2;
    if (e > from && src_[e - 1] == '-') {
      p = skip_py_space(p);
    } else if (!(e > from && src_[e - 1] == '+')) {
      if (p < src_.size() && src_[p] == '\n') ++p;
    }
    return p;
  }

  // Block end at p ("+%}", "-%}" + whitespace, "%}" + one newline): the position after it, or npos.
  size_t block_end_at(size_t p) const {
    if (src_.compare(p, 3, "+%}") == 0) return p + 3;
    if (src_.compare(p, 3, "-%}") == 0) {
      p += 3;
      p = skip_py_space(p);
      return p;
    }
    if (src_.compare(p, 2, "%}") == 0) {
      p += 2;
      if (p < src_.size() && src_[p] == '\n') ++p;
      return p;
    }
    return std::string::npos;
  }
  size_t var_end_at(size_t p) const {
    if (src_.compare(p, 3, "-}}") == 0) {
      p += 3;
      p = skip_py_space(p);
      return p;
    }
    if (src_.compare(p, 2, "}}") == 0) return p + 2;
    return std::string::npos;
  }

  // {% raw %} ... {% endraw %}: the text between is data, untouched.
  bool raw_block(size_t q, size_t after) {
    size_t p = after;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    while (p < src_.size() && is_space(src_[p])) ++p;
    size_t body;
    if (src_.compare(p, 3, "-%}") == 0) {
      body = p + 3;
      body = skip_py_space(body);
    } else if (src_.compare(p, 2, "%}") == 0) {
      body = p + 2;
    } else {
      return false;
    }
    // Find "{%[-+]? endraw [-+]?%}".
    size_t s = body;
    while ((s = src_.find("{%", s)) != std::string::npos) {
      size_t t = s + 2;
      const char sign = t < src_.size() && (src_[t] == '-' || src_[t] == '+') ? src_[t] : 0;
      if (sign) ++t;
      while (t < src_.size() && is_space(src_[t])) ++t;
      if (src_.compare(t, 6, "endraw") == 0) {
        t += 6;
        while (t < src_.size() && is_space(src_[t])) ++t;
        size_t end = block_end_at(t);
        if (end != std::string::npos) {
          std::string text = src_.substr(body, s - body);
          if (sign == '-') {
            text = rstrip_py(text);
          } else if (sign != '+') {
            const size_t nl = text.rfind('\n');
            const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
            if (l_pos > 0 && all_space_py(std::string_view(text).substr(l_pos))) text.resize(l_pos);
          }
          emit_data(std::move(text), body);
          pos_ = end;
          return true;
        }
      }
      s += 2;
    }
    error(q, "missing end of raw directive");
  }

  void expression(bool variable) {
    std::vector<char> brackets;
    const size_t start = pos_;
    for (;;) {
      if (pos_ >= src_.size())
        error(start, variable ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'");
      if (brackets.empty()) {
        const size_t end = variable ? var_end_at(pos_) : block_end_at(pos_);
        if (end != std::string::npos) {
          push(variable ? Tok::VarEnd : Tok::BlockEnd, variable ? "}}" : "%}", pos_);
          pos_ = end;
          return;
        }
      }
      const char c = src_[pos_];
      if (is_space(c)) {
        ++pos_;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        number();
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t e = pos_;
        while (e < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) ++e;
        push(Tok::Name, src_.substr(pos_, e - pos_), pos_);
        pos_ = e;
      } else if (c == '\'' || c == '"') {
        string_literal(c);
      } else {
        static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* t : two)
          if (src_.compare(pos_, 2, t) == 0) op = t;
        if (op.empty()) {
          if (std::string_view("+-/*%~[](){}<>=.:|,;").find(c) == std::string_view::npos)
            error(pos_, fmt::format("unexpected char '{}'", c));
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") {
          brackets.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
        } else if (op == ")" || op == "]" || op == "}") {
          if (brackets.empty()) error(pos_, fmt::format("unexpected '{}'", op));
          if (brackets.back() != op[0]) error(pos_, fmt::format("unexpected '{}', expected '{}'", op, brackets.back()));
          brackets.pop_back();
        }
        push(Tok::Op, op, pos_);
        pos_ += op.size();
      }
    }
  }

  void digits(size_t& e) const {  // (\d+_)*\d+
    while (e < src_.size()) {
      if (std::isdigit(static_cast<unsigned char>(src_[e]))) ++e;
      else if (src_[e] == '_' && e + 1 < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e + 1]))) ++e;
      else break;
    }
  }
  void number() {
    size_t e = pos_;
    digits(e);
    bool is_float = false;
    const bool after_dot = pos_ > 0 && src_[pos_ - 1] == '.';  // (?<!\.): "x.0.1" is two lookups
    if (!after_dot && e + 1 < src_.size() && src_[e] == '.' && std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
      size_t f = e + 1;
      digits(f);
      e = f;
      is_float = true;
    }
    if (!after_dot && e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t f = e + 1;
      if (f < src_.size() && (src_[f] == '+' || src_[f] == '-')) ++f;
      if (f < src_.size() && std::isdigit(static_cast<unsigned char>(src_[f]))) {
        digits(f);
        e = f;
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = pos_; i < e; ++i)
      if (src_[i] != '_') text += src_[i];
    push(is_float ? Tok::Float : Tok::Int, text, pos_);
    pos_ = e;
  }

  // Python's unicode-escape decoding of a string literal's body.
  void string_literal(char quote) {
    const size_t start = pos_;
    size_t p = pos_ + 1;
    std::string out;
    for (;;) {
      if (p >= src_.size()) error(start, "unexpected end of string");
      const char c = src_[p];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) error(start, "unexpected end of string");
      const char e = src_[p + 1];
      p += 2;
      switch (e) {
        case '\n': break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          char32_t cp = 0;
          for (int k = 0; k < n; ++k, ++p) {
            if (p >= src_.size() || !std::isxdigit(static_cast<unsigned char>(src_[p])))
              error(start, fmt::format("truncated \\{} escape in string literal", e));
            const char h = src_[p];
            cp = cp * 16 + char32_t(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (h | 0x20) - 'a' + 10);
          }
          if (cp > 0x10FFFF) error(start, "\\U escape beyond U+10FFFF in string literal");
          append_utf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            char32_t cp = char32_t(e - '0');
            for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++k, ++p)
              cp = cp * 8 + char32_t(src_[p] - '0');
            append_utf8(out, cp);
          } else if (e == 'N') {
            error(start, "\\N{...} escapes are not supported in string literals");
          } else {
            out += '\\';
            p -= 1;  // the character after the backslash is ordinary text (may be multi-byte)
          }
      }
    }
    push(Tok::String, std::move(out), start);
    pos_ = p + 1;
  }
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const std::string& origin) {
  return Lexer(source, origin).run();
}

}  // namespace tessera::jinja
