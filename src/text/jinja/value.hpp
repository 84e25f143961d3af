// The values a Jinja template computes with, shaped like the Python objects jinja2 sees when
// transformers renders a chat template: undefined, None, bool, int, float, str, list, dict
// (insertion-ordered, string keys), namespace() objects and callables (macros, globals, bound
// methods). Printing and JSON follow Python's str()/repr() and json.dumps exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::jinja {

struct Value;
class Interpreter;

using List = std::vector<Value>;

// An insertion-ordered dict with string keys (JSON objects and the dict literals chat
// templates write); lookups go through a hash index.
class Dict {
 public:
  const Value* find(std::string_view key) const;
  void set(std::string key, Value v);
  size_t size() const;  // out of line: Value is incomplete here
  const std::vector<std::pair<std::string, Value>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, Value>> items_;
  std::unordered_map<std::string, size_t> index_;
};

// Positional and keyword arguments of a call.
struct Args {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Macros, global functions (range, namespace, raise_exception, ...) and bound methods.
class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value call(Interpreter& in, Args args) const = 0;
  virtual std::string name() const = 0;
};

// jinja2's default Undefined: prints as "", iterates as empty, is false; anything else done
// with it (attribute, item, arithmetic, call) is an error that quotes `hint`.
struct Undefined {
  std::shared_ptr<const std::string> hint;  // "'x' is undefined", "'dict object' has no attribute 'y'"
};
struct None {};
struct Namespace {
  Dict attrs;
};

struct Value {
  std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<const List>,
               std::shared_ptr<const Dict>, std::shared_ptr<Namespace>, std::shared_ptr<const Callable>>
      v;

  Value() : v(Undefined{}) {}
  Value(None) : v(None{}) {}
  Value(bool b) : v(b) {}
  Value(int64_t i) : v(i) {}
  Value(int i) : v(int64_t(i)) {}
  Value(double d) : v(d) {}
  Value(std::string s) : v(std::move(s)) {}
  Value(const char* s) : v(std::string(s)) {}
  Value(List l) : v(std::make_shared<const List>(std::move(l))) {}
  Value(Dict d) : v(std::make_shared<const Dict>(std::move(d))) {}
  Value(std::shared_ptr<Namespace> n) : v(std::move(n)) {}
  Value(std::shared_ptr<const Callable> c) : v(std::move(c)) {}
  static Value undefined(std::string hint) { Value r; r.v = Undefined{std::make_shared<const std::string>(std::move(hint))}; return r; }

  bool is_undefined() const { return std::holds_alternative<Undefined>(v); }
  bool is_none() const { return std::holds_alternative<None>(v); }
  bool is_bool() const { return std::holds_alternative<bool>(v); }
  bool is_int() const { return std::holds_alternative<int64_t>(v); }
  bool is_float() const { return std::holds_alternative<double>(v); }
  bool is_number() const { return is_bool() || is_int() || is_float(); }  // Python: bool is an int
  bool is_string() const { return std::holds_alternative<std::string>(v); }
  bool is_list() const { return std::holds_alternative<std::shared_ptr<const List>>(v); }
  bool is_dict() const { return std::holds_alternative<std::shared_ptr<const Dict>>(v); }
  bool is_namespace() const { return std::holds_alternative<std::shared_ptr<Namespace>>(v); }
  bool is_callable() const { return std::holds_alternative<std::shared_ptr<const Callable>>(v); }

  bool as_bool() const { return std::get<bool>(v); }
  int64_t as_int() const { return std::get<int64_t>(v); }
  double as_float() const { return std::get<double>(v); }
  const std::string& str() const { return std::get<std::string>(v); }
  const List& list() const { return *std::get<std::shared_ptr<const List>>(v); }
  const Dict& dict() const { return *std::get<std::shared_ptr<const Dict>>(v); }
  Namespace& ns() const { return *std::get<std::shared_ptr<Namespace>>(v); }
  const Callable& callable() const { return *std::get<std::shared_ptr<const Callable>>(v); }
  const std::string& undefined_hint() const;

  // Python's bool(x).
  bool truthy() const;
  // int(x) for bool/int; as a double for any number.
  int64_t to_int() const { return is_bool() ? int64_t(as_bool()) : as_int(); }
  double to_double() const { return is_float() ? as_float() : double(to_int()); }
};

// Python's name of the value's type: "dict" (python_type, as in TypeErrors) and "dict object"
// (type_name, as jinja2 writes it in undefined errors; "None" for None).
std::string python_type(const Value& v);
std::string type_name(const Value& v);
// Python's str(x) (what {{ x }} prints) and repr(x).
std::string py_str(const Value& v);
std::string py_repr(const Value& v);
// Python's repr of a float: the shortest string that reads back, "1.0", "1e-05", "inf".
std::string float_repr(double d);

// Python's ==, as jinja2 compares (1 == 1.0 == True, lists and dicts element-wise).
bool equal(const Value& a, const Value& b);

// JSON → Value (objects keep their key order: nlohmann::ordered_json is not required because
// the callers parse with the order preserved, see from_json).
Value from_json(const nlohmann::json& j);
Value from_json(const nlohmann::ordered_json& j);

// json.dumps(v, ensure_ascii, indent, separators, sort_keys) as transformers' tojson filter
// calls it. indent: nullopt = None, else the string put per level (an int n gives n spaces).
struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;
  std::optional<std::pair<std::string, std::string>> separators;
  bool sort_keys = false;
};
std::string to_json(const Value& v, const JsonDumpOptions& options);

// Decodes one UTF-8 code point at s[i] (advancing i); malformed bytes come out as U+FFFD.
char32_t next_code_point(std::string_view s, size_t& i);
void append_utf8(std::string& out, char32_t cp);
// Python's str.isspace for one code point.
bool is_py_space(char32_t cp);

}  // namespace tessera::jinja
