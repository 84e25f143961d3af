// jinja2's builtin filters and tests (jinja2/filters.py, tests.py), the globals transformers
// registers (raise_exception, strftime_now) with jinja2's own (range, namespace, dict), and
// the Python str/list/dict methods chat templates call.
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include "tessera/core/error.hpp"
#include "interpreter.hpp"

namespace tessera::jinja {
namespace {

// ---- argument binding ----

// Binds positional then keyword arguments to `names`; unknown keywords and surplus positional
// arguments are errors, as in Python.
std::vector<Value> bind(Interpreter& in, const std::string& fn, Args& args, std::initializer_list<const char*> names,
                        const Expr* at, size_t required = 0) {
  std::vector<Value> out(names.size());
  std::vector<bool> set(names.size(), false);
  if (args.positional.size() > names.size())
    in.error(at, fmt::format("{}() takes at most {} argument(s) ({} given)", fn, names.size(), args.positional.size()));
  for (size_t i = 0; i < args.positional.size(); ++i) {
    out[i] = std::move(args.positional[i]);
    set[i] = true;
  }
  for (auto& [k, v] : args.keyword) {
    size_t i = 0;
    for (const char* n : names) {
      if (k == n) break;
      ++i;
    }
    if (i == names.size()) in.error(at, fmt::format("{}() got an unexpected keyword argument '{}'", fn, k));
    if (set[i]) in.error(at, fmt::format("{}() got multiple values for argument '{}'", fn, k));
    out[i] = std::move(v);
    set[i] = true;
  }
  for (size_t i = 0; i < required; ++i)
    if (!set[i]) in.error(at, fmt::format("{}() missing required argument '{}'", fn, *(names.begin() + i)));
  return out;
}

// ---- strings ----

std::u32string to_u32(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) out += next_code_point(s, i);
  return out;
}
std::string from_u32(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) append_utf8(out, c);
  return out;
}
size_t cp_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string py_upper(const std::string& s) {
  std::string out;
  icu::UnicodeString::fromUTF8(s).toUpper(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}
std::string py_lower(const std::string& s) {
  std::string out;
  icu::UnicodeString::fromUTF8(s).toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}
std::string cp_upper(char32_t c) { std::string s; append_utf8(s, c); return py_upper(s); }
std::string cp_lower(char32_t c) { std::string s; append_utf8(s, c); return py_lower(s); }

// str.strip / lstrip / rstrip with Python's default (whitespace) or a set of characters.
std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
  const std::u32string u = to_u32(s);
  std::u32string set;
  const bool ws = chars.is_none() || chars.is_undefined();
  if (!ws) set = to_u32(py_str(chars));
  auto strip_it = [&](char32_t c) { return ws ? is_py_space(c) : set.find(c) != std::u32string::npos; };
  size_t b = 0, e = u.size();
  if (left)
    while (b < e && strip_it(u[b])) ++b;
  if (right)
    while (e > b && strip_it(u[e - 1])) --e;
  return from_u32(u.substr(b, e - b));
}

List split(Interpreter& in, const std::string& s, const Value& sep, int64_t maxsplit, const Expr* at) {
  List out;
  if (sep.is_none() || sep.is_undefined()) {  // runs of whitespace, no empty strings
    const std::u32string u = to_u32(s);
    size_t i = 0;
    while (i < u.size()) {
      while (i < u.size() && is_py_space(u[i])) ++i;
      if (i == u.size()) break;
      if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
        size_t e = u.size();
        while (e > i && is_py_space(u[e - 1])) --e;
        out.emplace_back(from_u32(u.substr(i, e - i)));
        break;
      }
      size_t j = i;
      while (j < u.size() && !is_py_space(u[j])) ++j;
      out.emplace_back(from_u32(u.substr(i, j - i)));
      i = j;
    }
    return out;
  }
  if (!sep.is_string()) in.error(at, "must be str or None");
  const std::string& d = sep.str();
  if (d.empty()) in.error(at, "empty separator");
  size_t start = 0;
  for (;;) {
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) break;
    const size_t p = s.find(d, start);
    if (p == std::string::npos) break;
    out.emplace_back(s.substr(start, p - start));
    start = p + d.size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

