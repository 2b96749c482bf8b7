"""The `rightsend` command line: help, argument checking, settings resolution."""

from __future__ import annotations

import pytest

from rightsend import cli
from rightsend.config import Settings


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "demo", "summary"):
        assert command in out


def test_run_rejects_a_malformed_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--date", "2026-13-01"])
    assert exit_info.value.code == 2
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err


def test_run_without_a_landing_zone_exits_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        ["run", "--date", "2026-11-20", "--landing", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert code == 2
    assert "no landing zone" in capsys.readouterr().err


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("RIGHTSEND_LANDING_DIR", str(tmp_path / "env-landing"))
    monkeypatch.setenv("RIGHTSEND_OUTPUT_DIR", str(tmp_path / "env-out"))
    args = cli.build_parser().parse_args(["run", "--date", "2026-11-20", "--out", str(tmp_path / "flag-out")])
    settings = cli._settings(args)
    assert settings.landing_dir == (tmp_path / "env-landing").resolve()
    assert settings.output_dir == tmp_path / "flag-out"
    assert Settings.from_env().output_dir == (tmp_path / "env-out").resolve()
