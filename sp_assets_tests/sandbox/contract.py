"""Contract checks: does a sandbox answer match Amazon's own Swagger 2.0 model for the operation?

``validate_response(model_file, operation_id, status, body)`` finds the operation by operationId in
``../shared/sp-api-models/<model_file>``, takes the schema Amazon documents for that status, inlines its
``#/definitions/...`` references and validates with jsonschema's Draft 4 validator (Swagger 2.0 schemas
are a Draft 4 dialect). The sandbox is checked against Amazon's text, not against our reading of it.

``strict=True`` additionally rejects properties the model does not declare, which catches a misspelt
field name (``OrderTotals``) that plain validation lets through because the models rarely close their
objects. Models load once per test session.

Where ``../shared`` is absent (a user's clone), ``validate_response`` checks nothing and returns, so
the behaviour the tests assert around it still runs everywhere; the tests that are only about the
models (``test_contract_models.py``, the report JSON schema) skip, saying why.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

# Same location as the ``models_dir`` fixture in sp_assets_tests/conftest.py: ../shared next to the repo.
MODELS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "sp-api-models"


def models_dir() -> Path:
    """The models folder, or a skip that says why (the ../shared folder is not on every machine)."""
    if not MODELS_DIR.is_dir():
        pytest.skip(f"Amazon's models are not at {MODELS_DIR} (the ../shared folder is absent on this machine)")
    return MODELS_DIR


def validate_response(model_file: str, operation_id: str, status: int, body: Any, *,
                      strict: bool = False) -> None:
    """Raise AssertionError naming the JSON path of the first violation of Amazon's response schema.

    A no-op where Amazon's models are not on this machine (see the module docstring)."""
    if not MODELS_DIR.is_dir():
        return
    validator = _validator(model_file, operation_id, int(status), strict)
    errors = sorted(validator.iter_errors(body), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.absolute_path) or "(root)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise AssertionError(f"{model_file} {operation_id} {status}: at {path}: {first.message}{more}")


def response_schema(model_file: str, operation_id: str, status: int, *, strict: bool = False) -> dict:
    """The resolved schema (no $ref left) Amazon documents for one operation's answer with ``status``."""
    return _validator(model_file, operation_id, int(status), strict).schema


@cache
def _load_model(model_file: str) -> dict:
    path = models_dir() / model_file
    if not path.is_file():
        raise AssertionError(f"no model {model_file!r} in {MODELS_DIR}; "
                             f"have: {sorted(p.name for p in MODELS_DIR.glob('*.json'))}")
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _validator(model_file: str, operation_id: str, status: int, strict: bool) -> Draft4Validator:
    model = _load_model(model_file)
    operation = _find_operation(model, model_file, operation_id)
    responses = operation.get("responses", {})
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        raise AssertionError(f"{model_file} {operation_id}: status {status} is not documented; "
                             f"documented: {sorted(responses)}")
    schema = response.get("schema")
    if schema is None:  # e.g. 204 No Content: the body must be empty
        schema = {"type": "null"}
    resolved = _inline(schema, model.get("definitions", {}), strict, ())
    Draft4Validator.check_schema(resolved)
    return Draft4Validator(resolved)


def _find_operation(model: dict, model_file: str, operation_id: str) -> dict:
    found = [op for ops in model.get("paths", {}).values() for op in ops.values()
             if isinstance(op, dict) and op.get("operationId") == operation_id]
    if not found:
        known = sorted(op["operationId"] for ops in model.get("paths", {}).values() for op in ops.values()
                       if isinstance(op, dict) and "operationId" in op)
        raise AssertionError(f"{model_file}: no operation {operation_id!r}; operations: {known}")
    return found[0]


def _inline(node: Any, definitions: dict, strict: bool, seen: tuple[str, ...], closable: bool = True) -> Any:
    """Replace ``#/definitions/X`` references by copies of X; a reference cycle stops at ``{}``.

    In strict mode an object schema gets ``additionalProperties: false`` unless it is a branch of (or
    holds) allOf/anyOf/oneOf, where closing one branch would reject the other branches' properties.
    """
    if isinstance(node, list):
        return [_inline(item, definitions, strict, seen, closable) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        prefix = "#/definitions/"
        if not ref.startswith(prefix) or ref[len(prefix):] not in definitions:
            raise AssertionError(f"unresolvable $ref {ref!r}")
        name = ref[len(prefix):]
        if name in seen:
            return {}
        return _inline(copy.deepcopy(definitions[name]), definitions, strict, (*seen, name), closable)
    out = {}
    for key, value in node.items():
        if key.startswith("x-") or key in ("example", "examples"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _inline(sub, definitions, strict, seen) for name, sub in value.items()}
        elif key in _COMBINATORS:
            out[key] = _inline(value, definitions, strict, seen, closable=False)
        else:
            out[key] = _inline(value, definitions, strict, seen)
    if (strict and closable and "properties" in out and "additionalProperties" not in out
            and not _COMBINATORS & out.keys()):
        out["additionalProperties"] = False
    return out


_COMBINATORS = {"allOf", "anyOf", "oneOf"}
