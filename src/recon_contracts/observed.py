"""The target's observed behaviour (``observed.json``): what a baseline records and a later run is compared with.

Per operation (named as in :mod:`recon_contracts.protocol.shapes`, so live runs and HAR files agree):
the number of exchanges, and per status code the response headers seen, every property path of
the JSON bodies with its JSON types (``null`` for nullability) and on how many of the objects that
could carry it it was present, and the values of enum-like properties (chargeType, status,
@odata.type, dataFormat, partitionType...). Blob downloads add the export's columns (the keys of the
JSON lines) the same way. The answers at the silent points of ``contracts/silent-points.yaml`` come
from the run's ``Contract.observe`` calls.

Paths are JSON pointers with ``*`` for the elements of an array: ``/items/*/chargeType``. Counts are
kept so that a comparison can tell "absent from this run's data" from "no longer sent".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .traffic.blob_stream import BlobFormatError, BlobUnreadable, StreamLimits, gunzip_lines
from . import jsonpolicy
from .errors import BaselineError
from .findings import Exchange
from .redact import REDACTOR
from .protocol.shapes import BLOB, classify

OBSERVED_FILE = "observed.json"
FORMAT = "recon-contracts observed behaviour"
VERSION = 1
# properties whose values are a small closed-looking set; compared by name, case-insensitively
ENUM_LIKE = frozenset(n.casefold() for n in (
    "chargeType", "status", "objectType", "dataFormat", "partitionType", "@odata.type", "attributeSet",
    "billingProvider", "invoiceLineItemType", "productType", "unitType", "meterCategory",
))
MAX_VALUES = 64  # more distinct values than this: not enum-like, the set is dropped (None)
COLUMNS = "columns"


def json_type(value: Any) -> str:
    """The JSON type of a value; integers and decimals are both ``number`` (which one is data, not shape)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _shape() -> dict[str, Any]:
    return {"count": 0, "headers": {}, "objects": {}, "properties": {}, "values": {}}


def _walk(shape: dict[str, Any], value: Any, path: str) -> None:
    if isinstance(value, dict):
        shape["objects"][path] = shape["objects"].get(path, 0) + 1
        for key, child in value.items():
            child_path = f"{path}/{_escape(str(key))}"
            prop = shape["properties"].setdefault(child_path, {"types": [], "seen": 0})
            prop["seen"] += 1
            kind = json_type(child)
            if kind not in prop["types"]:
                prop["types"] = sorted([*prop["types"], kind])
            if str(key).casefold() in ENUM_LIKE and isinstance(child, str):
                _value(shape, child_path, child)
            _walk(shape, child, child_path)
    elif isinstance(value, list):
        for child in value:
            _walk(shape, child, f"{path}/*")


def _value(shape: dict[str, Any], path: str, value: str) -> None:
    values = shape["values"]
    if path in values and values[path] is None:
        return
    current = values.setdefault(path, [])
    if value not in current:
        current.append(value)
        current.sort()
        if len(current) > MAX_VALUES:
            values[path] = None


