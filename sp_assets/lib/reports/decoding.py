"""Report documents to UTF-8: gunzip when gzip, decode the declared (or the marketplace's) charset.

Amazon writes flat files in the marketplace's charset (Cp1252, Shift_JIS, UTF-8) and sometimes
declares it wrongly or not at all; ``transcode_to_utf8`` explains the rules. A document whose text,
read as declared, is garbage (a wrong charset, or bytes no charset reads) is refused with a
``DocumentError`` rather than written: ``judge_charset`` says why. Plain Python.
"""

from __future__ import annotations

import codecs
import gzip
import importlib
import os
import queue
import re
import threading
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from sp_assets.lib.reports import native_codecs
from sp_assets.lib.spapi.redaction import get_logger

_fast_gzip: ModuleType
_IsalError: type[BaseException]
try:  # isal's gunzip: the same gzip format and errors (its own for a corrupt stream), ~3x faster
    _fast_gzip = importlib.import_module("isal.igzip")
    _IsalError = importlib.import_module("isal.isal_zlib").error
except ImportError:  # pragma: no cover - isal is a dependency; plain zlib still works
    _fast_gzip, _IsalError = gzip, zlib.error
# What a truncated or corrupt gzip stream raises, from zlib or isal.
GZIP_ERRORS: tuple[type[BaseException], ...] = (EOFError, zlib.error, gzip.BadGzipFile, _IsalError)

log = get_logger(__name__)

# Java/IANA names Amazon puts in Content-Type -> the Python codec that decodes them. Shift_JIS is read
# as cp932 (Windows-31J), its superset, because Amazon's "Shift_JIS" files carry Windows-only characters.
_CHARSET_ALIASES = {
    "cp1252": "cp1252", "windows-1252": "cp1252", "x-windows-1252": "cp1252",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932",
    "ms932": "cp932", "cp932": "cp932", "utf-8": "utf-8-sig", "utf8": "utf-8-sig",
}
_CHUNK = 1 << 20
# How Amazon (and this project's README) names each codec in messages.
_DISPLAY_NAMES = {"cp1252": "Cp1252 (windows-1252)", "cp932": "Shift_JIS", "utf-8-sig": "UTF-8", "utf-8": "UTF-8"}
# The charsets Amazon writes flat files in: the candidates a wrongly declared document is compared with.
AMAZON_CODECS = ("utf-8-sig", "cp1252", "cp932")


class DocumentError(ValueError):
    """A downloaded document that must not be loaded: garbled, wrongly declared, or truncated."""


class TruncatedDocumentError(DocumentError):
    """The gzip stream ends early or is corrupt: the download is incomplete."""


class CharsetMismatchError(DocumentError):
    """The text reads as garbage in the declared charset and cleanly in ``likely``."""

    def __init__(self, message: str, declared: str, likely: str | None) -> None:
        super().__init__(message)
        self.declared = declared
        self.likely = likely


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
    """Transcode (see ``choose_and_transcode``), then refuse what must not be loaded.

    Raises ``TruncatedDocumentError`` for a gzip stream that ends early, and ``CharsetMismatchError``
    when the text is implausible in the charset used (``judge_charset``) or holds more U+FFFD than
    ``replacement_limit`` allows. ``target`` never survives an error (a partial file is removed).
    """
    try:
        result = choose_and_transcode(source, target, declared=declared, fallback=fallback)
        judge_charset(source, result, declared=declared, fallback=fallback)
        return result
    except GZIP_ERRORS as error:
        target.unlink(missing_ok=True)
        raise TruncatedDocumentError(f"the gzip document is truncated or corrupt ({error}); it was not loaded "
                                     f"and its partial download was removed") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def read_head(path: Path, size: int = 512) -> bytes:
    """The first ``size`` bytes of the (gunzipped) document; a truncated gzip raises ``TruncatedDocumentError``."""
    try:
        with open_maybe_gzip(path) as stream:
            return stream.read(size)
    except GZIP_ERRORS as error:
        raise TruncatedDocumentError(f"the gzip document is truncated or corrupt ({error}); it was not loaded "
                                     f"and its partial download was removed") from None


