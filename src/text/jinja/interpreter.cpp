// Statement execution and expression evaluation with jinja2's semantics.
#include "interpreter.hpp"

#include <cmath>
#include <limits>

#include "tessera/core/error.hpp"

namespace tessera::jinja {
namespace {

class MacroFn : public Callable {
 public:
  MacroFn(const Node* node, Value caller) : node_(node), caller_(std::move(caller)) {}
  Value call(Interpreter& in, Args args) const override {
    return in.call_macro(*node_, std::move(args), caller_.is_undefined() ? nullptr : &caller_, nullptr);
  }
  std::string name() const override { return node_->text.empty() ? "caller" : node_->text; }
  const Node& node() const { return *node_; }

 private:
  const Node* node_;
  Value caller_;
};

class CycleFn : public Callable {
 public:
  explicit CycleFn(int64_t index0) : index0_(index0) {}
  Value call(Interpreter& in, Args args) const override {
    if (args.positional.empty()) in.error(nullptr, "no items for cycling given");
    return args.positional[size_t(index0_ % int64_t(args.positional.size()))];
  }
  std::string name() const override { return "loop.cycle"; }

 private:
  int64_t index0_;
};

}  // namespace

// The `loop` variable of a for loop: index, index0, revindex, revindex0, first, last, length,
// previtem, nextitem, depth, depth0 and cycle(...).
class LoopObject : public Callable {
 public:
  LoopObject(std::shared_ptr<const std::vector<Value>> items, int64_t index0) : items_(std::move(items)), i_(index0) {}
  Value call(Interpreter& in, Args) const override { in.error(nullptr, "recursive loops are not supported"); }
  std::string name() const override { return "loop"; }
  Value attr(const std::string& a) const {
    const int64_t n = int64_t(items_->size());
    if (a == "index") return Value(i_ + 1);
    if (a == "index0") return Value(i_);
    if (a == "revindex") return Value(n - i_);
    if (a == "revindex0") return Value(n - i_ - 1);
    if (a == "first") return Value(i_ == 0);
    if (a == "last") return Value(i_ == n - 1);
    if (a == "length") return Value(n);
    if (a == "depth") return Value(int64_t(1));
    if (a == "depth0") return Value(int64_t(0));
    if (a == "previtem") return i_ > 0 ? (*items_)[size_t(i_ - 1)] : Value::undefined("there is no previous item");
    if (a == "nextitem") return i_ + 1 < n ? (*items_)[size_t(i_ + 1)] : Value::undefined("there is no next item");
    if (a == "cycle") return Value(std::shared_ptr<const Callable>(std::make_shared<CycleFn>(i_)));
    return Value::undefined(fmt::format("'LoopContext object' has no attribute '{}'", a));
  }

