"""The SDK's configuration is read once, when `Memori()` is created: every variable, constructor
arguments over the environment, and a bad value refused at once with the variable's name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memori import Memori, MemoriConfigError
from memori.config import DEFAULT_API_URL, MemoriConfig

REPO = Path(__file__).resolve().parents[2]
SECONDS = {
    "MEMORI_RECALL_TIMEOUT": "recall_timeout",
    "MEMORI_RECORD_TIMEOUT": "record_timeout",
    "MEMORI_EXIT_FLUSH_SECONDS": "exit_flush_seconds",
    "MEMORI_CONFLICT_RETRY_SECONDS": "conflict_retry_seconds",
}


def test_an_empty_environment_gives_the_documented_defaults(tmp_path):
    config = MemoriConfig.from_environment(environ={"XDG_CACHE_HOME": str(tmp_path)})

    assert config.api_url == DEFAULT_API_URL
    assert (config.api_key, config.tenant, config.django_settings_module) == ("", "", "")
    assert (config.recall_timeout, config.recall_limit) == (2.0, None)
    assert (config.record_timeout, config.exit_flush_seconds, config.conflict_retry_seconds) == (10.0, 10.0, 300.0)
    assert config.spool_dir == tmp_path / "memori" / "spool"
    assert not config.direct_mode_available


def test_every_variable_is_read():
    environ = {
        "MEMORI_API_URL": "https://memori.example.com/",
        "MEMORI_API_KEY": " mk_secret ",
        "MEMORI_TENANT": "acme",
        "DJANGO_SETTINGS_MODULE": "memori_site.settings",
        "MEMORI_RECALL_TIMEOUT": "0.5",
        "MEMORI_SPOOL_DIR": "/var/spool/memori",
        "MEMORI_RECORD_TIMEOUT": "3",
        "MEMORI_EXIT_FLUSH_SECONDS": "0",
        "MEMORI_CONFLICT_RETRY_SECONDS": "60",
    }

    config = MemoriConfig.from_environment(environ=environ)

    assert config.api_url == "https://memori.example.com"
    assert config.api_key == "mk_secret"
    assert config.tenant == "acme"
    assert config.direct_mode_available
    assert config.recall_timeout == 0.5
    assert config.spool_dir == Path("/var/spool/memori")
    assert (config.record_timeout, config.exit_flush_seconds, config.conflict_retry_seconds) == (3.0, 0.0, 60.0)


def test_constructor_arguments_win_over_the_environment(tmp_path):
    environ = {"MEMORI_API_URL": "http://env", "MEMORI_API_KEY": "env", "MEMORI_RECALL_TIMEOUT": "9"}

    config = MemoriConfig.from_environment(
        api_url="http://arg/",
        api_key="arg",
        recall_timeout=1.5,
        recall_limit=7,
        spool_dir=tmp_path,
        environ=environ,
    )

    assert (config.api_url, config.api_key, config.recall_timeout, config.recall_limit) == ("http://arg", "arg", 1.5, 7)
    assert config.spool_dir == tmp_path


@pytest.mark.parametrize("name", sorted(SECONDS))
@pytest.mark.parametrize("bad", ["ten", "-1", "nan", "inf"])
def test_a_bad_number_of_seconds_is_refused_naming_its_variable(name, bad):
    with pytest.raises(MemoriConfigError, match=rf"^{name} must be a number of seconds, got '{bad}'\."):
        MemoriConfig.from_environment(environ={name: bad})


def test_the_key_stays_out_of_the_configs_repr():
    assert "mk_secret" not in repr(MemoriConfig.from_environment(environ={"MEMORI_API_KEY": "mk_secret"}))


def test_memori_reads_the_environment_when_it_is_created_and_keeps_what_it_read(monkeypatch, spool_dir):
    monkeypatch.setenv("MEMORI_RECALL_TIMEOUT", "0.25")
    monkeypatch.setenv("MEMORI_RECORD_TIMEOUT", "4")

    mem = Memori(api_key="k", api_url="http://127.0.0.1:9")
    monkeypatch.setenv("MEMORI_RECALL_TIMEOUT", "7")

    assert (mem.recall_timeout, mem.config.record_timeout, mem.config.spool_dir) == (0.25, 4.0, spool_dir)


def test_memori_refuses_a_bad_value_when_it_is_created(monkeypatch, spool_dir):
    monkeypatch.setenv("MEMORI_EXIT_FLUSH_SECONDS", "soon")

    with pytest.raises(MemoriConfigError, match="MEMORI_EXIT_FLUSH_SECONDS"):
        Memori(api_key="k", api_url="http://127.0.0.1:9")


def test_importing_the_sdk_reads_no_setting():
    """A bad value must not break `import memori` (a module importing the SDK at the top of a script)."""
    script = (
        "import memori, memori.recorder, memori.client\n"
        "try:\n"
        "    memori.Memori(api_key='k', api_url='http://127.0.0.1:9')\n"
        "except memori.MemoriConfigError as err:\n"
        "    print(err)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "MEMORI_RECORD_TIMEOUT": "ten"}

    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "MEMORI_RECORD_TIMEOUT must be a number of seconds, got 'ten'."