// str.splitlines(): \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029.
std::vector<std::string> splitlines(const std::string& s) {
  std::vector<std::string> out;
  const std::u32string u = to_u32(s);
  std::u32string cur;
  for (size_t i = 0; i < u.size(); ++i) {
    const char32_t c = u[i];
    if (c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 ||
        c == 0x2029) {
      out.push_back(from_u32(cur));
      cur.clear();
      if (c == '\r' && i + 1 < u.size() && u[i + 1] == '\n') ++i;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(from_u32(cur));
  return out;
}

std::string replace(const std::string& s, const std::string& old, const std::string& repl, int64_t count) {
  std::string out;
  if (old.empty()) {  // Python inserts repl between every character (and at both ends)
    const std::u32string u = to_u32(s);
    int64_t done = 0;
    for (size_t i = 0; i <= u.size(); ++i) {
      if (count < 0 || done < count) {
        out += repl;
        ++done;
      }
      if (i < u.size()) append_utf8(out, u[i]);
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  for (;;) {
    const size_t p = count >= 0 && done >= count ? std::string::npos : s.find(old, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += repl;
    start = p + old.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  return out;
}

bool is_cased_upper(char32_t c) { return cp_lower(c) != from_u32(std::u32string(1, c)); }
bool is_cased_lower(char32_t c) { return cp_upper(c) != from_u32(std::u32string(1, c)); }

std::string capitalize(const std::string& s) {
  const std::u32string u = to_u32(s);
  if (u.empty()) return "";
  std::string out;
  icu::UnicodeString::fromUTF8(from_u32(u.substr(0, 1))).toTitle(nullptr, icu::Locale::getRoot()).toUTF8String(out);
  return out + py_lower(from_u32(u.substr(1)));
}

// jinja2's title filter: each piece after [-\s({\[<]+ gets its first character upper-cased.
std::string title(const std::string& s) {
  const std::u32string u = to_u32(s);
  std::string out;
  auto is_sep = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_py_space(c); };
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i;
    const bool sep = is_sep(u[i]);
    while (j < u.size() && is_sep(u[j]) == sep) ++j;
    const std::u32string piece = u.substr(i, j - i);
    if (sep) out += from_u32(piece);
    else out += py_upper(from_u32(piece.substr(0, 1))) + py_lower(from_u32(piece.substr(1)));
    i = j;
  }
  return out;
}

// Python's int(str) and float(str).
std::optional<int64_t> parse_int(std::string s, int64_t base) {
  s = strip(s, Value(None{}), true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isalnum(static_cast<unsigned char>(s[i - 1])) &&
        std::isalnum(static_cast<unsigned char>(s[i + 1])))
      continue;
    clean += s[i];
  }
  if (clean.empty()) return std::nullopt;
  size_t p = 0;
  bool neg = false;
  if (clean[0] == '+' || clean[0] == '-') {
    neg = clean[0] == '-';
    p = 1;
  }
  if (p == clean.size()) return std::nullopt;
  int64_t v = 0;
  for (; p < clean.size(); ++p) {
    const char c = clean[p];
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::isalpha(static_cast<unsigned char>(c)) ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) return std::nullopt;
    if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v)) return std::nullopt;
  }
  return neg ? -v : v;
}
std::optional<double> parse_float(std::string s) {
  s = strip(s, Value(None{}), true, true);
  if (s.empty()) return std::nullopt;
  std::string lower = py_lower(s);
  const std::string body = lower[0] == '+' || lower[0] == '-' ? lower.substr(1) : lower;
  const double sign = lower[0] == '-' ? -1.0 : 1.0;
  if (body == "inf" || body == "infinity") return sign * INFINITY;
  if (body == "nan") return NAN;
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-' || c == '_'))
      return std::nullopt;
  std::string clean;
  for (char c : s)
    if (c != '_') clean += c;
  char* end = nullptr;
  const double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return d;
}

// printf-style formatting ("%s" % x, the format filter): %s %r %d %i %f %x %% with flags.
std::string percent_format(Interpreter& in, const std::string& fmt_s, const std::vector<Value>& args, const Expr* at) {
  std::string out;
  size_t ai = 0;
  for (size_t i = 0; i < fmt_s.size(); ++i) {
    if (fmt_s[i] != '%') {
      out += fmt_s[i];
      continue;
    }
    size_t j = i + 1;
    std::string spec = "%";
    while (j < fmt_s.size() && std::string_view("-+ 0#").find(fmt_s[j]) != std::string_view::npos) spec += fmt_s[j++];
    while (j < fmt_s.size() && (std::isdigit(static_cast<unsigned char>(fmt_s[j])) || fmt_s[j] == '.')) spec += fmt_s[j++];
    if (j >= fmt_s.size()) in.error(at, "incomplete format");
    const char conv = fmt_s[j];
    i = j;
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (ai >= args.size()) in.error(at, "not enough arguments for format string");
    const Value& v = args[ai++];
    char buf[512];
    if (conv == 's' || conv == 'r') {
      const std::string s = conv == 's' ? py_str(v) : py_repr(v);
      std::snprintf(buf, sizeof buf, (spec + "s").c_str(), "");
      if (spec == "%") out += s;
      else {
        // width/precision on strings: apply by hand on code points
        const size_t dot = spec.find('.');
        std::string body = s;
        if (dot != std::string::npos) {
          const size_t prec = size_t(std::atoi(spec.c_str() + dot + 1));
          const std::u32string u = to_u32(body);
          body = from_u32(u.substr(0, std::min(prec, u.size())));
        }
        const bool left = spec.find('-') != std::string::npos;
        size_t w0 = 1;
        while (w0 < spec.size() && !std::isdigit(static_cast<unsigned char>(spec[w0]))) ++w0;
        const size_t width = w0 < spec.size() && spec[w0] != '.' ? size_t(std::atoi(spec.c_str() + w0)) : 0;
        const size_t len = cp_length(body);
        const std::string pad = len < width ? std::string(width - len, ' ') : "";
        out += left ? body + pad : pad + body;
      }
    } else if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X' || conv == 'o') {
      if (!v.is_number()) in.error(at, fmt::format("%{} format: a real number is required, not {}", conv, type_name(v)));
      const long long n = v.is_float() ? (long long)std::trunc(v.as_float()) : (long long)v.to_int();
      std::snprintf(buf, sizeof buf, (spec + "ll" + (conv == 'i' ? 'd' : conv)).c_str(), n);
      out += buf;
    } else if (conv == 'f' || conv == 'F' || conv == 'e' || conv == 'E' || conv == 'g' || conv == 'G') {
      if (!v.is_number()) in.error(at, fmt::format("must be real number, not {}", type_name(v)));
      std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v.to_double());
      out += buf;
    } else {
      in.error(at, fmt::format("unsupported format character '{}'", conv));
    }
  }
  if (ai < args.size()) in.error(at, "not all arguments converted during string formatting");
  return out;
}

