"""The target's answers at silent points (``contracts/silent-points.yaml``), read off exchanges.

Pure functions: exchanges in, ``(point ID, answer)`` pairs out. They are observations, not findings:
the suite records them with ``contract.observe`` so that a run says which of the answers a
docs-following server may give this target gave.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from ..findings import Exchange, Finding, finding
from ..protocol.graph import is_success, is_terminal, status_of
from ..protocol.partner_center import body_of, links_of, page_items
from ..truth.rules import operation_states
from ..truth.silent_points import silent_points
from .common import parse_datetime
from .partner_center import check_collection, continuation_token_field, item_date_order_problem

Observation = tuple[str, str]

_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def _json_object(exchange: Exchange | None) -> dict[str, Any] | None:
    body = body_of(exchange) if exchange is not None and exchange.status == 200 else None
    return body if isinstance(body, dict) else None


# ---------------------------------------------------------------------------- Partner Center pages


def link_form(uri: str) -> str:
    """SP-PC-LINK-FORM: relative (to /v1), v1-prefixed or absolute."""
    uri = uri.strip().lower()
    if uri.startswith(("http://", "https://")):
        return "absolute"
    return "v1-prefixed" if uri.lstrip("/").startswith("v1/") else "relative"


def media_type(exchange: Exchange) -> str:
    """The response's Content-Type, lower case ("" when there is none)."""
    return (exchange.header("content-type") or "").strip().lower()


def page_answers(pages: Sequence[Exchange], *, size: int | None = None, whole: bool = False) -> list[Observation]:
    """What a walk's pages say about the Partner Center silent points of pages and items.

    ``whole``: the walk began at the first page with the default query, so its items are the tenant's line items
    (SP-PC-DATA-VOLUME is read only then, and only when the last page links nowhere).
    A JSON body under a Content-Type that is not JSON is SP-PC-CONTENT-TYPE ``other`` (outside the register).
    """
    bodies = [(e, b) for e, b in ((e, _json_object(e)) for e in pages) if b is not None]
    if not bodies:
        return []
    out: list[Observation] = []
    first, last = bodies[0], bodies[-1]
    content_type = media_type(first[0])
    out.append(("SP-PC-CONTENT-TYPE", ("json-charset" if "charset" in content_type else "json")
                if content_type.startswith("application/json") else "other"))
    links = links_of(last[1])
    if "next" not in links:
        out.append(("SP-PC-LAST-PAGE-NEXT", "absent"))
    elif links["next"] is None:
        out.append(("SP-PC-LAST-PAGE-NEXT", "null"))
    nxt = links_of(first[1]).get("next")
    if isinstance(nxt, dict) and isinstance(nxt.get("uri"), str):
        out.append(("SP-PC-LINK-FORM", link_form(nxt["uri"])))
    counts = [(b.get("totalCount"), len(page_items(b))) for _, b in bodies]
    total = sum(n for _, n in counts)
    if all(c == n for c, n in counts):
        out.append(("SP-PC-TOTALCOUNT", "page"))
    elif all(c == total for c, _ in counts):
        out.append(("SP-PC-TOTALCOUNT", "grand-total"))
    if size is not None and len(bodies) > 1:
        short = any(n < size for _, n in counts[:-1])
        out.append(("SP-PC-PAGE-FILL", "short" if short else "full"))
    items = [i for _, b in bodies for i in page_items(b) if isinstance(i, dict)]
    if whole and not links_of(last[1]).get("next"):
        out.append(("SP-PC-DATA-VOLUME", "none" if not items else "one-page" if len(bodies) == 1 else "many-pages"))
    optional = optional_empty_answer(items)
    if optional:
        out.append(("SP-PC-ITEM-OPTIONAL-EMPTY", optional))
    undeclared = [f for e, _ in bodies for f in check_collection(e) if f.rule == "PC-RESPONSE-UNDECLARED-PROPERTY"]
    out.append(("SP-PC-EXTRA-PROPERTIES", "present" if undeclared else "none"))
    dated = [i for i in items if parse_datetime(i.get("chargeStartDate")) and parse_datetime(i.get("chargeEndDate"))]
    if dated:
        reversed_ = any(item_date_order_problem(i) for i in dated)
        out.append(("SP-PC-CHARGE-DATE-ORDER", "some-reversed" if reversed_ else "ordered"))
    prices = [i.get("unitPrice") for i in items if "unitPrice" in i]
    if prices:
        out.append(("SP-PC-NUMBER-ENCODING", "string" if all(isinstance(p, str) for p in prices) else "number"))
    charge_types = [i["chargeType"] for i in items if isinstance(i.get("chargeType"), str)]
    if charge_types:
        out.append(("SP-PC-CHARGETYPE-CASE", "lower" if all(c == c.lower() for c in charge_types) else "as-documented"))
    return out


