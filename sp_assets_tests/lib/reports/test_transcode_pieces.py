"""The transcoder's pieces (issue 20): cut anywhere, the UTF-8 written and the counts are the stream's.

``decoding._transcode`` gunzips on a thread, cuts the document into pieces of whole lines, passes ASCII
pieces as they are and converts Cp1252/Shift_JIS pieces with glibc's iconv on pool threads. These tests
shrink the piece sizes so that every boundary case happens in a few bytes: a character straddling a read,
a Shift_JIS lead byte as the last byte read, a line longer than a piece, BOMs, CRLF, bytes only Python
reads, and compare with decoding the whole document at once in Python (what the streaming decoder did).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sp_assets.lib.reports import decoding, native_codecs
from sp_assets.lib.reports.decoding import TruncatedDocumentError, transcode_to_utf8

GERMAN = "".join(f"A-{i}\tTrinkflasche für Kühlschrank, weiß, 5 €\r\n" if i % 3 == 0 else f"A-{i}\tplain ascii {i}\r\n"
                 for i in range(40))
JAPANESE = "".join(f"J-{i}\tステンレス 水筒 ブルー ｶﾀｶﾅ ～①\n" if i % 2 else f"J-{i}\tascii only\n" for i in range(40))


@pytest.fixture(params=[(5, 11), (7, 64), (64, 1 << 20)], ids=["tiny", "small", "one-piece-lines"])
def small_pieces(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads of ``block`` bytes, lines longer than ``long_line`` cut; the C converter on from the start."""
    block, long_line = request.param
    monkeypatch.setattr(decoding, "_BLOCK", block)
    monkeypatch.setattr(decoding, "_LONG_LINE", long_line)
    monkeypatch.setattr(decoding, "_NATIVE_MIN", 0)
    monkeypatch.setattr(decoding, "_IN_FLIGHT", 2)


def _expected(raw: bytes, codec: str, errors: str) -> tuple[bytes, int, int]:
    """What decoding the document in one go writes: UTF-8 without a leading BOM, lines, U+FFFD."""
    text = raw.decode(codec, errors)
    text = text[1:] if text.startswith("\ufeff") else text
    lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    return text.encode("utf-8"), lines, text.count("\ufffd") if errors == "replace" else 0


def _check(tmp_path: Path, raw: bytes, codec: str, errors: str = "strict", *, gzipped: bool = True) -> None:
    source = tmp_path / ("doc.gz" if gzipped else "doc.txt")
    source.write_bytes(gzip.compress(raw) if gzipped else raw)
    target = tmp_path / "out.tsv"
    result = decoding._transcode(source, target, codec, errors)
    written, lines, replacements = _expected(raw, codec, errors)
    assert target.read_bytes() == written
    assert (result.charset, result.lines, result.replacements) == (codec, lines, replacements)


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize(("raw", "codec"), [
    (GERMAN.encode("cp1252"), "cp1252"),
    (GERMAN.encode("cp1252").rstrip(b"\r\n"), "cp1252"),  # no newline at the end
    (JAPANESE.encode("cp932"), "cp932"),
    (JAPANESE.encode("cp932")[:-1], "cp932"),
    (GERMAN.encode("utf-8"), "utf-8-sig"),
    (b"\xef\xbb\xbf" + JAPANESE.encode("utf-8"), "utf-8-sig"),  # BOM skipped
    (b"\xef\xbb\xbf\xef\xbb\xbf" + GERMAN.encode("utf-8"), "utf-8-sig"),  # the codec's BOM, then ours
    (b"\xef\xbb\xbfsku\n" + b"x\xef\xbb\xbf\n" * 5, "utf-8-sig"),  # a BOM inside the text is kept
    ("".join(f"{i}\t{'長い行' * 20}\n" for i in range(5)).encode("cp932"), "cp932"),  # lines > a piece
    (b"", "cp932"),
    (b"a\x80\xa0b\xfd\n" * 10 + JAPANESE.encode("cp932"), "cp932"),  # bytes only Python's cp932 reads
    ("ÄÖÜ\n".encode("utf-16"), "utf-16"),  # not line-safe: the incremental decoder, as before
])
def test_pieces_write_what_decoding_the_whole_document_writes(tmp_path: Path, raw: bytes, codec: str) -> None:
    _check(tmp_path, raw, codec)


@pytest.mark.usefixtures("small_pieces")
def test_a_shift_jis_lead_byte_as_the_last_byte_of_each_read(tmp_path: Path) -> None:
    # 4 ASCII bytes, then a two-byte character: with 5-byte reads its lead byte ends every read
    raw = "".join(f"{i:03d}\t水\n" for i in range(50)).encode("cp932")
    assert raw[4:5] == "水".encode("cp932")[:1]
    _check(tmp_path, raw, "cp932")


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize(("raw", "codec"), [
    (b"ok\nx\x81\xffy\n" * 8 + "für\n".encode("cp1252"), "cp1252"),
    (b"ok\n\x82\n\x82" + JAPANESE.encode("cp932") + b"\x82", "cp932"),  # lead bytes before a newline, at the end
    (b"ok\n\xc3\n\xe3\x81" + GERMAN.encode("utf-8") + b"\xff\xfe", "utf-8-sig"),
])
def test_invalid_bytes_become_the_same_replacements_and_strict_refuses_them(tmp_path: Path, raw: bytes,
                                                                          codec: str) -> None:
    _check(tmp_path, raw, codec, "replace")
    with pytest.raises(UnicodeDecodeError):
        _check(tmp_path, raw, codec, "strict")