 private:
  std::shared_ptr<const std::vector<Value>> items_;
  int64_t i_;
};

namespace {

// Saves and restores the current frame around a scope.
struct FrameScope {
  Frame*& slot;
  Frame* saved;
  FrameScope(Frame*& s, Frame* f) : slot(s), saved(s) { slot = f; }
  ~FrameScope() { slot = saved; }
};

int64_t checked(bool overflow, int64_t v, Interpreter& in, const Expr* at) {
  if (overflow) in.error(at, "integer overflow (the result does not fit in 64 bits)");
  return v;
}


}  // namespace

Interpreter::Interpreter(const Template& tpl, const std::string& origin, const Limits& limits)
    : tpl_(tpl), origin_(origin), limits_(limits) {
  add_globals(globals_);
}

void Interpreter::error(const Expr* at, const std::string& what) const {
  if (!at) at = current_;
  if (at) fail("{}:{}:{}: {}", origin_, at->line, at->column, what);
  fail("{}: {}", origin_, what);
}

void Interpreter::undefined_error(const Value& u, const Expr* at) const { error(at, u.undefined_hint()); }

void Interpreter::step(const Expr* at) {
  if (++steps_ > limits_.max_steps)
    error(at, fmt::format("rendering took more than {} steps (a runaway loop?)", limits_.max_steps));
}

void Interpreter::produced(size_t bytes, const Expr* at) {
  produced_ += bytes;
  if (produced_ > limits_.max_string_bytes)
    error(at, fmt::format("rendering built more than {} bytes of strings and lists", limits_.max_string_bytes));
}

std::string Interpreter::render(const Dict& context) {
  Frame root;
  root.parent = &globals_;
  for (const auto& [k, v] : context.items()) root.vars[k] = v;
  root_ = &root;
  FrameScope scope(frame_, &root);
  steps_ = 0;
  produced_ = 0;
  call_depth_ = 0;
  std::string out;
  render_body(tpl_.body, out);
  return out;
}

void Interpreter::write(std::string& out, std::string_view s, const Node& n) {
  if (out.size() + s.size() > limits_.max_output_bytes) {
    Expr at;
    at.line = n.line;
    at.column = n.column;
    error(&at, fmt::format("the rendered text exceeds {} bytes", limits_.max_output_bytes));
  }
  out += s;
}

Interpreter::Flow Interpreter::render_body(const Body& body, std::string& out) {
  for (const NodePtr& n : body) {
    Flow f = render_node(*n, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::render_node(const Node& n, std::string& out) {
  switch (n.kind) {
    case Node::Text: write(out, n.text, n); return Flow::Normal;
    case Node::Print: {
      const Value v = eval(*n.expr);
      if (!v.is_undefined()) write(out, py_str(v), n);
      return Flow::Normal;
    }
    case Node::If:
      for (size_t i = 0; i < n.conditions.size(); ++i)
        if (eval(*n.conditions[i]).truthy()) return render_body(n.bodies[i], out);
      if (n.bodies.size() > n.conditions.size()) return render_body(n.bodies.back(), out);
      return Flow::Normal;
    case Node::For: render_for(n, out); return Flow::Normal;
    case Node::Set: assign(n.target, eval(*n.expr), n); return Flow::Normal;
    case Node::SetBlock: {
      std::string text;
      render_body(n.bodies[0], text);
      Value v(std::move(text));
      if (n.expr) v = eval_filter(*n.expr, &v);
      assign(n.target, std::move(v), n);
      return Flow::Normal;
    }
    case Node::Macro:
      frame_->vars[n.text] = Value(std::shared_ptr<const Callable>(std::make_shared<MacroFn>(&n, Value())));
      return Flow::Normal;
    case Node::CallBlock: {
      // {% call m(args) %}body{% endcall %}: m runs with caller() rendering the body.
      const Expr& call = *n.expr;
      const Value callee = eval(*call.args[0]);
      Args args = eval_args(call, 1);
      const auto* macro = callee.is_callable() ? dynamic_cast<const MacroFn*>(&callee.callable()) : nullptr;
      if (!macro) error(&call, "{% call %} needs a macro to call");
      const Value caller(std::shared_ptr<const Callable>(std::make_shared<MacroFn>(&n, Value())));
      write(out, call_macro(macro->node(), std::move(args), &caller, &call).str(), n);
      return Flow::Normal;
    }
    case Node::FilterBlock: {
      std::string text;
      render_body(n.bodies[0], text);
      const Value v(std::move(text));
      write(out, py_str(eval_filter(*n.expr, &v)), n);
      return Flow::Normal;
    }
    case Node::Break: return Flow::Break;
    case Node::Continue: return Flow::Continue;
    case Node::With: {
      Frame f;
      f.parent = frame_;
      for (const auto& [name, e] : n.assignments) f.vars[name] = eval(*e);
      FrameScope scope(frame_, &f);
      return render_body(n.bodies[0], out);
    }
    case Node::Scope: {
      Frame f;
      f.parent = frame_;
      FrameScope scope(frame_, &f);
      return render_body(n.bodies[0], out);
    }
  }
  return Flow::Normal;
}

void Interpreter::assign(const Target& t, Value v, const Node& n) {
  Expr at;
  at.line = n.line;
  at.column = n.column;
  if (!t.attr.empty()) {
    const Value* ns = frame_->find(t.names[0]);
    if (!ns || !ns->is_namespace()) error(&at, "cannot assign attribute on non-namespace object");
    ns->ns().attrs.set(t.attr, std::move(v));
    return;
  }
  if (!t.tuple) {
    frame_->vars[t.names[0]] = std::move(v);
    return;
  }
  std::vector<Value> items = iterate(v, &at);
  if (items.size() != t.names.size())
    error(&at, items.size() > t.names.size()
                   ? fmt::format("too many values to unpack (expected {})", t.names.size())
                   : fmt::format("not enough values to unpack (expected {}, got {})", t.names.size(), items.size()));
  for (size_t i = 0; i < items.size(); ++i) frame_->vars[t.names[i]] = std::move(items[i]);
}

void Interpreter::render_for(const Node& n, std::string& out) {
  if (n.recursive) error(n.expr.get(), "recursive loops are not supported");
  std::vector<Value> items = iterate(eval(*n.expr), n.expr.get());
  Expr at;
  at.line = n.line;
  at.column = n.column;
  if (!n.conditions.empty()) {  // `for x in xs if cond`: filtered before loop.length is known
    std::vector<Value> kept;
    for (Value& item : items) {
      Frame f;
      f.parent = frame_;
      FrameScope scope(frame_, &f);
      step(&at);
      assign(n.target, item, n);
      if (eval(*n.conditions[0]).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const int64_t length = int64_t(items.size());
  // One shared list behind every iteration's `loop` object, whose attributes are computed
  // when read (a dict built per iteration made loops several times slower).
  const auto shared_items = std::make_shared<const std::vector<Value>>(std::move(items));
  for (int64_t i = 0; i < length; ++i) {
    step(&at);
    Frame f;
    f.parent = frame_;
    FrameScope scope(frame_, &f);
    assign(n.target, (*shared_items)[size_t(i)], n);
    f.vars["loop"] = Value(std::shared_ptr<const Callable>(std::make_shared<LoopObject>(shared_items, i)));
    if (render_body(n.bodies[0], out) == Flow::Break) return;
  }
  if (length == 0 && n.bodies.size() > 1) render_body(n.bodies[1], out);
}

Value Interpreter::call_macro(const Node& macro, Args args, const Value* caller, const Expr* at) {
  if (call_depth_ >= limits_.max_call_depth)
    error(at, fmt::format("macro calls nested deeper than {} (runaway recursion?)", limits_.max_call_depth));
  if (args.positional.size() > macro.params.size())
    error(at, fmt::format("macro '{}' takes not more than {} argument(s)", macro.text, macro.params.size()));
  Frame f;
  f.parent = root_;
  FrameScope scope(frame_, &f);
  for (size_t i = 0; i < macro.params.size(); ++i) {
    const MacroParam& p = macro.params[i];
    if (i < args.positional.size()) {
      f.vars[p.name] = std::move(args.positional[i]);
      continue;
    }
    bool found = false;
    for (auto& [k, v] : args.keyword)
      if (k == p.name) {
        f.vars[p.name] = std::move(v);
        k.clear();
        found = true;
      }
    if (!found)
      f.vars[p.name] = p.default_value ? eval(*p.default_value)
                                       : Value::undefined(fmt::format("parameter '{}' was not provided", p.name));
  }
  for (const auto& [k, v] : args.keyword)
    if (!k.empty()) {
      bool known = false;
      for (const MacroParam& p : macro.params) known |= p.name == k;
      if (!known) error(at, fmt::format("macro '{}' takes no keyword argument '{}'", macro.text, k));
    }
  if (caller) f.vars["caller"] = *caller;
  ++call_depth_;
  std::string out;
  try {
    render_body(macro.bodies[0], out);
  } catch (...) {
    --call_depth_;
    throw;
  }
  --call_depth_;
  return Value(std::move(out));
}

Args Interpreter::eval_args(const Expr& e, size_t first) {
  Args a;
  for (size_t i = first; i < e.args.size(); ++i) a.positional.push_back(eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) a.keyword.emplace_back(k, eval(*v));
  return a;
}

Value Interpreter::call(const Value& callee, Args args, const Expr* at) {
  if (callee.is_undefined()) undefined_error(callee, at);
  if (!callee.is_callable()) error(at, fmt::format("'{}' object is not callable", python_type(callee)));
  const Expr* saved = current_;
  current_ = at;
  Value r = callee.callable().call(*this, std::move(args));
  current_ = saved;
  return r;
}

Value Interpreter::apply_filter(const std::string& name, Value operand, Args args, const Expr* at) {
  return builtin_filter(*this, name, std::move(operand), args, at);
}

bool Interpreter::apply_test(const std::string& name, const Value& operand, Args args, const Expr* at) {
  return builtin_test(*this, name, operand, args, at);
}

Value Interpreter::eval_filter(const Expr& e, const Value* block_text) {
  Value operand = e.args[0] ? (e.args[0]->kind == Expr::Filter && block_text ? eval_filter(*e.args[0], block_text)
                                                                            : eval(*e.args[0]))
                            : *block_text;
  Args args = eval_args(e, 1);
  return apply_filter(e.name, std::move(operand), std::move(args), &e);
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) undefined_error(obj, current_);
  if (obj.is_namespace()) {
    if (const Value* v = obj.ns().attrs.find(name)) return *v;
    return Value::undefined(fmt::format("'Namespace object' has no attribute '{}'", name));
  }
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_')
    return Value::undefined(fmt::format("access to attribute '{}' of '{}' object is unsafe.", name, python_type(obj)));
  if (obj.is_callable())
    if (const auto* loop = dynamic_cast<const LoopObject*>(&obj.callable())) return loop->attr(name);
  if (auto m = builtin_method(obj, name)) return *m;
  if (obj.is_dict())
    if (const Value* v = obj.dict().find(name)) return *v;
  if (obj.is_none()) return Value::undefined(fmt::format("'None' has no attribute '{}'", name));
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", type_name(obj), name));
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) undefined_error(obj, current_);
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.dict().find(key.str())) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.to_int();
    if (obj.is_list()) {
      const int64_t n = int64_t(obj.list().size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.list()[size_t(i)];
    } else {
      std::u32string cps;
      const std::string& s = obj.str();
      for (size_t p = 0; p < s.size();) cps += next_code_point(s, p);
      const int64_t n = int64_t(cps.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        std::string c;
        append_utf8(c, cps[size_t(i)]);
        return Value(std::move(c));
      }
    }
    return Value::undefined(fmt::format("'{}' has no attribute '{}'", type_name(obj), py_str(key)));
  } else if (obj.is_namespace() && key.is_string()) {
    return getattr(obj, key.str());  // Namespace supports item access too
  }
  if (key.is_string()) {
    if (key.str().size() >= 2 && key.str()[0] == '_' && key.str()[1] == '_')
      return Value::undefined(fmt::format("access to attribute '{}' of '{}' object is unsafe.", key.str(), python_type(obj)));
    if (auto m = builtin_method(obj, key.str())) return *m;
  }
  if (obj.is_none()) return Value::undefined(fmt::format("'None' has no attribute '{}'", py_str(key)));
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", type_name(obj), py_str(key)));
}

std::vector<Value> Interpreter::iterate(const Value& v, const Expr* at) {
  std::vector<Value> out;
  if (v.is_undefined()) return out;
  if (v.is_list()) return v.list();
  if (v.is_dict()) {
    for (const auto& kv : v.dict().items()) out.emplace_back(kv.first);
    return out;
  }
  if (v.is_string()) {
    const std::string& s = v.str();
    for (size_t p = 0; p < s.size();) {
      std::string c;
      append_utf8(c, next_code_point(s, p));
      out.emplace_back(std::move(c));
    }
    return out;
  }
  error(at, fmt::format("'{}' object is not iterable", python_type(v)));
}

Value Interpreter::slice(const Value& obj, const Expr& e) {
  if (obj.is_undefined()) undefined_error(obj, &e);
  std::optional<int64_t> parts[3];
  for (int k = 0; k < 3; ++k)
    if (e.args[size_t(k) + 1]) {
      const Value p = eval(*e.args[size_t(k) + 1]);
      if (p.is_none()) continue;
      if (!p.is_int() && !p.is_bool()) error(&e, "slice indices must be integers or None");
      parts[k] = p.to_int();
    }
  const int64_t step_v = parts[2].value_or(1);
  if (step_v == 0) error(&e, "slice step cannot be zero");
  std::vector<Value> items;
  std::u32string cps;
  const bool is_str = obj.is_string();
  if (is_str) {
    const std::string& s = obj.str();
    for (size_t p = 0; p < s.size();) cps += next_code_point(s, p);
  } else if (!obj.is_list()) {
    error(&e, fmt::format("'{}' object is not subscriptable", python_type(obj)));
  }
  const int64_t n = is_str ? int64_t(cps.size()) : int64_t(obj.list().size());
  // Python's PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> x, int64_t dflt) -> int64_t {
    if (!x) return dflt;
    int64_t v = *x;
    if (v < 0) {
      v += n;
      if (v < 0) v = step_v < 0 ? -1 : 0;
    } else if (v >= n) {
      v = step_v < 0 ? n - 1 : n;
    }
    return v;
  };
  const int64_t start = adjust(parts[0], step_v < 0 ? n - 1 : 0);
  const int64_t stop = adjust(parts[1], step_v < 0 ? -1 : n);
  std::string s_out;
  List l_out;
  for (int64_t i = start; step_v > 0 ? i < stop : i > stop; i += step_v) {
    if (is_str) append_utf8(s_out, cps[size_t(i)]);
    else l_out.push_back(obj.list()[size_t(i)]);
  }
  if (is_str) {
    produced(s_out.size(), &e);
    return Value(std::move(s_out));
  }
  produced(l_out.size() * sizeof(Value), &e);
  return Value(std::move(l_out));
}

bool less_than(Interpreter& in, const Value& a, const Value& b, const Expr* at) {
  if (a.is_undefined()) in.undefined_error(a, at);
  if (b.is_undefined()) in.undefined_error(b, at);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() < b.to_double();
    return a.to_int() < b.to_int();
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();  // UTF-8 byte order = code point order
  if (a.is_list() && b.is_list()) {
    const List &x = a.list(), &y = b.list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equal(x[i], y[i])) return less_than(in, x[i], y[i], at);
    return x.size() < y.size();
  }
  in.error(at, fmt::format("'<' not supported between instances of '{}' and '{}'", python_type(a), python_type(b)));
}

bool Interpreter::compare(const std::string& op, const Value& a, const Value& b, const Expr& e) {
  if (op == "==") return equal(a, b);
  if (op == "!=") return !equal(a, b);
  if (op == "in" || op == "not in") {
    bool found = false;
    if (b.is_string()) {
      if (a.is_undefined()) undefined_error(a, &e);
      if (!a.is_string())
        error(&e, fmt::format("'in <string>' requires string as left operand, not {}", python_type(a)));
      found = b.str().find(a.str()) != std::string::npos;
    } else if (b.is_dict()) {
      found = a.is_string() && b.dict().find(a.str()) != nullptr;
    } else if (b.is_list()) {
      for (const Value& x : b.list())
        if (equal(a, x)) {
          found = true;
          break;
        }
    } else if (b.is_namespace()) {
      found = a.is_string() && b.ns().attrs.find(a.str()) != nullptr;
    } else if (!b.is_undefined()) {
      error(&e, fmt::format("argument of type '{}' is not iterable", python_type(b)));
    }
    return op == "in" ? found : !found;
  }
  if (op == "<") return less_than(*this, a, b, &e);
  if (op == ">") return less_than(*this, b, a, &e);
  if (op == "<=") return !less_than(*this, b, a, &e);
  if (op == ">=") return !less_than(*this, a, b, &e);
  error(&e, "unknown comparison " + op);
}

Value Interpreter::binary(const std::string& op, const Value& a, const Value& b, const Expr& e) {
  if (op == "~") {
    std::string s = py_str(a) + py_str(b);
    produced(s.size(), &e);
    return Value(std::move(s));
  }
  if (a.is_undefined()) undefined_error(a, &e);
  if (b.is_undefined()) undefined_error(b, &e);
  const auto unsupported = [&]() -> Value {
    if (op == "+" && a.is_string())
      error(&e, fmt::format("can only concatenate str (not \"{}\") to str", python_type(b)));
    if (op == "+" && a.is_list())
      error(&e, fmt::format("can only concatenate list (not \"{}\") to list", python_type(b)));
    error(&e, fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", op, python_type(a), python_type(b)));
  };
  if (a.is_number() && b.is_number()) {
    const bool flt = a.is_float() || b.is_float();
    if (op == "/") {
      if (b.to_double() == 0) error(&e, "division by zero");
      return Value(a.to_double() / b.to_double());
    }
    if (flt) {
      const double x = a.to_double(), y = b.to_double();
      if (op == "+") return Value(x + y);
      if (op == "-") return Value(x - y);
      if (op == "*") return Value(x * y);
      if (op == "**") {
        if (x == 0 && y < 0) error(&e, "0.0 cannot be raised to a negative power");
        return Value(std::pow(x, y));
      }
      if (y == 0) error(&e, op == "//" ? "float floor division by zero" : "float modulo");
      // CPython's float_divmod.
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0) {
        if ((y < 0) != (mod < 0)) {
          mod += y;
          div -= 1.0;
        }
      } else {
        mod = std::copysign(0.0, y);
      }
      double floordiv;
      if (div != 0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
      } else {
        floordiv = std::copysign(0.0, x / y);
      }
      if (op == "%") return Value(mod);
      if (op == "//") return Value(floordiv);
      return unsupported();
    }
    const int64_t x = a.to_int(), y = b.to_int();
    int64_t r = 0;
    bool overflow = false;
    if (op == "+") overflow = __builtin_add_overflow(x, y, &r);
    if (op == "-") overflow = __builtin_sub_overflow(x, y, &r);
    if (op == "*") overflow = __builtin_mul_overflow(x, y, &r);
    if (op == "+" || op == "-" || op == "*") return Value(checked(overflow, r, *this, &e));
    if (op == "//" || op == "%") {
      if (y == 0) error(&e, "integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) error(&e, "integer overflow (the result does not fit in 64 bits)");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        m += y;
        q -= 1;
      }
      return Value(op == "//" ? q : m);
    }
    if (op == "**") {
      if (y < 0) {
        if (x == 0) error(&e, "0.0 cannot be raised to a negative power");
        return Value(std::pow(double(x), double(y)));
      }
      int64_t result = 1, base = x, ex = y;
      while (ex > 0) {
        if (ex & 1) checked(__builtin_mul_overflow(result, base, &result), 0, *this, &e);
        ex >>= 1;
        if (ex > 0) checked(__builtin_mul_overflow(base, base, &base), 0, *this, &e);
      }
      return Value(result);
    }
    return unsupported();
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      produced(a.str().size() + b.str().size(), &e);
      return Value(a.str() + b.str());
    }
    if (a.is_list() && b.is_list()) {
      List l = a.list();
      l.insert(l.end(), b.list().begin(), b.list().end());
      produced(l.size() * sizeof(Value), &e);
      return Value(std::move(l));
    }
    return unsupported();
  }
  if (op == "*" && (((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) ||
                    ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())))) {
    const Value& seq = a.is_int() || a.is_bool() ? b : a;
    const int64_t count = std::max<int64_t>(0, (a.is_int() || a.is_bool() ? a : b).to_int());
    const size_t unit = seq.is_string() ? seq.str().size() : seq.list().size() * sizeof(Value);
    if (count > 0 && unit > 0 && uint64_t(count) > (limits_.max_string_bytes - produced_) / unit + 1)
      produced(limits_.max_string_bytes + 1, &e);
    produced(unit * size_t(count), &e);
    if (seq.is_string()) {
      std::string s;
      s.reserve(unit * size_t(count));
      for (int64_t i = 0; i < count; ++i) s += seq.str();
      return Value(std::move(s));
    }
    List l;
    for (int64_t i = 0; i < count; ++i) l.insert(l.end(), seq.list().begin(), seq.list().end());
    return Value(std::move(l));
  }
  if (op == "%" && a.is_string()) {  // printf-style formatting, as the format filter
    Args args{b.is_list() ? b.list() : std::vector<Value>{b}, {}};
    return builtin_filter(*this, "format", a, args, &e);
  }
  return unsupported();
}