// str.format: {} {0} {name} without format specs.
std::string brace_format(Interpreter& in, const std::string& f, const Args& args, const Expr* at) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c == '{' && i + 1 < f.size() && f[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < f.size() && f[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const size_t e = f.find('}', i);
      if (e == std::string::npos) in.error(at, "Single '{' encountered in format string");
      const std::string field = f.substr(i + 1, e - i - 1);
      if (field.find_first_of(":!") != std::string::npos) in.error(at, "format specs in str.format are not supported");
      const Value* v = nullptr;
      if (field.empty()) {
        if (auto_index >= args.positional.size()) in.error(at, "Replacement index out of range for positional args tuple");
        v = &args.positional[auto_index++];
      } else if (std::isdigit(static_cast<unsigned char>(field[0]))) {
        const size_t k = size_t(std::atoi(field.c_str()));
        if (k >= args.positional.size()) in.error(at, "Replacement index out of range for positional args tuple");
        v = &args.positional[k];
      } else {
        for (const auto& [k, val] : args.keyword)
          if (k == field) v = &val;
        if (!v) in.error(at, fmt::format("KeyError: '{}'", field));
      }
      out += py_str(*v);
      i = e;
    } else if (c == '}') {
      in.error(at, "Single '}' encountered in format string");
    } else {
      out += c;
    }
  }
  return out;
}

// ---- bound methods ----

class Method : public Callable {
 public:
  Method(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Value call(Interpreter& in, Args args) const override;

 private:
  Value self_;
  std::string name_;
};

const std::set<std::string>& str_methods() {
  static const std::set<std::string> m = {"strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith",
                                          "endswith", "upper", "lower", "title", "capitalize", "replace", "format",
                                          "join", "find", "rfind", "count", "index", "isdigit", "isalpha", "isalnum",
                                          "isspace", "islower", "isupper", "isnumeric", "zfill", "center", "ljust", "rjust"};
  return m;
}
const std::set<std::string>& dict_methods() {
  static const std::set<std::string> m = {"items", "keys", "values", "get", "copy"};
  return m;
}
const std::set<std::string>& list_methods() {
  static const std::set<std::string> m = {"index", "count", "copy"};
  return m;
}
bool mutating(const Value& self, const std::string& name) {
  static const std::set<std::string> list_m = {"append", "pop", "insert", "extend", "remove", "reverse", "sort", "clear", "__setitem__", "__delitem__"};
  static const std::set<std::string> dict_m = {"pop", "popitem", "update", "setdefault", "clear", "__setitem__", "__delitem__"};
  return (self.is_list() && list_m.count(name)) || (self.is_dict() && dict_m.count(name));
}

Value Method::call(Interpreter& in, Args args) const {
  const Expr* at = nullptr;
  const std::string& n = name_;
  if (self_.is_dict()) {
    const Dict& d = self_.dict();
    if (n == "items") {
      bind(in, n, args, {}, at);
      List l;
      for (const auto& [k, v] : d.items()) l.emplace_back(List{Value(k), v});
      return Value(std::move(l));
    }
    if (n == "keys" || n == "values") {
      bind(in, n, args, {}, at);
      List l;
      for (const auto& [k, v] : d.items()) l.push_back(n == "keys" ? Value(k) : v);
      return Value(std::move(l));
    }
    if (n == "copy") return self_;
    auto a = bind(in, n, args, {"key", "default"}, at, 1);  // get
    if (a[0].is_string())
      if (const Value* v = d.find(a[0].str())) return *v;
    return a[1].is_undefined() ? Value(None{}) : a[1];
  }
  if (self_.is_list()) {
    const List& l = self_.list();
    if (n == "copy") return self_;
    auto a = bind(in, n, args, {"value"}, at, 1);
    int64_t count = 0;
    for (size_t i = 0; i < l.size(); ++i)
      if (equal(l[i], a[0])) {
        if (n == "index") return Value(int64_t(i));
        ++count;
      }
    if (n == "index") in.error(at, fmt::format("{} is not in list", py_repr(a[0])));
    return Value(count);
  }
  const std::string& s = self_.str();
  if (n == "strip" || n == "lstrip" || n == "rstrip") {
    auto a = bind(in, n, args, {"chars"}, at);
    return Value(strip(s, a[0], n != "rstrip", n != "lstrip"));
  }
  if (n == "split" || n == "rsplit") {
    auto a = bind(in, n, args, {"sep", "maxsplit"}, at);
    const int64_t maxsplit = a[1].is_undefined() ? -1 : a[1].to_int();
    if (n == "rsplit" && maxsplit >= 0) {  // split from the right: reverse, split, reverse back
      auto rev = [](const std::string& x) { std::u32string u = to_u32(x); std::reverse(u.begin(), u.end()); return from_u32(u); };
      Value rsep = a[0].is_string() ? Value(rev(a[0].str())) : a[0];
      List parts = split(in, rev(s), rsep, maxsplit, at);
      std::reverse(parts.begin(), parts.end());
      for (Value& p : parts) p = Value(rev(p.str()));
      return Value(std::move(parts));
    }
    return Value(split(in, s, a[0], maxsplit, at));
  }
  if (n == "splitlines") {
    bind(in, n, args, {}, at);
    List l;
    for (auto& x : splitlines(s)) l.emplace_back(std::move(x));
    return Value(std::move(l));
  }
  if (n == "startswith" || n == "endswith") {
    auto a = bind(in, n, args, {"prefix"}, at, 1);
    std::vector<Value> options = a[0].is_list() ? a[0].list() : std::vector<Value>{a[0]};
    for (const Value& o : options) {
      if (!o.is_string()) in.error(at, fmt::format("{} first arg must be str or a tuple of str, not {}", n, type_name(o)));
      const std::string& p = o.str();
      if (p.size() <= s.size() && (n == "startswith" ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0))
        return Value(true);
    }
    return Value(false);
  }
  if (n == "upper") return Value(py_upper(s));
  if (n == "lower") return Value(py_lower(s));
  if (n == "capitalize") return Value(capitalize(s));
  if (n == "title") {  // Python's str.title: upper after any uncased character
    const std::u32string u = to_u32(s);
    std::string out;
    bool prev_cased = false;
    for (char32_t c : u) {
      const bool cased = is_cased_upper(c) || is_cased_lower(c);
      out += cased ? (prev_cased ? cp_lower(c) : cp_upper(c)) : from_u32(std::u32string(1, c));
      prev_cased = cased;
    }
    return Value(out);
  }
  if (n == "replace") {
    auto a = bind(in, n, args, {"old", "new", "count"}, at, 2);
    if (!a[0].is_string() || !a[1].is_string()) in.error(at, "replace() arguments must be str");
    std::string r = replace(s, a[0].str(), a[1].str(), a[2].is_undefined() ? -1 : a[2].to_int());
    in.produced(r.size(), at);
    return Value(std::move(r));
  }
  if (n == "format") return Value(brace_format(in, s, args, at));
  if (n == "join") {
    auto a = bind(in, n, args, {"iterable"}, at, 1);
    std::string out;
    bool first = true;
    for (const Value& x : in.iterate(a[0], at)) {
      if (!x.is_string()) in.error(at, fmt::format("sequence item: expected str instance, {} found", type_name(x)));
      if (!first) out += s;
      first = false;
      out += x.str();
    }
    in.produced(out.size(), at);
    return Value(std::move(out));
  }
  if (n == "find" || n == "rfind" || n == "index" || n == "count") {
    auto a = bind(in, n, args, {"sub"}, at, 1);
    if (!a[0].is_string()) in.error(at, "must be str");
    const std::string& sub = a[0].str();
    if (n == "count") {
      if (sub.empty()) return Value(int64_t(cp_length(s) + 1));
      int64_t c = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++c;
      return Value(c);
    }
    const size_t p = n == "rfind" ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos) {
      if (n == "index") in.error(at, "substring not found");
      return Value(int64_t(-1));
    }
    return Value(int64_t(cp_length(s.substr(0, p))));
  }
  if (n == "zfill" || n == "center" || n == "ljust" || n == "rjust") {
    auto a = bind(in, n, args, {"width", "fillchar"}, at, 1);
    const int64_t width = a[0].to_int();
    const int64_t len = int64_t(cp_length(s));
    if (width <= len) return self_;
    const size_t pad = size_t(std::min<int64_t>(width - len, int64_t(in.limits().max_output_bytes)));
    const std::string fill = a[1].is_string() ? a[1].str() : std::string(n == "zfill" ? "0" : " ");
    auto rep = [&](size_t k) { std::string r; for (size_t i = 0; i < k; ++i) r += fill; return r; };
    in.produced(pad * fill.size(), at);
    if (n == "ljust") return Value(s + rep(pad));
    if (n == "rjust") return Value(rep(pad) + s);
    if (n == "zfill") {
      if (!s.empty() && (s[0] == '-' || s[0] == '+')) return Value(s.substr(0, 1) + rep(pad) + s.substr(1));
      return Value(rep(pad) + s);
    }
    const size_t left = pad / 2 + (pad & size_t(width) & 1);
    return Value(rep(left) + s + rep(pad - left));
  }
  // is* predicates
  const std::u32string u = to_u32(s);
  if (u.empty()) return Value(false);
  bool all = true, any_cased = false;
  for (char32_t c : u) {
    const bool up = is_cased_upper(c), lo = is_cased_lower(c);
    if (n == "isdigit" || n == "isnumeric") all &= c >= '0' && c <= '9';
    else if (n == "isalpha") all &= up || lo;
    else if (n == "isalnum") all &= up || lo || (c >= '0' && c <= '9');
    else if (n == "isspace") all &= is_py_space(c);
    else if (n == "islower") { all &= !up; any_cased |= lo; }
    else if (n == "isupper") { all &= !lo; any_cased |= up; }
  }
  if (n == "islower" || n == "isupper") return Value(all && any_cased);
  return Value(all);
}