def _merge_shape(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    into["count"] = into.get("count", 0) + int(other.get("count", 0))
    for table in ("headers", "objects"):
        for key, n in other.get(table, {}).items():
            into[table][key] = into[table].get(key, 0) + int(n)
    for path, prop in other.get("properties", {}).items():
        mine = into["properties"].setdefault(path, {"types": [], "seen": 0})
        mine["seen"] += int(prop.get("seen", 0))
        mine["types"] = sorted(set(mine["types"]) | set(prop.get("types", [])))
    for path, values in other.get("values", {}).items():
        if values is None or into["values"].get(path, []) is None:
            into["values"][path] = None
            continue
        merged = sorted(set(into["values"].get(path, [])) | set(values))
        into["values"][path] = merged if len(merged) <= MAX_VALUES else None


# the columns of a recorded blob are sampled from its first rows: types do not need every row
_SAMPLE_ROWS = 2000


def _rows(body: bytes) -> list[dict[str, Any]]:
    """The first JSON-object lines of a recorded gzip JSON Lines blob (none when it is not one)."""
    rows: list[dict[str, Any]] = []
    try:
        for _, line in gunzip_lines([body], StreamLimits(max_inflated=256 * 1024 * 1024)):
            try:
                row = jsonpolicy.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append(row)
            if len(rows) >= _SAMPLE_ROWS:
                break
    except (BlobFormatError, BlobUnreadable):
        pass  # GR-BLOB-GZIP-JSONL says why; no columns to observe
    return rows


class Observed:
    """Accumulates the observed behaviour of the exchanges it is given (thread-safe, mergeable)."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self.operations: dict[str, dict[str, Any]] = {}
        self.silent_points: dict[str, list[str]] = {}
        self._roots: set[str] = set()
        self._lock = threading.Lock()
        if data:
            self.merge(data)

    def add(self, exchange: Exchange) -> None:
        """Record one exchange (the ApiClient observer hook, or an exchange read from a HAR file)."""
        shape = classify(exchange.method, exchange.url, self._roots)
        if shape is None and exchange.operation != BLOB and exchange.api != "blob":
            return
        api, operation = (shape.api, shape.operation) if shape else ("blob", BLOB)
        body: Any = None
        rows: list[dict[str, Any]] = []
        if api == "blob":
            if exchange.status == 200 and exchange.response_body:
                rows = _rows(exchange.response_body)
        else:
            try:
                body = exchange.json()
            except (ValueError, UnicodeDecodeError):
                body = None
        with self._lock:
            op = self.operations.setdefault(operation, {"api": api, "exchanges": 0, "statuses": {}})
            op["exchanges"] += 1
            status = op["statuses"].setdefault(str(exchange.status), _shape())
            status["count"] += 1
            for name in exchange.response_headers:
                key = name.lower()
                status["headers"][key] = status["headers"].get(key, 0) + 1
            if body is not None:
                _walk(status, body, "")
                self._remember_root(operation, body)
            if rows:
                columns = op.setdefault(COLUMNS, _shape())
                for row in rows:
                    columns["count"] += 1
                    _walk(columns, row, "")

    def _remember_root(self, operation: str, body: Any) -> None:
        manifest = body.get("resourceLocation") if isinstance(body, dict) and "operations" in operation else body
        root = manifest.get("rootDirectory") if isinstance(manifest, dict) else None
        if isinstance(root, str) and root.startswith(("http://", "https://")):
            self._roots.add(root)

    def observe(self, answers: Mapping[str, Iterable[str]]) -> None:
        """The answers seen at silent points (``Recorder.observations``)."""
        with self._lock:
            for point, seen in answers.items():
                self.silent_points[point] = sorted(set(self.silent_points.get(point, [])) | set(seen))

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add another process's (or file's) observed behaviour to this one."""
        with self._lock:
            for name, other in data.get("operations", {}).items():
                op = self.operations.setdefault(name, {"api": other.get("api", ""), "exchanges": 0, "statuses": {}})
                op["exchanges"] += int(other.get("exchanges", 0))
                for code, shape in other.get("statuses", {}).items():
                    _merge_shape(op["statuses"].setdefault(code, _shape()), shape)
                if COLUMNS in other:
                    _merge_shape(op.setdefault(COLUMNS, _shape()), other[COLUMNS])
            for point, seen in data.get("silent_points", {}).items():
                self.silent_points[point] = sorted(set(self.silent_points.get(point, [])) | set(seen))

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps({
                "format": FORMAT,
                "version": VERSION,
                "operations": self.operations,
                "silent_points": self.silent_points,
            }, sort_keys=True))


def load(path: str | Path) -> dict[str, Any]:
    """A baseline (an ``observed.json``) from disk, checked enough to compare with."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} does not exist (record one with --update-baseline)") from None
    except OSError as exc:
        raise BaselineError(f"baseline {path} cannot be read: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("operations"), dict):
        raise BaselineError(f"baseline {path} is not an observed.json of recon-contracts (no format/operations)")
    if data.get("version") != VERSION:
        raise BaselineError(f"baseline {path} has version {data.get('version')!r}; this recon-contracts reads version {VERSION}")
    return data


def write(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write an observed.json (redacted, atomically); keys sorted, so a committed baseline diffs cleanly."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(REDACTOR(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)) + "\n", encoding="utf-8")
    tmp.replace(target)