Value Interpreter::eval(const Expr& e) {
  step(&e);
  switch (e.kind) {
    case Expr::Literal: return e.value;
    case Expr::Name: {
      if (const Value* v = frame_->find(e.name)) return *v;
      return Value::undefined(fmt::format("'{}' is undefined", e.name));
    }
    case Expr::GetAttr: {
      const Value obj = eval(*e.args[0]);
      const Expr* saved = current_;
      current_ = &e;
      Value r = getattr(obj, e.name);
      current_ = saved;
      return r;
    }
    case Expr::GetItem: {
      const Value obj = eval(*e.args[0]);
      const Value key = eval(*e.args[1]);
      const Expr* saved = current_;
      current_ = &e;
      Value r = getitem(obj, key);
      current_ = saved;
      return r;
    }
    case Expr::Slice: return slice(eval(*e.args[0]), e);
    case Expr::Call: {
      const Value callee = eval(*e.args[0]);
      return call(callee, eval_args(e, 1), &e);
    }
    case Expr::Filter: return eval_filter(e, nullptr);
    case Expr::Test: {
      const Value operand = eval(*e.args[0]);
      const bool r = apply_test(e.name, operand, eval_args(e, 1), &e);
      return Value(e.negated ? !r : r);
    }
    case Expr::Not: return Value(!eval(*e.args[0]).truthy());
    case Expr::Neg:
    case Expr::Pos: {
      const Value v = eval(*e.args[0]);
      if (v.is_undefined()) undefined_error(v, &e);
      if (!v.is_number())
        error(&e, fmt::format("bad operand type for unary {}: '{}'", e.kind == Expr::Neg ? '-' : '+', python_type(v)));
      if (e.kind == Expr::Pos) return v.is_bool() ? Value(v.to_int()) : v;
      if (v.is_float()) return Value(-v.as_float());
      if (v.to_int() == std::numeric_limits<int64_t>::min()) error(&e, "integer overflow (the result does not fit in 64 bits)");
      return Value(-v.to_int());
    }
    case Expr::Binary: {
      const Value a = eval(*e.args[0]);
      const Value b = eval(*e.args[1]);
      return binary(e.name, a, b, e);
    }
    case Expr::Compare: {
      Value left = eval(*e.args[0]);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1]);
        if (!compare(e.ops[i], left, right, e)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case Expr::And: {
      Value a = eval(*e.args[0]);
      return a.truthy() ? eval(*e.args[1]) : a;
    }
    case Expr::Or: {
      Value a = eval(*e.args[0]);
      return a.truthy() ? a : eval(*e.args[1]);
    }
    case Expr::CondExpr:
      if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined.");
    case Expr::ListLit:
    case Expr::TupleLit: {
      List l;
      for (const auto& x : e.args) l.push_back(eval(*x));
      return Value(std::move(l));
    }
    case Expr::DictLit: {
      Dict d;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        const Value k = eval(*e.args[i]);
        if (!k.is_string()) error(e.args[i].get(), "dict keys must be strings here (chat templates use no other)");
        d.set(k.str(), eval(*e.args[i + 1]));
      }
      return Value(std::move(d));
    }
  }
  error(&e, "unknown expression");
}

}  // namespace tessera::jinja
