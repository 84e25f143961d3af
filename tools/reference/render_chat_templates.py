#!/usr/bin/python3
"""Expected renderings of chat templates, from Debian's python3-jinja2 with transformers' settings.

Writes tests/data/chat_templates/expected.json: for every real template under
tests/data/chat_templates/*.jinja and several conversations, and for a list of small engine
templates, the text jinja2 renders (or the error it raises). tests/chat_template_test.cpp
compares tessera's rendering byte for byte.

The environment is transformers' _compile_jinja_template (utils/chat_template_utils.py):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker,
loopcontrols]), filter tojson = json.dumps(x, ensure_ascii=False, indent, separators, sort_keys),
globals raise_exception and strftime_now. The context is what apply_chat_template passes:
messages, tools (None unless given), documents (None), add_generation_prompt, then the special
tokens and extra keyword arguments.

    apt-get install python3-jinja2 && /usr/bin/python3 tools/reference/render_chat_templates.py
"""
import json
import os
import sys
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "chat_templates")


class Generation(Extension):
    """transformers' AssistantTracker tag: {% generation %}...{% endgeneration %} renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = environment()


def render(source, context):
    try:
        return {"output": ENV.from_string(source).render(**context)}
    except Exception as e:  # the C++ side must fail too; the message is kept for the reader
        return {"error": "%s: %s" % (type(e).__name__, e)}


def chat_context(messages, add_generation_prompt, extra):
    ctx = {"messages": messages, "tools": None, "documents": None, "add_generation_prompt": add_generation_prompt}
    ctx.update(extra)
    return ctx


# ---- conversations ----
USER = {"role": "user", "content": "Hello, how are you?"}
ASSISTANT = {"role": "assistant", "content": "I'm doing great. How can I help you today?"}
USER2 = {"role": "user", "content": "Write \"hi\" in Japanese, then a 🙂 — and don't forget the 'quotes'.\n  Thanks! "}
SYSTEM = {"role": "system", "content": "You are a friendly chatbot who always responds in the style of a pirate"}
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city (°C)",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}]
TOOL_CALL = {"role": "assistant", "content": "", "tool_calls": [
    {"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}]}
TOOL_RESULT = {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temperature\": 21.5}"}
WEATHER = {"role": "user", "content": "What's the weather in Zürich?"}

BASIC = [
    ("one_user", [USER], True, {}),
    ("multi_turn", [USER, ASSISTANT, USER2], False, {}),
    ("multi_turn_prompt", [USER, ASSISTANT, USER2], True, {}),
    ("system", [SYSTEM, USER, ASSISTANT, USER2], True, {}),
]

TOKENS = {
    "llama": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "mistral": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "gemma": {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>"},
    "phi3": {"bos_token": "<s>", "eos_token": "<|endoftext|>"},
    "phi4": {"bos_token": "<|endoftext|>", "eos_token": "<|im_end|>"},
    "chatml": {"bos_token": "<s>", "eos_token": "<|im_end|>"},
}

GEMMA3_SYSTEM = {"role": "system", "content": [{"type": "text", "text": SYSTEM["content"]}]}
GEMMA3_MULTI = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " Describe this image. "}]}

TEMPLATES = {
    "llama-3.1": ("llama", BASIC + [
        ("tools", [WEATHER], True, {"tools": TOOLS}),
        ("tool_call_and_result", [WEATHER, TOOL_CALL, TOOL_RESULT], True, {"tools": TOOLS}),
        ("tools_in_system", [SYSTEM, WEATHER], True, {"tools": TOOLS, "tools_in_user_message": False}),
        ("builtin_tools", [WEATHER], True, {"tools": TOOLS, "builtin_tools": ["brave_search", "wolfram_alpha"]}),
    ]),
    "llama-3.2": ("llama", [(n, m, g, dict(x, date_string="26 Jul 2024")) for n, m, g, x in BASIC + [
        ("tools", [WEATHER], True, {"tools": TOOLS}),
        ("tool_call_and_result", [WEATHER, TOOL_CALL, TOOL_RESULT], True, {"tools": TOOLS}),
    ]]),
    "qwen2.5": ("qwen", BASIC + [
        ("tools", [WEATHER], True, {"tools": TOOLS}),
        ("tool_call_and_result", [SYSTEM, WEATHER, TOOL_CALL, TOOL_RESULT], True, {"tools": TOOLS}),
    ]),
    "qwen3": ("qwen", BASIC + [
        ("thinking_off", [USER], True, {"enable_thinking": False}),
        ("thinking_on", [USER], True, {"enable_thinking": True}),
        ("reasoning_history", [USER, {"role": "assistant", "content": "<think>\nThe user greets me.\n</think>\n\nHi there!"}, USER2], True, {}),
        ("tools", [WEATHER], True, {"tools": TOOLS}),
        ("tool_call_and_result", [SYSTEM, WEATHER, TOOL_CALL, TOOL_RESULT], True, {"tools": TOOLS}),
        ("no_user_query", [SYSTEM, ASSISTANT], False, {}),
    ]),
    "mistral-v0.1": ("mistral", BASIC[:3] + [
        ("roles_must_alternate", [USER, USER2], True, {}),
        ("system_not_supported", [SYSTEM, USER], True, {}),
    ]),
    "mistral-nemo": ("mistral", BASIC + [
        ("tools", [WEATHER], True, {"tools": TOOLS}),
        ("tool_call_and_result", [WEATHER, TOOL_CALL, TOOL_RESULT], True, {"tools": TOOLS}),
        ("roles_must_alternate", [USER, USER2], True, {}),
        ("bad_tool_call_id", [WEATHER, dict(TOOL_CALL, tool_calls=[dict(TOOL_CALL["tool_calls"][0], id="x")]), TOOL_RESULT], True, {"tools": TOOLS}),
    ]),
    "mixtral": ("mistral", BASIC + [("roles_must_alternate", [SYSTEM, USER, USER2], True, {})]),
    "gemma-2": ("gemma", BASIC[:3] + [
        ("system_not_supported", [SYSTEM, USER], True, {}),
        ("roles_must_alternate", [USER, USER2], True, {}),
    ]),
    "gemma-3": ("gemma", BASIC[:3] + [
        ("system", [GEMMA3_SYSTEM, USER, ASSISTANT, USER2], True, {}),
        ("image_and_text", [GEMMA3_SYSTEM, GEMMA3_MULTI], True, {}),
        ("roles_must_alternate", [USER, USER2], True, {}),
    ]),
    "phi-3": ("phi3", BASIC),
    "phi-4": ("phi4", BASIC),
    "chatml": ("chatml", BASIC),
    "zephyr": ("mistral", BASIC),
}

# ---- small templates for the engine ----
ENGINE = [
    # whitespace control, trim_blocks, lstrip_blocks, comments
    ("{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("  {% if true %}\n  indented\n  {% endif %}\nend", {}),
    ("a  {%- if true -%}  b  {%- endif -%}  c", {}),
    ("x {{- ' y ' -}} z", {}),
    ("a {#- comment -#} b {# other #}\nc", {}),
    ("  {#- x #}\n  {{ 1 }}\n  {%+ if true %}k{% endif %}", {}),
    ("line1\n\n{% for i in range(2) %}\n  item{{ i }}\n{% endfor %}\ntrail\n", {}),
    ("{% raw %}{{ not rendered }}{% endraw %}", {}),
    ("a\r\nb\rc", {}),
    # literals and printing (Python str/repr)
    ("{{ 1 }} {{ 1.5 }} {{ 1e20 }} {{ 1e-5 }} {{ 0.1 + 0.2 }} {{ 3.0 }} {{ -0.0 }} {{ 10 / 4 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}", {}),
    ("{{ true }} {{ none }} {{ True }} {{ [1, 'a', none, 1.5, true] }} {{ {'a': [1, {'b': 'c'}]} }}", {}),
    ("{{ 'it\\'s' }} {{ \"say \\\"hi\\\"\" }} {{ 'tab\\tnew\\nline' }} {{ 'a' 'b' }} {{ '\\u00e9\\x41' }}", {}),
    ("{{ ['it\\'s', 'say \"x\"', 'both \\' \"', 'nl\\n', 'é'] }}", {}),
    ("{{ 1_000 }} {{ 1.5e3 }} {{ 7.0 // 2 }} {{ -7.5 % 2 }} {{ 5 % -3 }}", {}),
    # arithmetic and logic
    ("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' + 'b' }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ [0] * 3 }} {{ 'x' ~ 1 ~ none ~ true }}", {}),
    ("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 'a' != 'b' }}", {}),
    ("{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ not true }} {{ not 0 }}", {}),
    ("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' or [] }} {{ none and 1 }} {{ 'a' if 0 else 'b' }} {{ 'c' if 1 }}|{{ 'd' if 0 }}|", {}),
    ("{{ -3 | abs }} {{ -x }} {{ +x }} {{ not x is defined }}", {"x": 4}),
    # variables, attributes, items, undefined
    ("{{ m.role }} {{ m['content'] }} {{ m.missing }}|{{ m.missing is defined }} {{ y is defined }} {{ y }}|", {"m": {"role": "user", "content": "hi"}}),
    ("{{ l[0] }} {{ l[-1] }} {{ l[5] }}| {{ l.0 }} {{ s[1] }} {{ s[-1] }}", {"l": [10, 20, 30], "s": "héllo"}),
    ("{{ l[1:] }} {{ l[:-1] }} {{ l[::-1] }} {{ l[::2] }} {{ s[::-1] }} {{ s[1:3] }} {{ l[5:] }} {{ l[-10:1] }}", {"l": [1, 2, 3, 4], "s": "héllo"}),
    ("{{ y.z }}", {}),
    ("{{ y + 1 }}", {}),
    ("{{ y | length }} {{ y | default('d') }} {{ y | list }} {% for i in y %}no{% endfor %}{{ y ~ 'k' }}", {}),
    ("{{ m['items'] }}", {"m": {"items": 1}}),
    # tests
    ("{{ x is string }} {{ x is number }} {{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ none is none }} {{ x is none }}", {"x": "s"}),
    ("{{ m is mapping }} {{ l is mapping }} {{ l is iterable }} {{ s is iterable }} {{ 1 is iterable }} {{ l is sequence }} {{ s is sequence }} {{ m is sequence }} {{ y is iterable }}", {"m": {}, "l": [], "s": ""}),
    ("{{ true is boolean }} {{ 1 is boolean }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ 'a' is equalto 'a' }} {{ 1 is eq 1.0 }} {{ 3 is ne 3 }}", {}),
    ("{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 2 is lt 3 }} {{ 2 is gt 3 }} {{ 'a' is in 'cat' }} {{ 'x' is lower }} {{ 'X' is upper }} {{ x is not none }}", {"x": 1}),
    # filters
    ("{{ '  a b  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'abc' | length }}|{{ [1,2] | count }}|{{ {'a':1} | length }}|{{ 'héllo' | length }}", {}),
    ("{{ 'Hello World' | upper }} {{ 'Hello' | lower }} {{ 'hello wORLD-x (y' | title }} {{ 'hELLO world' | capitalize }} {{ 'ß' | upper }}", {}),
    ("{{ none | default('x') }} {{ '' | default('y', true) }} {{ 0 | d('z', boolean=true) }} {{ y | default }}|", {}),
    ("{{ [1, 2, 3] | join(', ') }} {{ ['a', 'b'] | join }} {{ l | join('-', attribute='n') }} {{ [1, none] | join(',') }}", {"l": [{"n": 1}, {"n": 2}]}),
    ("{{ 'abc' | list }} {{ {'a': 1, 'b': 2} | list }} {{ [3, 1] | first }} {{ [3, 1] | last }} {{ 'xyz' | first }} {{ [] | first }}|", {}),
    ("{{ 'aXbX' | replace('X', '-') }} {{ 'aaaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '.') }}", {}),
    ("{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %} {% for k, v in d.items() %}{{ k }}:{{ v }},{% endfor %} {{ d.keys() | list }} {{ d.values() | list }}", {"d": {"z": 1, "a": [2]}}),
    ("{{ 1 | string }} {{ none | string }} {{ [1] | string }} {{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '1.5' | float }} {{ 'a' | float }} {{ 2 | float }} {{ ' 12 ' | int }}", {}),
    ("{{ d | tojson }} {{ 'é\"\\n' | tojson }} {{ [1.0, 2.5e-7, none, true] | tojson }} {{ d | tojson(indent=2) }} {{ d | tojson(sort_keys=true) }} {{ {} | tojson(indent=4) }}", {"d": {"z": "ü🙂", "a": [1, {"b": None}], "n": 1e100}}),
    ("{{ d | tojson(indent=0) }}|{{ d | tojson(separators=(',', ':')) }}|{{ 'ü' | tojson(ensure_ascii=true) }}", {"d": {"a": [1, 2]}}),
    ("{{ ms | selectattr('role', 'equalto', 'user') | list | length }} {{ ms | rejectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ ms | selectattr('x') | list }} {{ ms | selectattr('x', 'defined') | list }}", {"ms": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "x": 1}, {"role": "user", "content": "c"}]}),
    ("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ ['a', 'B'] | map('upper') | list }} {{ [1, 'a'] | map('string') | join }} {{ ms | map(attribute='n', default=0) | list }}", {"ms": [{"n": 5}, {}]}),
    ("{{ ['a', 'A', 'b', 'a'] | unique | list }} {{ ['a', 'A'] | unique(case_sensitive=true) | list }} {{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ [3, 1] | reverse | list }} {{ 'abc' | reverse }}", {}),
    ("{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}|", {}),
    ("{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 1.23456 | round(3, 'floor') }} {{ 1.2 | round(0, 'ceil') }} {{ 3 | round }} {{ -2.5 | abs }} {{ [1, 2.5] | sum }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }}", {}),
    ("{{ 'a & <b>' | e }} {{ 'x' | safe }} {{ '%s=%d' | format('a', 3) }} {{ '%s and %s' % ('x', 1) }} {{ '%05.1f%%' % 3.14159 }} {{ 'one two  three' | wordcount }}", {}),
    # string, list and dict methods
    ("{{ '  x  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  x'.lstrip() }}|{{ 'x  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }}", {}),
    ("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ 'hello world'.title() }} {{ 'aXa'.replace('a', 'b') }} {{ '{} and {name}'.format(1, name='n') }} {{ '-'.join(['a', 'b']) }}", {}),
    ("{{ 'banana'.find('an') }} {{ 'banana'.rfind('an') }} {{ 'banana'.count('a') }} {{ '42'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'a\\nb'.splitlines() }} {{ [1, 2, 1].count(1) }} {{ [1, 2].index(2) }}", {}),
    ("{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 5) }} {{ d['a'] }}", {"d": {"a": 1}}),
    ("{{ l.append(1) }}", {"l": []}),
    ("{{ l.append }}|{{ d.update }}|", {"l": [], "d": {}}),
    # loops
    ("{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {"l": "abc"}),
    ("{% for x in l if x > 1 %}{{ x }}/{{ loop.length }},{% else %}none{% endfor %}|{% for x in [] %}a{% else %}empty{% endfor %}", {"l": [1, 2, 3]}),
    ("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }},{% endfor %}{% for x in l %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {"l": [1, 2, 3, 4, 5]}),
    ("{% for x in l %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('o', 'e') }};{% endfor %}", {"l": [1, 2, 3]}),
    ("{% for k in d %}{{ k }}{% endfor %}{% for i in range(3) %}{% for j in range(i) %}{{ i }}{{ j }} {% endfor %}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("{% for i in range(10, 0, -3) %}{{ i }},{% endfor %}{{ range(3) | list }}", {}),
    # scoping, set, namespace
    ("{% set x = 1 %}{% for i in range(3) %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}", {}),
    ("{% set ns = namespace(total=0, found=false) %}{% for i in range(4) %}{% set ns.total = ns.total + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.found }}", {}),
    ("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t | length }}{% set block %}in {{ a }} block{% endset %}[{{ block }}]{% set up | upper %}shout{% endset %}{{ up }}", {}),
    ("{% with x = 5 %}{{ x }}{% endwith %}{{ x }}|", {}),
    ("{% if x %}a{% elif y %}b{% else %}c{% endif %}{% if not x %}d{% endif %}", {"x": 0, "y": 1}),
    # macros and call blocks
    ("{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C', punct='.') }} {{ greet() }}", {}),
    ("{% macro render(m) %}{{ m.role }}:{{ m.content }}{% endmacro %}{% for m in ms %}{{ render(m) }};{% endfor %}", {"ms": [{"role": "user", "content": "a"}]}),
    ("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inside{% endcall %}", {}),
    ("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}", {}),
    ("{% filter upper %}shout {{ 'this' }}{% endfilter %}", {}),
    ("{% generation %}tracked {{ 1 }}{% endgeneration %}", {}),
    # more Python semantics
    ("{{ 'a' | center(5) }}|{{ '%-5s|%5s' % ('ab', 'cd') }}|{{ '%.2f' % 1.005 }}|{{ '%d' % 3.7 }}", {}),
    ("{{ x | tojson }}", {"x": [1, 2.0, -0.0, 1e300, 123456789012345678]}),
    ("{{ 1e16 }} {{ 1.5e16 }} {{ 123456789.123 }} {{ 0.0001 }} {{ 0.00001234 }} {{ 2.5e-320 }}", {}),
    ("{{ s.split('\\n') }} {{ s.strip() }}", {"s": " a\nb \u3000"}),
    ("{%- set a = 'x' -%}\n  {{ a }}  \n{%- if a %}\n  y\n{%- endif %}", {}),
    ("{% for i in range(3) -%}\n  {{ i }}\n{%- endfor %}", {}),
    ("   {% if true %}\n    x\n   {% endif %}   \n  z", {}),
    ("{{ 10 // 3 }} {{ -10 // 3 }} {{ 10 % -3 }} {{ 10.5 // 3 }} {{ -10.5 % 3 }} {{ 2 ** 0.5 }} {{ true + 1 }} {{ true * 2.5 }}", {}),
    ("{{ 'Ǆ' | lower }} {{ 'ǆ' | capitalize }} {{ 'ﬁx' | upper }}", {}),
    ("{{ '1_000' | int }} {{ ' -5 ' | int }} {{ '1e3' | float }} {{ 'inf' | float }} {{ '0x1A' | int }}", {}),
    ("{% for x in 'ab' %}{% for y in 'cd' %}{{ loop.index }}{{ x }}{{ y }}{% endfor %}{{ loop.index }}{% endfor %}", {}),
    ("{{ 'a' if x else 'b' if y else 'c' }} {{ x.a.b is defined }}", {"x": 0, "y": 0}),
    ("{% macro m(a, b=a ~ '!') %}{{ b }}{% endmacro %}{{ m('x') }} {{ (ms | last).content }}", {"ms": [{"content": "a"}, {"content": "b"}]}),
    ("{{ '\\u00e9' | tojson }} {{ '\\x7f\\x00' | tojson }} {{ {'b': 1, 'a': {'d': 1, 'c': 2}} | tojson(sort_keys=true, indent=1) }}", {}),
    ("{{ 'ab' * -1 }}|{{ [1] * 0 }}|{{ 3 * 'x' }}|{{ 1 == none }} {{ none == none }} {{ [] == [] }} {{ {} == {} }} {{ 'a' == 1 }}", {}),
    ("{{ [3, 'a'] | sort }}", {}),
    ("{{ 1 -}}\u3000\u2003x\n{%- if 1 %}\u3000{% endif %}", {}),
    ("{{ 'a' in none }}", {}),
    ("{{ x.a.b }}", {"x": {"a": {}}}),
    # errors
    ("{{ raise_exception('custom failure: ' ~ x) }}", {"x": 42}),
    ("{{ 1 / 0 }}", {}),
    ("{{ 'a' + 1 }}", {}),
    ("{{ 1 + 'a' }}", {}),
    ("{{ 'a' < 1 }}", {}),
    ("{{ range(100001) | length }}", {}),
    ("{{ range(100000) | length }}", {}),
    ("{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("{{ x.y }}", {"x": None}),
    ("{{ none.y }}", {}),
    ("{{ 'abc'.nope() }}", {}),
    ("{% set x = 1 %}{% set x.y = 2 %}", {}),
    ("{{ 'x' | nosuchfilter }}", {}),
    ("{% if false %}{{ 'x' | nosuchfilter }}{% endif %}", {}),
    ("{{ 'x' is nosuchtest }}", {}),
    ("{% if true %}unclosed", {}),
    ("{{ 1 + }}", {}),
    ("{% for %}", {}),
    ("{% endfor %}", {}),
    ("{{ 'unterminated }}", {}),
    ("{# never closed", {}),
    ("{% break %}", {}),
    ("{% do x.append(1) %}", {}),
    ("{% include 'other.jinja' %}", {}),
    ("{{ (1, 2) | tojson }} {{ y | tojson }}", {}),
    ("{{ [1, 2][1:2] }} {{ 5 | first }}", {}),
]


def main():
    out = {"jinja2_version": jinja2.__version__, "templates": {}, "engine": []}
    for name, (tokens, cases) in TEMPLATES.items():
        with open(os.path.join(DATA, name + ".jinja"), encoding="utf-8") as f:
            source = f.read()
        rows = []
        for case, messages, add_generation_prompt, extra in cases:
            context = dict(TOKENS[tokens])
            context.update(extra)
            row = {"case": case, "messages": messages, "add_generation_prompt": add_generation_prompt, "extra": context}
            row.update(render(source, chat_context(messages, add_generation_prompt, context)))
            rows.append(row)
        out["templates"][name] = rows
    for source, context in ENGINE:
        row = {"template": source, "context": context}
        row.update(render(source, context))
        out["engine"].append(row)
    path = os.path.join(DATA, "expected.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote %s: %d template cases, %d engine cases (jinja2 %s)" % (
        path, sum(len(v) for v in out["templates"].values()), len(out["engine"]), jinja2.__version__), file=sys.stderr)


if __name__ == "__main__":
    main()
