"""A Terraform module as a tree: blocks, attributes and expressions, with their line numbers.

The text is parsed by the Lark grammar of `hcl2` (bc-python-hcl2, the parser checkov runs), whose
tree keeps what the dict form loses: a nested block (`rule { }`) apart from an argument holding an
object (`rule = { }`), and every expression's structure. Its grammar keeps a quoted template as one
token: the interpolations inside are parsed here, each with the same grammar. Its binary operators
have no precedence: chains are re-associated here by Terraform's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Token, Tree


class HclError(Exception):
    """The text is not HCL this checker reads (with the file and line)."""


# -- expressions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expr:
    """Any expression; `line` is where it starts."""


@dataclass(frozen=True)
class Literal(Expr):
    value: Any  # str, int, float, bool or None


@dataclass(frozen=True)
class Template(Expr):
    """A quoted string: literal text and interpolated expressions, in order."""

    parts: tuple[str | Expr, ...]


@dataclass(frozen=True)
class Name(Expr):
    """A bare name: the root of a reference (var, local, aws_s3_bucket, each, count, path)."""

    name: str


@dataclass(frozen=True)
class GetAttr(Expr):
    target: Expr
    name: str


@dataclass(frozen=True)
class Index(Expr):
    target: Expr
    key: Expr


@dataclass(frozen=True)
class Splat(Expr):
    """`target[*].a.b`: each element of target, then the accessors (as a function of `Name("*")`)."""

    target: Expr
    each: Expr


@dataclass(frozen=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]
    expand_last: bool = False


@dataclass(frozen=True)
class Conditional(Expr):
    condition: Expr
    if_true: Expr
    if_false: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Unary(Expr):
    op: str
    operand: Expr


@dataclass(frozen=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ObjectExpr(Expr):
    """`{ key = value }`: a bare identifier key is its own name (a string), others expressions."""

    items: tuple[tuple[str | Expr, Expr], ...]


@dataclass(frozen=True)
class ForExpr(Expr):
    """`[for k, v in coll : value if cond]` (key is None) or `{for ... : key => value}`."""

    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None
    value: Expr
    condition: Expr | None
    grouping: bool = False


# -- the module's structure ------------------------------------------------------------------------
@dataclass
class Attribute:
    name: str
    expr: Expr
    file: str
    line: int


@dataclass
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def blocks_of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]


@dataclass
class Block:
    type: str
    labels: tuple[str, ...]
    body: Body
    file: str
    line: int
    #: Labels written as bare identifiers (`resource aws_s3_bucket x {}`), which fmt quotes.
    bare_labels: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Module:
    """Every top-level block of a directory's .tf files."""

    directory: Path
    blocks: list[Block]

    def of_type(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]

    @property
    def variables(self) -> dict[str, Block]:
        return {b.labels[0]: b for b in self.of_type("variable")}

    @property
    def locals(self) -> dict[str, Attribute]:
        found: dict[str, Attribute] = {}
        for block in self.of_type("locals"):
            for name, attribute in block.body.attributes.items():
                if name in found:
                    raise HclError(f"{attribute.file}:{attribute.line}: local.{name} is defined twice")
                found[name] = attribute
        return found

    @property
    def outputs(self) -> dict[str, Block]:
        return {b.labels[0]: b for b in self.of_type("output")}

    def resources(self, mode: str = "resource") -> dict[tuple[str, str], Block]:
        """`resource`, `data` or `ephemeral` blocks by (type, name)."""
        return {(b.labels[0], b.labels[1]): b for b in self.of_type(mode)}


# -- parsing ---------------------------------------------------------------------------------------
def _parser() -> Any:
    from hcl2.parser import hcl2

    return hcl2.lark_parser


def parse_text(text: str, file: str = "<text>") -> list[Block | Attribute]:
    """The top-level blocks and attributes of a text (a .tf file has blocks only)."""
    try:
        tree = _parser().parse(text + "\n")
    except Exception as error:  # Lark's errors name the line and column
        raise HclError(f"{file}: {error}") from None
    return _Converter(file).body_items(_only(tree, "body"))


def load_module(directory: Path) -> Module:
    """Every .tf file of a directory (not its subdirectories, as Terraform reads a module)."""
    blocks: list[Block] = []
    for path in sorted(directory.glob("*.tf")):
        for item in parse_text(path.read_text(), path.name):
            if not isinstance(item, Block):
                raise HclError(f"{path.name}:{item.line}: an argument outside any block ({item.name})")
            blocks.append(item)
    return Module(directory, blocks)


