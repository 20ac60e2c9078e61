"""Partner Center continuation tokens: opaque, signed, and bound to the query that produced them.

A token looks like the ones in the docs (``{guid},{base64},{guid}``; it may contain ``/ + = ,``) and
carries the offset of the next item and a fingerprint of the normalised query. A token that does not
verify, or that is sent with another query, is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

from .data import stable_guid


class TokenError(ValueError):
    pass


class TokenCodec:
    def __init__(self, seed: int, filler: str = "") -> None:
        self._filler = filler  # every token starts with it (MockConfig.token_filler): tokens of any length and alphabet
        self._key = hashlib.blake2b(f"recon-mock-continuation|{seed}".encode(), digest_size=32).digest()

    def fingerprint(self, normalised_query: str) -> bytes:
        return hmac.new(self._key, normalised_query.encode(), hashlib.sha256).digest()[:8]

    def encode(self, offset: int, fingerprint: bytes) -> str:
        payload = struct.pack(">Q8s", offset, fingerprint)
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        middle = base64.b64encode(payload + mac).decode()
        return f"{self._filler}{stable_guid('fp', fingerprint.hex())},{middle},{stable_guid('off', offset, fingerprint.hex())}"

    def decode(self, token: str) -> tuple[int, bytes]:
        """(offset, fingerprint) of a token this server issued; TokenError otherwise."""
        core = token.strip()
        if not core.startswith(self._filler):
            raise TokenError("the continuation token is malformed")
        parts = core[len(self._filler):].split(",")
        if len(parts) != 3:
            raise TokenError("the continuation token is malformed")
        try:
            raw = base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError):
            raise TokenError("the continuation token is malformed") from None
        if len(raw) != 32:
            raise TokenError("the continuation token is malformed")
        payload, mac = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, hmac.new(self._key, payload, hashlib.sha256).digest()[:16]):
            raise TokenError("the continuation token is not valid")
        offset, fingerprint = struct.unpack(">Q8s", payload)
        if token.strip() != self.encode(offset, fingerprint):
            raise TokenError("the continuation token is not valid")
        return offset, fingerprint
