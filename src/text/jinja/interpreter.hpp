// Renders a parsed Jinja template as jinja2's ImmutableSandboxedEnvironment does: jinja2's
// scoping (a fresh scope per loop iteration, macros see the template's top level), default
// Undefined, Python operator semantics, the sandbox's refusal of mutating methods and ranges
// over 100000 items. Hostile templates end in an Error: every limit below is checked.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "ast.hpp"
#include "value.hpp"

namespace tessera::jinja {

struct Limits {
  size_t max_output_bytes = size_t(16) << 20;     // the rendered text (and any captured block)
  size_t max_string_bytes = size_t(64) << 20;    // all strings/lists produced while rendering
  int64_t max_steps = 5'000'000;                 // expression evaluations + loop iterations
  int max_call_depth = 200;                       // nested macro calls
  int max_nesting = 200;                          // template nesting, checked by the parser
};

// A lexical scope: jinja2 looks a name up from the innermost scope out to the globals.
struct Frame {
  std::unordered_map<std::string, Value> vars;
  Frame* parent = nullptr;
  const Value* find(const std::string& name) const {
    for (const Frame* f = this; f; f = f->parent) {
      auto it = f->vars.find(name);
      if (it != f->vars.end()) return &it->second;
    }
    return nullptr;
  }
};

class Interpreter {
 public:
  Interpreter(const Template& tpl, const std::string& origin, const Limits& limits);

  // Renders with `context` (the template's variables) over the globals.
  std::string render(const Dict& context);

  // Builtins (builtins.cpp) call back into these.
  Value call(const Value& callee, Args args, const Expr* at);
  Value apply_filter(const std::string& name, Value operand, Args args, const Expr* at);
  bool apply_test(const std::string& name, const Value& operand, Args args, const Expr* at);
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  std::vector<Value> iterate(const Value& v, const Expr* at);
  [[noreturn]] void error(const Expr* at, const std::string& what) const;
  [[noreturn]] void undefined_error(const Value& undefined, const Expr* at) const;
  // Counts `bytes` of new string or list data against Limits::max_string_bytes.
  void produced(size_t bytes, const Expr* at);
  void step(const Expr* at);
  const std::string& origin() const { return origin_; }
  const Limits& limits() const { return limits_; }

  // Called by macros (interpreter.cpp).
  Value call_macro(const Node& macro, Args args, const Value* caller, const Expr* at);

 private:
  enum class Flow { Normal, Break, Continue };

  const Template& tpl_;
  std::string origin_;
  Limits limits_;
  Frame globals_;
  Frame* root_ = nullptr;
  Frame* frame_ = nullptr;
  int64_t steps_ = 0;
  size_t produced_ = 0;
  int call_depth_ = 0;
  const Expr* current_ = nullptr;  // for errors raised without an expression at hand

  Flow render_body(const Body& body, std::string& out);
  Flow render_node(const Node& n, std::string& out);
  void render_for(const Node& n, std::string& out);
  void assign(const Target& t, Value v, const Node& n);
  void write(std::string& out, std::string_view s, const Node& n);
  Value eval(const Expr& e);
  Value eval_filter(const Expr& e, const Value* block_text);
  Value binary(const std::string& op, const Value& a, const Value& b, const Expr& e);
  bool compare(const std::string& op, const Value& a, const Value& b, const Expr& e);
  Value slice(const Value& obj, const Expr& e);
  Args eval_args(const Expr& e, size_t first);
};

// The builtin filters, tests, globals and methods (builtins.cpp).
bool has_filter(const std::string& name);
bool has_test(const std::string& name);
Value builtin_filter(Interpreter& in, const std::string& name, Value operand, Args& args, const Expr* at);
bool builtin_test(Interpreter& in, const std::string& name, const Value& operand, Args& args, const Expr* at);
// A method of a str, list or dict value as a bound callable; nullopt when it has none of that
// name; an undefined that fails on use for the mutating methods the sandbox refuses.
std::optional<Value> builtin_method(const Value& self, const std::string& name);
void add_globals(Frame& globals);
// Python's ordering (<) of two values; throws Error as Python's TypeError would.
bool less_than(Interpreter& in, const Value& a, const Value& b, const Expr* at);

}  // namespace tessera::jinja
