"""The cluster settings: read from settings.toml or the environment, errors that name the field."""

from __future__ import annotations

import pytest

from daemon.cluster.settings import ADDRESS, SETTINGS, load_cluster
from daemon.errors import SettingsError


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch):
    monkeypatch.delenv(ADDRESS, raising=False)
    monkeypatch.delenv(SETTINGS, raising=False)


def test_no_file_means_no_cluster(tmp_path):
    settings = load_cluster(tmp_path)
    assert settings.address is None
    assert settings.unreachable == "local"


def test_the_file_in_the_state_folder_sets_address_and_what_to_do_without_it(tmp_path):
    (tmp_path / "settings.toml").write_text(
        '[cluster]\naddress = "10.0.0.5:6379"\nunreachable = "fail"\n'
    )
    settings = load_cluster(tmp_path)
    assert (settings.address, settings.unreachable) == ("10.0.0.5:6379", "fail")
    assert str(tmp_path / "settings.toml") in settings.source


def test_the_environment_sets_the_address_over_the_file(tmp_path, monkeypatch):
    (tmp_path / "settings.toml").write_text('[cluster]\naddress = "auto"\nunreachable = "fail"\n')
    monkeypatch.setenv(ADDRESS, "127.0.0.1:7000")
    settings = load_cluster(tmp_path)
    assert (settings.address, settings.unreachable) == ("127.0.0.1:7000", "fail")


def test_another_settings_file_can_be_named(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere.toml"
    other.write_text('[cluster]\naddress = "auto"\n')
    monkeypatch.setenv(SETTINGS, str(other))
    assert load_cluster(tmp_path / "state").address == "auto"


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ('[cluster]\naddress = "no port"\n', "cluster.address", "HOST:PORT"),
        ("[cluster]\naddress = 6379\n", "cluster.address", "HOST:PORT"),
        ('[cluster]\nunreachable = "retry"\n', "cluster.unreachable", "'local' or 'fail'"),
        ('[cluster]\nadress = "auto"\n', "cluster.adress", "unknown field"),
        ('[clusters]\naddress = "auto"\n', "clusters", "unknown section"),
        ("[cluster\n", None, "cannot read it"),
    ],
)
def test_a_wrong_file_is_an_error_naming_the_file_and_field(tmp_path, text, field, says):
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_cluster(tmp_path)
    assert str(path) in str(caught.value)
    assert says in str(caught.value)
    assert caught.value.field == field


def test_a_wrong_address_in_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(ADDRESS, "nowhere")
    with pytest.raises(SettingsError, match=ADDRESS):
        load_cluster(tmp_path)
