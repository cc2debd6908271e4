"""Benchmark 9, transcoding: a gzip Cp1252 or Shift_JIS document to UTF-8, today's code against the new.

The path under test is ``decoding.transcode_to_utf8`` with the charset declared (what ``run_report``
does with every downloaded flat file): gunzip, decode, write UTF-8, count lines, then ``judge_charset``.
Issue 20 item 2 measured the old ``_transcode`` at ~73 MB/s of one thread on a 1 GiB document.

1. **prepare** (not timed): two synthetic all-orders-like gzip TSVs of ``--mib`` MiB uncompressed each,
   cached in ``benchmarks/results/cache/transcode/``: Cp1252 where ``--accented`` of the rows carry
   Latin-1 accents and the euro sign (the rest ASCII), and cp932 (Shift_JIS) with a Japanese title and
   city in every row. Rows are random within a 64 MiB block repeated, so gzip (level 6) compresses
   them like a real report (~6:1) and never across repeats (its window is 32 KiB).
2. **baseline** (timed, in a child process): ``BASELINE_TRANSCODE``, a frozen copy of ``_transcode`` as
   it was before issue 20 (incremental decoder, text file, 1 MiB reads of ``gzip.open``), then today's
   ``judge_charset``: what ``transcode_to_utf8`` did for a declared, valid document.
3. **new** (timed, in another child): ``decoding.transcode_to_utf8``. The child's peak RSS (VmHWM).
   Steps 2 and 3 alternate ``--repeat`` times (default 3) per document; the first pair's two outputs
   are compared byte for byte (and their line counts): the new path must write the same file.

Figures per document: new MB/s / baseline MB/s from the medians (target >= 3; the per-pair ratios'
min/median/max beside it), MB counted as uncompressed input bytes; the highest peak RSS of the new
child (target <= 400 MB). The machine's load average is recorded before, during and after: the machine
is shared, and the new path's threads only help when a second core is free.

Usage: .venv/bin/python benchmarks/bench_transcode.py [--mib 1024] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import codecs
import filecmp
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from benchlib import RESULTS_DIR, emit, log, machine_info, ratio, ratio_and_rss_figures

RATIO_TARGET = 3.0
RSS_TARGET_MB = 400.0
CHILD_TIMEOUT_S = 1200.0
BLOCK_BYTES = 64 << 20  # distinct rows per document; repeated to the requested size
CODECS = {"cp1252": "Cp1252", "cp932": "Shift_JIS"}  # Python codec -> the Content-Type charset Amazon sends
FALLBACKS = {"cp1252": "Cp1252", "cp932": "Shift_JIS"}


# ------------------------------------------------------------------------------------------ the baseline
def BASELINE_TRANSCODE(source: Path, target: Path, codec: str, errors: str) -> tuple[str, int, int]:  # noqa: N802
    """``decoding._transcode`` as it was before issue 20, frozen: the baseline of the ratio."""
    _CHUNK = 1 << 20  # noqa: N806
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    lines = replacements = 0
    last = ""
    first = True
    with _open_maybe_gzip(source) as stream, target.open("w", encoding="utf-8", newline="") as out:
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
    return codec, lines, replacements


def _open_maybe_gzip(path: Path) -> Any:
    with path.open("rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")


# ------------------------------------------------------------------------------------------ prepare
_TITLES_ASCII = ["Stainless Steel Water Bottle 750 ml, Blue", "USB-C Charging Cable 2 m Braided",
                 "Yoga Mat Non Slip 6 mm Purple", "LED Desk Lamp Dimmable with Clock",
                 "Kitchen Scale Digital 5 kg Silver", "Garden Hose 30 m with Spray Nozzle"]
_TITLES_ACCENTED = ["Trinkflasche für Kühlschrank, weiß – 750 ml", "Café crème 500 g, Röstung mittel",
                    "Größe XL Pullover, grün (Baumwolle)", "Crème brûlée Förmchen 6er Set",
                    "Señal de tráfico «Peligro» – 60 cm", "Geschenkgutschein 25 € – Grußkarte"]
_CITIES_ASCII = ["Berlin", "Hamburg", "Frankfurt am Main", "Stuttgart", "Leipzig", "Bremen"]
_CITIES_ACCENTED = ["München", "Köln", "Düsseldorf", "Zürich", "Besançon", "Málaga"]
_TITLES_JP = ["ステンレス 水筒 ブルー 750ml 保温保冷", "USB-C 充電ケーブル 2m 高耐久ナイロン編み",
              "ヨガマット 滑り止め 6mm パープル", "LED デスクライト 調光 時計付き", "キッチンスケール デジタル 5kg シルバー",
              "ガーデンホース 30m ノズル付き～", "ｷｯﾁﾝ用品 セット①②③"]
_CITIES_JP = ["東京都港区", "大阪市北区", "横浜市西区", "札幌市中央区", "名古屋市中村区", "福岡市博多区"]
HEADER = ("amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\t"
          "sales-channel\torder-channel\turl\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\t"
          "currency\titem-price\titem-tax\tshipping-price\tshipping-tax\tship-city\tship-state\tship-postal-code\t"
          "ship-country\tpromotion-ids\tis-business-order\tpurchase-order-number\n")


def _row(rnd: random.Random, codec: str, accented: float, day: int) -> str:
    order = f"{rnd.randint(200, 499)}-{rnd.randint(1000000, 9999999)}-{rnd.randint(1000000, 9999999)}"
    stamp = f"2026-10-{day:02d}T{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}+00:00"
    if codec == "cp932":
        title, city, channel, currency, country = rnd.choice(_TITLES_JP), rnd.choice(_CITIES_JP), "Amazon.co.jp", "JPY", "JP"
    elif rnd.random() < accented:
        title, city, channel, currency, country = (rnd.choice(_TITLES_ACCENTED), rnd.choice(_CITIES_ACCENTED),
                                                   "Amazon.de", "EUR", "DE")
    else:
        title, city, channel, currency, country = rnd.choice(_TITLES_ASCII), rnd.choice(_CITIES_ASCII), "Amazon.de", "EUR", "DE"
    price = rnd.randint(500, 9999)
    return "\t".join([
        order, order, stamp, stamp, "Shipped", "Amazon", channel, "", "", "Expedited", title,
        f"SKU-{rnd.randint(1, 400):04d}", f"B0{rnd.randint(1000, 1399)}XYZ{rnd.randint(10, 99)}", "Shipped",
        str(rnd.choice((1, 1, 1, 2, 3))), currency, f"{price / 100:.2f}", f"{price * 19 / 10000:.2f}", "0.00", "0.00",
        city, "", f"{rnd.randint(10000, 99999)}", country, "", "false", ""]) + "\n"


def document(codec: str, mib: int, accented: float, cache: Path, seed: int = 20) -> tuple[Path, int]:
    """A cached gzip document of ``mib`` MiB (uncompressed) in ``codec``, and its uncompressed size."""
    path = cache / f"{codec}-{mib}mib-accented{accented:g}-seed{seed}.tsv.gz"
    size_file = path.with_suffix(".size")
    if path.exists() and size_file.exists():
        log(f"reusing {path.name}")
        return path, int(size_file.read_text())
    log(f"writing {path.name}")
    started = time.monotonic()
    rnd = random.Random(seed)
    rows, length, day = [], 0, 1
    while length < min(BLOCK_BYTES, mib << 20):
        row = _row(rnd, codec, accented, day).encode(codec)
        rows.append(row)
        length += len(row)
        day = day % 28 + 1 if len(rows) % 20000 == 0 else day
    block = b"".join(rows)
    target, written = mib << 20, 0
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip, level 6
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        head = HEADER.encode(codec)
        out.write(compressor.compress(head))
        written += len(head)
        while written < target:
            part = memoryview(block)[:target - written]
            end = bytes(part).rfind(b"\n") + 1
            if end == 0:
                break  # whole rows only: a cut Shift_JIS character would make the document invalid
            for start in range(0, end, 1 << 20):
                out.write(compressor.compress(part[start:min(end, start + (1 << 20))]))
            written += end
        out.write(compressor.flush())
    partial.replace(path)
    size_file.write_text(str(written))
    log(f"wrote {written / 2**20:,.0f} MiB ({path.stat().st_size / 2**20:,.0f} MiB gzip) in "
        f"{time.monotonic() - started:.0f} s")
    return path, written


# ------------------------------------------------------------------------------------------ children
def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM): ``ru_maxrss`` would carry the parent's across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def child(args: argparse.Namespace) -> None:
    from sp_assets.lib.reports import decoding

    source, target, codec = Path(args.source), Path(args.target), args.codec
    rss_after_imports = peak_rss_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    if args.child == "new":
        result = decoding.transcode_to_utf8(source, target, declared=CODECS[codec], fallback=FALLBACKS[codec])
        charset, lines = result.charset, result.lines
    else:
        charset, lines, replacements = BASELINE_TRANSCODE(source, target, codec, "strict")
        decoding.judge_charset(source, decoding.Transcoded(charset, lines, replacements), declared=CODECS[codec],
                               fallback=FALLBACKS[codec])
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": round(seconds, 3), "cpu_s": round(time.process_time() - cpu, 3), "charset": charset,
                      "lines": lines, "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": rss_after_imports}))


def run_child(mode: str, source: Path, target: Path, codec: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--source", str(source),
               "--target", str(target), "--codec", codec]
    done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_1min"] = round(os.getloadavg()[0], 2)
    return result


# ------------------------------------------------------------------------------------------ main
def spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 1), "median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def measure(codec: str, source: Path, size: int, repeat: int, scratch: Path) -> dict[str, Any]:
    baseline_runs, new_runs = [], []
    for attempt in range(1, repeat + 1):
        base = run_child("baseline", source, scratch / "baseline.tsv", codec)
        new = run_child("new", source, scratch / "new.tsv", codec)
        if attempt == 1:
            same = filecmp.cmp(scratch / "baseline.tsv", scratch / "new.tsv", shallow=False)
            if not same or base["lines"] != new["lines"] or base["charset"] != new["charset"]:
                raise RuntimeError(f"{codec}: the new path wrote another file or count than the baseline "
                                   f"({base['lines']:,} vs {new['lines']:,} lines, same bytes: {same})")
        for path in (scratch / "baseline.tsv", scratch / "new.tsv"):
            path.unlink(missing_ok=True)
        log(f"{codec} run {attempt}: baseline {base['seconds']:.2f} s ({size / 1e6 / base['seconds']:.0f} MB/s), "
            f"new {new['seconds']:.2f} s ({size / 1e6 / new['seconds']:.0f} MB/s, {new['peak_rss_mb']:.0f} MB), "
            f"load {new['load_1min']:.1f}")
        baseline_runs.append(base)
        new_runs.append(new)
    base_mbs = [size / 1e6 / r["seconds"] for r in baseline_runs]
    new_mbs = [size / 1e6 / r["seconds"] for r in new_runs]
    pairs = [n / b for n, b in zip(new_mbs, base_mbs, strict=True)]
    return {
        "codec": codec, "uncompressed_mb": round(size / 1e6, 1), "gzip_mb": round(source.stat().st_size / 1e6, 1),
        "lines": new_runs[0]["lines"],
        "baseline_mb_s": spread(base_mbs), "new_mb_s": spread(new_mbs),
        "ratio": ratio(statistics.median(new_mbs), statistics.median(base_mbs)),
        "pair_ratios": {k: round(v, 2) for k, v in spread(pairs).items()} if len(pairs) > 1 else
        {"min": round(pairs[0], 2), "median": round(pairs[0], 2), "max": round(pairs[0], 2)},
        "cpu_s_median": {"baseline": statistics.median(r["cpu_s"] for r in baseline_runs),
                         "new": statistics.median(r["cpu_s"] for r in new_runs)},
        "new_peak_rss_mb": max(r["peak_rss_mb"] for r in new_runs),
        "new_rss_after_imports_mb": new_runs[0]["rss_after_imports_mb"],
        "baseline_peak_rss_mb": max(r["peak_rss_mb"] for r in baseline_runs),
        "load_1min_per_pair": [r["load_1min"] for r in new_runs],
        "baseline_runs": baseline_runs, "new_runs": new_runs,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="uncompressed size of each document")
    parser.add_argument("--accented", type=float, default=0.2, help="share of Cp1252 rows with accents")
    parser.add_argument("--repeat", type=int, default=3, help="baseline/new pairs per document (medians count)")
    parser.add_argument("--codecs", default="cp1252,cp932", help="documents to measure")
    parser.add_argument("--quick", action="store_true", help="50 MiB documents, one pair")
    parser.add_argument("--child", choices=("new", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--codec", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.child:
        return child(args)
    if args.quick:
        args.mib, args.repeat = min(args.mib, 50), 1
    machine = machine_info()
    cache = RESULTS_DIR / "cache" / "transcode"
    cache.mkdir(parents=True, exist_ok=True)
    selected = [c.strip() for c in args.codecs.split(",") if c.strip()]
    started = time.monotonic()
    documents = {codec: document(codec, args.mib, args.accented, cache) for codec in selected}
    prepare_s = time.monotonic() - started
    load_before = os.getloadavg()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_transcode_") as scratch:
        for codec, (source, size) in documents.items():
            results[codec] = measure(codec, source, size, args.repeat, Path(scratch))
    load_after = os.getloadavg()
    summary = []
    for codec, result in results.items():
        mib = result["uncompressed_mb"] * 1e6 / 2**20
        base, new, pairs = result["baseline_mb_s"], result["new_mb_s"], result["pair_ratios"]
        summary += ratio_and_rss_figures(
            f"transcode a {mib:,.0f} MiB gzip {CODECS[codec]} document to UTF-8: new MB/s / today's MB/s",
            result["ratio"], RATIO_TARGET,
            f"MB/s min/median/max: new {new['min']:.0f}/{new['median']:.0f}/{new['max']:.0f}, today "
            f"{base['min']:.0f}/{base['median']:.0f}/{base['max']:.0f}; per-pair ratio {pairs['min']}/"
            f"{pairs['median']}/{pairs['max']}; CPU s {result['cpu_s_median']['new']:.1f} vs "
            f"{result['cpu_s_median']['baseline']:.1f}; load {result['load_1min_per_pair']}",
            f"transcode a {mib:,.0f} MiB gzip {CODECS[codec]} document: peak RSS of the new path (MB)",
            result["new_peak_rss_mb"], RSS_TARGET_MB,
            f"after imports {result['new_rss_after_imports_mb']:.0f} MB; today's path "
            f"{result['baseline_peak_rss_mb']:.0f} MB")
    emit({"benchmark": "transcode", "machine": machine,
          "parameters": {"mib": args.mib, "accented": args.accented, "repeat": args.repeat, "codecs": selected,
                         "quick": args.quick},
          "prepare_s": round(prepare_s, 1), "load_average_before": [round(x, 2) for x in load_before],
          "load_average_after": [round(x, 2) for x in load_after], "results": results, "summary": summary})


if __name__ == "__main__":
    sys.exit(main())
