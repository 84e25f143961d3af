// The syntax tree of a parsed Jinja template: expressions and statements as jinja2's parser
// builds them (jinja2/nodes.py), reduced to what chat templates can use.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "value.hpp"

namespace tessera::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum Kind {
    Literal,   // value
    Name,      // name
    GetAttr,   // args[0].name
    GetItem,   // args[0][args[1]]
    Slice,     // args[0][args[1]:args[2]:args[3]] (null where omitted)
    Call,      // args[0](args[1..], kwargs)
    Filter,    // args[0] | name(args[1..], kwargs); args[0] null inside {% filter %}
    Test,      // args[0] is [not] name(args[1..], kwargs)
    Not, Neg, Pos,
    Binary,    // args[0] name args[1] for + - * / // % ** ~
    Compare,   // args[0] ops[0] args[1] ops[1] args[2] ... (chained, as Python)
    And, Or,
    CondExpr,  // args[1] if args[0] else args[2] (args[2] null: undefined)
    ListLit, TupleLit, DictLit,  // DictLit: args are key, value, key, value ...
  };
  Kind kind;
  int line = 0, column = 0;
  Value value;
  std::string name;
  bool negated = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

// What an assignment writes to: a name, a tuple of names, or namespace.attr.
struct Target {
  std::vector<std::string> names;  // one name, or the names of a tuple
  bool tuple = false;
  std::string attr;  // set ns.attr = ...: names[0] is the namespace
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Node {
  enum Kind { Text, Print, If, For, Set, SetBlock, Macro, CallBlock, FilterBlock, Break, Continue, With, Scope };
  Kind kind;
  int line = 0, column = 0;
  std::string text;                   // Text; Macro: name
  ExprPtr expr;                       // Print, Set value, For iterable, CallBlock call, FilterBlock filter chain
  std::vector<ExprPtr> conditions;    // If: if / elif conditions; For: the filter after `if`
  std::vector<Body> bodies;           // If: one per condition, plus else; For: body, else; others: body
  Target target;                      // Set, SetBlock, For
  std::vector<MacroParam> params;     // Macro, CallBlock caller(...)
  std::vector<std::pair<std::string, ExprPtr>> assignments;  // With
  bool recursive = false;             // For ... recursive
};

struct Template {
  Body body;
};

}  // namespace tessera::jinja
