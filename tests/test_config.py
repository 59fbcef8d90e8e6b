"""vocseg.toml: typed, defaults everywhere, unknown keys refused."""

from __future__ import annotations

import pytest

from vocseg import config
from vocseg.errors import ConfigError


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config.load()
    assert cfg.ingest.max_text_chars == 100_000


def test_file_values_and_overrides(tmp_path):
    p = tmp_path / "vocseg.toml"
    p.write_text("[ingest]\nmax_text_chars = 500\n[topics]\nseed = 3\n")
    cfg = config.load(p, overrides={"topics.seed": 9})
    assert cfg.ingest.max_text_chars == 500 and cfg.topics.seed == 9


@pytest.mark.parametrize(
    "text, code",
    [
        ("[ingest]\nmax_text = 5\n", "E010"),
        ("[nope]\nx = 1\n", "E011"),
        ("[ingest]\nmax_text_chars = 'big'\n", "E012"),
        ("[ingest\n", "E013"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, text, code):
    p = tmp_path / "vocseg.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=code) as exc:
        config.load(p)
    assert str(p) in str(exc.value)


def test_a_value_outside_the_keys_choices_names_them(tmp_path):
    p = tmp_path / "vocseg.toml"
    p.write_text('[models]\nprecision = "fp8"\n')
    with pytest.raises(ConfigError, match="E012") as exc:
        config.load(p)
    assert "models.precision" in str(exc.value) and "auto, float32, bfloat16" in str(exc.value)
    assert config.load(p, overrides={"models.precision": "float32"}).models.precision == "float32"


def test_missing_explicit_config_file(tmp_path):
    with pytest.raises(ConfigError, match="E014"):
        config.load(tmp_path / "absent.toml")


def test_every_field_has_help():
    rows = config.describe()
    assert rows and all(help_ for *_, help_ in rows)