@pytest.mark.usefixtures("small_pieces")
def test_an_uncompressed_document_goes_through_the_same_pieces(tmp_path: Path) -> None:
    _check(tmp_path, JAPANESE.encode("cp932"), "cp932", gzipped=False)


@pytest.mark.usefixtures("small_pieces")
def test_a_truncated_gzip_after_some_pieces_were_written_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    whole = gzip.compress(JAPANESE.encode("cp932") * 50)
    source = tmp_path / "cut.gz"
    source.write_bytes(whole[:len(whole) * 2 // 3])
    with pytest.raises(TruncatedDocumentError, match="truncated or corrupt"):
        transcode_to_utf8(source, tmp_path / "out.tsv", declared="Shift_JIS", fallback="Shift_JIS")
    assert not (tmp_path / "out.tsv").exists()


@pytest.mark.usefixtures("small_pieces")
def test_the_charset_rules_hold_with_pieces(tmp_path: Path) -> None:
    """Undeclared Cp1252: UTF-8 fails part-way through (after pieces were written), Cp1252 is read."""
    source = tmp_path / "doc.gz"
    source.write_bytes(gzip.compress(GERMAN.encode("cp1252")))
    result = transcode_to_utf8(source, tmp_path / "out.tsv", declared=None, fallback="Cp1252")
    assert result.charset == "cp1252" and (tmp_path / "out.tsv").read_bytes() == GERMAN.encode()


@pytest.mark.parametrize("codec", sorted(native_codecs.ICONV_NAMES))
def test_iconv_reads_every_short_sequence_as_python_does_or_refuses_it(codec: str) -> None:
    """The whole table, both ways: what Python refuses iconv must refuse too (strict mode relies on it)."""
    converter = native_codecs.converter(codec)
    if converter is None:
        pytest.skip("no glibc iconv here: Python's codecs do all the work")
    disagreements = []
    for first in range(256):
        for sequence in [bytes([first])] + [bytes([first, second]) for second in range(256)]:
            try:
                python: bytes | None = sequence.decode(codec).encode("utf-8")
            except UnicodeDecodeError:
                python = None
            converted = converter.convert(sequence)
            if converted is not None and converted != python:
                disagreements.append((sequence, python, converted))
    assert disagreements == []


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize(("raw", "codec"), [
    (b"".join(b"row %d\tplain ascii\n" % i for i in range(60)), "cp1252"),  # every read ASCII: passed as it is
    (b"".join(b"row %d\tplain ascii\n" % i for i in range(60)), "cp932"),
    (b"".join(b"row %d\tplain ascii\n" % i for i in range(30)) + GERMAN.encode("cp1252"), "cp1252"),  # ASCII, then not
    (GERMAN.encode("cp1252") + b"".join(b"row %d\tplain ascii\n" % i for i in range(30)), "cp1252"),
    (b"".join(b"row %d\tplain ascii\n" % i for i in range(30)) + JAPANESE.encode("cp932"), "cp932"),
])
def test_ascii_reads_pass_through_and_the_rest_converts(tmp_path: Path, raw: bytes, codec: str) -> None:
    _check(tmp_path, raw, codec)


@pytest.mark.parametrize("codec", ["cp1252", "cp932"])
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4])
def test_a_high_byte_right_after_a_read_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codec: str,
                                                 offset: int) -> None:
    """8-byte reads; the non-ASCII character starts at each offset of a line, so at every read boundary."""
    monkeypatch.setattr(decoding, "_BLOCK", 8)
    monkeypatch.setattr(decoding, "_NATIVE_MIN", 0)
    char = "€" if codec == "cp1252" else "水"
    raw = "".join(f"{'x' * ((offset + i) % 8)}{char}ab\n" for i in range(24)).encode(codec)
    _check(tmp_path, raw, codec)


@pytest.mark.parametrize("codec", ["cp1252", "cp932"])
def test_an_invalid_byte_in_a_range_of_a_read_is_refused_as_python_refuses_it(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           codec: str) -> None:
    """The bad line is inside a read (neither its first nor a joined line): Python's codec decides and says."""
    monkeypatch.setattr(decoding, "_BLOCK", 64)
    monkeypatch.setattr(decoding, "_NATIVE_MIN", 0)
    bad = b"\x81" if codec == "cp1252" else b"\x82\n"  # undefined in Cp1252; a Shift_JIS lead byte cut by a newline
    raw = b"first line\nsecond " + bad + b" line\n" + b"tail\n" * 20
    with pytest.raises(UnicodeDecodeError) as refused:
        _check(tmp_path, raw, codec)
    with pytest.raises(UnicodeDecodeError) as python:
        raw.decode(codec)
    assert (refused.value.encoding, refused.value.reason) == (python.value.encoding, python.value.reason)
    assert refused.value.object[refused.value.start:][:1] == bad[:1]

