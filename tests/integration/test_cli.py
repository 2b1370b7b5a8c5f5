"""The command line contract: help, usage errors, config errors, exit codes."""
from conftest import BIN, Workspace
import subprocess


def run(*args, cwd=None):
    return subprocess.run([BIN, *args], capture_output=True, text=True, cwd=cwd)


def test_help_and_version():
    p = run("--help")
    assert p.returncode == 0
    for cmd in ("import", "train", "serve", "predict"):
        assert cmd in p.stdout
    p = run("version")
    assert p.returncode == 0 and p.stdout.startswith("boucle ")
    p = run("train", "--help")
    assert p.returncode == 0 and "--task" in p.stdout


def test_unknown_command_and_flag_exit_2_with_usage():
    p = run("frobnicate")
    assert p.returncode == 2
    assert "unknown command 'frobnicate'" in p.stderr and "usage:" in p.stderr
    p = run("import", "--frob")
    assert p.returncode == 2
    assert "unknown option '--frob'" in p.stderr and "usage: boucle import" in p.stderr
    p = run("--frob")
    assert p.returncode == 2
    p = run("import")  # no FILE
    assert p.returncode == 2


def test_missing_config_names_the_file(tmp_path):
    p = run("--config", str(tmp_path / "nope.yaml"), "train")
    assert p.returncode == 4
    assert "nope.yaml" in p.stderr


def test_unknown_config_key_names_key_and_line(tmp_path):
    ws = Workspace(tmp_path, """\
store: sqlite:b.db
tasks:
  sentiment:
    type: multiclass
    text: [text]
    label: airline_sentiment
    colour: blue
    model: {kind: linear}
""")
    p = ws.run("train")
    assert p.returncode == 3
    assert ":7" in p.stderr and "colour" in p.stderr


def test_wrong_type_in_config_names_key_and_line(tmp_path):
    ws = Workspace(tmp_path, """\
tasks:
  s:
    type: ternary
    text: [text]
    label: y
    model: {kind: linear}
""")
    p = ws.run("train")
    assert p.returncode == 3
    assert ":3" in p.stderr and "type" in p.stderr and "ternary" in p.stderr


def test_bad_model_param_names_key(tmp_path):
    ws = Workspace(tmp_path, """\
tasks:
  s:
    type: binary
    text: [text]
    label: y
    model: {kind: linear, C: -3}
""")
    (tmp_path / "d.csv").write_text("text,y\na,x\nb,z\n")
    ws.run("import", "d.csv", check=True)
    p = ws.run("train")
    assert p.returncode == 3
    assert "C" in p.stderr and "6" in p.stderr


def test_unknown_task_is_an_error(ws):
    ws.copy_sample(rows=20)
    p = ws.run("import", "--task", "nope", "tweets.csv")
    assert p.returncode == 3
    assert "unknown task 'nope'" in p.stderr