def parse_expression(text: str, file: str = "<expression>", line: int = 1) -> Expr:
    """One expression, alone (the inside of an interpolation)."""
    items = parse_text(f"__expression__ = {text.strip()}", file)
    if len(items) != 1 or not isinstance(items[0], Attribute):
        raise HclError(f"{file}:{line}: not one expression: {text!r}")
    return items[0].expr


def _only(tree: Tree[Any], name: str) -> Tree[Any]:
    (child,) = [c for c in tree.children if isinstance(c, Tree) and c.data == name]
    return child


_PRECEDENCE = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    ">": 4,
    "<=": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class _Converter:
    """Lark tree -> the dataclasses above."""

    def __init__(self, file: str) -> None:
        self.file = file

    def line(self, node: Tree[Any] | Token) -> int:
        if isinstance(node, Token):
            return node.line or 0
        return getattr(node.meta, "line", 0) if not node.meta.empty else 0

    def body_items(self, body: Tree[Any]) -> list[Block | Attribute]:
        items: list[Block | Attribute] = []
        for child in body.children:
            if isinstance(child, Tree) and child.data == "attribute":
                items.append(self.attribute(child))
            elif isinstance(child, Tree) and child.data == "block":
                items.append(self.block(child))
        return items

    def body(self, tree: Tree[Any]) -> Body:
        body = Body()
        for item in self.body_items(tree):
            if isinstance(item, Block):
                body.blocks.append(item)
            elif item.name in body.attributes:
                raise HclError(f"{self.file}:{item.line}: the argument {item.name} is set twice")
            else:
                body.attributes[item.name] = item
        return body

    def attribute(self, tree: Tree[Any]) -> Attribute:
        name_node, expr_node = [c for c in tree.children if isinstance(c, Tree)][:2]
        return Attribute(self.identifier(name_node), self.expr(expr_node), self.file, self.line(tree))

    def block(self, tree: Tree[Any]) -> Block:
        parts = tree.children
        kind = self.identifier(parts[0])
        labels: list[str] = []
        bare: list[str] = []
        body_tree = None
        for part in parts[1:]:
            if isinstance(part, Tree) and part.data == "identifier":
                labels.append(self.identifier(part))
                bare.append(labels[-1])
            elif isinstance(part, Tree) and part.data == "body":
                body_tree = part
            elif isinstance(part, Token) and part.type == "STRING_LIT":
                template = self.template(part)
                if not (len(template.parts) <= 1 and all(isinstance(p, str) for p in template.parts)):
                    raise HclError(f"{self.file}:{self.line(part)}: a block label cannot interpolate")
                labels.append("".join(str(p) for p in template.parts))
        assert body_tree is not None
        return Block(kind, tuple(labels), self.body(body_tree), self.file, self.line(tree), tuple(bare))

    @staticmethod
    def identifier(tree: Tree[Any]) -> str:
        return str(tree.children[0])

    # expressions
    def expr(self, node: Tree[Any] | Token) -> Expr:
        if isinstance(node, Token):
            return self.token(node)
        handler = getattr(self, f"e_{node.data}", None)
        if handler is None:
            raise HclError(f"{self.file}:{self.line(node)}: unsupported expression ({node.data})")
        result: Expr = handler(node)
        return result

    def token(self, token: Token) -> Expr:
        if token.type == "STRING_LIT":
            return self.template(token)
        raise HclError(f"{self.file}:{self.line(token)}: unexpected {token.type} {token!s}")

    def e_expr_term(self, tree: Tree[Any]) -> Expr:
        (child,) = tree.children
        if isinstance(child, Tree) and child.data == "binary_op":
            return self.binary_chain(child, parenthesised=True)
        return self.expr(child)

    def e_identifier(self, tree: Tree[Any]) -> Expr:
        name = self.identifier(tree)
        keywords: dict[str, Any] = {"true": True, "false": False, "null": None}
        return Literal(keywords[name]) if name in keywords else Name(name)

    def e_int_lit(self, tree: Tree[Any]) -> Expr:
        return Literal(int("".join(str(c) for c in tree.children)))

    def e_float_lit(self, tree: Tree[Any]) -> Expr:
        return Literal(float("".join(str(c) for c in tree.children)))

    def e_heredoc_template(self, tree: Tree[Any]) -> Expr:
        raise HclError(f"{self.file}:{self.line(tree)}: heredocs are not read here: use a file or jsonencode")

    e_heredoc_template_trim = e_heredoc_template

    def e_tuple(self, tree: Tree[Any]) -> Expr:
        return TupleExpr(tuple(self.expr(c) for c in tree.children if isinstance(c, Tree)))

    def e_object(self, tree: Tree[Any]) -> Expr:
        items: list[tuple[str | Expr, Expr]] = []
        for elem in tree.children:
            if not isinstance(elem, Tree):
                continue
            key_node, value_node = [c for c in elem.children if isinstance(c, Tree | Token)][:2]
            key: str | Expr
            if isinstance(key_node, Tree) and key_node.data == "identifier":
                key = self.identifier(key_node)
            else:
                key = self.expr(key_node)
            items.append((key, self.expr(value_node)))
        return ObjectExpr(tuple(items))

    def e_function_call(self, tree: Tree[Any]) -> Expr:
        name = self.identifier(tree.children[0])
        args: list[Expr] = []
        expand = False
        for child in tree.children[1:]:
            if isinstance(child, Tree) and child.data == "arguments":
                args = [self.expr(a) for a in child.children if isinstance(a, Tree)]
                expand = any(isinstance(a, Token) and str(a) == "..." for a in child.children)
        return Call(name, tuple(args), expand)

    def e_get_attr_expr_term(self, tree: Tree[Any]) -> Expr:
        target, accessor = tree.children
        return GetAttr(self.expr(target), self.identifier(accessor.children[0]))

    def e_index_expr_term(self, tree: Tree[Any]) -> Expr:
        target, index = tree.children
        return Index(self.expr(target), self.index_key(index))

    def index_key(self, index: Tree[Any]) -> Expr:
        (key,) = index.children if len(index.children) == 1 else (None,)
        if key is None:  # `.0` written as `"." DECIMAL+`
            return Literal(int("".join(str(c) for c in index.children)))
        if isinstance(key, Token) and key.type == "DECIMAL":
            return Literal(int(str(key)))
        return self.expr(key)

    def splat(self, tree: Tree[Any]) -> Expr:
        target, splat = tree.children
        each: Expr = Name("*")
        for accessor in splat.children:
            if accessor.data == "get_attr":
                each = GetAttr(each, self.identifier(accessor.children[0]))
            else:
                each = Index(each, self.index_key(accessor))
        return Splat(self.expr(target), each)

    e_attr_splat_expr_term = splat
    e_full_splat_expr_term = splat

    def e_conditional(self, tree: Tree[Any]) -> Expr:
        condition, if_true, if_false = [self.expr(c) for c in tree.children if isinstance(c, Tree)]
        return Conditional(condition, if_true, if_false)

    def e_unary_op(self, tree: Tree[Any]) -> Expr:
        op, operand = tree.children
        return Unary(str(op), self.expr(operand))

    def e_binary_op(self, tree: Tree[Any]) -> Expr:
        return self.binary_chain(tree, parenthesised=False)

    def binary_chain(self, tree: Tree[Any], *, parenthesised: bool) -> Expr:
        """Flatten a chain of unparenthesised binary operations, then apply Terraform's precedence."""
        operands: list[Expr] = []
        operators: list[str] = []
        # The grammar reads `a == b ? x : y` as `a == (b ? x : y)`; a conditional binds loosest.
        branches: list[tuple[Expr, Expr]] = []

        def walk(node: Tree[Any]) -> None:
            left, term = node.children
            if isinstance(left, Tree) and left.data == "binary_op":
                walk(left)
            else:
                operands.append(self.expr(left))
            operator_node, right = [c for c in term.children if isinstance(c, Tree)]
            operators.append(str(operator_node.children[0]))
            if isinstance(right, Tree) and right.data == "conditional" and not branches:
                condition, if_true, if_false = [c for c in right.children if isinstance(c, Tree)]
                branches.append((self.expr(if_true), self.expr(if_false)))
                right = condition
            if isinstance(right, Tree) and right.data == "binary_op":
                walk(right)
            else:
                operands.append(self.expr(right))

        walk(tree)
        result = _associate(operands, operators)
        for if_true, if_false in branches:
            result = Conditional(result, if_true, if_false)
        return result

    def e_for_tuple_expr(self, tree: Tree[Any]) -> Expr:
        return self.for_expr(tree, is_object=False)

    def e_for_object_expr(self, tree: Tree[Any]) -> Expr:
        return self.for_expr(tree, is_object=True)

    def for_expr(self, tree: Tree[Any], *, is_object: bool) -> Expr:
        intro = next(c for c in tree.children if isinstance(c, Tree) and c.data == "for_intro")
        names = [self.identifier(c) for c in intro.children if isinstance(c, Tree) and c.data == "identifier"]
        (collection,) = [c for c in intro.children if isinstance(c, Tree) and c.data != "identifier"]
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        rest = [c for c in tree.children if isinstance(c, Tree) and c.data not in ("for_intro", "for_cond")]
        condition_node = next(
            (c for c in tree.children if isinstance(c, Tree) and c.data == "for_cond"), None
        )
        condition = None
        if condition_node is not None:
            (condition_tree,) = [c for c in condition_node.children if isinstance(c, Tree)]
            condition = self.expr(condition_tree)
        grouping = any(isinstance(c, Token) and str(c) == "..." for c in tree.children)
        if is_object:
            key, value = (self.expr(c) for c in rest)
            return ForExpr(key_var, value_var, self.expr(collection), key, value, condition, grouping)
        (value,) = (self.expr(c) for c in rest)
        return ForExpr(key_var, value_var, self.expr(collection), None, value, condition)

    # templates
    def template(self, token: Token) -> Template:
        text = str(token)[1:-1]
        parts: list[str | Expr] = []
        literal: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\\":
                literal.append(self.escape(text, i, token))
                i += 6 if text[i + 1] == "u" else 2
            elif text.startswith("$${", i) or text.startswith("%%{", i):
                literal.append(text[i + 1 : i + 3])
                i += 3
            elif text.startswith("%{", i):
                raise HclError(
                    f"{self.file}:{self.line(token)}: template directives (%{{...}}) are not read here"
                )
            elif text.startswith("${", i):
                end = _closing_brace(text, i + 2)
                if end < 0:
                    raise HclError(f"{self.file}:{self.line(token)}: unclosed interpolation in {token!s}")
                if literal:
                    parts.append("".join(literal))
                    literal = []
                inner = text[i + 2 : end].strip("~ \t")
                parts.append(parse_expression(inner, self.file, self.line(token)))
                i = end + 1
            else:
                literal.append(char)
                i += 1
        if literal:
            parts.append("".join(literal))
        return Template(tuple(parts))

    def escape(self, text: str, i: int, token: Token) -> str:
        code = text[i + 1 : i + 2]
        if code == "u":
            return chr(int(text[i + 2 : i + 6], 16))
        if code not in _ESCAPES:
            raise HclError(f"{self.file}:{self.line(token)}: unknown escape \\{code}")
        return _ESCAPES[code]