# ---------------------------------------------------------------------------- Graph export runs


def _retry_after_form(value: str | None) -> str | None:
    if not value:
        return None
    return "delta-seconds" if value.strip().isdigit() else "http-date"


def export_answers(run: Any) -> list[Observation]:
    """What one export run (``drivers.graph_export.ExportRun``) says about the Graph silent points."""
    out: list[Observation] = []
    post = run.post
    if post is not None and post.status == 202:
        out.append(("SP-GR-EXPORT-202-BODY", "operation-json" if post.response_body.strip() else "empty"))
        out.append(("SP-GR-EXPORT-202-RETRY-AFTER", "present" if post.header("retry-after") else "absent"))
    polls = [p for p in run.polls if _json_object(p) is not None]
    statuses = [status_of(p) for p in polls]
    if statuses:
        if is_terminal(statuses[0]):
            out.append(("SP-GR-OP-PROGRESSION", "immediate"))
        else:
            out.append(("SP-GR-OP-PROGRESSION", "notstarted-running" if "notStarted" in statuses else "running-only"))
        content_type = media_type(polls[0])
        out.append(("SP-GR-CONTENT-TYPE", ("odata-json" if "odata" in content_type else "json")
                    if content_type.startswith("application/json") else "other"))
        out += _operation_order(polls, statuses)
        last = _json_object(polls[-1]) or {}
        out.append(("SP-GR-ODATA-CONTEXT", "present" if "@odata.context" in last else "absent"))
        created = last.get("createdDateTime")
        if isinstance(created, str):
            out.append(("SP-GR-OP-CREATED-OFFSET", "z" if _OFFSET.search(created.strip()) else "none"))
    for poll, status in zip(polls, statuses):
        form = _retry_after_form(poll.header("retry-after")) if not is_terminal(status) else None
        if form:
            out.append(("SP-GR-RETRY-AFTER-FORMAT", form))
            break
    terminal = next((p for p, s in zip(polls, statuses) if is_terminal(s)), None)
    body = _json_object(terminal)
    if terminal is not None and body is not None and is_success(status_of(terminal)):
        out.append(("SP-GR-OP-SUCCESS-STATUS", str(body["status"])))
        inline = isinstance(body.get("resourceLocation"), dict)
        link = "resourceLocation@odata.navigationLink" in body
        if inline or link:
            out.append(("SP-GR-OP-RESOURCE-LOCATION", "both" if inline and link else "inline" if inline else "navigation-link"))
    if terminal is not None and body is not None:
        empty = _empty_export(body, run.manifest if isinstance(run.manifest, dict) else None)
        if empty:
            out.append(("SP-GR-EMPTY-EXPORT", empty))
    manifest = run.manifest if isinstance(run.manifest, dict) else None
    if manifest is not None:
        lifetime = sas_lifetime(manifest.get("sasToken"))
        if lifetime:
            out.append(("SP-GR-SAS-LIFETIME", lifetime))
        known = {"SP-GR-MANIFEST-DATAFORMAT": ("dataFormat", ("compressedJSON", "compressedJSONLines")),
                 "SP-GR-MANIFEST-SCHEMAVERSION": ("schemaVersion", ("1", "2")),
                 "SP-GR-MANIFEST-PARTITIONTYPE": ("partitionType", ("default", "Default"))}
        for point, (key, values) in known.items():
            if key in manifest:
                out.append((point, str(manifest[key]) if manifest[key] in values else "other"))
        blobs = manifest.get("blobs")
        if isinstance(blobs, list) and blobs:
            # a blob read and found without rows is SP-GR-EMPTY-BLOB's, not a partition of the data
            read = list(getattr(getattr(run, "rows", None), "blobs", None) or [])
            count = sum(1 for b in read if b.rows) if len(read) == len(blobs) else len(blobs)
            if count:
                out.append(("SP-GR-BLOB-PARTITIONING", "many-blobs" if count > 1 else "one-blob"))
    return out