def choose_and_transcode(source: Path, target: Path, *, declared: str | None, fallback: str | None) -> Transcoded:
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
    """Write ``source`` decoded as ``codec`` into ``target`` as UTF-8; counts as ``Transcoded`` says.

    Gunzip runs on a thread of its own (``_Pieces``) and hands over pieces of whole lines. In Amazon's
    charsets (``_LINE_SAFE``) a newline byte is always a newline and never part of a character, so each
    such piece decodes on its own exactly as the stream would: an ASCII piece is already its UTF-8; in
    strict Cp1252 and Shift_JIS, pieces go to the C library's converter (``native_codecs``) on
    ``_THREADS`` threads, off the GIL (isal's gunzip holds it; for Cp1252 iconv costs a little more CPU
    than Python's codec, 0.14 s against 0.105 s per 100 MiB, but runs beside the gunzip instead of
    after it); the rest is Python's codec. A line longer than ``_LONG_LINE`` and any other charset go
    through Python's incremental decoder.
    """
    output = _Output(errors)
    pending: deque[tuple[bytes, str, Future[_Converted | None]]] = deque()
    native: native_codecs.IconvConverter | None = None
    native_checked, seen = False, 0
    streaming: codecs.IncrementalDecoder | None = None
    with _Pieces(source) as pieces, target.open("wb") as out, ThreadPoolExecutor(_THREADS) as pool:
        def flush(keep: int) -> None:
            while len(pending) > keep:
                piece, piece_codec, future = pending.popleft()
                done = future.result()
                if done is None:  # refused by the C converter: Python decides (UnicodeDecodeError or U+FFFD)
                    done = _python_piece(piece, piece_codec, errors), None
                output.write(out, *done)

        for index, (piece, whole) in enumerate(pieces):
            piece_codec = _piece_codec(codec, index == 0)
            if not whole or codec not in _LINE_SAFE:
                if streaming is None:
                    streaming = codecs.getincrementaldecoder(piece_codec)(errors=errors)
                flush(0)
                output.write(out, streaming.decode(piece).encode("utf-8"))
                continue
            if streaming is not None:  # the long line ended with the last piece: its state is empty
                output.write(out, streaming.decode(b"", final=True).encode("utf-8"))
                streaming = None
            seen += len(piece)
            if not native_checked and errors == "strict" and seen >= _NATIVE_MIN:
                native, native_checked = native_codecs.converter(codec), True
            future: Future[_Converted | None]
            if native is not None:
                future = pool.submit(_native_piece, native, piece)
            else:
                future = Future()
                future.set_result((_python_piece(piece, piece_codec, errors), None))
            pending.append((piece, piece_codec, future))
            flush(_IN_FLIGHT)
        flush(0)
        if streaming is not None:
            output.write(out, streaming.decode(b"", final=True).encode("utf-8"))
    return Transcoded(codec, output.total_lines(), output.replacements)


# A converted piece: its UTF-8 and its newlines when already counted.
_Converted = tuple[bytes, int | None]
# Bytes read from the gunzipped stream at a time. Small on purpose: a piece, its text and its UTF-8 stay
# in the CPU's cache (measured on a 100 MiB Cp1252 document: 4 MiB pieces cost 0.45 s of CPU, 1 MiB
# 0.36 s, 256 KiB 0.29 s).
_BLOCK = 256 << 10
_LONG_LINE = 8 << 20  # a piece without a newline this long goes to the incremental decoder
_NATIVE_MIN = 1 << 20  # the C converter from this many bytes on: not worth checking it for less
_IN_FLIGHT = 8  # pieces being converted at once
_THREADS = max(1, min(4, os.cpu_count() or 1))
# Charsets where 0x0A is a newline and nothing else and a newline ends any multibyte sequence: a piece
# of whole lines decodes the same alone as in the stream, and an ASCII piece is its own UTF-8.
_LINE_SAFE = frozenset({"cp1252", "cp932", "utf-8-sig", "utf-8"})
_BOM = codecs.BOM_UTF8
_REPLACEMENT = "\ufffd".encode()


def _piece_codec(codec: str, first: bool) -> str:
    """``utf-8-sig`` skips a BOM at the start of the document only, not at the start of every piece."""
    return codec if first or codec != "utf-8-sig" else "utf-8"


def _python_piece(piece: bytes, codec: str, errors: str) -> bytes:
    if piece.isascii():
        return piece
    text = piece.decode(codec, errors)
    if errors == "strict" and codec.startswith("utf-8"):
        return piece[len(_BOM):] if codec == "utf-8-sig" and piece.startswith(_BOM) else piece
    return text.encode("utf-8")


def _native_piece(native: native_codecs.IconvConverter, piece: bytes) -> _Converted | None:
    """On a pool thread: the piece as UTF-8 and its newlines (counted on the source: the same bytes)."""
    if piece.isascii():
        return piece, piece.count(b"\n")
    converted = native.convert(piece)
    return None if converted is None else (converted, piece.count(b"\n"))


