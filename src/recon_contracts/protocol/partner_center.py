"""Partner Center's vocabulary: the line-items path and operation name, the documented query, and how a page links on.

``links.next.uri`` in the docs is relative to ``{base}/v1`` without the ``/v1`` prefix
(``/invoices/unbilled/lineitems?...&seekOperation=Next``); :func:`resolve_link` also accepts a uri
relative to the host (``/v1/invoices/...``) and an absolute one. Nothing here judges: the checks do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..findings import Exchange

API = "partner-center"
LINEITEMS_PATH = "/v1/invoices/unbilled/lineitems"  # the path the suite requests
LINEITEMS_OPERATION = "GET /v1/invoices/{invoice-id}/lineitems"  # the operation as the spec names it

Query = list[tuple[str, str]]


def base_query(currency: str, period: str, *, size: int | None = None) -> Query:
    """The documented query (request syntax spelling), with an optional page size."""
    query = [
        ("provider", "onetime"),
        ("invoicelineitemtype", "billinglineitems"),
        ("currencycode", currency),
        ("period", period),
    ]
    if size is not None:
        query.append(("size", str(size)))
    return query


CONTINUATION_HEADER = "MS-ContinuationToken"
DEFAULT_PAGE_SIZE = 2000
SEEK_OPERATION = "seekoperation"


# ------------------------------------------------------------------ links


def resolve_link(base_url: str, uri: str) -> str:
    """The absolute URL of a Partner Center link uri.

    ``base_url`` is the API's base without the version (``https://api.partnercenter.microsoft.com``);
    a trailing ``/v1`` on it is tolerated. ``/invoices/...`` resolves against ``{base}/v1``,
    ``/v1/...`` against ``{base}``, and an absolute URL stays as it is.
    """
    uri = uri.strip()
    if uri.lower().startswith(("http://", "https://")):
        return uri
    base = base_url.rstrip("/")
    if base.lower().endswith("/v1"):
        base = base[:-3]
    path = uri.lstrip("/")
    if path.lower() == "v1" or path.lower().startswith(("v1/", "v1?")):
        return f"{base}/{path}"
    return f"{base}/v1/{path}"


def links_of(body: Any) -> dict[str, Any]:
    links = body.get("links") if isinstance(body, dict) else None
    return links if isinstance(links, dict) else {}


def next_link(body: Any) -> dict[str, Any] | None:
    """``links.next`` of a page, or None when the page has none (the last page)."""
    link = links_of(body).get("next")
    return link if isinstance(link, dict) else None


def link_headers(link: dict[str, Any]) -> dict[str, str]:
    """A link's headers as a dict (the wire form is a list of ``{"key", "value"}``; a dict is tolerated)."""
    raw = link.get("headers")
    headers: dict[str, str] = {}
    if isinstance(raw, list):
        for pair in raw:
            if isinstance(pair, dict) and isinstance(pair.get("key"), str):
                value = pair.get("value")
                headers[pair["key"]] = "" if value is None else str(value)
    elif isinstance(raw, dict):
        headers = {str(k): "" if v is None else str(v) for k, v in raw.items()}
    return headers


def continuation_token(link: dict[str, Any] | None) -> str | None:
    """The non-empty MS-ContinuationToken a link carries, or None."""
    if not link:
        return None
    for key, value in link_headers(link).items():
        if key.lower() == CONTINUATION_HEADER.lower() and value.strip():
            return value
    return None


@dataclass(frozen=True)
class NextRequest:
    """Where a walk goes next: the resolved URL and the headers the link says to send."""

    url: str
    headers: dict[str, str]
    token: str


def next_request(body: Any, base_url: str) -> NextRequest | None:
    """The request that follows a page's ``links.next``; None when there is none or it has no token."""
    link = next_link(body)
    token = continuation_token(link)
    if link is None or token is None or not isinstance(link.get("uri"), str):
        return None
    return NextRequest(url=resolve_link(base_url, link["uri"]), headers=link_headers(link), token=token)


# ------------------------------------------------------------------ queries


def query_pairs(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def query_value(url: str, name: str) -> str | None:
    """The value of a query parameter, its name compared case-insensitively."""
    return next((v for k, v in query_pairs(url) if k.lower() == name.lower()), None)


def requested_size(exchange: Exchange) -> int:
    """The page size a request asked for (2000 when it named none)."""
    raw = query_value(exchange.url, "size")
    try:
        return int(raw) if raw is not None else DEFAULT_PAGE_SIZE
    except ValueError:
        return DEFAULT_PAGE_SIZE


def page_items(body: Any) -> list[Any]:
    items = body.get("items") if isinstance(body, dict) else None
    return items if isinstance(items, list) else []


def body_of(exchange: Exchange) -> Any:
    """The JSON body of an exchange, or None when it is not JSON."""
    try:
        return exchange.json()
    except (ValueError, UnicodeDecodeError):
        return None

