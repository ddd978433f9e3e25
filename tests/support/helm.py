"""Renders the project's Helm chart without the ``helm`` binary.

No ``helm`` can be installed on these machines (Debian has no package and the
registries reached here carry no build of it), so the chart's templates are
rendered here for validation against the Kubernetes schemas. This is the
subset of Go templates and Sprig that ``infra/helm/portal`` uses: fields of
``.Values`` / ``.Release`` / ``.Chart``, variables, ``if`` / ``else`` /
``range $k, $v :=``, ``define`` / ``include``, pipelines and the functions in
``FUNCTIONS``. Anything else raises ``Unsupported``: a chart change that needs
more must extend this renderer (or the project gains a real ``helm``), never
silently render something different.
"""

from __future__ import annotations

import base64
import copy
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


class Unsupported(Exception):
    """A template construct this renderer does not implement."""


@dataclass
class Node:
    kind: str  # text, output, if, range, define
    value: str = ""
    body: list[Node] = field(default_factory=list)
    alternative: list[Node] = field(default_factory=list)
    variables: tuple[str, ...] = ()


def _tokens(source: str) -> list[tuple[str, str]]:
    """("text", s) and ("action", s) pieces, whitespace trimmed as ``{{-`` and
    ``-}}`` ask."""
    pieces: list[tuple[str, str]] = []
    position = 0
    trim_next = False
    for match in ACTION.finditer(source):
        text = source[position : match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        pieces.append(("text", text))
        pieces.append(("action", match.group(2).strip()))
        trim_next = bool(match.group(3))
        position = match.end()
    tail = source[position:]
    pieces.append(("text", tail.lstrip() if trim_next else tail))
    return pieces


def parse(source: str) -> list[Node]:
    root: list[Node] = []
    stack: list[tuple[Node | None, list[Node]]] = [(None, root)]
    for kind, piece in _tokens(source):
        current = stack[-1][1]
        if kind == "text":
            if piece:
                current.append(Node("text", piece))
            continue
        if piece.startswith("/*"):
            continue
        word, _, rest = piece.partition(" ")
        if word == "if":
            node = Node("if", rest.strip())
            current.append(node)
            stack.append((node, node.body))
        elif word == "else" and not rest:
            node_or_none = stack[-1][0]
            if node_or_none is None or node_or_none.kind != "if":
                raise Unsupported("else outside if")
            stack[-1] = (node_or_none, node_or_none.alternative)
        elif word == "range":
            match = re.fullmatch(r"(\$\w+)\s*,\s*(\$\w+)\s*:=\s*(.+)", rest.strip())
            if not match:
                raise Unsupported(f"range form: {piece!r} (use range $key, $value := ...)")
            node = Node("range", match.group(3), variables=(match.group(1), match.group(2)))
            current.append(node)
            stack.append((node, node.body))
        elif word == "define":
            node = Node("define", shlex.split(rest)[0])
            current.append(node)
            stack.append((node, node.body))
        elif word == "end" and not rest:
            if len(stack) == 1:
                raise Unsupported("end without a block")
            stack.pop()
        elif word in ("with", "template", "block", "else", "break", "continue"):
            raise Unsupported(f"{word!r} is not implemented by tests/support/helm.py")
        else:
            current.append(Node("output", piece))
    if len(stack) != 1:
        raise Unsupported("a block is not closed with end")
    return root


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True, allow_unicode=True).rstrip("\n")


def _indent(width: int, text: str) -> str:
    return "\n".join(" " * width + line for line in str(text).split("\n"))


def _quote(*values: Any) -> str:
    return " ".join('"' + _format(value).replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)


