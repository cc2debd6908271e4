"""The layers stay apart: ``sp_assets/lib`` is plain Python, and the sandbox shares no code with the client.

Read from the import statements themselves (an AST scan, no import side effects), so a violation is
reported with the file and line where it was written, including imports inside functions and under
``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sp_assets"
LIB = PACKAGE / "lib"
SANDBOX = PACKAGE / "sandbox"

# The only parts of lib the sandbox may read: the marketplace registry and the report catalog are data.
SANDBOX_MAY_IMPORT = ("sp_assets.lib.marketplaces", "sp_assets.lib.reports.catalog")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, absolute module name)`` for every import statement of one file."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # ``from sp_assets.lib import orders`` imports sp_assets.lib.orders
                yield node.lineno, f"{module}.{alias.name}"


def _violations(folder: Path, forbidden) -> list[str]:
    return [f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
            for path in sorted(folder.rglob("*.py"))
            for line, module in _imports(path) if forbidden(module)]


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_lib_never_imports_dagster() -> None:
    assert _violations(LIB, lambda m: _is_within(m, "dagster") or m.startswith("dagster_")) == []


def test_lib_never_imports_defs() -> None:
    assert _violations(LIB, lambda m: _is_within(m, "sp_assets.defs")) == []


# Packages whose ``__init__`` imports nothing, so ``from <package> import <allowed module>`` loads only that.
EMPTY_PACKAGES = ("sp_assets.lib", "sp_assets.lib.reports")


def _sandbox_may_not(module: str) -> bool:
    if not _is_within(module, "sp_assets.lib") or module in EMPTY_PACKAGES:
        return False
    return not any(_is_within(module, allowed) for allowed in SANDBOX_MAY_IMPORT)


def test_sandbox_shares_no_code_with_the_client_or_the_domains() -> None:
    assert _violations(SANDBOX, _sandbox_may_not) == []


def test_the_scan_sees_relative_and_from_imports() -> None:
    """The scan itself: a relative import and ``from package import module`` both resolve."""
    probe = LIB / "spapi" / "http.py"
    modules = {module for _, module in _imports(probe)}
    assert "sp_assets.lib.spapi.auth" in modules  # ``from .auth import ...``
    assert "sp_assets.lib.spapi.credentials" in modules  # ``from . import credentials as ...``
    assert _sandbox_may_not("sp_assets.lib.orders") and _sandbox_may_not("sp_assets.lib.spapi.http")
    assert not _sandbox_may_not("sp_assets.lib.marketplaces")
    assert not _sandbox_may_not("sp_assets.lib.reports.catalog")


_FRESH_IMPORTS = """
import importlib, sys
failed = []
for module in sys.argv[1:]:
    for name in [n for n in sys.modules if n == "sp_assets" or n.startswith("sp_assets.")]:
        del sys.modules[name]
    try:
        importlib.import_module(module)
    except Exception as error:
        failed.append(f"{module}: {type(error).__name__}: {error}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_first() -> None:
    """No import cycle: each module of the package imports when it is the first one imported.

    A cycle only shows when the import starts from the right module, so each module is imported
    with every ``sp_assets`` module forgotten first (third-party packages stay loaded, which keeps
    this to seconds). It runs in a child interpreter so this process's modules stay as they are.
    """
    modules = sorted(_module_name(p) for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")
    assert "sp_assets.lib.orders" in modules and len(modules) > 50
    result = subprocess.run([sys.executable, "-c", _FRESH_IMPORTS, *modules], capture_output=True, text=True,
                            cwd=PACKAGE.parent, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
