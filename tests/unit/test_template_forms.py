"""The forms of a SAM template the local runtime reads: handlers, code, layers, aliases, references,
logging, and what it does not run."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from serverless_local.coverage import coverage
from serverless_local.options import find_template
from serverless_local.services.lambda_ import code as function_code
from serverless_local.stack import LocalTemplate, NotRunLocally, read_functions, read_layers
from serverless_local.template import TemplateError


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SERVERLESS_LOCAL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def template_of(tmp_path: Path, text: str, name: str = "template.yaml") -> LocalTemplate:
    (tmp_path / name).write_text(text)
    return LocalTemplate(tmp_path / name)


def test_a_template_is_found_by_the_names_sam_looks_for(tmp_path):
    assert find_template(tmp_path) == tmp_path / "template.yaml"
    (tmp_path / "template.yml").write_text("Resources: {}")
    assert find_template(tmp_path) == tmp_path / "template.yml"
    (tmp_path / "template.yaml").write_text("Resources: {}")
    assert find_template(tmp_path) == tmp_path / "template.yaml"


FORMS = """
Globals:
  Function:
    Runtime: python3.12
    CodeUri: ./code
Resources:
  Folder:
    Type: AWS::Serverless::Function
    Properties: {AutoPublishAlias: live, Handler: src/handlers/items.get_all}
  Inline:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      InlineCode: "def handler(event, context):\\n    return 1\\n"
      Environment:
        Variables: {ALIAS: !Ref Folder.Alias, VERSION: !Ref Folder.Version, MADE: !Ref FolderAliaslive}
  Node:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler, Runtime: nodejs20.x}
  Json:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      LoggingConfig: {LogFormat: JSON}
"""


def test_handlers_code_and_runtimes(tmp_path):
    template = template_of(
        tmp_path,
        FORMS.replace(
            "Type: AWS::Serverless::Function\n    Properties: {Handler: src",
            "Type: AWS::Serverless::Function\n    Properties: {AutoPublishAlias: live, Handler: src",
        ),
    )
    not_run: list[str] = []
    functions = read_functions(template, not_run)

    assert functions["Folder"].handler == "src/handlers/items.get_all"
    assert functions["Folder"].code_uri == (tmp_path / "code").resolve()  # CodeUri from Globals
    assert functions["Inline"].code_uri.parent.name == "inline"  # written to the cache
    assert functions["Inline"].environment == {
        "ALIAS": "arn:aws:lambda:us-east-1:123456789012:function:Folder:live",
        "VERSION": "arn:aws:lambda:us-east-1:123456789012:function:Folder:1",
        "MADE": "arn:aws:lambda:us-east-1:123456789012:function:Folder:live",
    }
    assert not_run == ["Node runs on nodejs20.x: only Python functions run locally"]
    logging = functions["Json"].logging
    assert logging is not None and (logging.format, logging.application_level) == ("JSON", "INFO")
    assert functions["Json"].log_group == "/aws/lambda/Json"
    with pytest.raises(NotRunLocally):
        read_functions(template)  # without a list to note them in, it is an error


def test_inline_code_is_written_once_as_index_py(tmp_path):
    spec = read_functions(template_of(tmp_path, FORMS), [])["Inline"]

    function_code.prepare(spec, {})
    assert (spec.code_uri / "index.py").read_text() == "def handler(event, context):\n    return 1\n"


def test_a_zip_code_uri_is_unpacked_and_a_hostile_one_refused(tmp_path):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 2\n")
    (tmp_path / "build.zip").write_bytes(data.getvalue())
    text = (
        "Resources:\n  Z:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: app.handler, CodeUri: build.zip}\n"
    )
    spec = read_functions(template_of(tmp_path, text), [])["Z"]

    function_code.prepare(spec, {})
    assert (spec.code_uri / "app.py").exists()

    hostile = io.BytesIO()
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("../outside.py", "x = 1\n")
    (tmp_path / "build.zip").write_bytes(hostile.getvalue())
    spec = read_functions(template_of(tmp_path, text), [])["Z"]
    with pytest.raises(ValueError, match="outside its folder"):
        function_code.prepare(spec, {})


def test_layers_put_their_content_on_the_path_as_lambda_mounts_it(tmp_path):
    (tmp_path / "prebuilt" / "python").mkdir(parents=True)
    (tmp_path / "source").mkdir()
    text = """
Resources:
  Prebuilt:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: prebuilt/}
  Source:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: source/}
    Metadata: {BuildMethod: python3.12}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      Layers: [!Ref Prebuilt, !Ref Source, "arn:aws:lambda:us-east-1:017000801446:layer:Powertools:7"]
"""
    template = template_of(tmp_path, text)
    spec = read_functions(template, [])["Fn"]
    prepared = function_code.prepare(spec, read_layers(template))

    assert prepared.paths == [(tmp_path / "prebuilt" / "python").resolve(), (tmp_path / "source").resolve()]
    assert prepared.notes == [
        "Fn: the layer arn:aws:lambda:us-east-1:017000801446:layer:Powertools:7 exists only in AWS (its "
        "modules come from the runtime's own environment, if installed there)"
    ]


def test_requirements_that_pip_cannot_install_are_said(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "requirements.txt").write_text("this is not a requirement ==\n")
    spec = read_functions(template_of(tmp_path, FORMS), [])["Folder"]

    prepared = function_code.prepare(spec, {})
    assert prepared.paths == []
    assert (
        prepared.notes and prepared.notes[0].startswith("Folder: ") and "runs without it" in prepared.notes[0]
    )


def test_a_custom_build_installs_no_requirements(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "requirements.txt").write_text("this is not a requirement ==\n")
    text = FORMS.replace(
        "  Folder:\n    Type: AWS::Serverless::Function\n",
        "  Folder:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildMethod: makefile}\n",
    )
    spec = read_functions(template_of(tmp_path, text), [])["Folder"]

    assert function_code.prepare(spec, {}).notes == []


def test_a_handler_must_name_a_module_and_a_function(tmp_path):
    text = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: handlers/}\n"
    with pytest.raises(TemplateError, match=r"Handler must be 'module\.function'"):
        read_functions(template_of(tmp_path, text), [])


def test_the_coverage_names_what_is_not_run(tmp_path):
    text = (
        FORMS
        + """
  Vpc:
    Type: AWS::EC2::VPC
  Role:
    Type: AWS::IAM::Role
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      Policies: [AWSLambdaBasicExecutionRole]
      SnapStart: {ApplyOn: None}
      FileSystemConfigs: [{Arn: x, LocalMountPath: /mnt/x}]
      Events:
        Stream: {Type: Kinesis, Properties: {Stream: x, StartingPosition: LATEST}}
"""
    )
    found = coverage(template_of(tmp_path, text), ["AWS::Serverless::Function"], ["Api"])

    assert "AWS::EC2::VPC Vpc" in found.not_emulated
    assert "Kinesis events Worker.Stream" in found.not_emulated
    assert "Worker FileSystemConfigs" in found.not_emulated  # SnapStart ApplyOn None says nothing
    assert found.not_enforced == ["permissions, every call is allowed: Role, Worker policies"]
