from pathlib import Path

import pytest

from serverless_local.template import Resolver, TemplateError, load_template, table_definitions

ROOT = Path(__file__).resolve().parents[2]


def test_short_form_tags_are_parsed_not_stripped(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "Parameters:\n  Stage: {Type: String, Default: dev}\n"
        "Conditions:\n  IsProd: !Equals [!Ref Stage, prod]\n"
        "Resources:\n  T:\n    Type: AWS::Serverless::SimpleTable\n"
        "    Properties:\n      TableName: !Sub 'records-${Stage}'\n"
        "      Tags: {Name: !If [IsProd, big, !Ref 'AWS::NoValue'], Arn: !GetAtt T.Arn}\n"
    )
    template = load_template(path)
    resolver = Resolver.for_template(template)
    properties = resolver.resolve(template["Resources"]["T"]["Properties"])
    assert properties == {
        "TableName": "records-dev",
        "Tags": {"Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/records-dev"},
    }
    assert (
        Resolver.for_template(template, {"Stage": "prod"}).resolve(
            template["Resources"]["T"]["Properties"]["Tags"]["Name"]
        )
        == "big"
    )
    assert table_definitions(template)["T"]["TableName"] == "records-dev"


def test_the_project_template_declares_the_records_table():
    tables = table_definitions(load_template(ROOT / "template.yaml"))
    schema = {k["KeyType"]: k["AttributeName"] for k in tables["RecordsTable"]["KeySchema"]}
    assert schema == {"HASH": "email", "RANGE": "id"}


@pytest.mark.parametrize(
    "text", ["not: [valid", "just: text", "Resources: {T: {Type: X, Properties: !Ref Nope}}"]
)
def test_unreadable_templates_are_clear_errors(tmp_path, text):
    path = tmp_path / "t.yaml"
    path.write_text(text)

    def read() -> object:
        template = load_template(path)
        return Resolver.for_template(template).resolve(template["Resources"]["T"]["Properties"])

    with pytest.raises(TemplateError):
        read()


def test_a_parameter_without_default_gets_a_local_stand_in_unless_given():
    template = {
        "Parameters": {
            "BucketName": {"Type": "String"},
            "Size": {"Type": "Number", "MinValue": 3},
            "Env": {"Type": "String", "AllowedValues": ["staging", "prod"]},
            "Given": {"Type": "String"},
            "Stage": {"Type": "String", "Default": "dev"},
        },
        "Resources": {},
    }
    resolver = Resolver.for_template(template, {"Given": "mine"})
    assert resolver.parameters == {
        "BucketName": "bucketname",
        "Size": 3,
        "Env": "staging",
        "Given": "mine",
        "Stage": "dev",
    }
    assert resolver.stand_ins == {"BucketName": "bucketname", "Size": 3, "Env": "staging"}
