"""Presigned download URLs, as S3 issues them for report and Data Kiosk documents.

Amazon hands out a document as a URL that needs no access token, is signed, and expires (5 minutes).
Both document-serving backends (reports, Data Kiosk) sign and check their URLs the same way, so a
client's handling of an expired or altered URL is tested once against one behaviour; each backend
has its own key (``purpose``), so a URL of one is refused by the other. The HTTP side (S3's error
answers) is in ``sandbox/routes/documents.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import time


class PresignedUrls:
    """Signs and checks ``expires``/``signature`` query parameters for one backend's documents."""

    def __init__(self, purpose: str, seed: object) -> None:
        self._key = hashlib.sha256(f"{purpose}:{seed}".encode()).digest()

    def query(self, document_id: str, expires_at: float, *extra: str) -> str:
        """``expires=...&signature=...`` for a URL valid until ``expires_at`` (epoch seconds)."""
        expires = f"{expires_at:.3f}"
        return f"expires={expires}&signature={self._sign(document_id, expires, extra)}"

    def check(self, document_id: str, expires: str, signature: str, *extra: str) -> str | None:
        """None when the URL is valid, else the S3-style problem: AccessDenied, SignatureDoesNotMatch, ExpiredToken."""
        if not expires or not signature:
            return "AccessDenied"
        if not hmac.compare_digest(self._sign(document_id, expires, extra), signature):
            return "SignatureDoesNotMatch"
        try:
            deadline = float(expires)
        except ValueError:
            return "AccessDenied"
        return "ExpiredToken" if time.time() > deadline else None

    def _sign(self, document_id: str, expires: str, extra: tuple[str, ...]) -> str:
        text = "|".join((document_id, expires, *extra))
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()
