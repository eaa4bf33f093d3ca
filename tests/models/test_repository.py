"""`validate_repository` against a corpus of broken repositories built on disk, the example repository
(before and after generating its ONNX file) and the real-Triton test models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eksctl_ml.serving.repository import Problem, RepositoryReport, validate_repository
from tests.models.conftest import REPO, write_model

GOOD_ONNX = """\
name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] }} ]
output [ {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 3 ] }} ]
"""


def only_error(report: RepositoryReport) -> Problem:
    errors = report.errors
    assert len(errors) == 1, [p.render() for p in report.problems]
    return errors[0]


def test_a_good_repository_has_no_problem_and_summarises_each_model(tmp_path: Path) -> None:
    write_model(tmp_path, "mlp", GOOD_ONNX.format(name="mlp"), {"1/model.onnx": b"x", "2/model.onnx": b"y"})
    write_model(
        tmp_path,
        "py",
        'backend: "python"\ninput [ { name: "x" data_type: TYPE_STRING dims: [ -1 ] } ]\n'
        'output [ { name: "y" data_type: TYPE_INT64 dims: [ 2, 2 ] } ]\n',
        {"1/model.py": b"pass\n", "1/helper.py": b"", "1/__pycache__/model.cpython-311.pyc": b""},
    )
    report = validate_repository(tmp_path)
    assert report.ok and report.problems == []
    mlp, py = report.models
    assert (mlp.name, mlp.platform, mlp.versions, mlp.max_batch_size) == ("mlp", "onnxruntime_onnx", (1, 2), 8)
    assert [t.render() for t in mlp.inputs] == ["INPUT0 FP32 [4]"]
    assert [t.render() for t in mlp.outputs] == ["OUTPUT0 FP32 [3]"]
    assert (py.platform, py.model_filename, py.versions) == ("python", "model.py", (1,))
    assert [t.render() for t in py.inputs + py.outputs] == ["x STRING [-1]", "y INT64 [2, 2]"]


def test_unparseable_config_is_reported_with_line_and_column(tmp_path: Path) -> None:
    write_model(
        tmp_path,
        "m",
        'platform: "onnxruntime_onnx"\nmax_batch_size: 8\ninput [\n  { name: "a" dims: [4 }\n]\n',
        {"1/model.onnx": b"x"},
    )
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/m/config.pbtxt:4:24"  # the "}" where "]" belongs (1-based column)
    assert "protobuf text format" in problem.message
    assert problem.fix.startswith("correct line 4, column 24")


def test_an_unknown_field_is_a_syntax_error_of_triton_s_own_schema(tmp_path: Path) -> None:
    write_model(tmp_path, "m", GOOD_ONNX.format(name="m") + "max_batch: 4\n", {"1/model.onnx": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/m/config.pbtxt:6:1"
    assert 'no field named "max_batch"' in problem.message


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    write_model(tmp_path, "a", GOOD_ONNX.format(name="other"), {"1/model.onnx": b"x", "v2/model.onnx": b"x"})
    write_model(tmp_path, "b", 'platform: "tensorflow_savedmodel"\n', {"1/model.savedmodel/x": b""})
    report = validate_repository(tmp_path)
    paths = sorted(p.path for p in report.errors)
    assert paths == [
        f"{tmp_path}/a/config.pbtxt",  # name mismatch
        f"{tmp_path}/a/v2",  # not a version folder
        f"{tmp_path}/b/config.pbtxt",  # unknown platform
        f"{tmp_path}/b/config.pbtxt",  # no input
        f"{tmp_path}/b/config.pbtxt",  # no output
    ]
    assert [m.ok for m in report.models] == [False, False]


def test_name_differing_from_the_folder(tmp_path: Path) -> None:
    write_model(tmp_path, "mlp", GOOD_ONNX.format(name="mlp_v2"), {"1/model.onnx": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/mlp/config.pbtxt"
    assert 'name "mlp_v2" differs from the folder name "mlp"' in problem.message
    assert problem.fix.startswith('set name: "mlp"')


@pytest.mark.parametrize(
    ("header", "message", "fix"),
    [
        ('platform: "tensorflow_graphdef"', 'platform "tensorflow_graphdef" is not one mlplat serves', "use platform"),
        ('backend: "openvino"', 'backend "openvino" is not one mlplat serves', "use platform"),
        ('platform: "python"', 'platform "python" is not one', 'write backend: "python" instead'),
        ('platform: "onnxruntime"', 'platform "onnxruntime" is not one', 'write backend: "onnxruntime" or platform'),
        (
            'platform: "tensorrt_plan"\nbackend: "onnxruntime"',
            'platform "tensorrt_plan" and backend "onnxruntime" disagree',
            'remove platform, or set platform: "onnxruntime_onnx"',
        ),
        ("", "neither platform nor backend is set", "add platform"),
    ],
)
def test_unknown_or_inconsistent_platform(tmp_path: Path, header: str, message: str, fix: str) -> None:
    body = GOOD_ONNX.format(name="m").replace('platform: "onnxruntime_onnx"', header)
    write_model(tmp_path, "m", body, {"1/model.onnx": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/m/config.pbtxt"
    assert message in problem.message
    assert problem.fix.startswith(fix)


@pytest.mark.parametrize(
    ("header", "filename", "platform"),
    [
        ('backend: "onnxruntime"', "model.onnx", "onnxruntime_onnx"),
        ('platform: "tensorrt_plan"', "model.plan", "tensorrt_plan"),
        ('backend: "tensorrt"', "model.plan", "tensorrt_plan"),
        ('platform: "pytorch_libtorch"', "model.pt", "pytorch_libtorch"),
        ('backend: "pytorch"\nplatform: "pytorch_libtorch"', "model.pt", "pytorch_libtorch"),
        ('backend: "python"', "model.py", "python"),
        ('default_model_filename: "model.plan"', "model.plan", "tensorrt_plan"),
    ],
)
def test_both_spellings_resolve_to_the_platform_and_its_file(
    tmp_path: Path, header: str, filename: str, platform: str
) -> None:
    body = GOOD_ONNX.format(name="m").replace('platform: "onnxruntime_onnx"', header)
    write_model(tmp_path, "m", body, {f"1/{filename}": b"x"})
    report = validate_repository(tmp_path)
    assert report.problems == []
    assert (report.models[0].platform, report.models[0].model_filename) == (platform, filename)


def test_missing_version_folder(tmp_path: Path) -> None:
    write_model(tmp_path, "m", GOOD_ONNX.format(name="m"))
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/m"
    assert "no version folder" in problem.message
    assert problem.fix == "create m/1/ and put the model file in it"


@pytest.mark.parametrize("folder", ["v1", "01", "0", "latest"])
def test_non_numeric_version_folder(tmp_path: Path, folder: str) -> None:
    write_model(tmp_path, "m", GOOD_ONNX.format(name="m"), {"1/model.onnx": b"x", f"{folder}/model.onnx": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/m/{folder}"
    assert f"{folder!r} is not a version folder" in problem.message
    assert "silently ignores" in problem.message
    assert problem.fix.startswith("rename it to the version number")


def test_wrong_file_name_for_the_platform(tmp_path: Path) -> None:
    write_model(tmp_path, "m", GOOD_ONNX.format(name="m"), {"1/model.onnx": b"x", "2/mlp.onnx": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/m/2/model.onnx"
    assert problem.message == (
        "missing: version 2 has no model.onnx, the onnxruntime_onnx model file (the folder holds: mlp.onnx)"
    )
    assert problem.fix.startswith("put the model file at m/2/model.onnx, or set default_model_filename")


def test_default_model_filename_is_honoured(tmp_path: Path) -> None:
    body = GOOD_ONNX.format(name="m") + 'default_model_filename: "mlp.onnx"\n'
    write_model(tmp_path, "m", body, {"1/mlp.onnx": b"x", "2/model.onnx": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/m/2/mlp.onnx"
    assert "default_model_filename 'mlp.onnx'" in problem.message
    assert problem.fix == "put the model file at m/2/mlp.onnx, or correct default_model_filename"


def test_a_plan_must_be_a_file_but_an_onnx_model_may_be_a_folder(tmp_path: Path) -> None:
    write_model(tmp_path, "onnx", GOOD_ONNX.format(name="onnx"), {"1/model.onnx/model.onnx": b"x"})
    plan = GOOD_ONNX.format(name="plan").replace("onnxruntime_onnx", "tensorrt_plan")
    write_model(tmp_path, "plan", plan, {"1/model.plan/x": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/plan/1/model.plan"
    assert "is a folder" in problem.message


def test_no_inputs_on_a_python_model_says_why(tmp_path: Path) -> None:
    write_model(
        tmp_path,
        "py",
        'backend: "python"\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]\n',
        {"1/model.py": b""},
    )
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/py/config.pbtxt"
    assert problem.message.startswith("no input declared: Triton cannot read tensor names and shapes from a python")
    assert "auto_complete_config" in problem.message
    assert problem.fix.startswith("add input [")


def test_no_outputs_on_an_onnx_model(tmp_path: Path) -> None:
    body = GOOD_ONNX.format(name="m").replace('output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 3 ] } ]\n', "")
    write_model(tmp_path, "m", body, {"1/model.onnx": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.message.startswith("no output declared: mlplat requires the model's interface")


def test_type_invalid_and_bad_dims(tmp_path: Path) -> None:
    body = GOOD_ONNX.format(name="m").replace("data_type: TYPE_FP32 dims: [ 4 ]", "dims: [ 0, -2 ]")
    body = body.replace("data_type: TYPE_FP32 dims: [ 3 ]", "data_type: TYPE_INVALID")
    write_model(tmp_path, "m", body, {"1/model.onnx": b"x"})
    report = validate_repository(tmp_path)
    messages = sorted(p.message for p in report.errors)
    assert messages == [
        "input 'INPUT0' has dims [0, -2]: each must be >= 1, or -1 for a variable size",
        "input 'INPUT0' has no data_type (TYPE_INVALID): Triton refuses the model",
        "output 'OUTPUT0' has no data_type (TYPE_INVALID): Triton refuses the model",
        "output 'OUTPUT0' has no dims: Triton refuses the model",
    ]
    assert {p.path for p in report.errors} == {f"{tmp_path}/m/config.pbtxt"}
    fixes = {p.fix for p in report.errors}
    assert "set data_type: TYPE_FP32 (or TYPE_INT64, TYPE_STRING, ... the type the model uses)" in fixes


def test_duplicate_and_unnamed_tensors(tmp_path: Path) -> None:
    body = GOOD_ONNX.format(name="m").replace(
        'input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]',
        'input [ { name: "a" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "a" data_type: TYPE_FP32 dims: [ 4 ] },'
        " { data_type: TYPE_FP32 dims: [ 1 ] } ]",
    )
    write_model(tmp_path, "m", body, {"1/model.onnx": b"x"})
    messages = sorted(p.message for p in validate_repository(tmp_path).errors)
    assert messages == ["input #3 has no name", "input 'a' is declared twice"]


def test_batching_mistakes(tmp_path: Path) -> None:
    body = GOOD_ONNX.format(name="m") + "dynamic_batching { preferred_batch_size: [ 4, 16 ] }\n"
    write_model(tmp_path, "m", body, {"1/model.onnx": b"x"})
    body0 = GOOD_ONNX.format(name="n").replace("max_batch_size: 8", "max_batch_size: 0") + "dynamic_batching { }\n"
    write_model(tmp_path, "n", body0, {"1/model.onnx": b"x"})
    negative = GOOD_ONNX.format(name="o").replace("max_batch_size: 8", "max_batch_size: -1")
    write_model(tmp_path, "o", negative, {"1/model.onnx": b"x"})
    report = validate_repository(tmp_path)
    by_model = {(p.model, p.severity): p for p in report.problems}
    assert set(by_model) == {("m", "error"), ("n", "warning"), ("o", "error")}
    assert "preferred_batch_size [16] outside 1..max_batch_size (8)" in by_model["m", "error"].message
    assert "dynamic_batching has no effect with max_batch_size 0" in by_model["n", "warning"].message
    assert by_model["o", "error"].message == "max_batch_size -1 is negative"
    assert [m.ok for m in report.models] == [False, True, False]


def test_version_policy_naming_a_missing_version(tmp_path: Path) -> None:
    body = GOOD_ONNX.format(name="m") + "version_policy: { specific: { versions: [ 1, 3 ] } }\n"
    write_model(tmp_path, "m", body, {"1/model.onnx": b"x", "2/model.onnx": b"x"})
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == f"{tmp_path}/m/config.pbtxt"
    assert problem.message.startswith("version_policy names version(s) [3] with no folder (present: 1, 2)")
    assert problem.fix == "add the folder(s) m/3/ or list only existing versions"


def test_missing_config_and_bad_model_name(tmp_path: Path) -> None:
    write_model(tmp_path, "my model", None, {"1/model.onnx": b"x"})
    report = validate_repository(tmp_path)
    assert sorted(p.path for p in report.errors) == [f"{tmp_path}/my model", f"{tmp_path}/my model/config.pbtxt"]
    missing = next(p for p in report.errors if p.path.endswith("config.pbtxt"))
    assert missing.message.startswith("missing config.pbtxt")


def test_stray_top_level_files_warn_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    write_model(tmp_path, "m", GOOD_ONNX.format(name="m"), {"1/model.onnx": b"x", "1/.DS_Store": b""})
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "README.md").write_text("docs")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".hidden").write_text("")
    (tmp_path / "m" / ".ipynb_checkpoints").mkdir()
    report = validate_repository(tmp_path)
    assert report.ok and [m.name for m in report.models] == ["m"]
    (warning,) = report.problems
    assert (warning.severity, warning.path) == ("warning", f"{tmp_path}/notes.txt")
    assert "push does not upload it" in warning.message


def test_an_empty_repository_is_an_error(tmp_path: Path) -> None:
    problem = only_error(validate_repository(tmp_path))
    assert problem.path == str(tmp_path) and "no model folders" in problem.message


def test_the_example_repository_fails_before_generation_and_passes_after(tmp_path: Path) -> None:
    repository = tmp_path / "model-repository"
    shutil.copytree(REPO / "examples" / "model-repository", repository, ignore=shutil.ignore_patterns("*.onnx"))
    problem = only_error(validate_repository(repository))
    assert problem.path == f"{repository}/mlp_onnx/1/model.onnx"
    assert "version 1 has no model.onnx" in problem.message

    from scripts.make_example_models import main

    assert main(["--repository", str(repository)]) == 0
    report = validate_repository(repository)
    assert report.problems == []
    (model,) = report.models
    assert (model.name, model.platform, model.versions, model.max_batch_size) == (
        "mlp_onnx",
        "onnxruntime_onnx",
        (1,),
        8,
    )
    assert [t.render() for t in model.inputs + model.outputs] == ["INPUT0 FP32 [4]", "OUTPUT0 FP32 [3]"]


def test_the_generated_example_model_computes_what_its_config_declares(tmp_path: Path) -> None:
    """Run the ONNX file with onnx's reference evaluator: [n,4] in, [n,3] out, same answer every run."""
    np = pytest.importorskip("numpy")
    pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator
    from scripts.make_example_models import write_mlp

    first = write_mlp(tmp_path / "a")
    second = write_mlp(tmp_path / "b")
    other = write_mlp(tmp_path / "c", version=2, seed=7)
    assert first.read_bytes() == second.read_bytes()  # seeded: reproducible
    assert other == tmp_path / "c" / "mlp_onnx" / "2" / "model.onnx"
    batch = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    (out,) = ReferenceEvaluator(str(first)).run(None, {"INPUT0": batch})
    (out_other,) = ReferenceEvaluator(str(other)).run(None, {"INPUT0": batch})
    assert out.shape == (3, 3) and out.dtype == np.float32
    assert not np.allclose(out, out_other)  # another seed, other weights


def test_the_real_triton_test_models_pass(tmp_path: Path) -> None:
    from tests.support.tritonserver import TEST_MODELS, write_test_models

    write_test_models(tmp_path)
    report = validate_repository(tmp_path)
    assert report.errors == [], [p.render() for p in report.errors]
    assert sorted(m.name for m in report.models) == sorted(TEST_MODELS)
    versioned = next(m for m in report.models if m.name == "versioned")
    assert versioned.versions == (1, 2) and versioned.platform == "python"
