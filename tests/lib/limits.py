"""The product's hard maximums, read from its header, so that no test holds a
copy that can drift from the code:

    from limits import limit
    LIMIT_LINE_BYTES = limit("LIMIT_LINE_BYTES")

HEADER is the one place that names the header. A value is the integer
expression of its #define (numbers, + - * / and parentheses, other names of
the header), as the product's build compiles it: the values a build overrides
with -D (build/short/kling-mcp, see the Makefile) are not seen here.
"""
import ast
import os
import re

HEADER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "src", "all_limits.h")

_defines = None


def _read():
    global _defines
    if _defines is None:
        with open(HEADER) as f:
            text = f.read()
        _defines = dict(re.findall(r"^#define ([A-Z][A-Z0-9_]*) +(.+?)\s*$", text, re.M))
    return _defines


def _eval(node, seen):
    if isinstance(node, ast.Expression):
        return _eval(node.body, seen)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name):
        return limit(node.id, seen)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, seen)
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, seen), _eval(node.right, seen)
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
               ast.Div: lambda: int(a / b), ast.FloorDiv: lambda: a // b}
        if type(node.op) in ops:
            return ops[type(node.op)]()
    raise ValueError(f"{HEADER}: cannot read {ast.dump(node)} as an integer")


def limit(name, seen=()):
    """The integer value of #define name in the header; KeyError when it has none."""
    defines = _read()
    if name not in defines:
        raise KeyError(f"{name} is not defined in {HEADER}")
    if name in seen:
        raise ValueError(f"{HEADER}: {name} is defined in terms of itself")
    expr = re.sub(r"\b(\d+)[uUlL]+\b", r"\1", defines[name].split("/*")[0].strip())
    return _eval(ast.parse(expr, mode="eval"), (*seen, name))
