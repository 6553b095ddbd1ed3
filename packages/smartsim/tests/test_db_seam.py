"""The controller side of the Orchestrator seam, with a stand-in database entity list.

The stand-in runs a real process (``sleep``) per member and answers ``get_address`` with
fixed addresses; the tests check hook order, SSDB/SSKEYIN/SSKEYOUT injection, that
``block=True`` does not wait for the database, cleanup when ``after_launch`` fails, and
``wrap_command``.
"""

from __future__ import annotations

import pytest

from smartsim.entity import EntityList, Model, SmartSimEntity
from smartsim.error import SmartSimError
from smartsim.settings import RunSettings
from smartsim.status import SmartSimStatus


class FakeNode(SmartSimEntity):
    pass


class FakeDB(EntityList):
    provides_database = True

    def __init__(self, path: str, shards: int = 2, fail_after_launch: bool = False) -> None:
        self.calls: list[str] = []
        self._fail = fail_after_launch
        self._shards = shards
        super().__init__("fakedb", path)

    def _initialize_entities(self, **kwargs):
        for i in range(self._shards):
            self.entities.append(FakeNode(f"fakedb_{i}", self.path, RunSettings("sleep", "1000")))

    def prepare_launch(self) -> None:
        self.calls.append("prepare_launch")

    def after_launch(self) -> None:
        self.calls.append("after_launch")
        if self._fail:
            raise SmartSimError("database did not come up")

    def after_stop(self) -> None:
        self.calls.append("after_stop")

    def get_address(self) -> list[str]:
        return [f"127.0.0.1:{7000 + i}" for i in range(self._shards)]


def env_printer(exp, name, path):
    rs = exp.create_run_settings("sh", ["-c", 'echo "$SSDB|${SSKEYIN:-}|${SSKEYOUT:-}"'])
    return exp.create_model(name, rs, path=path)


def test_database_first_then_ssdb_everywhere(exp, tmp_path):
    db = FakeDB(str(tmp_path))
    producer = env_printer(exp, "producer", str(tmp_path))
    producer.enable_key_prefixing()
    consumer = env_printer(exp, "consumer", str(tmp_path))
    consumer.register_incoming_entity(producer)
    exp.start(db, producer, consumer, block=True)  # returns although the database runs on
    assert db.calls == ["prepare_launch", "after_launch"]
    assert exp.get_status(db) == [SmartSimStatus.STATUS_RUNNING] * 2
    assert (tmp_path / "producer.out").read_text() == "127.0.0.1:7000,127.0.0.1:7001||producer\n"
    assert (tmp_path / "consumer.out").read_text() == "127.0.0.1:7000,127.0.0.1:7001|producer|\n"
    later = env_printer(exp, "later", str(tmp_path))
    exp.start(later)  # a later start() still gets SSDB
    assert (tmp_path / "later.out").read_text().startswith("127.0.0.1:7000,")
    with pytest.raises(TypeError):
        exp.finished(db)
    with pytest.raises(SmartSimError, match="already running"):
        exp.start(FakeDB(str(tmp_path)))
    exp.stop(db)
    assert db.calls[-1] == "after_stop"
    assert exp.get_status(db) == [SmartSimStatus.STATUS_CANCELLED] * 2
    after = env_printer(exp, "after", str(tmp_path))
    exp.start(after)
    assert (tmp_path / "after.out").read_text() == "||\n"


def test_failed_after_launch_stops_the_list(exp, tmp_path):
    db = FakeDB(str(tmp_path), fail_after_launch=True)
    model = env_printer(exp, "m", str(tmp_path))
    with pytest.raises(SmartSimError, match="did not come up"):
        exp.start(db, model)
    assert db.calls == ["prepare_launch", "after_launch", "after_stop"]
    assert exp.get_status(db) == [SmartSimStatus.STATUS_CANCELLED] * 2
    with pytest.raises(SmartSimError, match="never launched"):
        exp.get_status(model)


def test_wrap_command_is_applied(exp, tmp_path):
    class Wrapped(Model):
        def wrap_command(self, argv):
            return ["env", "WRAPPED=yes", *argv]

    rs = exp.create_run_settings("sh", ["-c", "echo $WRAPPED"])
    model = Wrapped("wrapped", {}, str(tmp_path), rs)
    exp.start(model)
    assert (tmp_path / "wrapped.out").read_text() == "yes\n"