class _Output:
    """What ``_transcode`` counts while it writes: lines, U+FFFD (when replacing), the leading BOM skipped."""

    def __init__(self, errors: str) -> None:
        self.count_replacements = errors == "replace"
        self.lines = self.replacements = 0
        self.first = True
        self.last = b""

    def write(self, out: BinaryIO, data: bytes, newlines: int | None = None) -> None:
        if not data:
            return
        if self.first and data.startswith(_BOM):
            data = data[len(_BOM):]
        self.first = False
        out.write(data)
        self.lines += data.count(b"\n") if newlines is None else newlines
        if self.count_replacements:
            self.replacements += data.count(_REPLACEMENT)
        self.last = data[-1:] or self.last

    def total_lines(self) -> int:
        return self.lines + (1 if self.last and self.last != b"\n" else 0)


class _Pieces:
    """The gunzipped document in pieces of whole lines, read on a thread of its own.

    Yields ``(piece, whole)``: ``whole`` when the piece starts at a line start and ends with a newline
    or the document. A line longer than ``_LONG_LINE`` comes in pieces that are not whole. The thread
    stops when the consumer leaves (``__exit__``); its error (truncated gzip...) is raised to the consumer.
    """

    def __init__(self, source: Path) -> None:
        self._source = source
        self._queue: queue.Queue[tuple[bytes, bool] | None] = queue.Queue(maxsize=8)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="transcode-gunzip", daemon=True)

    def __enter__(self) -> _Pieces:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.1)
            except queue.Empty:
                pass
        self._thread.join()

    def __iter__(self) -> Iterator[tuple[bytes, bool]]:
        while (item := self._queue.get()) is not None:
            yield item
        if self._error is not None:
            raise self._error

    def _put(self, item: tuple[bytes, bool] | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            with _open_fast(self._source) as stream:
                carry: list[bytes | memoryview] = []  # the start of a line that began in an earlier read
                carried, mid_line = 0, False
                while chunk := stream.read(_BLOCK):
                    cut = chunk.rfind(b"\n") + 1
                    if cut == 0:
                        carry.append(chunk)
                        carried += len(chunk)
                        if carried < _LONG_LINE:
                            continue
                        piece, rest, whole, mid_line = b"".join(carry), b"", False, True
                    else:  # one copy: the carried start of the line and this read up to its last newline
                        piece = b"".join((*carry, memoryview(chunk)[:cut])) if carry or cut < len(chunk) else chunk
                        rest, whole, mid_line = chunk[cut:], not mid_line, False
                    carry, carried = ([rest], len(rest)) if rest else ([], 0)
                    if not self._put((piece, whole)):
                        return
                if carry and not self._put((b"".join(carry), not mid_line)):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which raises it
            self._error = error
        self._put(None)


def _open_fast(path: Path) -> BinaryIO:
    """``open_maybe_gzip`` with isal's gunzip when installed (about 3x zlib's speed, same format checks)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic != b"\x1f\x8b":
        return path.open("rb")
    return _fast_gzip.open(path, "rb")


# ------------------------------------------------------------------------------------------ plausibility
# What a wrongly chosen charset produces and real text (in any of Amazon's charsets) hardly holds:
# U+FFFD, control characters and private-use characters (cp932 maps Cp1252's ö, ü... there);
_BAD = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")
# UTF-8 read as Cp1252: a lead byte (Ã, Â, ã...) then a continuation byte (Ã¤ for ä, ã‚ for kana);
_UTF8_AS_CP1252 = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                             "\u02c6\u02dc\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022"
                             "\u2026\u2030\u2039\u203a\u20ac\u2122]")
# Cp1252 read as Shift_JIS: a kanji or kana inside a Latin word (f + 0xFC + r, "für", gives f?r);
_CJK = "\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_IN_LATIN_WORD = re.compile(f"(?<=[A-Za-z])[{_CJK}](?=[A-Za-z])")
# Shift_JIS read as Cp1252: its lead bytes 0x83 (katakana) and 0x88-0x9F (kanji) as rare Latin symbols.
_SHIFT_JIS_AS_CP1252 = re.compile("[\u0192\u02c6\u2030\u0160\u2039\u0152\u017d\u02dc\u0161\u203a\u0153"
                                  "\u017e\u0178\u2020\u2021]")
_SUSPICIOUS = (_BAD, _UTF8_AS_CP1252, _CJK_IN_LATIN_WORD, _SHIFT_JIS_AS_CP1252)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
SAMPLE_BYTES = 1 << 20
MIN_SUSPICIOUS = 3  # fewer odd characters than this is a stray byte, not a wrong charset
MIN_SCORE = 0.02  # share of non-ASCII characters that are odd, in the charset used, to suspect it
BETTER_BY = 10.0  # another charset must read the sample this many times more plausibly


@dataclass(frozen=True)
class Plausibility:
    """How a text reads: odd characters (see ``_SUSPICIOUS``) per non-ASCII character, and which lines."""

    non_ascii: int
    suspicious: int
    lines: int
    odd_lines: int
    example: str | None

    @property
    def score(self) -> float:
        return self.suspicious / max(1, self.non_ascii)


def plausibility(text: str) -> Plausibility:
    """Score ``text``: 0 for text any of Amazon's charsets writes; near 1 for a wrong charset's mojibake."""
    suspicious = odd_lines = 0
    example = None
    lines = text.splitlines()
    for line in lines:
        found = sum(len(pattern.findall(line)) for pattern in _SUSPICIOUS)
        if found:
            suspicious += found
            odd_lines += 1
            if example is None:
                example = _odd_value(line)
    return Plausibility(len(_NON_ASCII.findall(text)), suspicious, len(lines), odd_lines, example)


def _odd_value(line: str) -> str:
    """The first tab-separated value of ``line`` holding an odd character, cut to 40 characters."""
    for value in line.split("\t"):
        if any(pattern.search(value) for pattern in _SUSPICIOUS):
            return value[:40]
    return line[:40]


def display_name(codec: str) -> str:
    return _DISPLAY_NAMES.get(codec, codec)


def replacement_limit(lines: int) -> int:
    """U+FFFD a document may hold and still load: a few stray bytes spoil a few values (kept, counted in
    ``decode_replacements``); more is a document no charset reads, which is refused."""
    return max(10, lines // 100)


def judge_charset(source: Path, result: Transcoded, *, declared: str | None, fallback: str | None) -> None:
    """Raise ``CharsetMismatchError`` if ``source`` read as ``result.charset`` is garbage.

    A sample (the first MiB from the first line holding a non-ASCII byte) is decoded in the charset used
    and in each of Amazon's charsets (``AMAZON_CODECS``, the marketplace's ``fallback`` among them). The
    charset used is refused when at least ``MIN_SUSPICIOUS`` characters and ``MIN_SCORE`` of the non-ASCII
    ones are odd (``plausibility``) and another charset reads the sample ``BETTER_BY`` times better; the
    message names both and quotes a value as read each way. Independently, more U+FFFD in the whole
    document than ``replacement_limit`` is refused, naming the charset that reads the sample best, if any.
    """
    sample = _sample(source)
    used = result.charset
    said = declared or "no charset"
    if sample:
        mine = plausibility(sample.decode(used, "replace"))
        others = {codec: plausibility(sample.decode(codec, "replace"))
                  for codec in dict.fromkeys([python_codec(fallback), *AMAZON_CODECS]) if codec and codec != used}
        best = min(others, key=lambda codec: others[codec].score) if others else None
        if (best is not None and mine.suspicious >= MIN_SUSPICIOUS and mine.score >= MIN_SCORE
                and others[best].score * BETTER_BY <= mine.score):
            again = _same_line(sample, used, best, mine.example)
            raise CharsetMismatchError(
                f"the document declares {said} but its text reads as {display_name(best)}: read as "
                f"{display_name(used)}, {mine.odd_lines} of {mine.lines} sampled lines hold garbled text (e.g. "
                f"{mine.example!r}{f' instead of {again!r}' if again else ''}); nothing was written",
                said, display_name(best))
    else:
        best = None
    if result.replacements > replacement_limit(result.lines):
        likely = f"; it reads best as {display_name(best)}" if best else ""
        raise CharsetMismatchError(
            f"the document declares {said}, and read as {display_name(used)} {result.replacements} characters of "
            f"{result.lines} lines are invalid (U+FFFD; at most {replacement_limit(result.lines)} are accepted)"
            f"{likely}; nothing was written", said, display_name(best) if best else None)


def _same_line(sample: bytes, used: str, other: str, example: str | None) -> str | None:
    """``example`` (a value read as ``used``) as ``other`` reads the same bytes."""
    if example is None:
        return None
    for raw in sample.splitlines():
        line = raw.decode(used, "replace")
        if example in line:
            values = line.split("\t")
            index = next(i for i, v in enumerate(values) if v.startswith(example))
            again = raw.decode(other, "replace").split("\t")
            return again[index][:40] if index < len(again) else None
    return None


def _sample(source: Path) -> bytes:
    """Up to ``SAMPLE_BYTES`` of whole lines from the first line holding a non-ASCII byte; b"" if none."""
    tail = b""
    with open_maybe_gzip(source) as stream:
        while chunk := stream.read(_CHUNK):
            data = tail + chunk
            high = re.search(rb"[\x80-\xff]", data)
            if high is None:
                tail = data[data.rfind(b"\n") + 1:]
                continue
            start = data.rfind(b"\n", 0, high.start()) + 1
            sample = data[start:] + stream.read(max(0, SAMPLE_BYTES - (len(data) - start)))
            end = sample.rfind(b"\n")
            return sample[:end + 1] if end > 0 else sample
    return b""
