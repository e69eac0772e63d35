"""Settings, Rasa's generated runtime configuration, and the model fingerprint."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
import yaml

from core.settings import SettingsError, load_settings
from scripts import model
from scripts.stack import (
    ISOLATED_PORTS_PER_RANGE,
    free_port_ranges,
    isolated_settings,
    lock_store_config,
    tracker_store_config,
    write_endpoints,
)


def test_defaults_are_local_sqlite_under_var_and_loopback(tmp_path: Path) -> None:
    s = load_settings({"VAR_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'foretagsstod.db'}"
    assert s.rasa_host == s.action_server_host == "127.0.0.1"
    assert s.redis_url is None


def test_a_missing_rasa_token_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_settings({"VAR_DIR": str(tmp_path)}).rasa_token
    assert len(first) >= 32
    assert load_settings({"VAR_DIR": str(tmp_path)}).rasa_token == first
    assert (tmp_path / "rasa_token").stat().st_mode & 0o077 == 0


def test_a_port_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="RASA_PORT"):
        load_settings({"VAR_DIR": str(tmp_path), "RASA_PORT": "femtusen"})


def test_the_gateway_runs_on_uvloop_unless_asyncio_is_asked_for(tmp_path: Path) -> None:
    import uvloop

    from bot.__main__ import new_event_loop

    default = load_settings({"VAR_DIR": str(tmp_path)}).gateway_event_loop
    chosen = load_settings({"VAR_DIR": str(tmp_path), "GATEWAY_EVENT_LOOP": "Asyncio"}).gateway_event_loop
    assert (default, chosen) == ("uvloop", "asyncio")
    for kind, uv in ((default, True), (chosen, False)):
        loop = new_event_loop(kind)
        try:
            assert isinstance(loop, uvloop.Loop) is uv
            assert loop.run_until_complete(asyncio.sleep(0, "ok")) == "ok"
        finally:
            loop.close()
    with pytest.raises(SettingsError, match="GATEWAY_EVENT_LOOP"):
        load_settings({"VAR_DIR": str(tmp_path), "GATEWAY_EVENT_LOOP": "trio"})


def test_tracker_store_from_sqlite_and_postgresql_urls(tmp_path: Path) -> None:
    sqlite = yaml.safe_load(tracker_store_config(f"sqlite:///{tmp_path}/t.db"))["tracker_store"]
    assert sqlite == {"type": "SQL", "dialect": "sqlite", "db": f"{tmp_path}/t.db"}
    pg = yaml.safe_load(tracker_store_config("postgresql://u:p@db.local:5433/rasa"))["tracker_store"]
    assert pg == {"type": "SQL", "dialect": "postgresql", "url": "db.local", "port": 5433,
                  "db": "rasa", "username": "u", "password": "p"}


def test_lock_store_is_redis_only_when_configured() -> None:
    assert yaml.safe_load(lock_store_config(None))["lock_store"] == {"type": "in_memory"}
    redis = yaml.safe_load(lock_store_config("redis://127.0.0.1:6380/2"))["lock_store"]
    assert redis == {"type": "redis", "url": "127.0.0.1", "port": 6380, "db": 2}


def test_endpoints_point_rasa_at_the_action_server(tmp_path: Path) -> None:
    s = load_settings({"VAR_DIR": str(tmp_path), "ACTION_SERVER_PORT": "5999"})
    endpoints = yaml.safe_load(write_endpoints(s).read_text())
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5999/webhook"


def test_the_fingerprint_follows_the_training_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.yml").write_text("one")
    monkeypatch.setattr(model, "PROJECT_ROOT", tmp_path)
    before = model.fingerprint(["data"])
    assert model.fingerprint(["data"]) == before
    (tmp_path / "data" / "a.yml").write_text("two")
    assert model.fingerprint(["data"]) != before


def test_a_private_stack_gets_port_ranges_that_are_free_and_do_not_overlap(tmp_path: Path) -> None:
    s = isolated_settings(tmp_path)
    ranges = [range(p, p + ISOLATED_PORTS_PER_RANGE) for p in (s.rasa_port, s.action_server_port, s.gateway_port)]
    ports = [port for r in ranges for port in r]
    assert len(set(ports)) == len(ports), "no two ranges share a port"
    for port in ports:  # nothing listens there: a replica can bind it
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_taken_port_is_not_inside_any_range() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        for start in free_port_ranges(20, 3):
            assert busy not in range(start, start + 3)