def continuation_token_answer(pages: Sequence[Exchange]) -> str | None:
    """SP-PC-CONTINUATION-TOKEN-FIELD over a walk that links on at least once and ends (the last page links nowhere):
    string (a string on linked pages, none on the last), absent (never one), null or empty (the last page's);
    ``other`` for any other combination. None when the walk cannot tell (one page, or no end reached)."""
    spellings = [continuation_token_field(p) for p in pages]
    bodies = [_json_object(p) for p in pages]
    if len(pages) < 2 or None in spellings or bodies[-1] is None or links_of(bodies[-1]).get("next"):
        return None
    linked, last = set(spellings[:-1]), spellings[-1]
    if linked == {"absent"}:
        return "absent" if last == "absent" else "other"
    if linked == {"string"}:
        return {"absent": "string", "null": "null", "empty": "empty"}.get(str(last), "other")
    return "other"


def _operation_order(polls: Sequence[Exchange], statuses: Sequence[str | None]) -> list[Observation]:
    """SP-GR-OP-STATUS-ORDER, SP-GR-OP-TERMINAL-STABILITY and SP-GR-OP-TIMESTAMP-ORDER over the polls of one operation."""
    out: list[Observation] = []
    rank = operation_states().rank
    first_terminal = next((i for i, s in enumerate(statuses) if is_terminal(s)), None)
    # up to the first terminal status: what comes after it is SP-GR-OP-TERMINAL-STABILITY's
    ranks = [rank[s] for s in statuses[:None if first_terminal is None else first_terminal + 1] if s in rank]
    if len(ranks) > 1:
        out.append(("SP-GR-OP-STATUS-ORDER", "backwards" if any(b < a for a, b in zip(ranks, ranks[1:])) else "monotonic"))
    if first_terminal is not None and first_terminal < len(statuses) - 1:  # polled again after the terminal answer
        after = statuses[first_terminal:]
        out.append(("SP-GR-OP-TERMINAL-STABILITY", "absorbing" if len(set(after)) == 1 else "flapping"))
    reversed_, judged = False, False
    for poll in polls:
        body = _json_object(poll) or {}
        created, last = parse_datetime(body.get("createdDateTime")), parse_datetime(body.get("lastActionDateTime"))
        if created is not None and last is not None:
            judged = True
            reversed_ = reversed_ or last < created
    if judged:
        out.append(("SP-GR-OP-TIMESTAMP-ORDER", "reversed" if reversed_ else "ordered"))
    return out


def _empty_export(terminal: dict[str, Any], manifest: dict[str, Any] | None) -> str | None:
    """SP-GR-EMPTY-EXPORT: how an export with no data ended (None when the export had data, or says nothing)."""
    error = terminal.get("error")
    if str(terminal.get("status")) == "failed" and isinstance(error, dict):
        return "failed-5000" if str(error.get("code")) == "5000" else None
    if manifest is not None and is_success(str(terminal.get("status"))):
        blobs = manifest.get("blobs")
        if manifest.get("blobCount") == 0 or (isinstance(blobs, list) and not blobs):
            return "succeeded-no-blobs"
    return None