def _closing_brace(text: str, start: int) -> int:
    """The index of the `}` closing an interpolation opened before `start` (quotes and braces nest)."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _associate(operands: list[Expr], operators: list[str]) -> Expr:
    """Left-associative binary operations by precedence (operator-precedence parsing)."""
    output: list[Expr] = [operands[0]]
    pending: list[str] = []

    def reduce() -> None:
        op = pending.pop()
        right = output.pop()
        left = output.pop()
        output.append(Binary(op, left, right))

    for op, operand in zip(operators, operands[1:], strict=True):
        while pending and _PRECEDENCE[pending[-1]] >= _PRECEDENCE[op]:
            reduce()
        pending.append(op)
        output.append(operand)
    while pending:
        reduce()
    (result,) = output
    return result


def bare_interpolation(expr: Expr) -> bool:
    """`"${x}"`: a template that only interpolates one expression (terraform fmt unwraps it)."""
    return isinstance(expr, Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], Expr)


def unquoted_type_keyword(expr: Expr) -> str | None:
    """A variable type fmt rewrites: `"string"` (0.11 syntax) or a bare `list`, `map`, `set`."""
    if isinstance(expr, Template) and expr.parts in (("string",), ("list",), ("map",)):
        return f'"{expr.parts[0]}"'
    if isinstance(expr, Name) and expr.name in ("list", "map", "set"):
        return expr.name
    return None


def snake_case(name: str) -> str:
    """CamelCase -> snake_case (`ExistingTableName` -> `existing_table_name`)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
