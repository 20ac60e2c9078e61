"""The reference mock: a stateful mock of Partner Center unbilled line items and the Graph billing exports.

    from recon_contracts.mock import MockConfig, serve, PROFILES, Profile
    with serve(MockConfig(profile="conforming")) as server:
        server.base_url  # http://127.0.0.1:PORT (Partner Center: + "/v1/invoices/...")
"""

from .app import create_app
from .config import MockConfig
from .profiles import PROFILES, Profile
from .server import RunningMock, serve

__all__ = ["MockConfig", "PROFILES", "Profile", "RunningMock", "create_app", "serve"]