// ---- globals ----

class GlobalFn : public Callable {
 public:
  using Fn = Value (*)(Interpreter&, Args&);
  GlobalFn(std::string name, Fn fn) : name_(std::move(name)), fn_(fn) {}
  Value call(Interpreter& in, Args args) const override { return fn_(in, args); }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  Fn fn_;
};

Value g_range(Interpreter& in, Args& args) {
  if (!args.keyword.empty()) in.error(nullptr, "range() takes no keyword arguments");
  for (const Value& v : args.positional)
    if (!v.is_int() && !v.is_bool()) in.error(nullptr, fmt::format("'{}' object cannot be interpreted as an integer", type_name(v)));
  int64_t start = 0, stop = 0, step = 1;
  const auto& p = args.positional;
  if (p.size() == 1) stop = p[0].to_int();
  else if (p.size() == 2 || p.size() == 3) {
    start = p[0].to_int();
    stop = p[1].to_int();
    if (p.size() == 3) step = p[2].to_int();
  } else {
    in.error(nullptr, fmt::format("range expected 1 to 3 arguments, got {}", p.size()));
  }
  if (step == 0) in.error(nullptr, "range() arg 3 must not be zero");
  // jinja2's sandbox: MAX_RANGE = 100000.
  const double count = step > 0 ? std::ceil((double(stop) - double(start)) / double(step))
                                 : std::ceil((double(start) - double(stop)) / double(-step));
  if (count > 100000)
    in.error(nullptr, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  List l;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) l.emplace_back(i);
  in.produced(l.size() * sizeof(Value), nullptr);
  return Value(std::move(l));
}

Value g_namespace(Interpreter& in, Args& args) {
  auto ns = std::make_shared<Namespace>();
  for (const Value& v : args.positional) {
    if (!v.is_dict()) in.error(nullptr, "namespace() takes a mapping as positional argument");
    for (const auto& [k, x] : v.dict().items()) ns->attrs.set(k, x);
  }
  for (auto& [k, v] : args.keyword) ns->attrs.set(k, v);
  return Value(ns);
}

Value g_dict(Interpreter& in, Args& args) {
  Dict d;
  for (const Value& v : args.positional) {
    if (!v.is_dict()) in.error(nullptr, "dict() takes a mapping as positional argument");
    for (const auto& [k, x] : v.dict().items()) d.set(k, x);
  }
  for (auto& [k, v] : args.keyword) d.set(k, v);
  return Value(std::move(d));
}

