"""``pip install .`` with no extras is enough to import every module of ``sp_assets`` but the sandbox's.

The SP-API sandbox and the local tools that start it (``make demo``, ``make dev``) need the ``sandbox``
extra (starlette, uvicorn), which a production image leaves out: those modules import with it, every
other module without it (the code location never imports the sandbox unless ``SP_ASSETS_SANDBOX=1``).

A module that imports a library which only arrives through the dev extras (or by luck, as a dependency
of a dependency of a dev tool) works in this checkout and fails in a user's fresh install. The fast test
proves the install without the network: it computes which installed distributions ``pip install .`` would
bring (``[project].dependencies`` of pyproject.toml and what they require, extras left out), then imports
every module of the package in a subprocess that refuses every top-level module belonging to any other
installed distribution. The ``long`` variant really builds a fresh venv and runs ``pip install .``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

PROJECT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter: refuse modules of undeclared distributions, then import every module.
IMPORT_EVERYTHING = r"""
import importlib, importlib.abc, importlib.metadata, json, pkgutil, re, sys

project, allowed = sys.argv[1], set(json.loads(sys.argv[2]))
sys.path.insert(0, project)
owners = importlib.metadata.packages_distributions()


def normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


class RefuseUndeclared(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        dists = owners.get(top)
        if dists and not any(normal(d) in allowed for d in dists):
            raise ModuleNotFoundError(
                f"No module named {top!r} in a plain `pip install .`: it belongs to {sorted(set(dists))}, "
                "which [project].dependencies of pyproject.toml does not bring", name=top)
        return None


sys.meta_path.insert(0, RefuseUndeclared())
import sp_assets

failed = {}
# A package that fails to import is still listed (and its failure recorded below), only not descended into.
walk = pkgutil.walk_packages(sp_assets.__path__, "sp_assets.", onerror=lambda name: None)
names = [info.name for info in walk]
for name in names:
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps({"imported": len(names), "failed": failed}))
"""


# The modules that need the `sandbox` extra: the sandbox itself and the local tools that start it.
NEEDS_SANDBOX_EXTRA = ("sp_assets.sandbox", "sp_assets.dev", "sp_assets.demo", "sp_assets.local_env",
                       "sp_assets.ui_check")


def needs_sandbox(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in NEEDS_SANDBOX_EXTRA)


def normal(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies(*extras: str) -> tuple[str, list[str]]:
    """The project's name and its ``[project].dependencies`` plus those of ``extras``."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    return project["name"], [*project["dependencies"], *(r for extra in extras for r in optional[extra])]


def applies(requirement: Requirement) -> bool:
    """A requirement ``pip install`` without extras follows: no marker, or one true here with no extra."""
    return requirement.marker is None or requirement.marker.evaluate({"extra": ""})


def install_closure(requirements: list[str]) -> set[str]:
    """The normalised names of the distributions these requirements bring, followed transitively."""
    closure: set[str] = set()
    pending = [Requirement(r) for r in requirements]
    while pending:
        requirement = pending.pop()
        name = normal(requirement.name)
        if name in closure or not applies(requirement):
            continue
        closure.add(name)
        try:
            requires = metadata.distribution(requirement.name).requires or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: nothing of it can be imported by mistake either
        pending.extend(Requirement(r) for r in requires)
    return closure


def import_all_with_only(allowed: set[str]) -> dict:
    """Import every ``sp_assets`` module in a subprocess that may only use ``allowed`` distributions."""
    command = [sys.executable, "-I", "-c", IMPORT_EVERYTHING, str(PROJECT), json.dumps(sorted(allowed))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=PROJECT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_closure_follows_requirements_but_not_extras() -> None:
    closure = install_closure(["requests>=2.31"])
    assert {"requests", "urllib3", "idna", "certifi", "charset-normalizer"} <= closure
    assert "pysocks" not in closure, "requests[socks] is an extra and must not be followed"
    assert "pytest" not in install_closure(declared_dependencies()[1])


def test_the_guard_refuses_a_module_of_an_undeclared_distribution() -> None:
    """The fence works: without requests among the allowed distributions, the client cannot be imported."""
    name, requirements = declared_dependencies()
    allowed = install_closure(requirements) | {normal(name)}
    result = import_all_with_only(allowed - {"requests"})
    refused = {module for module, why in result["failed"].items() if "No module named 'requests'" in why}
    assert any(module.startswith("sp_assets.lib.spapi") for module in refused), result


def test_every_module_imports_with_only_the_declared_dependencies() -> None:
    name, requirements = declared_dependencies()
    result = import_all_with_only(install_closure(requirements) | {normal(name)})
    assert result["imported"] > 50, "walk_packages found the whole package"
    core_failures = {module: why for module, why in result["failed"].items() if not needs_sandbox(module)}
    assert core_failures == {}, "\n".join(f"{module}: {why}" for module, why in core_failures.items())
    assert "sp_assets.definitions" not in result["failed"], "the code location loads without the sandbox extra"


def test_the_sandbox_and_its_tools_import_with_the_sandbox_extra() -> None:
    name, requirements = declared_dependencies("sandbox")
    result = import_all_with_only(install_closure(requirements) | {normal(name)})
    assert result["failed"] == {}, "\n".join(f"{module}: {why}" for module, why in result["failed"].items())


def test_the_sandbox_really_is_optional() -> None:
    """Without the extra, the sandbox's server module is refused (so the split above means something)."""
    name, requirements = declared_dependencies()
    result = import_all_with_only(install_closure(requirements) | {normal(name)})
    if "starlette" in install_closure(requirements):
        pytest.skip("a core dependency brings starlette itself; the extra only documents the intent")
    assert "sp_assets.sandbox.server" in result["failed"], result["failed"]


@pytest.mark.long
def test_pip_install_dot_in_a_fresh_venv_imports_every_module(tmp_path: Path) -> None:
    """The real thing: a fresh venv, ``pip install .`` without extras, then import every module."""
    source = tmp_path / "src"
    shutil.copytree(PROJECT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "data", ".dagster_home", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(source)],
                             capture_output=True, text=True, timeout=1800)
    assert install.returncode == 0, install.stderr[-3000:]
    check = ("import importlib, pkgutil, sp_assets\n"
             f"skip = {NEEDS_SANDBOX_EXTRA!r}\n"
             "for info in pkgutil.walk_packages(sp_assets.__path__, 'sp_assets.', onerror=lambda name: None):\n"
             "    if not any(info.name == s or info.name.startswith(s + '.') for s in skip):\n"
             "        importlib.import_module(info.name)\n")
    imported = subprocess.run([str(python), "-I", "-c", check], capture_output=True, text=True, timeout=600,
                              cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr[-3000:]
