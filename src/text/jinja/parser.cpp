// jinja2's recursive-descent parser: statements, then expressions by precedence
// (condexpr < or < and < not < compare < + - < ~ < * / // % < ** < unary < postfix/filters).
#include "parser.hpp"

#include <charconv>
#include <cstdlib>
#include <initializer_list>

#include "tessera/core/error.hpp"
#include "lexer.hpp"

namespace tessera::jinja {
namespace {

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& origin, int max_depth)
      : t_(std::move(tokens)), origin_(origin), max_depth_(max_depth) {}

  Template run() {
    Template tpl;
    std::string end;
    tpl.body = statements({}, end);
    return tpl;
  }

 private:
  std::vector<Token> t_;
  size_t i_ = 0;
  const std::string& origin_;
  int max_depth_;
  int depth_ = 0;

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > p.max_depth_)
        p.error(p.cur(), fmt::format("the template nests deeper than {} levels", p.max_depth_));
    }
    ~DepthGuard() { --p.depth_; }
  };

  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  void next() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  bool is_op(const char* op) const { return cur().type == Tok::Op && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == Tok::Name && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::End: return "end of template";
      case Tok::VarEnd: return "end of print statement";
      case Tok::BlockEnd: return "end of statement block";
      case Tok::Data: return "template data";
      case Tok::String: return "string";
      default: return "'" + t.text + "'";
    }
  }
  [[noreturn]] void error(const Token& at, const std::string& what) const {
    fail("{}:{}:{}: syntax error: {}", origin_, at.line, at.column, what);
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) error(cur(), fmt::format("expected '{}', got {}", op, describe(cur())));
  }
  std::string expect_name() {
    if (cur().type != Tok::Name) error(cur(), fmt::format("expected a name, got {}", describe(cur())));
    std::string n = cur().text;
    next();
    return n;
  }
  void expect_block_end() {
    if (cur().type != Tok::BlockEnd) error(cur(), fmt::format("expected end of statement block, got {}", describe(cur())));
    next();
  }

  ExprPtr make(Expr::Kind k, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = at.line;
    e->column = at.column;
    return e;
  }
  NodePtr node(Node::Kind k, const Token& at) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->line = at.line;
    n->column = at.column;
    return n;
  }

  // ---- statements ----

  // Parses until a block tag whose name is in `ends` (left unconsumed, its name in `end`).
  Body statements(std::initializer_list<const char*> ends, std::string& end) {
    DepthGuard g(*this);
    Body body;
    for (;;) {
      const Token& t = cur();
      if (t.type == Tok::End) {
        if (ends.size() == 0) return body;
        std::string want;
        for (const char* e : ends) want += (want.empty() ? "'" : " or '") + std::string(e) + "'";
        error(t, fmt::format("unexpected end of template, expected {}", want));
      }
      if (t.type == Tok::Data) {
        auto n = node(Node::Text, t);
        n->text = t.text;
        body.push_back(std::move(n));
        next();
      } else if (t.type == Tok::VarBegin) {
        auto n = node(Node::Print, t);
        next();
        n->expr = tuple_expr(true, {});
        if (cur().type != Tok::VarEnd) error(cur(), fmt::format("expected end of print statement, got {}", describe(cur())));
        next();
        body.push_back(std::move(n));
      } else if (t.type == Tok::BlockBegin) {
        const Token& name = peek();
        if (name.type != Tok::Name) error(name, fmt::format("expected a statement name, got {}", describe(name)));
        for (const char* e : ends)
          if (name.text == e) {
            end = name.text;
            next();  // past "{%"; the caller consumes the name
            return body;
          }
        next();
        body.push_back(statement());
      } else {
        error(t, fmt::format("unexpected {}", describe(t)));
      }
    }
  }

  NodePtr statement() {
    const Token& at = cur();
    const std::string name = at.text;
    next();
    if (name == "if") return if_stmt(at);
    if (name == "for") return for_stmt(at);
    if (name == "set") return set_stmt(at);
    if (name == "macro") return macro_stmt(at);
    if (name == "call") return call_stmt(at);
    if (name == "filter") return filter_stmt(at);
    if (name == "with") return with_stmt(at);
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) error(at, fmt::format("'{}' outside of a loop", name));
      auto n = node(name == "break" ? Node::Break : Node::Continue, at);
      expect_block_end();
      return n;
    }
    if (name == "generation") {  // transformers' AssistantTracker: renders its body unchanged
      auto n = node(Node::Scope, at);
      expect_block_end();
      n->bodies.push_back(block_body("endgeneration", false));
      return n;
    }
    if (name == "extends" || name == "include" || name == "import" || name == "from" || name == "block")
      error(at, fmt::format("'{}' needs other templates, which chat templates cannot load", name));
    error(at, fmt::format("encountered unknown tag '{}'", name));
  }

  NodePtr if_stmt(const Token& at) {
    auto n = node(Node::If, at);
    n->conditions.push_back(tuple_expr(false, {}));
    expect_block_end();
    for (;;) {
      std::string end;
      n->bodies.push_back(statements({"elif", "else", "endif"}, end));
      next();
      if (end == "elif") {
        n->conditions.push_back(tuple_expr(false, {}));
        expect_block_end();
      } else if (end == "else") {
        expect_block_end();
        n->bodies.push_back(statements({"endif"}, end));
        next();
        expect_block_end();
        return n;
      } else {
        expect_block_end();
        return n;
      }
    }
  }

  int loop_depth_ = 0;

  Target assign_target(bool allow_tuple, bool allow_namespace, std::initializer_list<const char*> end_names) {
    Target t;
    const Token& at = cur();
    if (allow_namespace && at.type == Tok::Name && peek().type == Tok::Op && peek().text == ".") {
      t.names.push_back(at.text);
      next();
      next();
      t.attr = expect_name();
      return t;
    }
    bool parens = false;
    if (allow_tuple && skip_op("(")) parens = true;
    for (;;) {
      if (cur().type != Tok::Name) error(cur(), fmt::format("can't assign to {}", describe(cur())));
      for (const char* e : end_names)
        if (cur().text == e) error(cur(), fmt::format("expected a name to assign to, got '{}'", e));
      t.names.push_back(cur().text);
      next();
      if (!allow_tuple || !is_op(",")) break;
      next();
      t.tuple = true;
      if (cur().type != Tok::Name || (parens && is_op(")"))) break;
      bool stop = false;
      for (const char* e : end_names) stop |= is_name(e);
      if (stop) break;
    }
    if (parens) {
      t.tuple = true;
      expect_op(")");
    }
    for (const auto& n : t.names)
      if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None")
        error(at, fmt::format("can't assign to constant '{}'", n));
    return t;
  }

  NodePtr for_stmt(const Token& at) {
    auto n = node(Node::For, at);
    n->target = assign_target(true, false, {"in"});
    if (!skip_name("in")) error(cur(), fmt::format("expected 'in', got {}", describe(cur())));
    n->expr = tuple_expr(false, {"recursive"});
    if (skip_name("if")) n->conditions.push_back(expression(true));
    if (skip_name("recursive")) n->recursive = true;
    expect_block_end();
    std::string end;
    ++loop_depth_;
    n->bodies.push_back(statements({"endfor", "else"}, end));
    --loop_depth_;
    next();
    if (end == "else") {
      expect_block_end();
      n->bodies.push_back(statements({"endfor"}, end));
      next();
    }
    expect_block_end();
    return n;
  }

  NodePtr set_stmt(const Token& at) {
    Target target = assign_target(true, true, {});
    if (skip_op("=")) {
      auto n = node(Node::Set, at);
      n->target = std::move(target);
      n->expr = tuple_expr(true, {});
      expect_block_end();
      return n;
    }
    auto n = node(Node::SetBlock, at);
    if (target.tuple || !target.attr.empty()) error(at, "a block set assigns to one name");
    n->target = std::move(target);
    if (is_op("|")) n->expr = filters(nullptr);
    expect_block_end();
    n->bodies.push_back(block_body("endset", true));
    return n;
  }

  std::vector<MacroParam> signature() {
    std::vector<MacroParam> params;
    expect_op("(");
    while (!is_op(")")) {
      if (!params.empty()) expect_op(",");
      if (is_op(")")) break;
      MacroParam p;
      p.name = expect_name();
      if (skip_op("=")) p.default_value = expression(true);
      params.push_back(std::move(p));
    }
    next();
    return params;
  }

  // The body of a block up to {% END %}, which it consumes. A body of its own (macro, call,
  // set) is outside any enclosing loop: break and continue cannot reach through it.
  Body block_body(const char* end_tag, bool own_scope) {
    std::string end;
    const int saved = loop_depth_;
    if (own_scope) loop_depth_ = 0;
    Body body = statements({end_tag}, end);
    loop_depth_ = saved;
    next();
    expect_block_end();
    return body;
  }

  NodePtr macro_stmt(const Token& at) {
    auto n = node(Node::Macro, at);
    n->text = expect_name();
    n->params = signature();
    expect_block_end();
    n->bodies.push_back(block_body("endmacro", true));
    return n;
  }

  NodePtr call_stmt(const Token& at) {
    auto n = node(Node::CallBlock, at);
    if (is_op("(")) n->params = signature();
    n->expr = expression(true);
    if (n->expr->kind != Expr::Call) error(at, "expected a call after {% call %}");
    expect_block_end();
    n->bodies.push_back(block_body("endcall", true));
    return n;
  }

  NodePtr filter_stmt(const Token& at) {
    auto n = node(Node::FilterBlock, at);
    n->expr = filters(nullptr, /*leading_pipe=*/false);
    expect_block_end();
    n->bodies.push_back(block_body("endfilter", false));
    return n;
  }

  NodePtr with_stmt(const Token& at) {
    auto n = node(Node::With, at);
    while (cur().type != Tok::BlockEnd) {
      if (!n->assignments.empty()) expect_op(",");
      std::string name = expect_name();
      expect_op("=");
      n->assignments.emplace_back(std::move(name), expression(true));
    }
    expect_block_end();
    n->bodies.push_back(block_body("endwith", false));
    return n;
  }

  // ---- expressions ----

  bool tuple_end(std::initializer_list<const char*> extra) const {
    if (cur().type == Tok::VarEnd || cur().type == Tok::BlockEnd || cur().type == Tok::End || is_op(")")) return true;
    for (const char* e : extra)
      if (is_name(e)) return true;
    return false;
  }

  ExprPtr tuple_expr(bool with_condexpr, std::initializer_list<const char*> extra, bool explicit_parens = false) {
    const Token& at = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    for (;;) {
      if (!items.empty()) expect_op(",");
      if (tuple_end(extra)) break;
      items.push_back(expression(with_condexpr));
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) error(cur(), fmt::format("expected an expression, got {}", describe(cur())));
    }
    auto e = make(Expr::TupleLit, at);
    e->args = std::move(items);
    return e;
  }

  ExprPtr expression(bool with_condexpr) {
    DepthGuard g(*this);
    return with_condexpr ? condexpr() : or_expr();
  }

  ExprPtr condexpr() {
    ExprPtr e = or_expr();
    while (is_name("if")) {
      const Token& at = cur();
      next();
      auto c = make(Expr::CondExpr, at);
      c->args.push_back(or_expr());
      c->args.push_back(std::move(e));
      if (skip_name("else")) c->args.push_back(condexpr());
      else c->args.push_back(nullptr);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary_chain(Expr::Kind kind, ExprPtr left, ExprPtr right, const Token& at) {
    auto e = make(kind, at);
    e->args.push_back(std::move(left));
    e->args.push_back(std::move(right));
    return e;
  }

  ExprPtr or_expr() {
    ExprPtr e = and_expr();
    while (is_name("or")) {
      const Token& at = cur();
      next();
      e = binary_chain(Expr::Or, std::move(e), and_expr(), at);
    }
    return e;
  }
  ExprPtr and_expr() {
    ExprPtr e = not_expr();
    while (is_name("and")) {
      const Token& at = cur();
      next();
      e = binary_chain(Expr::And, std::move(e), not_expr(), at);
    }
    return e;
  }
  ExprPtr not_expr() {
    if (is_name("not")) {
      DepthGuard g(*this);
      const Token& at = cur();
      next();
      auto e = make(Expr::Not, at);
      e->args.push_back(not_expr());
      return e;
    }
    return compare();
  }
  ExprPtr compare() {
    const Token& at = cur();
    ExprPtr first = math1();
    ExprPtr cmp;
    for (;;) {
      std::string op;
      if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                    cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
        op = "not in";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(Expr::Compare, at);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }
  ExprPtr math1() {
    ExprPtr e = concat();
    while (is_op("+") || is_op("-")) {
      const Token& at = cur();
      std::string op = at.text;
      next();
      e = binary_chain(Expr::Binary, std::move(e), concat(), at);
      e->name = op;
    }
    return e;
  }
  ExprPtr concat() {
    ExprPtr e = math2();
    while (is_op("~")) {
      const Token& at = cur();
      next();
      e = binary_chain(Expr::Binary, std::move(e), math2(), at);
      e->name = "~";
    }
    return e;
  }
  ExprPtr math2() {
    ExprPtr e = pow_expr();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = cur();
      std::string op = at.text;
      next();
      e = binary_chain(Expr::Binary, std::move(e), pow_expr(), at);
      e->name = op;
    }
    return e;
  }
  ExprPtr pow_expr() {
    ExprPtr e = unary(true);
    while (is_op("**")) {
      const Token& at = cur();
      next();
      e = binary_chain(Expr::Binary, std::move(e), unary(true), at);
      e->name = "**";
    }
    return e;
  }
  ExprPtr unary(bool with_filter) {
    DepthGuard g(*this);
    const Token& at = cur();
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      const bool neg = is_op("-");
      next();
      e = make(neg ? Expr::Neg : Expr::Pos, at);
      e->args.push_back(unary(false));
    } else {
      e = primary();
    }
    e = postfix(std::move(e));
    if (with_filter) e = filter_expr(std::move(e));
    return e;
  }

  ExprPtr primary() {
    const Token& at = cur();
    if (at.type == Tok::Name) {
      const std::string& n = at.text;
      auto e = make(Expr::Literal, at);
      if (n == "true" || n == "True") e->value = Value(true);
      else if (n == "false" || n == "False") e->value = Value(false);
      else if (n == "none" || n == "None") e->value = Value(None{});
      else {
        e->kind = Expr::Name;
        e->name = n;
      }
      next();
      return e;
    }
    if (at.type == Tok::String) {
      std::string s = at.text;
      next();
      while (cur().type == Tok::String) {  // adjacent literals concatenate
        s += cur().text;
        next();
      }
      auto e = make(Expr::Literal, at);
      e->value = Value(std::move(s));
      return e;
    }
    if (at.type == Tok::Int) {
      auto e = make(Expr::Literal, at);
      int64_t v = 0;
      auto r = std::from_chars(at.text.data(), at.text.data() + at.text.size(), v);
      if (r.ec != std::errc()) error(at, fmt::format("integer literal {} is out of the 64-bit range", at.text));
      e->value = Value(v);
      next();
      return e;
    }
    if (at.type == Tok::Float) {
      auto e = make(Expr::Literal, at);
      e->value = Value(std::strtod(at.text.c_str(), nullptr));
      next();
      return e;
    }
    if (skip_op("(")) {
      ExprPtr e = tuple_expr(true, {}, true);
      expect_op(")");
      return e;
    }
    if (skip_op("[")) {
      auto e = make(Expr::ListLit, at);
      while (!is_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("]")) break;
        e->args.push_back(expression(true));
      }
      next();
      return e;
    }
    if (skip_op("{")) {
      auto e = make(Expr::DictLit, at);
      while (!is_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("}")) break;
        e->args.push_back(expression(true));
        expect_op(":");
        e->args.push_back(expression(true));
      }
      next();
      return e;
    }
    error(at, fmt::format("unexpected {}", describe(at)));
  }

  ExprPtr postfix(ExprPtr e) {
    for (;;) {
      if (is_op(".") || is_op("[")) e = subscript(std::move(e));
      else if (is_op("(")) e = call(std::move(e));
      else return e;
    }
  }
  ExprPtr filter_expr(ExprPtr e) {
    for (;;) {
      if (is_op("|")) e = filters(std::move(e));
      else if (is_name("is")) e = test(std::move(e));
      else if (is_op("(")) e = call(std::move(e));
      else return e;
    }
  }

  ExprPtr subscript(ExprPtr obj) {
    DepthGuard g(*this);
    const Token& at = cur();
    if (skip_op(".")) {
      const Token& attr = cur();
      if (attr.type == Tok::Name) {
        auto e = make(Expr::GetAttr, at);
        e->args.push_back(std::move(obj));
        e->name = attr.text;
        next();
        return e;
      }
      if (attr.type == Tok::Int) {
        auto e = make(Expr::GetItem, at);
        e->args.push_back(std::move(obj));
        auto idx = make(Expr::Literal, attr);
        idx->value = Value(int64_t(std::strtoll(attr.text.c_str(), nullptr, 10)));
        e->args.push_back(std::move(idx));
        next();
        return e;
      }
      error(attr, fmt::format("expected name or number, got {}", describe(attr)));
    }
    next();  // "["
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (!is_op("]")) {
      if (!items.empty()) {
        expect_op(",");
        is_tuple = true;
        if (is_op("]")) break;
      }
      items.push_back(subscribed());
    }
    next();
    if (items.empty()) error(at, "expected a subscript");
    ExprPtr index;
    if (is_tuple) {
      index = make(Expr::TupleLit, at);
      index->args = std::move(items);
    } else {
      index = std::move(items[0]);
    }
    if (index->kind == Expr::Slice && index->args[0] == nullptr) {  // placeholder from subscribed()
      index->args[0] = std::move(obj);
      return index;
    }
    auto e = make(Expr::GetItem, at);
    e->args.push_back(std::move(obj));
    e->args.push_back(std::move(index));
    return e;
  }

  // An index or a slice start:stop:step; a slice comes back with args[0] left null for the object.
  ExprPtr subscribed() {
    const Token& at = cur();
    std::vector<ExprPtr> parts;
    if (is_op(":")) {
      next();
      parts.push_back(nullptr);
    } else {
      ExprPtr e = expression(true);
      if (!is_op(":")) return e;
      next();
      parts.push_back(std::move(e));
    }
    if (is_op(":")) parts.push_back(nullptr);
    else if (!is_op("]") && !is_op(",")) parts.push_back(expression(true));
    else parts.push_back(nullptr);
    if (skip_op(":")) {
      if (!is_op("]") && !is_op(",")) parts.push_back(expression(true));
      else parts.push_back(nullptr);
    } else {
      parts.push_back(nullptr);
    }
    auto s = make(Expr::Slice, at);
    s->args.push_back(nullptr);
    for (auto& p : parts) s->args.push_back(std::move(p));
    return s;
  }

  void call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) error(cur(), "*args and **kwargs in calls are not supported");
      if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        e.kwargs.emplace_back(std::move(key), expression(true));
      } else {
        if (!e.kwargs.empty()) error(cur(), "positional argument after keyword argument");
        e.args.push_back(expression(true));
      }
    }
    next();
  }

  ExprPtr call(ExprPtr callee) {
    DepthGuard g(*this);
    auto e = make(Expr::Call, cur());
    e->args.push_back(std::move(callee));
    call_args(*e);
    return e;
  }

  std::string dotted_name() {
    std::string n = expect_name();
    while (is_op(".")) {
      next();
      n += "." + expect_name();
    }
    return n;
  }

  // `| name(args) | name ...`; with operand null this is a {% filter %} / {% set x | f %} chain.
  ExprPtr filters(ExprPtr operand, bool leading_pipe = true) {
    bool first = true;
    do {
      DepthGuard g(*this);
      if (leading_pipe || !first) expect_op("|");
      first = false;
      auto e = make(Expr::Filter, cur());
      e->name = dotted_name();
      e->args.push_back(std::move(operand));
      if (is_op("(")) call_args(*e);
      operand = std::move(e);
    } while (is_op("|") && leading_pipe);
    while (!leading_pipe && is_op("|")) {
      DepthGuard g(*this);
      next();
      auto e = make(Expr::Filter, cur());
      e->name = dotted_name();
      e->args.push_back(std::move(operand));
      if (is_op("(")) call_args(*e);
      operand = std::move(e);
    }
    return operand;
  }

  ExprPtr test(ExprPtr operand) {
    DepthGuard g(*this);
    const Token& at = cur();
    next();  // "is"
    auto e = make(Expr::Test, at);
    e->negated = skip_name("not");
    e->name = dotted_name();
    e->args.push_back(std::move(operand));
    const Token& t = cur();
    if (is_op("(")) {
      call_args(*e);
    } else if ((t.type == Tok::Name || t.type == Tok::String || t.type == Tok::Int || t.type == Tok::Float ||
                is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) error(t, "you cannot chain multiple tests with is");
      e->args.push_back(postfix(primary()));
    }
    return e;
  }
};

}  // namespace

Template parse_template(std::string_view source, const std::string& origin, int max_depth) {
  return Parser(tokenize(source, origin), origin, max_depth).run();
}

}  // namespace tessera::jinja