Value g_raise_exception(Interpreter& in, Args& args) {
  const std::string msg = args.positional.empty() ? std::string() : py_str(args.positional[0]);
  fail("{}: the chat template raised an exception: {}", in.origin(), msg);
}

Value g_strftime_now(Interpreter& in, Args& args) {
  if (args.positional.size() != 1 || !args.positional[0].is_string()) in.error(nullptr, "strftime_now(format) takes one string");
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[512];
  const std::string& f = args.positional[0].str();
  if (f.size() > 128) in.error(nullptr, "strftime_now: format longer than 128 bytes");
  const size_t n = std::strftime(buf, sizeof buf, f.c_str(), &tm);
  if (n == 0 && !f.empty()) in.error(nullptr, "strftime_now: the formatted date is too long or empty");
  return Value(std::string(buf, n));
}

// ---- filters ----

// attribute lookup for map/selectattr/sort/...: "a.b.0" by environment.getitem per part.
Value attr_path(Interpreter& in, const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    v = in.getitem(v, digits ? Value(int64_t(std::atoll(part.c_str()))) : Value(part));
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

std::string to_str(const Value& v) { return py_str(v); }

Value select_impl(Interpreter& in, const std::string& name, const Value& seq, Args& args, const Expr* at) {
  const bool attr_mode = name == "selectattr" || name == "rejectattr";
  const bool keep_when = name == "select" || name == "selectattr";
  std::vector<Value> pos = std::move(args.positional);
  std::string attribute;
  if (attr_mode) {
    if (pos.empty()) in.error(at, fmt::format("{}() needs an attribute name", name));
    attribute = py_str(pos[0]);
    pos.erase(pos.begin());
  }
  std::string test;
  if (!pos.empty()) {
    test = py_str(pos[0]);
    pos.erase(pos.begin());
    if (!has_test(test)) in.error(at, fmt::format("no test named '{}'", test));
  }
  List out;
  for (const Value& item : in.iterate(seq, at)) {
    const Value subject = attr_mode ? attr_path(in, item, attribute) : item;
    bool ok;
    if (test.empty()) ok = subject.truthy();
    else {
      Args ta{pos, args.keyword};
      ok = builtin_test(in, test, subject, ta, at);
    }
    if (ok == keep_when) out.push_back(item);
  }
  return Value(std::move(out));
}

Value sort_impl(Interpreter& in, const Value& seq, Args& args, const Expr* at) {
  auto a = bind(in, "sort", args, {"reverse", "case_sensitive", "attribute"}, at);
  const bool reverse = a[0].truthy(), cs = a[1].truthy();
  std::vector<Value> items = in.iterate(seq, at);
  std::vector<Value> keys;
  for (const Value& item : items) {
    Value k = a[2].is_undefined() || a[2].is_none() ? item : attr_path(in, item, py_str(a[2]));
    if (!cs && k.is_string()) k = Value(py_lower(k.str()));
    keys.push_back(std::move(k));
  }
  std::vector<size_t> idx(items.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) {
    return reverse ? less_than(in, keys[y], keys[x], at) : less_than(in, keys[x], keys[y], at);
  });
  List out;
  for (size_t i : idx) out.push_back(items[i]);
  return Value(std::move(out));
}