def sas_lifetime(sas: Any) -> str | None:
    """SP-GR-SAS-LIFETIME: the manifest's SAS validity, se minus skt (or st), as 1h, 12h or other."""
    if not isinstance(sas, str) or not sas:
        return None
    fields = {k.lower(): v for k, v in parse_qsl(sas.lstrip("?"), keep_blank_values=True)}
    start = parse_datetime(fields.get("skt") or fields.get("st"))
    end = parse_datetime(fields.get("se"))
    if start is None or end is None:
        return None
    hours = (end - start).total_seconds() / 3600
    return "1h" if 0.9 <= hours <= 1.1 else "12h" if 11.9 <= hours <= 12.1 else "other"


# ---------------------------------------------------------------------------- transport, throttling, rows, queries

# Response header fields the suite knows: HTTP's framing and caching, Partner Center's and Graph's documented ones
KNOWN_HEADERS = frozenset((
    "content-type", "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "date",
    "server", "vary", "location", "retry-after", "www-authenticate", "etag", "last-modified", "accept-ranges",
    "ms-requestid", "ms-correlationid", "ms-cv", "ms-continuationtoken", "request-id", "client-request-id",
    "x-ms-ags-diagnostic", "x-ms-request-id", "x-ms-version", "x-ms-blob-type", "x-ms-server-encrypted",
    "x-ms-lease-status", "x-ms-lease-state", "x-ms-creation-time", "x-ms-resource-type", "odata-version",
))


def transport_answers(exchanges: Iterable[Exchange]) -> list[Observation]:
    """What API answers say about the HTTP silent points: SP-PC-CONNECTION, SP-PC-TRANSFER-CODING,
    SP-PC-CONTENT-ENCODING and SP-PC-EXTRA-HEADERS (read off the response headers, no request of their own).

    SP-PC-HEADER-CASE is not read here: exchanges keep header names lower-cased."""
    answers = [e for e in exchanges if e.status and e.api != "blob"]
    if not answers:
        return []
    closes = any("close" in (e.header("connection") or "").lower() for e in answers)
    chunked = any("chunked" in (e.header("transfer-encoding") or "").lower() for e in answers)
    encodings = {(e.header("content-encoding") or "identity").strip().lower() for e in answers if e.response_body}
    extra = any(k.lower() not in KNOWN_HEADERS for e in answers for k in e.response_headers)
    out: list[Observation] = [("SP-PC-CONNECTION", "close" if closes else "keep-alive"),
                              ("SP-PC-TRANSFER-CODING", "chunked" if chunked else "content-length"),
                              ("SP-PC-EXTRA-HEADERS", "present" if extra else "none")]
    if encodings:
        coding = "gzip" if "gzip" in encodings else "identity" if encodings == {"identity"} else "other"
        out.append(("SP-PC-CONTENT-ENCODING", coding))
    return out


def throttle_answers(exchanges: Iterable[Exchange]) -> list[Observation]:
    """SP-PC-THROTTLE-BODY: the body of the Partner Center 429s met (the answers the client waited out)."""
    out: list[Observation] = []
    for exchange in exchanges:
        if exchange.api != "partner-center" or exchange.status != 429:
            continue
        body = body_of(exchange)
        keys = {str(k).lower() for k in body} if isinstance(body, dict) else set()
        answer = ("apim" if {"statuscode", "message"} <= keys else "api-fault" if {"code", "description"} <= keys
                  else "other")
        if (("SP-PC-THROTTLE-BODY", answer)) not in out:
            out.append(("SP-PC-THROTTLE-BODY", answer))
    return out


def row_key_case(keys: Iterable[str]) -> str | None:
    """SP-GR-ROW-KEY-CASE: pascal when every row key starts upper case, camel when every one starts lower case."""
    firsts = {k[0].isupper() for k in keys if k[:1].isalpha()}
    if not firsts:
        return None
    return "other" if len(firsts) > 1 else "pascal" if True in firsts else "camel"


# Row columns that hold decimals (SP-GR-ROW-NUMBER-ENCODING), compared case-insensitively
ROW_NUMBER_COLUMNS = frozenset(c.casefold() for c in (
    "UnitPrice", "EffectiveUnitPrice", "Quantity", "BillableQuantity", "Subtotal", "TaxTotal", "TotalForCustomer",
    "Total", "PCToBCExchangeRate"))
