"""Reading a SAM template into what the local runtime runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from serverless_local.stack import path_pattern
from serverless_local.template import TemplateError
from tests.support.stack import read_stack

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "e2e" / "template.yaml"


def test_the_apps_template_serves_every_path_with_its_function():
    stack = read_stack(ROOT / "template.yaml")

    assert {("/", "ANY"), ("/{proxy+}", "ANY")} <= {(r.path, r.method) for r in stack.routes}
    assert set(stack.functions) == {"RecordsFunction", "TasksFunction", "HistoryFunction"}
    function = stack.functions["RecordsFunction"]
    assert function.handler == "serverless_crud.handler.lambda_handler"
    assert stack.functions["TasksFunction"].handler == "serverless_crud.tasks.handler"
    assert stack.functions["TasksFunction"].code_uri == function.code_uri
    assert function.code_uri == ROOT / "src"
    assert function.environment["TABLE_NAME"] in stack.tables
    assert stack.apis[stack.routes[0].api].stage == "dev"


def test_globals_merge_into_functions_and_the_function_wins():
    functions = read_stack(PROBE).functions

    assert functions["EchoFunction"].memory_mb == 384
    assert functions["BehaviourFunction"].memory_mb == 256
    assert functions["BehaviourFunction"].timeout == 1
    assert functions["EchoFunction"].environment["FROM_GLOBALS"] == "global-value"
    assert functions["EchoFunction"].code_uri == PROBE.parent / "functions"


def test_values_only_aws_has_are_listed_not_invented():
    echo = read_stack(PROBE).functions["EchoFunction"]

    assert set(echo.unresolved) == {"CURSOR_SECRET", "LOG_GROUP_ARN", "ALARM_ARN"}
    assert echo.environment["TABLE_ARN"] == "arn:aws:dynamodb:us-east-1:123456789012:table/ItemsTable"
    assert echo.environment["DOMAIN"] == "none"


def test_tables_with_parameters_indexes_and_ttl():
    stack = read_stack(PROBE, {"SortKeyName": "1"})

    items = stack.tables["ItemsTable"]
    assert items["KeySchema"][1] == {"AttributeName": "1", "KeyType": "RANGE"}
    assert items["GlobalSecondaryIndexes"][0]["IndexName"] == "by-owner"
    assert "SSESpecification" not in items
    assert stack.ttl == {"ItemsTable": {"AttributeName": "expires_at", "Enabled": True}}
    tags = stack.tables["TagsTable"]
    assert tags["TableName"] == "serverless-crud-local-tags"
    assert tags["KeySchema"] == [{"AttributeName": "tag", "KeyType": "HASH"}]


def test_conditions_follow_parameter_overrides():
    echo = read_stack(PROBE, {"DomainName": "api.example.com"}).functions["EchoFunction"]

    assert echo.environment["DOMAIN"] == "api.example.com"


def test_api_stage_cors_binary_types_and_what_is_ignored():
    stack = read_stack(PROBE)
    api = stack.apis["ProbeApi"]

    assert api.stage == "test"
    assert api.binary_media_types == ("image/png", "application/octet-stream")
    assert api.cors is not None
    assert api.cors.allow_origin == "https://app.example.com"
    assert any("ErrorsAlarm" in ignored for ignored in stack.ignored)
    assert any("Schedule" in ignored for ignored in stack.ignored)


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ("Handler: a.b\n      CodeUri: s3://bucket/key.zip", "CodeUri must be a local directory"),
        ("Handler: a.b\n      PackageType: Image\n      ImageUri: repo:tag", "container image function"),
        ("Handler: a.b\n      Timeout: soon", "Timeout and MemorySize must be numbers"),
        ("Handler: a.b\n      Environment: {Variables: {X: !Ref Nope}}", "environment variable X"),
    ],
)
def test_a_function_it_cannot_run_is_named(tmp_path, properties, message):
    template = tmp_path / "template.yaml"
    template.write_text(
        f"Resources:\n  Broken:\n    Type: AWS::Serverless::Function\n    Properties:\n      {properties}\n"
    )

    with pytest.raises(TemplateError, match=f"function Broken: .*{message}|{message}"):
        read_stack(template)


@pytest.mark.parametrize(
    ("resource", "matches", "misses"),
    [
        ("/", ["/"], ["/a"]),
        ("/{proxy+}", ["/a", "/a/b%2Fc/"], ["/"]),
        ("/records/{id}", ["/records/1", "/records/a%40b/"], ["/records", "/records/1/2"]),
    ],
)
def test_resource_paths_match_like_api_gateway(resource, matches, misses):
    pattern = path_pattern(resource)

    assert all(pattern.match(path) for path in matches)
    assert not any(pattern.match(path) for path in misses)


AUTH_TEMPLATE = """
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth:
        DefaultAuthorizer: Users
        ApiKeyRequired: false
        Authorizers:
          Users: {UserPoolArn: !GetAtt Pool.Arn}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: m.f
      Environment: {Variables: {POOL: !Ref Pool}}
      Events:
        Private: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /private, Method: GET}}
        Open:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /open, Method: GET, Auth: {Authorizer: NONE}}
        Keyed:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /keyed, Method: GET, Auth: {ApiKeyRequired: true}}
        Preflight: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /private, Method: OPTIONS}}
        Nightly: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