const std::set<std::string>& filter_names() {
  static const std::set<std::string> f = {
      "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float", "forceescape",
      "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject",
      "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title",
      "tojson", "trim", "unique", "upper", "wordcount", "center", "truncate", "striptags"};
  return f;
}
const std::set<std::string>& test_names() {
  static const std::set<std::string> t = {
      "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false", "filter",
      "float", "ge", ">=", "gt", ">", "greaterthan", "in", "integer", "iterable", "le", "<=", "lower", "lt", "<",
      "lessthan", "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "test", "true",
      "undefined", "upper"};
  return t;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

bool has_filter(const std::string& name) { return filter_names().count(name) > 0; }
bool has_test(const std::string& name) { return test_names().count(name) > 0; }

std::optional<Value> builtin_method(const Value& self, const std::string& name) {
  if (mutating(self, name))
    return Value::undefined(fmt::format("access to attribute '{}' of '{}' object is unsafe.", name,
                                        self.is_list() ? "list" : "dict"));
  if ((self.is_string() && str_methods().count(name)) || (self.is_dict() && dict_methods().count(name)) ||
      (self.is_list() && list_methods().count(name)))
    return Value(std::shared_ptr<const Callable>(std::make_shared<Method>(self, name)));
  return std::nullopt;
}

void add_globals(Frame& g) {
  auto add = [&](const char* name, GlobalFn::Fn fn) {
    g.vars[name] = Value(std::shared_ptr<const Callable>(std::make_shared<GlobalFn>(name, fn)));
  };
  add("range", g_range);
  add("namespace", g_namespace);
  add("dict", g_dict);
  add("raise_exception", g_raise_exception);
  add("strftime_now", g_strftime_now);
}

Value builtin_filter(Interpreter& in, const std::string& name, Value v, Args& args, const Expr* at) {
  const std::string& n = name;
  auto undefined_check = [&]() {
    if (v.is_undefined()) in.undefined_error(v, at);
  };
  if (n == "safe") return v;
  if (n == "default" || n == "d") {
    auto a = bind(in, n, args, {"default_value", "boolean"}, at);
    const Value dflt = a[0].is_undefined() ? Value("") : a[0];
    if (v.is_undefined() || (a[1].truthy() && !v.truthy())) return dflt;
    return v;
  }
  if (n == "trim") {
    auto a = bind(in, n, args, {"chars"}, at);
    return Value(strip(to_str(v), a[0], true, true));
  }
  if (n == "length" || n == "count") {
    bind(in, n, args, {}, at);
    if (v.is_undefined()) return Value(int64_t(0));
    if (v.is_string()) return Value(int64_t(cp_length(v.str())));
    if (v.is_list()) return Value(int64_t(v.list().size()));
    if (v.is_dict()) return Value(int64_t(v.dict().size()));
    in.error(at, fmt::format("object of type '{}' has no len()", type_name(v).substr(0, type_name(v).find(' '))));
  }
  if (n == "upper") return Value(py_upper(to_str(v)));
  if (n == "lower") return Value(py_lower(to_str(v)));
  if (n == "title") return Value(title(to_str(v)));
  if (n == "capitalize") return Value(capitalize(to_str(v)));
  if (n == "string") return Value(to_str(v));
  if (n == "e" || n == "escape" || n == "forceescape") return Value(html_escape(to_str(v)));
  if (n == "striptags") {
    std::string s = to_str(v), out;
    bool in_tag = false;
    for (char c : s) {
      if (c == '<') in_tag = true;
      else if (c == '>' && in_tag) in_tag = false;
      else if (!in_tag) out += c;
    }
    std::string joined;  // markupsafe collapses whitespace: " ".join(text.split())
    for (const Value& w : split(in, out, Value(None{}), -1, at)) joined += (joined.empty() ? "" : " ") + w.str();
    return Value(std::move(joined));
  }
  if (n == "wordcount") return Value(int64_t(split(in, to_str(v), Value(None{}), -1, at).size()));
  if (n == "join") {
    auto a = bind(in, n, args, {"d", "attribute"}, at);
    const std::string sep = a[0].is_undefined() ? "" : to_str(a[0]);
    std::string out;
    bool first = true;
    for (const Value& x : in.iterate(v, at)) {
      if (!first) out += sep;
      first = false;
      out += to_str(a[1].is_undefined() || a[1].is_none() ? x : attr_path(in, x, py_str(a[1])));
      if (out.size() > in.limits().max_output_bytes) in.produced(in.limits().max_string_bytes + 1, at);
    }
    in.produced(out.size(), at);
    return Value(std::move(out));
  }
  if (n == "list") return Value(in.iterate(v, at));
  if (n == "first" || n == "last") {
    std::vector<Value> items = in.iterate(v, at);
    if (items.empty()) return Value::undefined(fmt::format("No {} item, sequence was empty.", n));
    return n == "first" ? items.front() : items.back();
  }
  if (n == "reverse") {
    undefined_check();
    if (v.is_string()) {
      std::u32string u = to_u32(v.str());
      std::reverse(u.begin(), u.end());
      return Value(from_u32(u));
    }
    std::vector<Value> items = in.iterate(v, at);
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (n == "replace") {
    auto a = bind(in, n, args, {"old", "new", "count"}, at, 2);
    std::string r = replace(to_str(v), to_str(a[0]), to_str(a[1]),
                            a[2].is_undefined() || a[2].is_none() ? -1 : a[2].to_int());
    in.produced(r.size(), at);
    return Value(std::move(r));
  }
  if (n == "items") {
    if (v.is_undefined()) return Value(List{});
    if (!v.is_dict()) in.error(at, "Can only get item pairs from a mapping.");
    List l;
    for (const auto& [k, x] : v.dict().items()) l.emplace_back(List{Value(k), x});
    return Value(std::move(l));
  }
  if (n == "dictsort") {
    auto a = bind(in, n, args, {"case_sensitive", "by", "reverse"}, at);
    if (!v.is_dict()) in.error(at, "dictsort: expected a mapping");
    const bool by_value = a[1].is_string() && a[1].str() == "value";
    std::vector<std::pair<std::string, Value>> items = v.dict().items();
    auto key = [&](const std::pair<std::string, Value>& p) {
      Value k = by_value ? p.second : Value(p.first);
      if (!a[0].truthy() && k.is_string()) k = Value(py_lower(k.str()));
      return k;
    };
    std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
      return a[2].truthy() ? less_than(in, key(y), key(x), at) : less_than(in, key(x), key(y), at);
    });
    List l;
    for (auto& [k, x] : items) l.emplace_back(List{Value(k), x});
    return Value(std::move(l));
  }
  if (n == "int") {
    auto a = bind(in, n, args, {"default", "base"}, at);
    const Value dflt = a[0].is_undefined() ? Value(int64_t(0)) : a[0];
    const int64_t base = a[1].is_undefined() ? 10 : a[1].to_int();
    undefined_check();
    if (v.is_string()) {
      if (auto i = parse_int(v.str(), base)) return Value(*i);
      if (auto f = parse_float(v.str()); f && std::isfinite(*f) && std::abs(*f) < 9.2e18) return Value(int64_t(std::trunc(*f)));
      return dflt;
    }
    if (v.is_bool() || v.is_int()) return Value(v.to_int());
    if (v.is_float() && std::isfinite(v.as_float()) && std::abs(v.as_float()) < 9.2e18)
      return Value(int64_t(std::trunc(v.as_float())));
    return dflt;
  }
  if (n == "float") {
    auto a = bind(in, n, args, {"default"}, at);
    const Value dflt = a[0].is_undefined() ? Value(0.0) : a[0];
    undefined_check();
    if (v.is_string()) {
      if (auto f = parse_float(v.str())) return Value(*f);
      return dflt;
    }
    if (v.is_number()) return Value(v.to_double());
    return dflt;
  }
  if (n == "abs") {
    undefined_check();
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    if (v.is_number()) {
      if (v.to_int() == INT64_MIN) in.error(at, "integer overflow (the result does not fit in 64 bits)");
      return Value(std::abs(v.to_int()));
    }
    in.error(at, fmt::format("bad operand type for abs(): '{}'", type_name(v)));
  }
  if (n == "round") {
    auto a = bind(in, n, args, {"precision", "method"}, at);
    const int64_t prec = a[0].is_undefined() ? 0 : a[0].to_int();
    const std::string method = a[1].is_undefined() ? "common" : py_str(a[1]);
    undefined_check();
    if (!v.is_number()) in.error(at, fmt::format("type {} doesn't define __round__ method", type_name(v)));
    if (method != "common" && method != "ceil" && method != "floor")
      in.error(at, "method must be 'common', 'ceil' or 'floor'");
    if (method == "common" && !v.is_float()) return Value(v.to_int());  // round(int, n) stays an int
    if (prec < -308 || prec > 308) in.error(at, "round: precision out of range");
    const double x = v.to_double();
    if (method != "common") {
      const double p = std::pow(10.0, double(prec));
      return Value((method == "ceil" ? std::ceil(x * p) : std::floor(x * p)) / p);
    }
    if (!std::isfinite(x)) return Value(x);
    // Python rounds the exact binary value to `prec` decimals, ties to even: what %.*f does.
    if (prec >= 0) {
      char buf[512];
      std::snprintf(buf, sizeof buf, "%.*f", int(std::min<int64_t>(prec, 300)), x);
      return Value(std::strtod(buf, nullptr));
    }
    const double p = std::pow(10.0, double(-prec));
    return Value(std::nearbyint(x / p) * p);
  }
  if (n == "tojson") {
    auto a = bind(in, n, args, {"ensure_ascii", "indent", "separators", "sort_keys"}, at);
    JsonDumpOptions o;
    o.ensure_ascii = a[0].truthy();
    if (a[1].is_int() || a[1].is_bool()) {
      if (a[1].to_int() > 1024) in.error(at, "tojson: indent wider than 1024 spaces");
      o.indent = std::string(size_t(std::max<int64_t>(a[1].to_int(), 0)), ' ');
    }
    else if (a[1].is_string()) o.indent = a[1].str();
    if (a[2].is_list() && a[2].list().size() == 2)
      o.separators = std::make_pair(py_str(a[2].list()[0]), py_str(a[2].list()[1]));
    o.sort_keys = a[3].truthy();
    std::string s = to_json(v, o);
    in.produced(s.size(), at);
    return Value(std::move(s));
  }
  if (n == "indent") {
    auto a = bind(in, n, args, {"width", "first", "blank"}, at);
    const int64_t width = a[0].is_undefined() ? 4 : a[0].is_string() ? 0 : a[0].to_int();
    if (width > int64_t(in.limits().max_output_bytes)) in.error(at, "indent: width larger than the output limit");
    const std::string ind = a[0].is_string() ? a[0].str() : std::string(size_t(std::max<int64_t>(width, 0)), ' ');
    std::string s = to_str(v) + "\n";
    std::vector<std::string> lines = splitlines(s);
    std::string rv;
    if (a[2].truthy()) {
      for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + ind : "") + lines[i];
    } else {
      rv = lines.empty() ? "" : lines[0];
      for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? "" : ind + lines[i]);
    }
    if (a[1].truthy()) rv = ind + rv;
    in.produced(rv.size(), at);
    return Value(std::move(rv));
  }
  if (n == "center") {
    auto a = bind(in, n, args, {"width"}, at);
    Args ca{{a[0].is_undefined() ? Value(int64_t(80)) : a[0]}, {}};
    return Method(Value(to_str(v)), "center").call(in, std::move(ca));
  }
  if (n == "truncate") {
    auto a = bind(in, n, args, {"length", "killwords", "end", "leeway"}, at);
    const int64_t length = a[0].is_undefined() ? 255 : a[0].to_int();
    const std::string end = a[2].is_undefined() ? "..." : to_str(a[2]);
    const int64_t leeway = a[3].is_undefined() ? 5 : a[3].to_int();
    const std::u32string u = to_u32(to_str(v));
    if (int64_t(u.size()) <= length + leeway) return Value(from_u32(u));
    const int64_t keep = std::max<int64_t>(0, length - int64_t(cp_length(end)));
    std::u32string cut = u.substr(0, size_t(keep));
    if (!a[1].truthy()) {
      const size_t sp = cut.rfind(U' ');
      if (sp != std::u32string::npos) cut = cut.substr(0, sp);
    }
    return Value(from_u32(cut) + end);
  }
  if (n == "format") {
    if (!args.keyword.empty()) in.error(at, "format with keyword arguments is not supported");
    return Value(percent_format(in, to_str(v), args.positional, at));
  }
  if (n == "select" || n == "reject" || n == "selectattr" || n == "rejectattr") return select_impl(in, n, v, args, at);
  if (n == "map") {
    List out;
    std::string attribute;
    Value dflt;
    bool by_attr = false;
    for (auto& [k, x] : args.keyword) {
      if (k == "attribute") {
        attribute = py_str(x);
        by_attr = true;
      } else if (k == "default") {
        dflt = x;
      }
    }
    if (by_attr) {
      for (const Value& item : in.iterate(v, at)) {
        Value r = attr_path(in, item, attribute);
        out.push_back(r.is_undefined() && !dflt.is_undefined() ? dflt : r);
      }
      return Value(std::move(out));
    }
    if (args.positional.empty()) in.error(at, "map requires a filter argument");
    const std::string filter = py_str(args.positional[0]);
    if (!has_filter(filter)) in.error(at, fmt::format("no filter named '{}'", filter));
    std::vector<Value> rest(args.positional.begin() + 1, args.positional.end());
    std::vector<std::pair<std::string, Value>> kw;
    for (auto& kv : args.keyword) kw.push_back(kv);
    for (const Value& item : in.iterate(v, at)) {
      Args fa{rest, kw};
      out.push_back(builtin_filter(in, filter, item, fa, at));
    }
    return Value(std::move(out));
  }
  if (n == "unique") {
    auto a = bind(in, n, args, {"case_sensitive", "attribute"}, at);
    List out;
    std::vector<Value> seen;
    for (const Value& item : in.iterate(v, at)) {
      Value k = a[1].is_undefined() || a[1].is_none() ? item : attr_path(in, item, py_str(a[1]));
      if (!a[0].truthy() && k.is_string()) k = Value(py_lower(k.str()));
      bool dup = false;
      for (const Value& s : seen) dup |= equal(s, k);
      if (!dup) {
        seen.push_back(k);
        out.push_back(item);
      }
    }
    return Value(std::move(out));
  }
  if (n == "sort") return sort_impl(in, v, args, at);
  if (n == "min" || n == "max") {
    auto a = bind(in, n, args, {"case_sensitive", "attribute"}, at);
    std::vector<Value> items = in.iterate(v, at);
    if (items.empty()) return Value::undefined(fmt::format("No aggregated item, sequence was empty."));
    auto key = [&](const Value& item) {
      Value k = a[1].is_undefined() || a[1].is_none() ? item : attr_path(in, item, py_str(a[1]));
      if (!a[0].truthy() && k.is_string()) k = Value(py_lower(k.str()));
      return k;
    };
    size_t best = 0;
    for (size_t i = 1; i < items.size(); ++i) {
      const bool better = n == "min" ? less_than(in, key(items[i]), key(items[best]), at)
                                     : less_than(in, key(items[best]), key(items[i]), at);
      if (better) best = i;
    }
    return items[best];
  }
  if (n == "sum") {
    auto a = bind(in, n, args, {"attribute", "start"}, at);
    Value total = a[1].is_undefined() ? Value(int64_t(0)) : a[1];
    for (const Value& item : in.iterate(v, at)) {
      const Value x = a[0].is_undefined() || a[0].is_none() ? item : attr_path(in, item, py_str(a[0]));
      if (!total.is_number() || !x.is_number())
        in.error(at, fmt::format("unsupported operand type(s) for +: '{}' and '{}'", type_name(total), type_name(x)));
      if (total.is_float() || x.is_float()) total = Value(total.to_double() + x.to_double());
      else {
        int64_t r;
        if (__builtin_add_overflow(total.to_int(), x.to_int(), &r)) in.error(at, "integer overflow (the result does not fit in 64 bits)");
        total = Value(r);
      }
    }
    return total;
  }
  if (n == "attr") {
    auto a = bind(in, n, args, {"name"}, at, 1);
    return in.getattr(v, py_str(a[0]));
  }
  in.error(at, fmt::format("no filter named '{}'", n));
}

