"""Report documents to UTF-8: gunzip when gzip, decode the declared (or the marketplace's) charset.

Amazon writes flat files in the marketplace's charset (Cp1252, Shift_JIS, UTF-8) and sometimes
declares it wrongly or not at all; ``transcode_to_utf8`` explains the rules. Plain Python.
"""

from __future__ import annotations

import codecs
import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sp_assets.lib.spapi.redaction import get_logger

log = get_logger(__name__)

# Java/IANA names Amazon puts in Content-Type -> the Python codec that decodes them. Shift_JIS is read
# as cp932 (Windows-31J), its superset, because Amazon's "Shift_JIS" files carry Windows-only characters.
_CHARSET_ALIASES = {
    "cp1252": "cp1252", "windows-1252": "cp1252", "x-windows-1252": "cp1252",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932",
    "ms932": "cp932", "cp932": "cp932", "utf-8": "utf-8-sig", "utf8": "utf-8-sig",
}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Transcoded:
    charset: str
    lines: int
    replacements: int


def python_codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def open_maybe_gzip(path: Path) -> BinaryIO:
    """A gzip document is gunzipped whatever ``compressionAlgorithm`` said (the magic bytes decide)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")  # type: ignore[return-value]


def transcode_to_utf8(source: Path, target: Path, *, declared: str | None, fallback: str | None) -> Transcoded:
    """Gunzip (if gzip) and re-encode ``source`` as UTF-8 into ``target``, streaming.

    The declared charset (``Content-Type``) wins. A byte invalid in it spoils one value, not the
    document: it becomes U+FFFD (counted in ``replacements``) and everything else is read as declared.
    Re-reading the whole document in another charset instead would silently turn every accented or
    Japanese character of every other row into mojibake. The one exception is a document declared
    UTF-8 that holds no UTF-8 multibyte sequence at all: that is another charset mislabelled, and it
    is read like an undeclared one. Without a declared charset, UTF-8 is tried first, then the
    marketplace's charset, then cp1252 (wire contract 2.9); if all fail, the first is used with
    replacement characters.
    """
    declared_codec = python_codec(declared)
    if declared_codec is not None:
        try:
            return _transcode(source, target, declared_codec, "strict")
        except UnicodeDecodeError:
            pass
        if not declared_codec.startswith("utf-8") or _has_utf8_multibyte(source):
            log.warning("document declared %s holds bytes invalid in it: each becomes U+FFFD (decode_replacements)",
                        declared)
            return _transcode(source, target, declared_codec, "replace")
        log.info("document declared %s holds no UTF-8 text: reading it as the marketplace's charset", declared)
    candidates = [c for c in dict.fromkeys([
        "utf-8-sig" if declared_codec is None else None, python_codec(fallback), "cp1252",
    ]) if c]
    for codec in candidates:
        try:
            return _transcode(source, target, codec, "strict")
        except UnicodeDecodeError:
            log.info("document is not valid %s; trying the next charset", codec)
    return _transcode(source, target, declared_codec or candidates[0], "replace")


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _has_utf8_multibyte(source: Path) -> bool:
    """True if the (gunzipped) document holds at least one well-formed UTF-8 multibyte sequence."""
    tail = b""
    with open_maybe_gzip(source) as stream:
        while chunk := stream.read(_CHUNK):
            if _UTF8_MULTIBYTE.search(tail + chunk):
                return True
            tail = chunk[-3:]
    return False


def _transcode(source: Path, target: Path, codec: str, errors: str) -> Transcoded:
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    lines = replacements = 0
    last = ""
    first = True
    with open_maybe_gzip(source) as stream, target.open("w", encoding="utf-8", newline="") as out:
        while True:
            chunk = stream.read(_CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            if text:
                if first and text.startswith("\ufeff"):
                    text = text[1:]
                first = False
                out.write(text)
                lines += text.count("\n")
                if errors == "replace":
                    replacements += text.count("\ufffd")
                last = text[-1:] or last
            if not chunk:
                break
    if last and last != "\n":
        lines += 1
    return Transcoded(codec, lines, replacements)