"""


def test_every_service_is_handed_the_resources_and_events_of_its_types(tmp_path):
    from serverless_local.stack import LocalTemplate

    path = tmp_path / "template.yaml"
    path.write_text(AUTH_TEMPLATE)
    template = LocalTemplate(path)

    assert [r.logical_id for r in template.of_type(["AWS::Cognito::UserPool"])] == ["Pool"]
    assert {e.event_id for e in template.events()} == {"Private", "Open", "Keyed", "Preflight", "Nightly"}
    assert [e.event_id for e in template.events(["Schedule"])] == ["Nightly"]


def test_routes_carry_the_apis_default_authorizer_unless_the_event_opts_out(tmp_path):
    from serverless_local.stack import LocalTemplate, read_apis

    path = tmp_path / "template.yaml"
    path.write_text(AUTH_TEMPLATE)
    apis, routes = read_apis(LocalTemplate(path))
    auth = {(r.path, r.method): r.auth for r in routes}

    assert auth["/private", "GET"].authorizer == "Users"
    assert auth["/open", "GET"].authorizer is None
    assert auth["/keyed", "GET"].api_key_required is True
    assert auth["/keyed", "GET"].authorizer == "Users"
    assert auth["/private", "OPTIONS"].authorizer == "Users"  # SAM's AddDefaultAuthorizerToCorsPreflight
    # The authorizer's own properties are resolved by its implementation, once the pool exists.
    assert apis["Api"].authorizers["Users"] == {"UserPoolArn": {"Fn::GetAtt": ["Pool", "Arn"]}}


def test_a_service_provides_the_run_time_value_of_its_resources(tmp_path):
    from serverless_local.stack import LocalTemplate, read_functions

    path = tmp_path / "template.yaml"
    path.write_text(AUTH_TEMPLATE)
    template = LocalTemplate(path)
    assert read_functions(template)["Fn"].environment["POOL"] == "Pool"  # no provider: the logical id

    template.resolver.providers["AWS::Cognito::UserPool"] = lambda logical_id, resource, attribute: (
        "us-east-1_abc" if attribute is None else f"arn:pool/{logical_id}"
    )

    assert read_functions(template)["Fn"].environment["POOL"] == "us-east-1_abc"
    assert template.resolve({"Fn::GetAtt": ["Pool", "Arn"]}, "test") == "arn:pool/Pool"


def test_each_methods_checks_come_from_the_openapi_body():
    """What API Gateway enforces is the body's `security`: the authorizer on API routes, OPTIONS open."""
    from serverless_local.stack import RouteAuth

    root = ROOT / "template.yaml"
    for overrides, records in (
        ({}, RouteAuth("cognito", False)),
        ({"ApiKeyRequired": "true"}, RouteAuth("cognito", True)),
        ({"AuthMode": "none", "ApiKeyRequired": "true"}, RouteAuth(None, True)),
        ({"AuthMode": "none"}, RouteAuth(None, False)),
    ):
        stack = read_stack(root, overrides)
        # The resources behind sign-in are those of the signed-in routes (api/apigateway.py).
        signed_in = {resource for resource, guarded in _api_resources().items() if guarded}
        if records != RouteAuth():
            assert signed_in == {r.path for r in stack.routes if r.auth_for("GET") == records}
        for route in stack.routes:
            guarded = route.path in signed_in
            expected = records if guarded else RouteAuth()
            assert (route.auth_for("GET"), route.auth_for("DELETE")) == (expected, expected), overrides
            assert route.auth_for("OPTIONS") == RouteAuth(), (overrides, route.path)
        schemes = stack.apis["RecordsApi"].authorizers
        assert ("cognito" in schemes) is (overrides.get("AuthMode") != "none")


def _api_resources() -> dict[str, bool]:
    from scripts.generate_schemas import _declared

    from serverless_crud.api.apigateway import resources

    return resources(_declared())


def test_the_local_gateway_serves_every_declared_route_with_its_access():
    """Each route declared in the app reaches the function through the resource API Gateway would
    pick for it, behind the authorizer exactly when the route is signed-in."""
    from scripts.generate_schemas import _declared

    from serverless_crud.api.apigateway import most_specific

    stack = read_stack(ROOT / "template.yaml")
    by_path = {route.path: route for route in stack.routes}
    for declared in _declared():
        resource = most_specific(declared.example_path(), by_path)
        route = by_path[resource]
        assert route.function == "RecordsFunction"
        assert (route.auth_for(declared.method).authorizer == "cognito") is (
            declared.access == "signed-in"
        ), (
            declared.method,
            declared.path,
        )