def _truthy(value: Any) -> bool:
    return bool(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toYaml": _to_yaml,
    "nindent": lambda width, text: "\n" + _indent(int(width), text),
    "indent": lambda width, text: _indent(int(width), text),
    "quote": _quote,
    "not": lambda value: not _truthy(value),
    "default": lambda fallback, value=None: value if _truthy(value) else fallback,
    "b64enc": lambda text: base64.b64encode(str(text).encode()).decode(),
}


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Renderer:
    def __init__(self, chart: Path, values: Mapping[str, Any], *, release: str = "release") -> None:
        self.chart_dir = chart
        chart_meta = yaml.safe_load((chart / "Chart.yaml").read_text())
        self.root = {
            "Values": values,
            "Release": {"Name": release, "Namespace": "default", "Service": "Helm"},
            "Chart": {"Name": chart_meta["name"], "Version": chart_meta["version"], "AppVersion": chart_meta.get("appVersion", "")},
        }
        self.defines: dict[str, list[Node]] = {}
        for helper in sorted((chart / "templates").glob("_*.tpl")):
            for node in parse(helper.read_text()):
                if node.kind == "define":
                    self.defines[node.value] = node.body
                elif node.kind != "text" or node.value.strip():
                    raise Unsupported(f"{helper.name}: only define blocks belong in a helper file")

    def render_all(self) -> dict[str, str]:
        """Template file name -> rendered text, as ``helm template`` would."""
        rendered = {}
        for template in sorted((self.chart_dir / "templates").glob("*.yaml")):
            rendered[template.name] = self.render(parse(template.read_text()), self.root, {"$": self.root})
        return rendered

    def render(self, nodes: list[Node], dot: Any, variables: dict[str, Any]) -> str:
        out: list[str] = []
        for node in nodes:
            if node.kind == "text":
                out.append(node.value)
            elif node.kind == "output":
                out.append(_format(self.pipeline(node.value, dot, variables)))
            elif node.kind == "if":
                branch = node.body if _truthy(self.pipeline(node.value, dot, variables)) else node.alternative
                out.append(self.render(branch, dot, variables))
            elif node.kind == "range":
                collection = self.pipeline(node.value, dot, variables)
                items = sorted(collection.items()) if isinstance(collection, Mapping) else enumerate(collection or [])
                for key, value in items:
                    scope = {**variables, node.variables[0]: key, node.variables[1]: value}
                    out.append(self.render(node.body, value, scope))
            else:
                raise Unsupported(f"{node.kind} inside a template")
        return "".join(out)

    def pipeline(self, source: str, dot: Any, variables: dict[str, Any]) -> Any:
        commands = [part.strip() for part in _split_pipes(source)]
        value: Any = None
        for index, command in enumerate(commands):
            words = shlex.split(command, posix=False)
            if index == 0 and len(words) == 1 and words[0] not in FUNCTIONS and words[0] != "include":
                value = self.term(words[0], dot, variables)
                continue
            name, args = words[0], [self.term(word, dot, variables) for word in words[1:]]
            if index > 0:
                args.append(value)
            if name == "include":
                template, context = args
                value = self.render(self.defines[template], context, {"$": context})
            elif name in FUNCTIONS:
                value = FUNCTIONS[name](*args)
            else:
                raise Unsupported(f"function {name!r} is not implemented by tests/support/helm.py")
        return value

    def term(self, word: str, dot: Any, variables: dict[str, Any]) -> Any:
        if word.startswith('"') and word.endswith('"'):
            return word[1:-1]
        if re.fullmatch(r"-?\d+", word):
            return int(word)
        if word == ".":
            return dot
        if word.startswith("."):
            return _field(dot, word[1:].split("."))
        if word.startswith("$"):
            name, _, path = word.partition(".")
            if name not in variables:
                raise Unsupported(f"unknown variable {name}")
            return _field(variables[name], path.split(".")) if path else variables[name]
        raise Unsupported(f"term {word!r} is not implemented by tests/support/helm.py")


def _split_pipes(source: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in source:
        if char == '"':
            quoted = not quoted
        if char == "|" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _field(value: Any, path: list[str]) -> Any:
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Values overridden the way ``--set`` / ``-f`` do: maps merge, the rest replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def render_chart(chart: Path, overrides: Mapping[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(template file, object) for every object the chart renders to with its
    values (and overrides)."""
    values = merge(yaml.safe_load((chart / "values.yaml").read_text()), overrides or {})
    objects = []
    for name, text in Renderer(chart, values).render_all().items():
        objects.extend((name, document) for document in yaml.safe_load_all(text) if document)
    return objects
