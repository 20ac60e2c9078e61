"""The reference site: both specs and the rule catalog rendered into one self-contained ``index.html``.

Everything the page needs is in the file (CSS inline, the state diagram as inline SVG, no scripts, no
fonts or CDNs): it opens from ``file://`` offline. Jinja2 lays the page out (autoescaped); markdown-it-py
renders the specs' Markdown descriptions (raw HTML off). Anchors are stable: ``#op-{operationId}``,
``#schema-{pc|graph}-{Name}``, ``#rule-{ID}``, ``#sp-{ID}`` (silent points), ``#charge-types``,
``#operation-states``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from .. import __version__
from ..truth import yamlio
from ..truth.resources import contracts_dir, specs_dir
from ..truth.rules import Rule, catalog, charge_types, operation_states
from .diagram import state_diagram_svg

INDEX = "index.html"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_SPEC_KEYS = {"partner-center": "pc", "graph": "graph"}  # file-name prefix -> anchor key
_API_OF_KEY = {"pc": "partner-center", "graph": "graph"}


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def md(text: Any) -> Markup:
    return Markup(_markdown().render(str(text))) if text else Markup("")


@dataclass
class Spec:
    key: str  # pc | graph
    file: str  # specs/<name>.yaml
    doc: dict[str, Any]
    rules: list[Rule] = field(default_factory=list)

    @property
    def api(self) -> str:
        return _API_OF_KEY.get(self.key, self.key)

    def resolve(self, node: Any) -> Any:
        """Follow local ``$ref``s (``#/components/...``) until a node that is not a reference."""
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 20:
            target: Any = self.doc
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node, seen = target, seen + 1
        return node


def _spec_key(path: Path) -> str:
    return next((key for prefix, key in _SPEC_KEYS.items() if path.name.startswith(prefix)), path.stem)


def load_specs() -> list[Spec]:
    specs = []
    for path in sorted(specs_dir().glob("*.yaml"), key=lambda p: (not p.name.startswith("partner"), p.name)):
        spec = Spec(_spec_key(path), f"specs/{path.name}", yamlio.load_file(path))
        spec.rules = [r for r in catalog().values() if r.api == spec.api]
        specs.append(spec)
    return specs


# ------------------------------------------------------------------------------------------------ schemas


class SchemaWriter:
    """A JSON Schema as nested HTML: types, constraints, required marks, descriptions, alternatives, links."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def anchor(self, ref: str) -> str:
        return f"schema-{self.spec.key}-{ref.rsplit('/', 1)[-1]}"

    def link(self, ref: str) -> Markup:
        name = ref.rsplit("/", 1)[-1]
        return Markup('<a class="ref" href="#{}"><code>{}</code></a>').format(self.anchor(ref), name)

    def constraints(self, s: dict[str, Any]) -> list[Markup]:
        out = []
        kind = s.get("type")
        if kind:
            out.append(Markup('<span class="type">{}</span>').format(" | ".join(kind) if isinstance(kind, list) else kind))
        for key, label in (("format", "format"), ("pattern", "pattern"), ("minimum", "≥"), ("maximum", "≤"),
                           ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<"), ("minLength", "min length"),
                           ("maxLength", "max length"), ("minItems", "min items"), ("maxItems", "max items"),
                           ("default", "default"), ("const", "const")):
            if key in s:
                out.append(Markup('<span class="constraint">{} <code>{}</code></span>').format(label, json.dumps(s[key])))
        if "enum" in s:
            values = Markup(", ").join(Markup("<code>{}</code>").format(json.dumps(v)) for v in s["enum"])
            out.append(Markup('<span class="constraint">one of {}</span>').format(values))
        if s.get("additionalProperties") is False:
            out.append(Markup('<span class="constraint">closed: no other property</span>'))
        if s.get("x-case-insensitive"):
            out.append(Markup('<span class="badge case">case-insensitive</span>'))
        if s.get("nullable"):
            out.append(Markup('<span class="constraint">nullable</span>'))
        return out

    def render(self, schema: Any, depth: int = 0, expand: int = 1, seen: frozenset[str] = frozenset()) -> Markup:
        if not isinstance(schema, dict):
            return Markup('<span class="type">any</span>')
        ref = schema.get("$ref")
        if isinstance(ref, str):
            head = Markup('<div class="schema-ref">{}</div>').format(self.link(ref))
            if expand > 0 and ref not in seen:
                return head + self.render(self.spec.resolve(schema), depth, expand - 1, seen | {ref})
            return head
        parts: list[Markup] = []
        line = self.constraints(schema)
        if line:
            parts.append(Markup('<div class="constraints">{}</div>').format(Markup(" ").join(line)))
        if schema.get("description") and depth > 0:
            parts.append(Markup('<div class="desc">{}</div>').format(md(schema["description"])))
        for key, label in (("oneOf", "exactly one of"), ("anyOf", "any of"), ("allOf", "all of")):
            if key in schema:
                items = Markup("").join(Markup("<li>{}</li>").format(self.render(sub, depth + 1, expand, seen)) for sub in schema[key])
                parts.append(Markup('<div class="alternatives"><span class="label">{}:</span><ol>{}</ol></div>').format(label, items))
        if "if" in schema:
            branches = [(word, schema[key]) for word, key in (("if", "if"), ("then", "then"), ("else", "else")) if key in schema]
            items = Markup("").join(Markup('<li><span class="label">{}</span> {}</li>').format(word, self.render(sub, depth + 1, expand, seen))
                                    for word, sub in branches)
            parts.append(Markup('<div class="alternatives"><ul>{}</ul></div>').format(items))
        disc = schema.get("discriminator")
        if isinstance(disc, dict):
            rows = Markup("").join(Markup("<li><code>{}</code> → {}</li>").format(k, self.link(v)) for k, v in (disc.get("mapping") or {}).items())
            parts.append(Markup('<div class="discriminator">discriminated by <code>{}</code><ul>{}</ul></div>').format(disc.get("propertyName"), rows))
        if "items" in schema:
            parts.append(Markup('<div class="items"><span class="label">items:</span> {}</div>').format(self.render(schema["items"], depth + 1, expand, seen)))
        props = schema.get("properties")
        if isinstance(props, dict) and props:
            required = set(schema.get("required") or [])
            rows = []
            for name, sub in props.items():
                mark = Markup(' <span class="badge required">required</span>') if name in required else Markup("")
                rows.append(Markup('<li class="property"><code class="name">{}</code>{}<div class="sub">{}</div></li>').format(
                    name, mark, self.render(sub, depth + 1, expand, seen)))
            parts.append(Markup('<ul class="properties">{}</ul>').format(Markup("").join(rows)))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            parts.append(Markup('<div class="items"><span class="label">other properties:</span> {}</div>').format(self.render(extra, depth + 1, expand, seen)))
        return Markup('<div class="schema">{}</div>').format(Markup("").join(parts))


# ------------------------------------------------------------------------------------------------ page data


def _example_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def _examples(spec: Spec, holder: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, example in (holder.get("examples") or {}).items():
        ex = spec.resolve(example)
        if isinstance(ex, dict):
            out.append({"name": name, "summary": ex.get("summary", ""), "description": ex.get("description", ""),
                        "text": _example_text(ex.get("value", ex.get("externalValue", "")))})
    if "example" in holder:
        out.append({"name": "example", "summary": "", "description": "", "text": _example_text(holder["example"])})
    return out


def _content(spec: Spec, writer: SchemaWriter, holder: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"media_type": media, "schema": writer.render(body.get("schema"), expand=1) if body.get("schema") else None,
             "examples": _examples(spec, body)} for media, body in (holder.get("content") or {}).items()]


def _headers(spec: Spec, writer: SchemaWriter, headers: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, header in (headers or {}).items():
        h = spec.resolve(header)
        out.append({"name": name, "required": bool(h.get("required")), "description": md(h.get("description", "")),
                    "schema": writer.render(h.get("schema"), depth=1, expand=0) if h.get("schema") else None,
                    "examples": _examples(spec, h)})
    return out


def _operations(spec: Spec, writer: SchemaWriter) -> list[dict[str, Any]]:
    ops = []
    for path, item in (spec.doc.get("paths") or {}).items():
        shared = item.get("parameters") or []
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = []
            for p in [*shared, *(op.get("parameters") or [])]:
                p = spec.resolve(p)
                params.append({
                    "name": p.get("name"), "in": p.get("in"), "required": bool(p.get("required")),
                    "case_insensitive": bool(p.get("x-case-insensitive")),
                    "spellings": p.get("x-spellings-seen") or [],
                    "description": md(p.get("description", "")),
                    "schema": writer.render(p.get("schema"), depth=1, expand=0) if p.get("schema") else None,
                    "examples": _examples(spec, p),
                })
            body = spec.resolve(op.get("requestBody")) if op.get("requestBody") else None
            responses = []
            for status, response in (op.get("responses") or {}).items():
                r = spec.resolve(response)
                ref = response.get("$ref") if isinstance(response, dict) else None
                responses.append({"status": str(status), "ref": ref.rsplit("/", 1)[-1] if ref else None,
                                  "description": md(r.get("description", "")),
                                  "headers": _headers(spec, writer, r.get("headers") or {}),
                                  "content": _content(spec, writer, r)})
            op_id = op.get("operationId") or f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "")
            ops.append({
                "id": op_id, "anchor": f"op-{op_id}", "method": method.upper(), "path": path,
                "summary": op.get("summary", ""), "description": md(op.get("description", "")),
                "case_insensitive": bool(op.get("x-case-insensitive")),
                "doc_requests": op.get("x-doc-request-examples") or [],
                "parameters": params,
                "request_body": None if body is None else {"required": bool(body.get("required")),
                                                           "description": md(body.get("description", "")),
                                                           "content": _content(spec, writer, body)},
                "responses": responses,
            })
    return ops


def _rule_anchor_of_pointer(spec_pointer: str | None, specs: list[Spec]) -> str | None:
    if not spec_pointer or "#" not in spec_pointer:
        return None
    file, pointer = spec_pointer.split("#", 1)
    spec = next((s for s in specs if s.file == file), None)
    if spec is None or not pointer.startswith("/components/schemas/"):
        return None
    # the schema the pointer is in (a pointer may go deeper, e.g. .../ExportRow/properties/InvoiceNumber)
    return f"schema-{spec.key}-{pointer[len('/components/schemas/'):].split('/', 1)[0]}"


def _rules(specs: list[Spec]) -> list[dict[str, Any]]:
    return [{
        "id": rule.id, "api": rule.api, "severity": rule.severity, "statement": rule.statement,
        "source": rule.source, "tolerance": rule.tolerance, "spec": rule.spec,
        "spec_anchor": _rule_anchor_of_pointer(rule.spec, specs), "test": rule.test,
        "evidence": [{"quote": e.quote, "source": e.source} for e in rule.evidence],
        "reasoning": rule.reasoning,
        "mapping": rule.mapping, "states": rule.states,
    } for rule in catalog().values()]


def _silent_points() -> list[dict[str, Any]] | None:
    """The silent-points register (contracts/silent-points.yaml) when the project has one."""
    path = contracts_dir() / "silent-points.yaml"
    if not path.is_file():
        return None
    raw = yamlio.load_file(path) or {}
    entries = raw.get("points", raw.get("silent_points", raw)) if isinstance(raw, dict) else raw
    if isinstance(entries, dict):
        entries = [{"id": k, **(v if isinstance(v, dict) else {"answers": v})} for k, v in entries.items()]
    out = []
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("id"):
            fields = {k: v for k, v in entry.items() if k != "id"}
            out.append({"id": str(entry["id"]), "fields": fields})
    return out


def _value(value: Any) -> Markup:
    """A register field of any shape, readable."""
    if isinstance(value, dict):
        return Markup("<dl class='inline'>{}</dl>").format(
            Markup("").join(Markup("<dt>{}</dt><dd>{}</dd>").format(k, _value(v)) for k, v in value.items()))
    if isinstance(value, list):
        return Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(_value(v)) for v in value))
    return escape("" if value is None else str(value))


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("recon_contracts.docsite", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = md
    env.filters["value"] = _value
    return env


def render_index() -> str:
    """The reference page (``index.html``)."""
    specs = load_specs()
    rules = _rules(specs)
    pointer_rules: dict[str, list[Rule]] = {}
    for rule in catalog().values():
        anchor = _rule_anchor_of_pointer(rule.spec, specs)
        if anchor:
            pointer_rules.setdefault(anchor, []).append(rule)
    apis = []
    for spec in specs:
        writer = SchemaWriter(spec)
        schemas = [{"name": name, "anchor": f"schema-{spec.key}-{name}", "description": md(s.get("description", "")),
                    "body": writer.render(s, depth=0, expand=0), "rules": pointer_rules.get(f"schema-{spec.key}-{name}", [])}
                   for name, s in ((spec.doc.get("components") or {}).get("schemas") or {}).items()]
        info = spec.doc.get("info") or {}
        apis.append({"key": spec.key, "api": spec.api, "file": spec.file, "title": info.get("title", spec.file),
                     "version": info.get("version", ""), "description": md(info.get("description", "")),
                     "servers": spec.doc.get("servers") or [], "operations": _operations(spec, writer),
                     "schemas": schemas, "rules": [r for r in rules if r["api"] == spec.api]})
    states = operation_states()
    graph_ops = {op["path"]: op for api in apis if api["api"] == "graph" for op in api["operations"]}
    raw_states = yamlio.load_file(contracts_dir() / "operation-states.yaml") or {}
    raw_charges = yamlio.load_file(contracts_dir() / "charge-types.yaml") or {}
    charges = charge_types()
    return _environment().get_template("index.html.j2").render(
        version=__version__,
        apis=apis,
        rules=rules,
        severities=[(s, sum(1 for r in rules if r["severity"] == s)) for s in ("breaking", "additive", "advisory")],
        charge_mapping=list(charges.mapping.items()),
        charge_known=raw_charges.get("known") or [],
        charge_source=raw_charges.get("source", ""),
        states_svg=Markup(state_diagram_svg(states)),
        states=[{"name": n, "rank": states.rank[n], "terminal": n in states.terminal, "odata_type": states.odata_type[n]}
                for n in states.rank],
        states_source=raw_states.get("source", ""),
        silent_points=_silent_points(),
        exports=_exports(graph_ops, state_diagram_svg(states)),
    )


def _exports(graph_ops: dict[str, dict[str, Any]], svg: str) -> list[dict[str, Any]]:
    """Every member of the Graph export family: its paths, body, row schema, versions and its state diagram (the
    state machine is shared; each copy gets its own element ids)."""
    from ..truth.exports import KINDS

    out = []
    for kind in KINDS.values():
        short, qualified = graph_ops.get(kind.path("short")), graph_ops.get(kind.path("qualified"))
        body = kind.body(invoice_id="{invoiceId}", currency="{currencyCode}", period="current", attribute_set="full")
        out.append({"name": kind.name, "title": kind.title, "versions": ", ".join(kind.versions),
                    "beta_only": kind.beta_only, "path": kind.path("short"),
                    "short_anchor": short["anchor"] if short else None,
                    "qualified_anchor": qualified["anchor"] if qualified else None,
                    "body": ", ".join(body), "attribute_sets": ", ".join(kind.attribute_sets) or "none (no attributeSet)",
                    "row_schema": kind.row_schema, "row_anchor": f"schema-graph-{kind.row_schema}",
                    "doc": f"{kind.doc}?view=graph-rest-" + ("beta" if kind.beta_only else "1.0"),
                    "svg": Markup(svg.replace('id="', f'id="{kind.name}-').replace("url(#", f"url(#{kind.name}-")
                                  .replace('aria-labelledby="', f'aria-labelledby="{kind.name}-'))})
    return out


def build_site(out: str | Path, *, transform: Any = None) -> Path:
    """Write the site into ``out`` (created); return the path of ``index.html``.

    ``transform`` (text -> text) is applied before writing, e.g. the redactor when the site is written
    beside a run's reports.
    """
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    text = render_index()
    if transform is not None:
        text = transform(text)
    index = directory / INDEX
    tmp = index.with_name(index.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(index)
    return index