# The reconciliation file's spelling of columns the line-item JSON model names otherwise (SP-GR-ROW-COLUMN-STYLE)
RECON_FILE_COLUMNS = frozenset(("total", "tier2mpnid"))
JSON_MODEL_COLUMNS = frozenset(("totalforcustomer", "resellermpnid"))


def _one(kinds: set[str]) -> str | None:
    return None if not kinds else next(iter(kinds)) if len(kinds) == 1 else "other"


def row_answers(export: Any, *, read_to_the_end: bool = True, reconciliation: bool = True) -> list[Observation]:
    """What an export's rows (``checks.rows.ExportJudge``: the keys and value types of every row) say:
    SP-GR-ROW-KEY-CASE, SP-GR-ROW-NUMBER-ENCODING, SP-GR-ROW-NULLS, SP-GR-ROW-COLUMN-STYLE (a reconciliation
    export's only: usage exports have columns of their own) and, when every blob was read to its end,
    SP-GR-EMPTY-BLOB."""
    blobs = list(getattr(export, "blobs", []))
    signatures = [signature for blob in blobs for signature in blob.signatures]
    keys = {k for names, _ in signatures for k in names}
    out: list[Observation] = []
    case = row_key_case(keys)
    if case:
        out.append(("SP-GR-ROW-KEY-CASE", case))
    encodings = set()
    for names, types in signatures:
        for name, kind in zip(names, types or ()):  # no types kept: no evidence
            if name.casefold() in ROW_NUMBER_COLUMNS and kind is not type(None):
                encodings.add("string" if kind is str else "number" if kind in (int, float) else "other")
    if _one(encodings):
        out.append(("SP-GR-ROW-NUMBER-ENCODING", str(_one(encodings))))
    folded = {k.casefold() for k in keys}
    styles = ({"recon-file"} if folded & RECON_FILE_COLUMNS else set()) | ({"json-model"} if folded & JSON_MODEL_COLUMNS else set())
    if reconciliation and _one(styles):
        out.append(("SP-GR-ROW-COLUMN-STYLE", str(_one(styles))))
    if any(getattr(blob, "writes_empties", False) for blob in blobs):
        out.append(("SP-GR-ROW-NULLS", "written"))
    elif len({frozenset(k.casefold() for k in names) for names, _ in signatures}) > 1:
        out.append(("SP-GR-ROW-NULLS", "dropped"))  # no empty value anywhere, and columns some rows leave out
    if read_to_the_end and blobs:
        out.append(("SP-GR-EMPTY-BLOB", "present" if any(blob.rows == 0 for blob in blobs) else "absent"))
    return out


def bad_content_type_answer(exchange: Exchange) -> str | None:
    """SP-GR-EXPORT-BAD-CONTENT-TYPE from an export sent with Content-Type text/plain: which 4xx (415 or 400, else
    status-NNN); None when it was not refused (accepted is SP-GR-BAD-REQUEST's answer)."""
    if not 400 <= exchange.status < 500:
        return None
    return str(exchange.status) if exchange.status in (400, 415) else f"status-{exchange.status}"


def parity_answer(result: Any) -> str | None:
    """SP-GR-EXPORT-PARITY from a ``checks.parity.ParityResult``: same-data, items-differ (an item on one side only),
    amounts-differ (matched items whose money or decimal values differ); ``other`` when other fields differ. None
    when the export's rows carry columns the mapping does not know and the sides differ, or when no item matched
    though both sides hold some (the recon file's column names and dates, SP-GR-ROW-COLUMN-STYLE): the join cannot
    tell a renamed column or a key spelled otherwise from different data."""
    differing = {t.field.kind for t in result.fields.values() if t.differ}
    if getattr(result, "graph_unknown_columns", None) and (result.only_v1 or result.only_graph or differing):
        return None  # rows with columns the mapping does not know: a naming difference cannot be told from a data one
    if not getattr(result, "matched", 1) and result.only_v1 and result.only_graph:
        return None  # no key matched at all: keys spelled otherwise (recon-file dates) look like other data
    if result.only_v1 or result.only_graph:
        return "items-differ"
    if not differing:
        return "same-data"
    return "amounts-differ" if differing <= {"money", "decimal"} else "other"


