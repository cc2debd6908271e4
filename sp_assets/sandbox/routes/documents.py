"""What the document-serving routes (reports, Data Kiosk) answer alike: S3's refusals of a presigned URL,
and the creation window and offset tokens of their list operations (getReports, getQueries)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response

from sp_assets.sandbox.operations import ApiError, ApiRequest, invalid

# What a refused download answers, per problem: (S3 error code, message); an expired URL is
# AccessDenied with "Request has expired", as S3 says it.
_S3_REFUSALS = {
    "ExpiredToken": ("AccessDenied", "Request has expired"),
    "SignatureDoesNotMatch": ("SignatureDoesNotMatch",
                              "The request signature we calculated does not match the signature you provided."),
    "AccessDenied": ("AccessDenied", "Access Denied"),
}


def s3_refusal(problem: str) -> Response:
    """The 403 S3 answers for a refused presigned URL (``problem`` from ``PresignedUrls.check``)."""
    code, message = _S3_REFUSALS[problem]
    return s3_error(403, code, message)


def s3_error(status: int, code: str, message: str) -> Response:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>")
    return Response(body, status_code=status, media_type="application/xml")


def encode_offset_token(query: dict[str, Any], offset: int) -> str:
    """A list operation's next-page token: the query and the next offset, in standard base64 (with + / =)
    as Amazon's tokens are, so a client must percent-encode it."""
    return base64.b64encode(json.dumps({"q": query, "o": offset}).encode()).decode()


def decode_offset_token(token: str, refusal: ApiError) -> tuple[dict[str, Any], int]:
    """The query and offset of a token from ``encode_offset_token``; ``refusal`` is raised for anything else."""
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
        return data["q"], int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise refusal from None


def created_window(req: ApiRequest, now: datetime) -> tuple[datetime, datetime]:
    """``createdSince``/``createdUntil`` of a list operation: the last 90 days by default, as Amazon's."""
    since = req.datetime("createdSince") or now - timedelta(days=90)
    until = req.datetime("createdUntil") or now
    if since > until:
        raise invalid("createdSince must not be after createdUntil")
    return since, until
