"""Generator: directories, copy/symlink/configure, tags, overwrite and clean failure."""

from __future__ import annotations

import logging
import os

import pytest

from smartsim import Experiment
from smartsim._core.generation import Generator, ModelWriter
from smartsim.entity import EntityList
from smartsim.error import ParameterWriterError
from smartsim.settings import RunSettings


@pytest.fixture
def exp(tmp_path):
    return Experiment("gen", exp_path=str(tmp_path), launcher="local")


@pytest.fixture
def files(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    (src / "in.nml").write_text("steps = ;steps;\nname = ';name;'\n")
    conf = src / "confdir"
    (conf / "sub").mkdir(parents=True)
    (conf / "top.cfg").write_text("x=;x;\n")
    (conf / "sub" / "deep.cfg").write_text("x again ;x;\n")
    data = src / "data"
    data.mkdir()
    (data / "a.bin").write_bytes(b"\x00\x01")
    (src / "big.dat").write_text("big")
    return src


def test_model_writer_replaces_known_tags_and_keeps_others(caplog):
    writer = ModelWriter()
    text = "a = ;a;; b = ;b;\nfor(;;) { x; y; }\nc = ;unknown_tag;\n"
    with caplog.at_level(logging.WARNING, logger="smartsim"):
        out = writer.render(text, {"a": 1, "b": 2.5}, "f.txt")
    assert out == "a = 1; b = 2.5\nfor(;;) { x; y; }\nc = ;unknown_tag;\n"
    assert "unknown_tag" in caplog.text and "line(s) 3" in caplog.text


def test_model_writer_custom_tag_and_regex():
    writer = ModelWriter()
    writer.set_tag("@")
    assert writer.render("v=@v@ w=;v;", {"v": 3}) == "v=3 w=;v;"
    writer.set_tag("<<", regex=r"<<(\w+)>>")
    assert writer.render("v=<<v>> u=<<u>>", {"v": 4}) == "v=4 u=<<u>>"


def test_model_writer_unused_tags_never_hang():
    text = ";a;" * 20000 + "\n"
    out = ModelWriter().render(text, {})  # no parameters: everything unused
    assert out == text


def test_generate_layout_and_files(exp, files, tmp_path):
    rs = RunSettings("prog")
    model = exp.create_model("m", rs, params={"steps": 7, "name": "run1", "x": 1})
    model.attach_generator_files(
        to_copy=[str(files / "data")],
        to_symlink=[str(files / "big.dat")],
        to_configure=[str(files / "in.nml"), str(files / "confdir")],
    )
    ens = exp.create_ensemble("ens", params={"steps": [1, 2], "x": [9]}, run_settings=rs)
    ens.attach_generator_files(to_configure=str(files / "in.nml"))
    exp.generate(model, ens)
    mdir = tmp_path / "m"
    assert model.path == str(mdir)
    assert (mdir / "in.nml").read_text() == "steps = 7\nname = 'run1'\n"
    assert (mdir / "top.cfg").read_text() == "x=1\n"
    assert (mdir / "sub" / "deep.cfg").read_text() == "x again 1\n"
    assert (mdir / "a.bin").read_bytes() == b"\x00\x01"
    assert os.path.islink(mdir / "big.dat")
    assert os.readlink(mdir / "big.dat") == str(files / "big.dat")
    for i, steps in enumerate([1, 2]):
        member = tmp_path / "ens" / f"ens_{i}"
        assert ens.models[i].path == str(member)
        assert (member / "in.nml").read_text().startswith(f"steps = {steps}\n")
    assert ens.path == str(tmp_path / "ens")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_generate_overwrite_rules(exp, tmp_path):
    model = exp.create_model("m", RunSettings("prog"))
    exp.generate(model)
    marker = tmp_path / "m" / "old.txt"
    marker.write_text("old")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        exp.generate(model)
    assert marker.exists()
    exp.generate(model, overwrite=True)
    assert not marker.exists() and (tmp_path / "m").is_dir()


def test_generate_failure_leaves_nothing_behind(tmp_path, files, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = Experiment("fresh", launcher="local")
    assert exp.exp_path == str(tmp_path / "fresh")
    good = exp.create_model("good", RunSettings("prog"), params={"steps": 1})
    good.attach_generator_files(to_configure=str(files / "in.nml"))
    bad = exp.create_model("bad", RunSettings("prog"))
    binary = files / "binary.cfg"
    binary.write_bytes(b"\xff\xfe\x00bad")
    bad.attach_generator_files(to_configure=str(binary))
    with pytest.raises(ParameterWriterError, match=r"binary\.cfg"):
        exp.generate(good, bad)
    assert not (tmp_path / "fresh").exists()
    assert good.path != str(tmp_path / "fresh" / "good")


def test_generate_database_directory(tmp_path):
    class FakeDB(EntityList):
        provides_database = True

    db = FakeDB("orchestrator", str(tmp_path))
    gen = Generator(str(tmp_path / "exp"))
    gen.generate_experiment(db)
    assert db.path == str(tmp_path / "exp" / "database")
    assert (tmp_path / "exp" / "database").is_dir()
    (tmp_path / "exp" / "database" / "stale").write_text("x")
    gen.generate_experiment(db)  # always recreated
    assert not (tmp_path / "exp" / "database" / "stale").exists()


def test_generate_rejects_file_path_and_non_entities(tmp_path):
    f = tmp_path / "afile"
    f.write_text("")
    with pytest.raises(FileExistsError):
        Generator(str(f)).generate_experiment()
    exp = Experiment("x", exp_path=str(tmp_path), launcher="local")
    with pytest.raises(TypeError):
        exp.generate("not an entity")
