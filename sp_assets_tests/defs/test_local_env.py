"""``make dev`` uses the sandbox only when the user configured no credentials (environment or .env),
and then asks for it explicitly (``SP_ASSETS_SANDBOX=1``) for every process it starts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sp_assets import local_env


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(local_env, "PROJECT_ROOT", tmp_path)
    for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN", "SP_API_REFRESH_TOKEN_EU",
                 "SP_ASSETS_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_no_credentials_means_the_sandbox(project: Path) -> None:
    (project / ".env").write_text("SP_ASSETS_DUCKDB=data/x.duckdb\nLWA_APP_ID=\n")
    assert not local_env.real_credentials_configured()


def test_credentials_in_dot_env_or_the_environment_mean_amazon(project: Path, monkeypatch) -> None:
    (project / ".env").write_text("SP_API_REFRESH_TOKEN_EU=Atzr|real\n")
    assert local_env.real_credentials_configured()
    (project / ".env").unlink()
    monkeypatch.setenv("LWA_APP_ID", "amzn1.application-oa2-client.x")
    assert local_env.real_credentials_configured()
    monkeypatch.setenv("SP_ASSETS_SANDBOX", "1")
    assert not local_env.real_credentials_configured()


def test_the_shared_sandbox_is_asked_for_even_when_its_url_is_given(project: Path, monkeypatch) -> None:
    """``make demo`` / ``make dev`` with a sandbox the user started (``SP_API_ENDPOINT``): no process is
    started, but the request is made, so the runs the Dagster processes launch use the sandbox."""
    monkeypatch.setenv("SP_API_ENDPOINT", "http://127.0.0.1:9")
    assert local_env.start_shared_sandbox() is None
    assert os.environ["SP_ASSETS_SANDBOX"] == "1"


def test_an_unknown_sandbox_value_stops_make_dev_naming_it(project: Path, monkeypatch) -> None:
    monkeypatch.setenv("SP_ASSETS_SANDBOX", "true")
    with pytest.raises(RuntimeError, match="SP_ASSETS_SANDBOX: 'true' is not allowed"):
        local_env.real_credentials_configured()