bool builtin_test(Interpreter& in, const std::string& name, const Value& v, Args& args, const Expr* at) {
  const std::string& n = name;
  if (n == "defined") return !v.is_undefined();
  if (n == "undefined") return v.is_undefined();
  if (n == "none") return v.is_none();
  if (n == "boolean") return v.is_bool();
  if (n == "true") return v.is_bool() && v.as_bool();
  if (n == "false") return v.is_bool() && !v.as_bool();
  if (n == "integer") return v.is_int();
  if (n == "float") return v.is_float();
  if (n == "number") return v.is_number();
  if (n == "string") return v.is_string();
  if (n == "mapping") return v.is_dict();
  if (n == "iterable" || n == "sequence") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (n == "callable") return v.is_callable() || v.is_undefined();
  if (n == "escaped") return false;
  if (n == "filter" || n == "test") {
    auto a = bind(in, n, args, {}, at);
    return v.is_string() && (n == "filter" ? has_filter(v.str()) : has_test(v.str()));
  }
  if (n == "lower" || n == "upper") {
    const std::string s = py_str(v);
    Args none;
    return Method(Value(s), n == "lower" ? "islower" : "isupper").call(in, std::move(none)).truthy();
  }
  if (n == "odd" || n == "even") {
    if (v.is_undefined()) in.undefined_error(v, at);
    if (!v.is_number() || v.is_float()) in.error(at, fmt::format("{} test needs an integer", n));
    const int64_t r = ((v.to_int() % 2) + 2) % 2;
    return n == "odd" ? r == 1 : r == 0;
  }
  auto a = bind(in, n, args, {"other"}, at, 1);
  const Value& o = a[0];
  if (n == "divisibleby") {
    if (!v.is_number() || !o.is_number()) in.error(at, "divisibleby needs numbers");
    if (o.to_double() == 0) in.error(at, "integer division or modulo by zero");
    if (v.is_float() || o.is_float()) return std::fmod(v.to_double(), o.to_double()) == 0;
    return v.to_int() % o.to_int() == 0;
  }
  if (n == "eq" || n == "equalto" || n == "==") return equal(v, o);
  if (n == "ne" || n == "!=") return !equal(v, o);
  if (n == "lt" || n == "<" || n == "lessthan") return less_than(in, v, o, at);
  if (n == "gt" || n == ">" || n == "greaterthan") return less_than(in, o, v, at);
  if (n == "le" || n == "<=") return !less_than(in, o, v, at);
  if (n == "ge" || n == ">=") return !less_than(in, v, o, at);
  if (n == "sameas") {
    if (v.is_none() || o.is_none()) return v.is_none() && o.is_none();
    if (v.is_bool() || o.is_bool()) return v.is_bool() && o.is_bool() && v.as_bool() == o.as_bool();
    return equal(v, o) && v.v.index() == o.v.index() && !v.is_list() && !v.is_dict();
  }
  if (n == "in") {
    if (o.is_string()) return v.is_string() && o.str().find(v.str()) != std::string::npos;
    if (o.is_list()) {
      for (const Value& x : o.list())
        if (equal(v, x)) return true;
      return false;
    }
    if (o.is_dict()) return v.is_string() && o.dict().find(v.str()) != nullptr;
    if (o.is_undefined()) return false;
    in.error(at, fmt::format("argument of type '{}' is not iterable", type_name(o)));
  }
  in.error(at, fmt::format("no test named '{}'", n));
}

}  // namespace tessera::jinja
