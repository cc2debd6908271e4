"""The decoding rules of ``sp_assets.lib.reports.decoding`` on their own: what is refused and what is not.

The end-to-end cases over HTTP are in ``reliability/test_documents.py``; these cover the combinations
the sandbox does not produce (UTF-8 declared as Cp1252) and the limits (a stray byte is not a wrong
charset; many invalid bytes in no charset are refused).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sp_assets.lib.reports.decoding import (
    CharsetMismatchError,
    TruncatedDocumentError,
    plausibility,
    transcode_to_utf8,
)

GERMAN = "sku\ttitle\n" + "".join(f"A-{i}\tTrinkflasche für Kühlschrank, weiß, Größe {i}\n" for i in range(30))
JAPANESE = "sku\ttitle\n" + "".join(f"J-{i}\tステンレス 水筒 ブルー {i}\n" for i in range(30))


def _document(tmp_path: Path, body: bytes) -> Path:
    source = tmp_path / "doc.gz"
    source.write_bytes(gzip.compress(body))
    return source


@pytest.mark.parametrize(("text", "encoded", "declared", "fallback", "likely"), [
    (GERMAN, "utf-8", "Cp1252", "Cp1252", "UTF-8"),
    (JAPANESE, "utf-8", "Shift_JIS", "Shift_JIS", "UTF-8"),
    (GERMAN, "cp1252", "Shift_JIS", "Cp1252", "Cp1252"),
    (JAPANESE, "cp932", "windows-1252", "Shift_JIS", "Shift_JIS"),
])
def test_a_document_in_another_charset_than_declared_is_refused_naming_both(
        tmp_path: Path, text: str, encoded: str, declared: str, fallback: str, likely: str) -> None:
    target = tmp_path / "out.tsv"
    with pytest.raises(CharsetMismatchError) as caught:
        transcode_to_utf8(_document(tmp_path, text.encode(encoded)), target, declared=declared, fallback=fallback)
    assert f"declares {declared} but its text reads as {likely}" in str(caught.value)
    assert caught.value.declared == declared and caught.value.likely.startswith(likely)
    assert not target.exists(), "the transcoded file must not survive a refusal"


@pytest.mark.parametrize(("text", "encoded", "declared"), [
    (GERMAN, "cp1252", "Cp1252"), (GERMAN, "utf-8", "UTF-8"), (JAPANESE, "cp932", "Shift_JIS"),
    (JAPANESE, "utf-8", "UTF-8"), (GERMAN, "cp1252", None), (JAPANESE, "cp932", None),
])
def test_a_correctly_declared_or_undeclared_document_loads(tmp_path: Path, text: str, encoded: str,
                                                           declared: str | None) -> None:
    fallback = "Shift_JIS" if encoded == "cp932" else "Cp1252"
    target = tmp_path / "out.tsv"
    result = transcode_to_utf8(_document(tmp_path, text.encode(encoded)), target, declared=declared,
                               fallback=fallback)
    assert target.read_text(encoding="utf-8") == text and result.replacements == 0


def test_bytes_no_charset_reads_are_refused_above_the_limit_and_kept_below(tmp_path: Path) -> None:
    few = GERMAN.encode("utf-8").replace(b"Gr\xc3\xb6\xc3\x9fe 1\n", b"Gr\xff\xfee 1\n")
    result = transcode_to_utf8(_document(tmp_path, few), tmp_path / "few.tsv", declared="UTF-8", fallback="Cp1252")
    assert result.replacements == 2
    # 0x81 then 0xFF: invalid in Cp1252, in Shift_JIS (no such trail byte) and in UTF-8 alike
    many = b"sku\tblob\n" + b"".join(b"B-%d\tx\x81\xffy\n" % i for i in range(30))
    with pytest.raises(CharsetMismatchError, match=r"30 characters of 31 lines are invalid \(U\+FFFD; at most 10"):
        transcode_to_utf8(_document(tmp_path, many), tmp_path / "many.tsv", declared="Cp1252", fallback="Cp1252")
    assert not (tmp_path / "many.tsv").exists()


def test_a_truncated_gzip_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    whole = gzip.compress(GERMAN.encode("cp1252") * 20)
    source = tmp_path / "cut.gz"
    source.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(TruncatedDocumentError, match="truncated or corrupt"):
        transcode_to_utf8(source, tmp_path / "out.tsv", declared="Cp1252", fallback="Cp1252")
    assert not (tmp_path / "out.tsv").exists()


def test_plausibility_scores_mojibake_high_and_real_text_zero() -> None:
    assert plausibility(GERMAN).score == 0 and plausibility(JAPANESE).score == 0
    assert plausibility(GERMAN.encode("utf-8").decode("cp1252")).score > 0.3
    assert plausibility(JAPANESE.encode("cp932").decode("cp1252", "replace")).score > 0.3
