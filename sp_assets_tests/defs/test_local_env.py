"""``make dev`` uses the sandbox only when the user configured no credentials (environment or .env)."""

from __future__ import annotations

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
