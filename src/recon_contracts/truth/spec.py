"""The OpenAPI specs under ``specs/`` as Python objects: validation, drift detection and look-ups.

    spec = load_spec("partner-center")          # or "graph"; cached
    spec.validate(body, "LineItemCollection")   # [] when valid, else messages naming the JSON path
    spec.undeclared(body, "LineItemCollection") # JSON paths of properties the spec does not declare

Component schemas are validated with JSON Schema Draft 2020-12 (the dialect of OpenAPI 3.1); ``$ref``s to
``#/components/schemas/...`` resolve through a ``referencing`` registry holding the whole document. OpenAPI-only
keywords (``discriminator``, ``example``, ``x-*``) are annotations there; ``discriminator`` is additionally used
to pick the branch whose errors are reported and whose properties count as declared.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema import _keywords as _jsonschema_keywords
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from recon_contracts.truth import yamlio
from recon_contracts.truth.resources import specs_dir

__all__ = ["SPEC_FILES", "SpecDocument", "format_path", "load_spec"]

SPEC_FILES: dict[str, str] = {
    "partner-center": "partner-center-unbilled-lineitems.yaml",
    "graph": "graph-partner-billing-exports.yaml",
}
MAX_ERRORS = 20
_SCHEMA_REF = "#/components/schemas/"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def format_path(parts: Iterable[str | int]) -> str:
    """``["items", 0, "subscriptionId"]`` -> ``items[0].subscriptionId``; the empty path is ``$``.

    Keys that are not plain identifiers (``@odata.type``) are written ``["@odata.type"]``.
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out or "$"


def _pointer_unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


# ---------------------------------------------------------------------------- array elements proven once
# A walk of a large tenant validates thousands of line items per page, and the suite walks the same items more
# than once (every currency spelling is its own walk). Whether an element is valid against a subschema depends on
# nothing but the two, so an element once found valid under an ``items`` subschema is not descended into again.
# Only validity is remembered: an invalid element is validated in full every time, so every error is reported as
# jsonschema words it. The key is a digest of the element's canonical JSON text (keys sorted; 1, 1.0 and true stay
# distinct, NaN is spelt NaN), so the memory is bounded by the number of distinct valid elements, up to VALID_MEMO.
VALID_MEMO = 200_000


class _ValidElements:
    def __init__(self, limit: int = VALID_MEMO) -> None:
        self.limit = limit
        self.seen: set[bytes] = set()
        self.hits = 0

    @staticmethod
    def key(schema: Any, element: Any) -> bytes | None:
        try:
            text = json.dumps(element, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):  # not a JSON value (never from a parsed body): no memo
            return None
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16)
        digest.update(id(schema).to_bytes(8, "little"))
        return digest.digest()

    def add(self, key: bytes) -> None:
        if len(self.seen) >= self.limit:
            self.seen.clear()
        self.seen.add(key)


