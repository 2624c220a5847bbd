"""The dbt var `current_period` is now `edition` (issue 22): the old name still works, with a
warning printed once, from a settings file's `vars:` and from --vars."""

from __future__ import annotations

import argparse

import pytest

from basismonitor import config
from basismonitor.config import Settings, SettingsError, parse_vars, renamed_vars


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(config, "_warned", set())
    for name in ("BASISMONITOR_SETTINGS", "BASISMONITOR_EDITION"):
        monkeypatch.delenv(name, raising=False)


def test_cli_vars_current_period_is_read_as_edition_with_one_warning(capsys):
    assert parse_vars("{current_period: 2022, compass_level: buurt}") == {"edition": 2022, "compass_level": "buurt"}
    assert parse_vars("{current_period: 2021}") == {"edition": 2021}
    err = capsys.readouterr().err
    assert err.count("DeprecationWarning") == 1
    assert "`current_period` is now called `edition`" in err


def test_the_new_name_gives_no_warning(capsys):
    assert parse_vars("{edition: 2022}") == {"edition": 2022}
    assert capsys.readouterr().err == ""


def test_both_names_with_different_values_are_refused():
    with pytest.raises(SettingsError, match="current_period.*edition"):
        renamed_vars({"current_period": 2022, "edition": 2023}, "--vars")
    assert renamed_vars({"current_period": 2022, "edition": 2022}, "--vars") == {"edition": 2022}


def test_settings_file_vars_current_period_becomes_the_edition(tmp_path, monkeypatch, capsys):
    path = tmp_path / "settings.yml"
    path.write_text("base_period: 2008\nvars:\n  current_period: 2017\n  compass_level: wijk\n")
    monkeypatch.setenv("BASISMONITOR_SETTINGS", str(path))
    settings = Settings.from_env()
    assert settings.edition == 2017
    assert settings.dbt_vars == {"edition": 2017, "compass_level": "wijk"}
    assert "DeprecationWarning" in capsys.readouterr().err


def test_cli_edition_wins_over_vars_and_vars_over_the_default(monkeypatch):
    from basismonitor.orchestration.pipeline_cli import _settings

    args = argparse.Namespace(edition=None, vars="{current_period: 2022}", settings=None)
    assert _settings(args).edition == 2022
    args = argparse.Namespace(edition=2020, vars="{current_period: 2022}", settings=None)
    assert _settings(args).edition == 2020


def test_the_build_passes_the_edition_as_the_dbt_var_edition(monkeypatch):
    from basismonitor.orchestration.airflow_support import dbt_vars_for

    vars_ = dbt_vars_for({"edition": 2016, "base_period": 2012})
    assert vars_["edition"] == 2016 and "current_period" not in vars_
