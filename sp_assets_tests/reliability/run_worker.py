"""A run process for the crash and concurrency tests: ``python -m sp_assets_tests.reliability.run_worker``.

It materializes assets of the project's code location (``sp_assets.definitions``, configured by the
usual environment variables) for one partition, in process, as a Dagster run worker with the
in-process executor does, and exits 0 on success. The tests start it, kill it with SIGKILL, or start
eight at once.

``--gate in-transaction`` and ``--gate after-commit`` are TEST-ONLY gates installed here, in the
test's own process, by wrapping two warehouse functions; no library code is changed. Inside a
DuckDB transaction nothing is visible from another process (DuckDB holds its file lock and writes
its WAL only at commit), so the two DuckDB points cannot be observed from outside: the gate writes
``--marker`` and blocks, and the test kills the process once the marker exists.

* ``in-transaction``: after the report rows and the load-ledger row are inserted into
  ``<code>.<table>``, before COMMIT (wraps ``warehouse.ledger.record_load``, which runs last in the
  transaction);
* ``after-commit``: after ``Warehouse.load_delimited_file`` returned (committed, lock released), before
  the report is marked consumed in the report ledger and before Dagster records the materialization;
* ``in-frame-insert``: while a frame's rows are being inserted into ``--gate-table`` (wraps
  ``warehouse.frames._insert_staged``): for ``order_items``, after the run has written its orders and
  before the items are in, the point where a reader must not see the orders alone.
"""

from __future__ import annotations

import argparse
import sys
import threading
import warnings
from pathlib import Path
from typing import Any


def _block_forever(marker: Path) -> None:
    marker.write_text("reached", encoding="utf-8")
    threading.Event().wait()


def install_gate(gate: str, table: str, marker: Path) -> None:
    from sp_assets.lib import warehouse
    from sp_assets.lib.warehouse import ledger

    if gate == "in-transaction":
        original = ledger.record_load

        def record_then_block(connection: Any, target: Any, counts: Any) -> None:
            original(connection, target, counts)
            if target.table == table:
                _block_forever(marker)

        ledger.record_load = record_then_block
    elif gate == "after-commit":
        load = warehouse.Warehouse.load_delimited_file

        def load_then_block(self: Any, schema: str, table_name: str, *args: Any, **kwargs: Any) -> Any:
            result = load(self, schema, table_name, *args, **kwargs)
            if table_name == table:
                _block_forever(marker)
            return result

        warehouse.Warehouse.load_delimited_file = load_then_block  # type: ignore[method-assign]
    elif gate == "in-frame-insert":
        from sp_assets.lib.warehouse import frames

        insert = frames._insert_staged

        def block_before_insert(connection: Any, target: Any, columns: Any) -> int:
            if target.table == table:
                _block_forever(marker)
            return insert(connection, target, columns)

        frames._insert_staged = block_before_insert
    elif gate != "none":
        raise SystemExit(f"--gate: {gate!r}; allowed: none, in-transaction, after-commit, in-frame-insert")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_worker")
    parser.add_argument("--select", required=True, help="comma-separated asset keys, e.g. us/orders,us/order_items")
    parser.add_argument("--partition", required=True)
    parser.add_argument("--gate", default="none")
    parser.add_argument("--gate-table", default="")
    parser.add_argument("--marker", default="")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    install_gate(args.gate, args.gate_table, Path(args.marker or "/dev/null"))

    import dagster as dg

    import sp_assets.definitions as definitions

    defs = definitions.defs()
    keys = [dg.AssetKey(k.split("/")) for k in args.select.split(",")]
    result = dg.materialize([*defs.assets, *(defs.asset_checks or [])], selection=keys, partition_key=args.partition,
                            resources=defs.resources, raise_on_error=False)
    done = {e.asset_key for e in result.get_asset_materialization_events()}
    missing = [k.to_user_string() for k in keys if k not in done]
    print(f"run_worker: {'success' if result.success and not missing else 'FAILED'}; not materialized: {missing}",
          flush=True)
    return 0 if result.success and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