def _validator_class(memo: _ValidElements) -> Any:
    """Draft 2020-12 whose ``items`` keyword skips elements ``memo`` has seen valid under the same subschema."""

    def items(validator: Any, items: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        if items is False or schema.get("prefixItems") or not validator.is_type(instance, "array"):
            yield from _jsonschema_keywords.items(validator, items, instance, schema)
            return
        for index, element in enumerate(instance):
            if not isinstance(element, (dict, list)):  # a scalar costs less to check than to digest
                yield from validator.descend(instance=element, schema=items, path=index)
                continue
            key = memo.key(items, element)
            if key is not None and key in memo.seen:
                memo.hits += 1
                continue
            errors = list(validator.descend(instance=element, schema=items, path=index))
            if errors:
                yield from errors
            elif key is not None:
                memo.add(key)

    return validators.extend(Draft202012Validator, {"items": items})


class SpecDocument:
    """One parsed spec. Build it with :func:`load_spec`, which caches one instance per spec name."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self.raw: dict[str, Any] = yamlio.load_file(path)
        self._uri = f"urn:recon-contracts:spec:{name}"
        resource = Resource.from_contents(self.raw, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource(self._uri, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self._valid_elements = _ValidElements()
        self._validator_cls = _validator_class(self._valid_elements)
        self._standalone: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"SpecDocument({self.name!r}, {str(self.path)!r})"

    # ------------------------------------------------------------------ look-ups
    @property
    def schemas(self) -> dict[str, Any]:
        """``components.schemas`` of the document."""
        return self.raw.get("components", {}).get("schemas", {})

    def extension(self, pointer: str) -> Any | None:
        """The value at a JSON pointer (``/paths/~1v1~1invoices~1{invoice-id}~1lineitems/get/x-case-insensitive``), or None."""
        node: Any = self.raw
        if pointer in ("", "/"):
            return node
        for token in pointer.lstrip("/").split("/"):
            key = _pointer_unescape(token)
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        return node

    def _deref(self, node: Any) -> Any:
        """Follow local ``$ref``s (``#/components/...``) until a non-reference node."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"circular $ref {ref} in {self.path.name}")
            seen.add(ref)
            target = self.extension(ref[1:])
            if target is None:
                raise KeyError(f"unresolvable $ref {ref} in {self.path.name}")
            node = target
        return node

    def _operation(self, path: str, method: str) -> tuple[dict[str, Any], dict[str, Any]]:
        paths = self.raw.get("paths", {})
        if path not in paths:
            raise KeyError(f"{self.name}: no path {path!r}; known: {sorted(paths)}")
        item = self._deref(paths[path])
        operation = item.get(method.lower())
        if not isinstance(operation, dict):
            raise KeyError(f"{self.name}: no {method.upper()} on {path!r}")
        return item, operation

    def parameter(self, path: str, method: str, name: str) -> dict[str, Any]:
        """The parameter object (query, header or path) named ``name``, compared case-insensitively.

        Operation-level parameters win over path-level ones, as in OpenAPI. Raises KeyError when absent.
        """
        item, operation = self._operation(path, method)
        wanted = name.casefold()
        for params in (operation.get("parameters", []), item.get("parameters", [])):
            for param in params:
                param = self._deref(param)
                if str(param.get("name", "")).casefold() == wanted:
                    return param
        raise KeyError(f"{self.name}: {method.upper()} {path} has no parameter {name!r}")

    def response_schema_name(self, path: str, method: str, status: int) -> str | None:
        """Component name of the JSON body schema of the response for ``status``.

        Looks for the exact code, then its range (``4XX``, any case), then ``default``. None when the response is
        not declared, has no body, or its schema is not a component reference.
        """
        _, operation = self._operation(path, method)
        responses: dict[str, Any] = {str(k).upper(): v for k, v in operation.get("responses", {}).items()}
        response = None
        for key in (str(status), f"{status // 100}XX", "DEFAULT"):
            if key in responses:
                response = self._deref(responses[key])
                break
        if not response:
            return None
        content: dict[str, Any] = response.get("content") or {}
        media = content.get("application/json")
        if media is None:
            media = next((m for t, m in content.items() if "json" in t), None)
        if not media:
            return None
        return self._schema_name_of(media.get("schema"))

    @staticmethod
    def _schema_name_of(schema: Any) -> str | None:
        if isinstance(schema, dict):
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
                return _pointer_unescape(ref[len(_SCHEMA_REF):])
        return None

    def examples(self) -> list[tuple[str, str, object]]:
        """``(where, schema_name, value)`` for every example the document carries with a component schema.

        Covers media-type examples of requests and responses (also inside ``components.responses`` and
        ``components.requestBodies``; ``$ref``s to ``components.examples`` are resolved) and the ``examples`` /
        ``example`` of component schemas. ``where`` is the JSON pointer of the example. Parameter and header
        examples are not included (they have no component schema).
        """
        found: list[tuple[str, str, object]] = []

        def media_examples(media: dict[str, Any], where: str) -> None:
            name = self._schema_name_of(media.get("schema"))
            if name is None:
                return
            if "example" in media:
                found.append((f"{where}/example", name, media["example"]))
            for key, example in (media.get("examples") or {}).items():
                example = self._deref(example)
                if isinstance(example, dict) and "value" in example:
                    found.append((f"{where}/examples/{_escape(key)}", name, example["value"]))

        def walk(node: Any, where: str) -> None:
            if isinstance(node, dict):
                content = node.get("content")
                if isinstance(content, dict):
                    for media_type, media in content.items():
                        if isinstance(media, dict):
                            media_examples(media, f"{where}/content/{_escape(media_type)}")
                for key, value in node.items():
                    if key not in ("content", "schemas", "examples"):
                        walk(value, f"{where}/{_escape(str(key))}")
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    walk(value, f"{where}/{index}")

        walk(self.raw.get("paths", {}), "/paths")
        components = self.raw.get("components", {})
        for section in ("responses", "requestBodies"):
            walk(components.get(section, {}), f"/components/{section}")
        for name, schema in self.schemas.items():
            where = f"/components/schemas/{_escape(name)}"
            if isinstance(schema, dict):
                for index, value in enumerate(schema.get("examples") or []):
                    found.append((f"{where}/examples/{index}", name, value))
                if "example" in schema:
                    found.append((f"{where}/example", name, schema["example"]))
        return found

    # ------------------------------------------------------------------ schemas and validation
    def schema(self, name: str) -> dict[str, Any]:
        """Component schema ``name`` as a self-contained Draft 2020-12 schema.

        Every ``#/components/schemas/X`` reference (``$ref`` and discriminator mapping) is rewritten to ``#/$defs/X`` and all components are carried in
        ``$defs``, so ``jsonschema.validate(instance, spec.schema(name))`` works without a registry. Returns a copy.
        """
        if name not in self.schemas:
            raise KeyError(f"{self.name}: no component schema {name!r}; known: {sorted(self.schemas)}")
        if name not in self._standalone:
            defs = {key: _rewrite_refs(value) for key, value in self.schemas.items()}
            root = copy.deepcopy(defs[name])
            if not isinstance(root, dict):
                root = {"allOf": [root]}
            root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": defs}
            self._standalone[name] = root
        return copy.deepcopy(self._standalone[name])

    def validator(self, name: str) -> Draft202012Validator:
        """Compiled (cached) validator of component schema ``name``."""
        validator = self._validators.get(name)
        if validator is None:
            if name not in self.schemas:
                raise KeyError(f"{self.name}: no component schema {name!r}; known: {sorted(self.schemas)}")
            ref = {"$ref": f"{self._uri}{_SCHEMA_REF}{_escape(name)}"}
            validator = self._validator_cls(ref, registry=self._registry)
            self._validators[name] = validator
        return validator

    def validate(self, instance: object, name: str) -> list[str]:
        """Validation errors of ``instance`` against component schema ``name``; ``[]`` when valid.

        Each message starts with the JSON path of the failing value (``items[0].subscriptionId: 'subscriptionId' is a
        required property``). For a ``oneOf`` with a discriminator the errors of the branch named by the discriminator
        are reported; at most 20 messages.
        """
        messages: list[str] = []
        for error in self.validator(name).iter_errors(instance):
            messages.extend(self._messages(error))
        unique = sorted(set(messages))
        return unique[:MAX_ERRORS]

    def is_valid(self, instance: object, name: str) -> bool:
        return self.validator(name).is_valid(instance)

    def _messages(self, error: ValidationError) -> Iterator[str]:
        path = list(error.absolute_path)
        if error.validator == "required":
            missing = _missing_property(error)
            if missing is not None:
                yield f"{format_path([*path, missing])}: {error.message}"
                return
        if error.validator in ("oneOf", "anyOf") and error.context:
            schema = error.schema if isinstance(error.schema, dict) else {}
            discriminator = schema.get("discriminator")
            if isinstance(discriminator, dict) and isinstance(error.instance, dict):
                branch = self._discriminated_branch(schema, error.instance)
                prop = discriminator.get("propertyName", "")
                if branch is None:
                    allowed = sorted((discriminator.get("mapping") or {}).keys())
                    value = error.instance.get(prop, None)
                    shown = repr(value) if prop in error.instance else "missing"
                    yield f"{format_path([*path, prop])}: discriminator value {shown} is not one of {allowed}"
                    return
                sub = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == branch]
                if sub:
                    for child in sub:
                        yield from self._messages(child)
                    return
            if all(e.validator == "required" and list(e.absolute_path) == path for e in error.context):
                names = [name for e in error.context if (name := _missing_property(e)) is not None]
                listed = ", ".join(repr(n) for n in dict.fromkeys(names))
                yield f"{format_path(path)}: one of {listed} is required"
                return
        yield f"{format_path(path)}: {error.message}"

    def _discriminated_branch(self, schema: dict[str, Any], instance: dict[str, Any]) -> int | None:
        """Index in ``oneOf``/``anyOf`` of the branch that the discriminator value names (case-insensitive), or None."""
        discriminator = schema.get("discriminator") or {}
        prop = discriminator.get("propertyName")
        value = instance.get(prop) if prop else None
        if not isinstance(value, str):
            return None
        branches = schema.get("oneOf") or schema.get("anyOf") or []
        mapping = discriminator.get("mapping") or {}
        target = None
        for key, ref in mapping.items():
            if key.casefold() == value.casefold():
                target = ref if ref.startswith("#") else f"{_SCHEMA_REF}{ref}"
                break
        if target is None:  # implicit mapping: the value is the component name
            target = f"{_SCHEMA_REF}{value.lstrip('#')}"
        for index, branch in enumerate(branches):
            if isinstance(branch, dict) and str(branch.get("$ref", "")).casefold() == target.casefold():
                return index
        return None

    # ------------------------------------------------------------------ drift
    def undeclared(self, instance: object, name: str) -> list[str]:
        """JSON paths of object properties of ``instance`` that component schema ``name`` does not declare.

        Walks ``properties``, ``items``, ``allOf``, ``anyOf`` and ``oneOf`` (for a ``oneOf`` with a discriminator
        only the branch named by the instance). A key is declared when a ``properties`` entry names it, when a
        ``patternProperties`` pattern matches it (``^@odata\\.``), or when the object allows ``additionalProperties``
        explicitly. Objects whose schema declares no properties at all (free-form maps) are not looked into.
        """
        root = self.schemas.get(name)
        if root is None:
            raise KeyError(f"{self.name}: no component schema {name!r}; known: {sorted(self.schemas)}")
        out: list[str] = []
        self._walk(instance, [root], [], out)
        return out

    def _flatten(self, schemas: Iterable[Any], instance: object) -> list[dict[str, Any]]:
        """The schemas that apply to ``instance``: refs resolved, allOf merged in, anyOf/oneOf/then expanded."""
        flat: list[dict[str, Any]] = []
        stack = list(schemas)
        seen: set[int] = set()
        while stack:
            schema = self._deref(stack.pop())
            if not isinstance(schema, dict) or id(schema) in seen:
                continue
            seen.add(id(schema))
            flat.append(schema)
            stack.extend(schema.get("allOf", []))
            if "then" in schema and isinstance(instance, dict):  # if {type: object} then {...}: the object branch
                stack.append(schema["then"])
            for keyword in ("oneOf", "anyOf"):
                branches = schema.get(keyword)
                if not branches:
                    continue
                if schema.get("discriminator") and isinstance(instance, dict):
                    index = self._discriminated_branch(schema, instance)
                    if index is not None:
                        stack.append(branches[index])
                        continue
                stack.extend(branches)
        return flat

    def _walk(self, instance: object, schemas: list[Any], path: list[str | int], out: list[str]) -> None:
        if isinstance(instance, dict):
            flat = self._flatten(schemas, instance)
            declared: dict[str, list[Any]] = {}
            patterns: list[tuple[str, Any]] = []
            additional: list[Any] = []
            for schema in flat:
                for key, sub in (schema.get("properties") or {}).items():
                    declared.setdefault(key, []).append(sub)
                patterns.extend((schema.get("patternProperties") or {}).items())
                extra = schema.get("additionalProperties")
                if extra is not None and extra is not False:
                    additional.append(extra)
            if not declared and not patterns:
                return  # a free-form object (or no object schema at all): nothing is undeclared
            for key, value in instance.items():
                children = list(declared.get(key, []))
                children += [sub for pattern, sub in patterns if re.search(pattern, key)]
                if not children and not additional:
                    out.append(format_path([*path, key]))
                    continue
                if not children:
                    children = [sub for sub in additional if isinstance(sub, dict)]
                if children:
                    self._walk(value, children, [*path, key], out)
        elif isinstance(instance, list):
            flat = self._flatten(schemas, instance)
            items = [schema["items"] for schema in flat if isinstance(schema.get("items"), dict)]
            if items:
                for index, value in enumerate(instance):
                    self._walk(value, items, [*path, index], out)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_SCHEMA_REF):
                result[key] = "#/$defs/" + value[len(_SCHEMA_REF):]
            elif key == "discriminator" and isinstance(value, dict) and isinstance(value.get("mapping"), dict):
                mapping = {
                    k: "#/$defs/" + v[len(_SCHEMA_REF):] if isinstance(v, str) and v.startswith(_SCHEMA_REF) else v
                    for k, v in value["mapping"].items()
                }
                result[key] = {**value, "mapping": mapping}
            else:
                result[key] = _rewrite_refs(value)
        return result
    if isinstance(node, list):
        return [_rewrite_refs(value) for value in node]
    return node


def _missing_property(error: ValidationError) -> str | None:
    """The property a ``required`` error is about (jsonschema reports one error per missing name)."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return None
    for name in error.validator_value or []:
        if name not in error.instance and error.message.startswith(repr(name)):
            return name
    return None


@cache
def load_spec(name: str) -> SpecDocument:
    """The spec ``"partner-center"`` or ``"graph"`` (one cached instance each), read from ``specs_dir()``."""
    try:
        filename = SPEC_FILES[name]
    except KeyError:
        raise ValueError(f"unknown spec {name!r}; expected one of {sorted(SPEC_FILES)}") from None
    return SpecDocument(name, specs_dir() / filename)
