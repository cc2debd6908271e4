"""Cp1252 and Shift_JIS (cp932) to UTF-8 in C, outside the GIL: the C library's ``iconv`` through ctypes.

Why: Python's codecs hold the GIL, so decoding a 1 GiB document uses one core however many there are,
and decode + encode cost more CPU than the conversion itself. glibc's ``iconv`` writes UTF-8 directly
and ctypes releases the GIL for the call, so blocks convert on several threads at once.

It is only a faster way to the same bytes: ``decoding`` uses it in strict mode for blocks of whole lines,
and any block ``iconv`` refuses (an invalid byte, or one of the few bytes Python's cp932 reads and glibc's
does not: 0x80, 0xA0, 0xFD-0xFF) is decoded by Python instead, which then decides (an error, or U+FFFD).
Before first use in a process, every one- and two-byte sequence Python decodes is converted both ways
in one call and must come out identical (``_agrees``); otherwise the codec is not used here at all.
Without glibc (or the gconv module), ``converter`` returns None and Python does everything.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading
from functools import cache

# Python codec -> glibc's name for the same table.
ICONV_NAMES = {"cp1252": "CP1252", "cp932": "CP932"}
# Cp1252 and cp932 write at most 3 UTF-8 bytes per source byte (0x80 -> U+20AC, 0xA1-0xDF -> U+FF61...).
_GROWTH = 3
_FAILED = ctypes.c_size_t(-1).value
_CharPP = ctypes.POINTER(ctypes.c_char_p)
_SizeP = ctypes.POINTER(ctypes.c_size_t)


@cache
def _libc() -> ctypes.CDLL | None:
    if platform.libc_ver()[0] != "glibc":
        return None  # other C libraries' tables were not checked against Python's
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)  # CDLL (not PyDLL): calls release the GIL
    except OSError:
        return None
    libc.iconv_open.restype = ctypes.c_void_p
    libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.iconv.restype = ctypes.c_size_t
    libc.iconv.argtypes = [ctypes.c_void_p, _CharPP, _SizeP, _CharPP, _SizeP]
    libc.iconv_close.restype = ctypes.c_int
    libc.iconv_close.argtypes = [ctypes.c_void_p]
    return libc


class IconvConverter:
    """Converts whole blocks from one charset to UTF-8; thread-safe (one ``iconv_t`` per call)."""

    def __init__(self, libc: ctypes.CDLL, name: str) -> None:
        self._libc = libc
        self._name = name.encode("ascii")

    def convert(self, block: bytes) -> bytes | None:
        """``block`` as UTF-8, or None if iconv refuses any byte of it."""
        converted, consumed = self.convert_prefix(block)
        return converted if consumed == len(block) else None

    def convert_prefix(self, block: bytes) -> tuple[bytes, int]:
        """The UTF-8 of ``block`` up to the first byte iconv refuses, and how many bytes that covers."""
        handle = self._libc.iconv_open(b"UTF-8", self._name)
        if handle is None or handle == _FAILED:
            return b"", 0
        try:
            out = _buffer(len(block) * _GROWTH + 16)
            in_ptr, in_left = ctypes.c_char_p(block), ctypes.c_size_t(len(block))
            out_ptr, out_left = ctypes.cast(out, ctypes.c_char_p), ctypes.c_size_t(len(out))
            self._libc.iconv(handle, ctypes.byref(in_ptr), ctypes.byref(in_left), ctypes.byref(out_ptr),
                             ctypes.byref(out_left))
            return ctypes.string_at(out, len(out) - out_left.value), len(block) - in_left.value
        finally:
            self._libc.iconv_close(handle)


_buffers = threading.local()


def _buffer(size: int) -> ctypes.Array[ctypes.c_char]:
    """This thread's output buffer, reused: a fresh 12 MiB buffer per block costs its zeroing and page faults."""
    buffer: ctypes.Array[ctypes.c_char] | None = getattr(_buffers, "buffer", None)
    if buffer is None or len(buffer) < size:
        buffer = _buffers.buffer = ctypes.create_string_buffer(size)
    return buffer


_lock = threading.Lock()
_checked: dict[str, IconvConverter | None] = {}


def converter(codec: str) -> IconvConverter | None:
    """The C converter for Python codec ``codec``, if there is one and it agrees with Python's table."""
    name = ICONV_NAMES.get(codec)
    libc = _libc()
    if name is None or libc is None:
        return None
    with _lock:
        if codec not in _checked:
            candidate = IconvConverter(libc, name)
            _checked[codec] = candidate if _agrees(candidate, codec) else None
        return _checked[codec]


def short_sequences(codec: str) -> list[bytes]:
    """Every one- and two-byte sequence ``codec`` decodes strictly (what a table comparison must cover)."""
    found = []
    for first in range(256):
        for sequence in [bytes([first])] + [bytes([first, second]) for second in range(256)]:
            try:
                sequence.decode(codec)
            except UnicodeDecodeError:
                continue
            found.append(sequence)
    return found


def _agrees(candidate: IconvConverter, codec: str) -> bool:
    """True if iconv converts every sequence Python decodes to the same text, or refuses it.

    The sequences go one per line in one block; where iconv refuses one (it does for the few cp932
    bytes only Python reads), that line is left out of both sides and the conversion resumes after it.
    """
    block = b"".join(sequence + b"\n" for sequence in short_sequences(codec))
    kept: list[bytes] = []
    converted: list[bytes] = []
    start = 0
    while start < len(block):
        part, consumed = candidate.convert_prefix(block[start:])
        refused_at = start + consumed
        if refused_at == len(block):
            kept.append(block[start:])
            converted.append(part)
            break
        line_start = block.rfind(b"\n", 0, refused_at) + 1
        line_end = block.index(b"\n", refused_at) + 1
        if line_start > start:  # the lines before the refused one, converted again on their own
            accepted = candidate.convert(block[start:line_start])
            if accepted is None:
                return False
            kept.append(block[start:line_start])
            converted.append(accepted)
        start = line_end
    return b"".join(converted) == b"".join(kept).decode(codec).encode("utf-8")
