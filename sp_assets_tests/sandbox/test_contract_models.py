"""The contract tests' premise: Amazon's models are here and every model the tests name loads.

On a machine without ``../shared`` this is the test that skips, saying why; the contract checks
inside the other sandbox tests then check nothing (``contract.validate_response``).
"""

from __future__ import annotations

import re
from pathlib import Path

from .contract import models_dir, response_schema

HERE = Path(__file__).parent
# Operations whose success is not 200: 202 Accepted when Amazon queues the work, 204 for cancelQuery.
SUCCESS = {"createReport": 202, "createQuery": 202, "cancelQuery": 204}


def test_every_model_and_operation_the_contract_checks_name_resolves() -> None:
    models_dir()  # skip with the reason when Amazon's models are absent
    calls = set()
    for test_file in HERE.glob("test_*.py"):
        text = test_file.read_text(encoding="utf-8")
        constants = dict(re.findall(r'^(\w+) = "([\w.\-]+\.json)"', text, flags=re.M))
        for model, operation in re.findall(r'validate_response\(\s*([\w."\-]+),\s*"(\w+)"', text):
            calls.add((constants.get(model, model.strip('"')), operation))
    resolved = {(m, o) for m, o in calls if m.endswith(".json")}
    assert len(resolved) >= 15, f"the contract checks name too few operations: {sorted(resolved)}"
    for model, operation in sorted(resolved):
        assert response_schema(model, operation, SUCCESS.get(operation, 200))
