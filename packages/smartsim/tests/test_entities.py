"""Model, Ensemble, permutation strategies, key prefixing and client environment."""

from __future__ import annotations

import pytest

from smartsim.entity import Ensemble, EntityList, Model
from smartsim.entity.model import cat_arg_and_value
from smartsim.error import EntityExistsError, SmartSimError, SSUnsupportedError, UserStrategyError
from smartsim.settings import RunSettings, SbatchSettings


@pytest.fixture
def rs():
    return RunSettings("prog", ["base"])


def test_cat_arg_and_value():
    assert cat_arg_and_value("--x", 1) == "--x=1"
    assert cat_arg_and_value("-x", 1) == "-x 1"
    assert cat_arg_and_value("steps", 5) == "--steps=5"
    assert cat_arg_and_value("n", 5) == "-n 5"


def test_model_params_as_args(rs, tmp_path):
    m = Model("m", {"steps": 10, "n": 2}, str(tmp_path), rs, params_as_args=["steps", "n"])
    assert m.run_settings.exe_args == ["base", "--steps=10", "-n", "2"]
    assert m.path == str(tmp_path) and m.type == "Model"
    with pytest.raises(ValueError, match="not a parameter"):
        Model("bad", {"a": 1}, None, RunSettings("p"), params_as_args=["b"])
    with pytest.raises(TypeError, match="run_settings"):
        Model("m2", {}, None, "not settings")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Model("a/b", {}, None, rs)


def test_model_accepts_08_positional_order(rs, tmp_path):
    m = Model("m", {}, rs, str(tmp_path))  # type: ignore[arg-type]
    assert m.run_settings is rs and m.path == str(tmp_path)


def test_incoming_entities_and_client_env(rs):
    a, b = Model("a", {}, None, rs), Model("b", {}, None, rs.copy())
    assert a.client_env(None) == {}
    b.register_incoming_entity(a)
    with pytest.raises(EntityExistsError):
        b.register_incoming_entity(a)
    b.enable_key_prefixing()
    assert b.query_key_prefixing()
    addrs = [f"10.0.0.{i}:6379" for i in range(200)]
    env = b.client_env(addrs)
    assert env["SSKEYIN"] == "a" and env["SSKEYOUT"] == "b"
    assert env["SSDB"].split(",") == addrs[:128]
    b.disable_key_prefixing()
    assert "SSKEYOUT" not in b.client_env(addrs)
    b.run_settings.colocated_db_settings = {"port": 6780}
    assert b.colocated and b.client_env(addrs)["SSDB"] == "127.0.0.1:6780"


def test_attach_generator_files_checks_paths(rs, tmp_path):
    m = Model("m", {}, None, rs)
    f = tmp_path / "in.txt"
    f.write_text("x")
    m.attach_generator_files(to_copy=str(f), to_configure=[str(f)])
    assert m.files.copy == [str(f)] and m.files.tagged == [str(f)]
    with pytest.raises(FileNotFoundError):
        m.attach_generator_files(to_symlink=str(tmp_path / "missing"))
    with pytest.raises(TypeError):
        m.attach_generator_files(to_copy=3)  # type: ignore[arg-type]


def test_ensemble_all_perm_and_members(rs):
    ens = Ensemble("ens", {"a": [1, 2], "b": ["x", "y", "z"]}, run_settings=rs)
    assert len(ens) == 6
    assert [m.name for m in ens] == [f"ens_{i}" for i in range(6)]
    assert ens.models[5].params == {"a": 2, "b": "z"}
    assert all(m.query_key_prefixing() for m in ens)
    assert ens.models[0].run_settings is not ens.models[1].run_settings
    assert ens["ens_3"].params == {"a": 2, "b": "x"}
    with pytest.raises(KeyError):
        ens["nope"]


def test_ensemble_step_random_callable(rs):
    step = Ensemble("s", {"a": [1, 2, 3], "b": [4, 5, 6]}, run_settings=rs, perm_strat="step")
    assert [m.params for m in step] == [{"a": 1, "b": 4}, {"a": 2, "b": 5}, {"a": 3, "b": 6}]
    with pytest.raises(SmartSimError, match="one length"):
        Ensemble("s2", {"a": [1, 2], "b": [1]}, run_settings=rs, perm_strat="step")
    rnd = Ensemble(
        "r", {"a": list(range(10)), "b": [0, 1]}, run_settings=rs, perm_strat="random", n_models=5
    )
    params = [tuple(sorted(m.params.items())) for m in rnd]
    assert len(rnd) == 5 and len(set(params)) == 5
    everything = Ensemble("r2", {"a": [1, 2]}, run_settings=rs, perm_strat="random", n_models=9)
    assert len(everything) == 2
    with pytest.raises(SmartSimError, match="n_models"):
        Ensemble("r3", {"a": [1, 2]}, run_settings=rs, perm_strat="random")

    def only_first(names, values, **kwargs):
        return [{n: v[0] for n, v in zip(names, values)}]

    assert [
        m.params for m in Ensemble("c", {"a": [7, 8]}, run_settings=rs, perm_strat=only_first)
    ] == [{"a": 7}]
    with pytest.raises(UserStrategyError):
        Ensemble("c2", {"a": [1]}, run_settings=rs, perm_strat=lambda n, v: "nope")
    with pytest.raises(SSUnsupportedError):
        Ensemble("c3", {"a": [1]}, run_settings=rs, perm_strat="bogus")


def test_ensemble_replicas_and_invalid_combinations(rs):
    reps = Ensemble("rep", run_settings=rs, replicas=3)
    assert len(reps) == 3 and all(m.params == {} for m in reps)
    both = Ensemble("both", {"a": [1, 2]}, run_settings=rs, replicas=2)
    assert [m.params["a"] for m in both] == [1, 1, 2, 2]
    with pytest.raises(SmartSimError, match="neither params nor replicas"):
        Ensemble("e", run_settings=rs)
    with pytest.raises(SmartSimError, match="needs run_settings"):
        Ensemble("e", params={"a": [1]})
    with pytest.raises(TypeError, match="list, int"):
        Ensemble("e", {"a": {"x": 1}}, run_settings=rs)
    with pytest.raises(ValueError, match="replicas"):
        Ensemble("e", run_settings=rs, replicas=0)


def test_ensemble_batch_add_model(rs):
    ens = Ensemble("b", batch_settings=SbatchSettings(nodes=1))
    assert ens.batch and len(ens) == 0
    ens.add_model(Model("m1", {}, None, rs))
    with pytest.raises(EntityExistsError):
        ens.add_model(Model("m1", {}, None, rs))
    with pytest.raises(TypeError):
        ens.add_model("m2")  # type: ignore[arg-type]
    src = Model("src", {}, None, rs)
    ens.register_incoming_entity(src)
    assert ens.models[0].incoming_entities == [src]


def test_entity_list_hooks_default_to_noops(tmp_path):
    el = EntityList("group", str(tmp_path))
    assert el.provides_database is False and not el.batch
    el.prepare_launch()
    el.after_launch()
    el.after_stop()
    assert len(el) == 0 and list(el) == []