# Optional line-item fields a server may send empty, null or not at all (SP-PC-ITEM-OPTIONAL-EMPTY): those some
# documented body lacks (SDK-only or newer, or missing from the docs' 2019 second page)
OPTIONAL_ITEM_FIELDS = ("productQualifiers", "subscriptionStartDate", "subscriptionEndDate", "referenceId",
                        "billingFrequency", "promotionId", "reservationOrderId", "meterDescription",
                        "discountDetails", "priceAdjustmentDescription")


def optional_empty_answer(items: Sequence[Any]) -> str | None:
    """SP-PC-ITEM-OPTIONAL-EMPTY: how the items send an optional field with no value: empty-string ("" or []),
    "null", or absent (left out of some items while others carry it with a value); None when no item shows one."""
    kinds: set[str] = set()
    left_out = False
    items = [i for i in items if isinstance(i, dict)]
    for name in OPTIONAL_ITEM_FIELDS:
        values = [i[name] for i in items if name in i]
        kinds |= {"empty-string" for v in values if v in ("", [])} | {"null" for v in values if v is None}
        left_out = left_out or (any(v not in ("", [], None) for v in values) and len(values) < len(items))
    # a field left out of some items is "absent" only where no item sends an empty value: a server that sends ""
    # may still leave out a field that its documented body lacks
    return _one(kinds) if kinds else "absent" if left_out else None


def _count(exchange: Exchange) -> int | None:
    body = _json_object(exchange)
    return None if body is None else len(page_items(body))


def repeated_param_answer(exchange: Exchange, *, first: int, last: int) -> str:
    """SP-PC-REPEATED-PARAM from one request that gave size twice (size=first&size=last, first < last, both below the
    target's item count): rejected-4xx, first-wins or last-wins; ``other`` for a page of neither size,
    ``status-NNN`` for another status."""
    if 400 <= exchange.status < 500:
        return "rejected-4xx"
    if exchange.status != 200:
        return f"status-{exchange.status}"
    items = _count(exchange)
    return "first-wins" if items == first else "last-wins" if items == last else "other"


def unknown_param_answer(exchange: Exchange) -> str:
    """SP-PC-UNKNOWN-PARAM from one valid query with an undocumented parameter added: ignored (200), rejected-4xx."""
    if 400 <= exchange.status < 500:
        return "rejected-4xx"
    return "ignored" if exchange.status == 200 and _count(exchange) is not None else f"status-{exchange.status}"


# ---------------------------------------------------------------------------- answers outside the register

OUTSIDE_RULE = "REGISTER-ANSWER-UNLISTED"


def registered(point: str, answer: str) -> bool:
    """An answer the register lists for the point: one of its alternatives, or a named answer of its ``observe``
    list. ``other`` and ``status-NNN`` are the register's words for what it does not list."""
    known = silent_points().get(point)
    if known is None:
        return False
    if answer == "other" or re.fullmatch(r"status-\d{3}", answer):
        return False
    return answer in known.answers or answer in known.observe


def outside_register(point: str, answer: str, *, exchange: Exchange | None = None) -> list[Finding]:
    """An advisory finding when the target's answer at a silent point is one the register does not list."""
    if registered(point, answer):
        return []
    known = silent_points().get(point)
    listed = ", ".join(known.answers) if known is not None else "none: the point is not in the register"
    question = f" ({known.question})" if known is not None else ""
    return [finding(OUTSIDE_RULE, f"the target answers silent point {point}{question} with {answer!r}, an answer the "
                    "register does not list", exchange, expected=f"one of the register's answers: {listed}",
                    actual=answer, point=point)]
