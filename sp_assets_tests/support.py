"""Helpers tests share: the sandbox's test credentials and a plain-HTTP access token.

Sandbox tests talk to the sandbox with ``requests`` directly, never through the project's client,
so a client bug cannot hide a sandbox bug (or the reverse).
"""

from __future__ import annotations

import requests

from sp_assets.sandbox.server import SandboxServer

SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret-do-not-log"
SANDBOX_REFRESH_TOKENS = {"NA": "Atzr|sandbox-na-demo", "EU": "Atzr|sandbox-eu-demo", "FE": "Atzr|sandbox-fe-demo"}


def access_token(sb: SandboxServer, refresh_token: str) -> str:
    """An access token for ``refresh_token`` from the sandbox's LWA endpoint."""
    answer = requests.post(sb.token_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                                "client_id": SANDBOX_CLIENT_ID,
                                                "client_secret": SANDBOX_CLIENT_SECRET}, timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]
