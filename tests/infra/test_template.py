"""What the deployed stack promises, read from the SAM transform's output for each scenario.

Each test looks at the resources CloudFormation would create with a scenario's parameters
(conditions evaluated, AWS::NoValue dropped); see `conftest.SCENARIOS`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from serverless_crud.settings import variables

from .conftest import ROOT, Deployment, Template, iter_statements, sub_text, substitute

DeploymentOf = Callable[[str], Deployment]

TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
}
BATCH_ACTIONS = {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"}
#: Every variable the function reads (serverless_crud.settings declares them all).
FUNCTION_ENVIRONMENT = {variable for variable, _, _ in variables()}


def _function(deployment: Deployment) -> dict[str, Any]:
    properties: dict[str, Any] = deployment.resources["RecordsFunction"]["Properties"]
    return properties


#: The function's statements for jobs (tests/infra/test_state_machines.py).
JOB_STATEMENTS = {
    "JobRecords",
    "ImportFiles",
    "UploadedImports",
    "ExportLinks",
    "StartJobs",
    "ReadJobExecutions",
}


def _resources() -> dict[str, bool]:
    """The API Gateway resources of the declared routes, and whether each is signed-in."""
    from scripts.generate_schemas import _declared

    from serverless_crud.api.apigateway import resources

    return resources(_declared())


#: The resources behind sign-in (and the API key when required): the records' and the jobs'.
GUARDED = {resource for resource, guarded in _resources().items() if guarded}


def _table_ref(deployment: Deployment) -> Any:
    """How the scenario names its table: the created table's Ref, or the existing table's name."""
    return deployment.resolved["Outputs"]["TableName"]["Value"]


# -- data ------------------------------------------------------------------------------------------
def test_dev_table_is_on_demand_recoverable_encrypted_and_disposable(deployments: DeploymentOf) -> None:
    dev = deployments("dev")
    table = dev.resources["RecordsTable"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["DeletionProtectionEnabled"] is False
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_other_stages_keep_their_table(deployments: DeploymentOf) -> None:
    table = deployments("prod").resources["RecordsTable"]
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_table_keys_are_the_contract_keys_by_default(deployments: DeploymentOf) -> None:
    props = deployments("dev").resources["RecordsTable"]["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "email", "KeyType": "HASH"},
        {"AttributeName": "id", "KeyType": "RANGE"},
    ]
    assert props["AttributeDefinitions"][:2] == [
        {"AttributeName": "email", "AttributeType": "S"},
        {"AttributeName": "id", "AttributeType": "N"},
    ]
    env = _function(deployments("dev"))["Environment"]["Variables"]
    assert (env["PARTITION_KEY"], env["SORT_KEY"]) == ("email", "id")
    assert env["TABLE_NAME"] == {"Ref": "RecordsTable"}


def test_an_existing_table_is_used_not_created(deployments: DeploymentOf) -> None:
    existing = deployments("existing-table")
    # The jobs' own table and the stack's idempotency table: the records live in the existing one.
    assert set(existing.of_type("AWS::DynamoDB::Table")) == {"JobsTable", "IdempotencyTable", "HistoryTable"}
    env = _function(existing)["Environment"]["Variables"]
    assert (env["TABLE_NAME"], env["PARTITION_KEY"], env["SORT_KEY"]) == ("legacy-records", "pk", "1")
    assert _table_ref(existing) == "legacy-records"


# -- function --------------------------------------------------------------------------------------
def test_function_runtime_architecture_and_handler(deployment: Deployment) -> None:
    function = _function(deployment)
    major, minor = (int(part) for part in re.fullmatch(r"python(\d+)\.(\d+)", function["Runtime"]).groups())  # type: ignore[union-attr]
    assert (major, minor) >= (3, 12)
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "serverless_crud.handler.lambda_handler"


def test_function_environment_names_and_values(deployment: Deployment) -> None:
    env = _function(deployment)["Environment"]["Variables"]
    assert set(env) == FUNCTION_ENVIRONMENT
    assert env["POWERTOOLS_SERVICE_NAME"] == "serverless-crud"
    # The function loads the X-Ray SDK exactly when Lambda records traces.
    traced = _function(deployment).get("TracingConfig", {}).get("Mode") == "Active"
    assert env["TRACING_ENABLED"] == ("true" if traced else "false")
    assert env["MAX_BODY_BYTES"] == deployment.sam["Parameters"]["MaxBodyBytes"]["Default"]
    assert env["ALLOWED_ORIGINS"] == deployment.sam["Parameters"]["AllowedOrigins"]["Default"]
    assert env["REQUIRE_IF_MATCH"] == deployment.sam["Parameters"]["RequireIfMatch"]["Default"] == "false"


def test_cursor_secret_is_generated_and_passed_by_dynamic_reference(deployment: Deployment) -> None:
    env = _function(deployment)["Environment"]["Variables"]
    text, variables = sub_text(env["CURSOR_SECRET"])
    assert text == "{{resolve:secretsmanager:${CursorSecret}:SecretString}}"
    assert variables == {}
    secret = deployment.resources["CursorSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    assert "SecretString" not in secret["Properties"]


def test_no_literal_secret_anywhere(template_text: str) -> None:
    assert "SecretString:" not in template_text.replace("GenerateSecretString:", "")
    assert re.search(r"CURSOR_SECRET:\s*!Sub\s+\"\{\{resolve:secretsmanager:", template_text)


def _repository_operations() -> set[str]:
    """The botocore operations dal/repository.py calls (`self._call("put_item", ...)`)."""
    source = (ROOT / "src/serverless_crud/dal/repository.py").read_text()
    operations = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_call"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            operations.add(str(node.args[0].value))
    return operations


def test_iam_actions_are_exactly_what_the_repository_calls() -> None:
    from serverless_crud.dal.listing import QUERY, SCAN

    operations = _repository_operations() | {QUERY, SCAN}
    actions = {"dynamodb:" + "".join(part.title() for part in op.split("_")) for op in operations}
    # The batches are the jobs' (TasksFunction's role, tests/infra/test_state_machines.py).
    assert actions == TABLE_ACTIONS | BATCH_ACTIONS


def test_idempotency_records_expire_with_ttl(deployments: DeploymentOf) -> None:
    props = deployments("dev").resources["IdempotencyTable"]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    env = _function(deployments("dev"))["Environment"]["Variables"]
    assert env["IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}


def _wanted_indexes() -> dict[str, list[str]]:
    """The GSIs the sortable fields need (models/fields.py): an owner's `by_<sort>` and everyone's
    `all_by_<sort>` over the write shards; the sort key needs only the latter."""
    from serverless_crud.dal.derived import SHARD
    from serverless_crud.models.fields import sortable

    wanted: dict[str, list[str]] = {}
    for spec in sortable():
        attribute = "id" if spec.key == "sort" else spec.sort_attribute
        if spec.key != "sort":
            wanted[spec.owner_index] = ["email", attribute]
        wanted[spec.sharded_index] = [SHARD, attribute]
    return wanted


def _index_yaml(name: str, keys: list[str]) -> str:
    partition, sort = (
        f"!Ref {'PartitionKeyName' if k == 'email' else 'SortKeyName'}" if k in ("email", "id") else k
        for k in keys
    )
    return (
        f"        - IndexName: {name}\n          KeySchema:\n"
        f"            - {{ AttributeName: {partition}, KeyType: HASH }}\n"
        f"            - {{ AttributeName: {sort}, KeyType: RANGE }}\n"
        "          Projection: { ProjectionType: ALL }"
    )


def test_every_sortable_field_has_its_indexes(deployments: DeploymentOf) -> None:
    """A field declared sortable needs its indexes in the template: the failure names them and the
    YAML to add (docs/make-it-yours.md)."""
    props = deployments("dev").resources["RecordsTable"]["Properties"]
    indexes = {
        index["IndexName"]: [k["AttributeName"] for k in index["KeySchema"]]
        for index in props["GlobalSecondaryIndexes"]
    }
    wanted = _wanted_indexes()
    missing = {name: keys for name, keys in wanted.items() if indexes.get(name) != keys}
    defined = {d["AttributeName"] for d in props["AttributeDefinitions"]}
    undefined = sorted({k for keys in wanted.values() for k in keys} - defined)
    assert not missing and not undefined, (
        f"template.yaml's RecordsTable lacks the indexes of sortable fields: {', '.join(missing)}; add under "
        "GlobalSecondaryIndexes:\n"
        + "\n".join(_index_yaml(name, keys) for name, keys in missing.items())
        + ("\nand under AttributeDefinitions:\n" if undefined else "")
        + "\n".join(f"        - {{ AttributeName: {a}, AttributeType: S }}" for a in undefined)
    )
    assert set(indexes) == set(wanted), (
        f"indexes no sortable field reads: {sorted(set(indexes) - set(wanted))}"
    )
    assert {i["Projection"]["ProjectionType"] for i in props["GlobalSecondaryIndexes"]} == {"ALL"}


def test_function_role_allows_only_the_table_actions_on_the_table(deployment: Deployment) -> None:
    role = deployment.resources["RecordsFunctionRole"]["Properties"]
    # The jobs' statements (their table, files and executions) are checked by test_state_machines.
    statements = [s for s in iter_statements(role) if s.get("Sid") not in JOB_STATEMENTS]
    assert len(statements) == 4
    statement, indexes, history, idempotency = statements
    # History: read, and a deletion's note (docs/history.md); on its table and its indexes only.
    assert (history["Sid"], history["Action"]) == (
        "HistoryEntries",
        ["dynamodb:Query", "dynamodb:UpdateItem"],
    )
    assert history["Resource"] == [
        {"Fn::GetAtt": ["HistoryTable", "Arn"]},
        {"Fn::Sub": "${HistoryTable.Arn}/index/*"},
    ]
    assert idempotency["Effect"] == "Allow"
    assert idempotency["Action"] == [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ]
    assert idempotency["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
    assert statement["Effect"] == indexes["Effect"] == "Allow"
    assert set(statement["Action"]) == TABLE_ACTIONS
    assert len(statement["Action"]) == len(TABLE_ACTIONS)
    # The indexes are only ever queried.
    assert indexes["Action"] == "dynamodb:Query"
    if deployment.name == "existing-table":
        arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${ExistingTableName}"
        assert statement["Resource"] == {"Fn::Sub": arn}
        assert indexes["Resource"] == {"Fn::Sub": arn + "/index/*"}
    else:
        assert statement["Resource"] == {"Fn::GetAtt": ["RecordsTable", "Arn"]}
        assert indexes["Resource"] == {"Fn::Sub": "${RecordsTable.Arn}/index/*"}


def test_function_role_managed_policies(deployments: DeploymentOf) -> None:
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    xray = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
    traced = deployments("prod").resources["RecordsFunctionRole"]["Properties"]["ManagedPolicyArns"]
    untraced = deployments("dev").resources["RecordsFunctionRole"]["Properties"]["ManagedPolicyArns"]
    assert sorted(traced) == sorted([basic, xray])
    assert untraced == [basic]


def test_function_logs_to_its_own_log_group_with_retention(deployments: DeploymentOf) -> None:
    for name, days in (("dev", 30), ("prod", 365)):
        deployment = deployments(name)
        logging = _function(deployment)["LoggingConfig"]
        # Text format: Lambda's JSON format would impose its own log level over POWERTOOLS_LOG_LEVEL.
        assert logging == {"LogGroup": {"Ref": "RecordsFunctionLogGroup"}}
        group = deployment.resources["RecordsFunctionLogGroup"]["Properties"]
        assert group["RetentionInDays"] == days
        assert deployment.resources["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == days


def test_reserved_concurrency_only_when_asked(deployments: DeploymentOf) -> None:
    assert "ReservedConcurrentExecutions" not in _function(deployments("dev"))
    assert _function(deployments("prod"))["ReservedConcurrentExecutions"] == 20


def test_tracing_switch(deployments: DeploymentOf) -> None:
    # Off by default: the X-Ray SDK would add ~60 ms to every cold start (make bench).
    assert _function(deployments("prod"))["TracingConfig"] == {"Mode": "Active"}
    assert deployments("prod").one("AWS::ApiGateway::Stage")["TracingEnabled"] is True
    assert "TracingConfig" not in _function(deployments("dev"))
    assert deployments("dev").one("AWS::ApiGateway::Stage")["TracingEnabled"] is False


def test_snapstart_is_off_by_default(deployments: DeploymentOf) -> None:
    assert _function(deployments("dev"))["SnapStart"] == {"ApplyOn": "None"}
    assert _function(deployments("snapstart-off"))["SnapStart"] == {"ApplyOn": "None"}


def test_snapstart_applies_to_the_versions_the_alias_publishes(deployments: DeploymentOf) -> None:
    on = deployments("snapstart")
    assert _function(on)["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    versions = on.of_type("AWS::Lambda::Version")
    assert len(versions) == 1
    ((version_id, version),) = versions.items()
    # A replaced version is deleted: its snapshot would otherwise stay cached, and billed.
    assert version["DeletionPolicy"] == "Delete"
    alias = on.one("AWS::Lambda::Alias")
    assert alias["Name"] == "live"
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


@pytest.mark.parametrize("scenario", ["dev", "snapstart", "snapstart-off"])
def test_the_api_invokes_the_published_alias_whatever_snapstart_says(
    deployments: DeploymentOf, scenario: str
) -> None:
    # SAM cannot make AutoPublishAlias conditional: the alias exists either way, and is what runs.
    deployment = deployments(scenario)
    assert deployment.one("AWS::Lambda::Alias")["Name"] == "live"
    assert len(deployment.of_type("AWS::Lambda::Version")) == 1
    for methods in _body(deployment)["paths"].values():
        for method in methods.values():
            assert (
                "${RecordsFunctionAliaslive}" in sub_text(method["x-amazon-apigateway-integration"]["uri"])[0]
            )


def test_sam_builds_every_function_with_the_one_makefile_recipe(sam_template: Template) -> None:
    # tests/infra/test_sam_cli.py runs `sam build`; one pattern rule serves every function.
    functions = {
        name: resource
        for name, resource in sam_template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) >= {"RecordsFunction", "TasksFunction"}
    for name, resource in functions.items():
        metadata = resource["Metadata"]
        assert (metadata["BuildMethod"], metadata["ContextPath"], metadata["WorkingDirectory"]) == (
            "makefile",
            ".",
            ".",
        ), name
        assert name.endswith("Function"), f"{name}: the Makefile's build-%Function rule builds it"
    assert "\nbuild-%Function:" in (ROOT / "Makefile").read_text()


# -- API -------------------------------------------------------------------------------------------
def _body(deployment: Deployment) -> dict[str, Any]:
    body: dict[str, Any] = deployment.one("AWS::ApiGateway::RestApi")["Body"]
    return body


def test_stage_name_comes_from_the_parameter(deployments: DeploymentOf) -> None:
    assert deployments("dev").one("AWS::ApiGateway::Stage")["StageName"] == "dev"
    assert deployments("prod").one("AWS::ApiGateway::Stage")["StageName"] == "prod"


def test_proxy_integration_for_root_and_every_path(deployment: Deployment) -> None:
    paths = _body(deployment)["paths"]
    assert list(paths) == list(_resources())
    assert {"/records", "/records/{proxy+}", "/", "/{proxy+}"} <= GUARDED | {"/", "/{proxy+}"}
    for methods in paths.values():
        assert set(methods) == {"x-amazon-apigateway-any-method", "options"}
        for method in methods.values():
            integration = method["x-amazon-apigateway-integration"]
            assert (integration["type"], integration["httpMethod"]) == ("aws_proxy", "POST")
            # The alias: SnapStart serves published versions only, never $LATEST.
            assert "${RecordsFunctionAliaslive}" in sub_text(integration["uri"])[0]
    # One permission: the stage, any method, any resource of this API, on the alias.
    (permission,) = deployment.of_type("AWS::Lambda::Permission").values()
    assert permission["Properties"]["FunctionName"] == {"Ref": "RecordsFunctionAliaslive"}
    assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    arn = sub_text(permission["Properties"]["SourceArn"])[0]
    assert arn.endswith(":${RecordsApi}/${StageName}/*")


def test_the_api_definition_is_the_generated_file(sam_template: Template) -> None:
    """template.yaml's DefinitionBody is openapi/apigateway.json with the deployment's values in place
    of its placeholders (`make schemas` writes both; the function has no Events listing routes)."""
    from scripts.generate_schemas import SAM_SUBSTITUTIONS, render_definition, render_template

    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert render_template(text) == text, "run `make schemas`"
    assert "Events" not in sam_template["Resources"]["RecordsFunction"]["Properties"]
    definition = json.loads(render_definition())
    body = sam_template["Resources"]["RecordsApi"]["Properties"]["DefinitionBody"]
    assert list(body["paths"]) == list(definition["paths"])
    for path, methods in definition["paths"].items():
        for method, operation in methods.items():
            written = body["paths"][path][method]
            uri = operation["x-amazon-apigateway-integration"]["uri"]
            wanted = uri.replace(
                "${records_function_invoke_arn}", SAM_SUBSTITUTIONS["records_function_invoke_arn"]
            )
            assert written["x-amazon-apigateway-integration"]["uri"] == {"Fn::Sub": wanted}
            assert (written["security"] == []) is (operation["security"] == [])


def test_api_key_is_off_by_default(deployments: DeploymentOf) -> None:
    dev = deployments("dev")
    for methods in _body(dev)["paths"].values():
        assert all({"api_key": []} not in method["security"] for method in methods.values())
    assert "api_key" not in json.dumps(_body(deployments("open"))["paths"])
    assert dev.of_type("AWS::ApiGateway::UsagePlan") == {}
    assert dev.of_type("AWS::ApiGateway::ApiKey") == {}


def test_api_key_with_usage_plan_when_required(deployments: DeploymentOf) -> None:
    prod = deployments("prod")
    for path, methods in _body(prod)["paths"].items():
        # The records API needs the key; the UI's pages, /docs and /health stay loadable in a browser.
        keyed = path in GUARDED
        security = methods["x-amazon-apigateway-any-method"]["security"]
        assert ({"api_key": []} in security) is keyed
        assert methods["options"]["security"] == []  # browsers send preflights without the key
    for path, methods in _body(deployments("open-with-key"))["paths"].items():
        expected = [{"api_key": []}] if path in GUARDED else []
        assert methods["x-amazon-apigateway-any-method"]["security"] == expected
    assert _body(prod)["components"]["securitySchemes"]["api_key"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
    plan = prod.one("AWS::ApiGateway::UsagePlan")
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "RecordsApi"}, "Stage": {"Ref": "RecordsApiStage"}}]
    assert plan["Throttle"] == {"RateLimit": 50, "BurstLimit": 100}
    plan_key = prod.one("AWS::ApiGateway::UsagePlanKey")
    assert plan_key == {
        "KeyId": {"Ref": "ApiKey"},
        "KeyType": "API_KEY",
        "UsagePlanId": {"Ref": "ApiUsagePlan"},
    }
    assert "ApiKeyId" in prod.resolved["Outputs"]


def test_stage_throttling_metrics_and_access_logs(deployment: Deployment) -> None:
    stage = deployment.one("AWS::ApiGateway::Stage")
    (settings,) = stage["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (50, 100)
    assert settings["MetricsEnabled"] is True
    assert settings["DataTraceEnabled"] is False  # never log request bodies
    access = stage["AccessLogSetting"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    # The format is JSON once API Gateway fills in its $context variables.
    record = json.loads(re.sub(r"\$context\.[\w.]+", "x", access["Format"]))
    assert {
        "requestId",
        "ip",
        "httpMethod",
        "path",
        "status",
        "responseLatency",
        "integrationLatency",
    } <= set(record)
    assert record["requestId"] == "x"


def test_api_gateway_can_write_logs(deployment: Deployment) -> None:
    account = deployment.one("AWS::ApiGateway::Account")
    assert account["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}
    assert deployment.resources["ApiGatewayCloudWatchRole"]["DeletionPolicy"] == "Retain"
    assert deployment.resources["RecordsApi"]["DependsOn"] == "ApiGatewayAccount"


def test_binary_media_types_let_the_function_return_base64_bodies(deployment: Deployment) -> None:
    assert _body(deployment)["x-amazon-apigateway-binary-media-types"] == ["*/*"]


def test_gateway_errors_carry_the_cors_header(deployments: DeploymentOf) -> None:
    """The authorizer's 401 and 403 too: a browser on another origin must be able to read them."""
    for name, origin in (("dev", "'*'"), ("prod", "'https://app.example.com'")):
        responses = _body(deployments(name))["x-amazon-apigateway-gateway-responses"]
        assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "ACCESS_DENIED"}
        assert (responses["UNAUTHORIZED"]["statusCode"], responses["ACCESS_DENIED"]["statusCode"]) == (
            "401",
            "403",
        )
        for response in responses.values():
            header = response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
            text, variables = sub_text(header)
            allowed = deployments(name).sam["Parameters"]["AllowedOrigins"]["Default"]
            assert variables["Origin"] == {"Fn::Select": [0, {"Fn::Split": [",", allowed]}]}
            assert substitute(text, {"Origin": allowed.split(",")[0]}) == origin


# -- sign-in ---------------------------------------------------------------------------------------
def _guarded_methods(body: dict[str, Any]) -> dict[tuple[str, str], list[Any]]:
    return {
        (path, method): spec["security"]
        for path, methods in body["paths"].items()
        for method, spec in methods.items()
    }


def _raw_body(deployment: Deployment) -> dict[str, Any]:
    """RecordsApi's DefinitionBody as written, conditions evaluated for the scenario (before SAM)."""
    from .conftest import resolve

    body: dict[str, Any] = resolve(deployment.sam)["Resources"]["RecordsApi"]["Properties"]["DefinitionBody"]
    return body


@pytest.mark.parametrize("scenario", ["dev", "prod", "existing-pool", "everything"])
def test_the_cognito_authorizer_guards_every_records_method_but_options(
    deployments: DeploymentOf, scenario: str
) -> None:
    """In the template as written and in what the SAM transform hands CloudFormation."""
    deployment = deployments(scenario)
    for body in (_raw_body(deployment), _body(deployment)):
        for (path, method), security in _guarded_methods(body).items():
            guarded = (path in GUARDED) and method != "options"
            assert ({"cognito": []} in security) is guarded, (scenario, path, method)
        scheme = body["components"]["securitySchemes"]["cognito"]
        assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
        assert (scheme["type"], scheme["name"], scheme["in"]) == ("apiKey", "Authorization", "header")
        assert scheme["x-amazon-apigateway-authorizer"]["type"] == "cognito_user_pools"
        (provider,) = scheme["x-amazon-apigateway-authorizer"]["providerARNs"]
        if scenario == "existing-pool":
            assert provider == deployment.sam["Parameters"]["ExistingUserPoolArn"]["Default"]
        else:
            assert provider == {"Fn::GetAtt": ["UserPool", "Arn"]}


def test_the_open_mode_has_no_authorizer_and_no_pool(deployments: DeploymentOf) -> None:
    for name in ("open", "open-with-key"):
        deployment = deployments(name)
        for body in (_raw_body(deployment), _body(deployment)):
            assert "cognito" not in json.dumps(body)
        assert deployment.of_type("AWS::Cognito::UserPool") == {}
        assert deployment.of_type("AWS::Cognito::UserPoolClient") == {}
        env = _function(deployment)["Environment"]["Variables"]
        assert (env["AUTH_MODE"], env["USER_POOL_ID"], env["USER_POOL_CLIENT_ID"]) == ("none", "", "")
        assert "UserPoolId" not in deployment.resolved["Outputs"]


def test_the_user_pool_signs_in_with_a_verified_email_and_a_strong_password(
    deployments: DeploymentOf,
) -> None:
    dev = deployments("dev")
    pool = dev.one("AWS::Cognito::UserPool")
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True} in pool[
        "Schema"
    ]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(
        policy[k] is True
        for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("OPTIONAL", ["SOFTWARE_TOKEN_MFA"])
    # Threat protection costs money: off unless asked for.
    assert (pool["UserPoolTier"], pool["UserPoolAddOns"]) == ("ESSENTIALS", {"AdvancedSecurityMode": "OFF"})
    assert dev.resources["UserPool"]["DeletionPolicy"] == "Delete"
    protected = deployments("threat-protection")
    pool = protected.one("AWS::Cognito::UserPool")
    assert (pool["UserPoolTier"], pool["UserPoolAddOns"]) == ("PLUS", {"AdvancedSecurityMode": "AUDIT"})
    assert pool["MfaConfiguration"] == "ON"
    assert (pool["DeletionProtection"], protected.resources["UserPool"]["DeletionPolicy"]) == (
        "ACTIVE",
        "Retain",
    )


def test_the_ui_client_is_public_with_the_documented_flows_and_lifetimes(deployments: DeploymentOf) -> None:
    for name in ("dev", "existing-pool"):
        deployment = deployments(name)
        client = deployment.one("AWS::Cognito::UserPoolClient")
        assert client["GenerateSecret"] is False
        assert client["ExplicitAuthFlows"] == [
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ]
        assert client["PreventUserExistenceErrors"] == "ENABLED"
        assert (client["IdTokenValidity"], client["AccessTokenValidity"], client["RefreshTokenValidity"]) == (
            60,
            60,
            720,
        )
        assert set(client["TokenValidityUnits"].values()) == {"minutes"}
        env = _function(deployment)["Environment"]["Variables"]
        assert env["AUTH_MODE"] == "cognito"
        assert env["USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}
        assert "UserPoolClientId" in deployment.resolved["Outputs"]
    assert deployments("dev").one("AWS::Cognito::UserPoolClient")["UserPoolId"] == {"Ref": "UserPool"}
    existing = deployments("existing-pool")
    assert existing.of_type("AWS::Cognito::UserPool") == {}
    assert existing.of_type("AWS::Cognito::UserPoolGroup") == {}  # the existing pool brings its own


def test_the_admin_group_is_created_with_the_pool(deployments: DeploymentOf) -> None:
    group = deployments("dev").one("AWS::Cognito::UserPoolGroup")
    assert (group["GroupName"], group["UserPoolId"]) == ("admin", {"Ref": "UserPool"})
    assert deployments("dev").resolved["Outputs"]["UserPoolId"]["Value"] == {"Ref": "UserPool"}


def test_every_stack_update_deploys_the_stage(deployment: Deployment) -> None:
    """Conditions in the OpenAPI body change nothing SAM hashes: AlwaysDeploy must be on."""
    assert deployment.sam["Resources"]["RecordsApi"]["Properties"]["AlwaysDeploy"] is True
    (deployment_resource,) = deployment.of_type("AWS::ApiGateway::Deployment").values()
    assert deployment_resource["Properties"]["RestApiId"] == {"Ref": "RecordsApi"}


# -- HTTPS custom domain ---------------------------------------------------------------------------
_DOMAIN_TYPES = (
    "AWS::CertificateManager::Certificate",
    "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::BasePathMapping",
    "AWS::Route53::RecordSet",
)


def test_without_a_domain_only_the_execute_api_url(deployments: DeploymentOf) -> None:
    dev = deployments("dev")
    for resource_type in _DOMAIN_TYPES:
        assert dev.of_type(resource_type) == {}
    outputs = dev.resolved["Outputs"]
    assert "CustomDomainUrl" not in outputs
    text, _ = sub_text(outputs["ApiUrl"]["Value"])
    assert text == "https://${RecordsApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}/"


def test_custom_domain_with_a_dns_validated_certificate(deployments: DeploymentOf) -> None:
    domain = deployments("domain")
    certificate = domain.one("AWS::CertificateManager::Certificate")
    assert certificate == {
        "DomainName": "api.example.com",
        "ValidationMethod": "DNS",
        "DomainValidationOptions": [
            {"DomainName": "api.example.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"}
        ],
    }
    custom = domain.one("AWS::ApiGateway::DomainName")
    assert custom == {
        "DomainName": "api.example.com",
        "RegionalCertificateArn": {"Ref": "ApiCertificate"},
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "SecurityPolicy": "TLS_1_2",
    }
    mapping = domain.one("AWS::ApiGateway::BasePathMapping")
    assert mapping == {
        "DomainName": {"Ref": "ApiDomainName"},
        "RestApiId": {"Ref": "RecordsApi"},
        "Stage": {"Ref": "RecordsApiStage"},
    }
    records = domain.of_type("AWS::Route53::RecordSet").values()
    assert sorted(r["Properties"]["Type"] for r in records) == ["A", "AAAA"]
    for record in records:
        props = record["Properties"]
        assert (props["HostedZoneId"], props["Name"]) == ("Z0123456789ABCDEFGHIJ", "api.example.com")
        assert props["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]}
        assert props["AliasTarget"]["HostedZoneId"] == {
            "Fn::GetAtt": ["ApiDomainName", "RegionalHostedZoneId"]
        }
    assert sub_text(domain.resolved["Outputs"]["CustomDomainUrl"]["Value"])[0] == "https://${DomainName}/"


def test_custom_domain_with_an_existing_certificate(deployments: DeploymentOf) -> None:
    own = deployments("domain-own-certificate")
    assert own.of_type("AWS::CertificateManager::Certificate") == {}
    custom = own.one("AWS::ApiGateway::DomainName")
    assert custom["RegionalCertificateArn"] == own.sam["Parameters"]["CertificateArn"]["Default"]
    assert custom["SecurityPolicy"] == "TLS_1_2"
    assert len(own.of_type("AWS::Route53::RecordSet")) == 2


def test_custom_domain_without_route53(deployments: DeploymentOf) -> None:
    external = deployments("domain-external-dns")
    certificate = external.one("AWS::CertificateManager::Certificate")
    assert "DomainValidationOptions" not in certificate  # the stack prints the CNAME to add
    assert external.of_type("AWS::Route53::RecordSet") == {}
    assert "CustomDomainTarget" in external.resolved["Outputs"]


# -- monitoring ------------------------------------------------------------------------------------
def _alarm_metrics(alarm: dict[str, Any]) -> set[tuple[str, str]]:
    if "MetricName" in alarm:
        return {(alarm["Namespace"], alarm["MetricName"])}
    return {
        (q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"])
        for q in alarm["Metrics"]
        if "MetricStat" in q
    }


def test_alarms_watch_the_right_metrics_and_notify_the_topic(deployment: Deployment) -> None:
    alarms = {k: v["Properties"] for k, v in deployment.of_type("AWS::CloudWatch::Alarm").items()}
    assert {k: _alarm_metrics(v) for k, v in alarms.items()} == {
        "Api5xxRateAlarm": {("AWS/ApiGateway", "5XXError")},
        "ApiLatencyAlarm": {("AWS/ApiGateway", "Latency")},
        "FunctionErrorsAlarm": {("AWS/Lambda", "Errors")},
        "FunctionThrottlesAlarm": {("AWS/Lambda", "Throttles")},
        "TableThrottlesAlarm": {("AWS/DynamoDB", "ThrottledRequests")},
        "TableSystemErrorsAlarm": {("AWS/DynamoDB", "SystemErrors")},
        "JobFailuresAlarm": {("AWS/States", "ExecutionsFailed")},
        "HistoryErrorsAlarm": {("AWS/Lambda", "Errors"), ("ServerlessCrud", "HistoryWriteFailures")},
        "HistoryDeadLetterAlarm": {("AWS/SQS", "ApproximateNumberOfMessagesVisible")},
        "HistoryIteratorAgeAlarm": {("AWS/Lambda", "IteratorAge")},
    }
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"
    assert alarms["ApiLatencyAlarm"]["ExtendedStatistic"] == "p99"
    for name in ("FunctionErrorsAlarm", "FunctionThrottlesAlarm"):
        assert alarms[name]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "RecordsFunction"}}]


def test_api_5xx_alarm_is_a_rate_in_percent(deployments: DeploymentOf) -> None:
    alarm = deployments("dev").resources["Api5xxRateAlarm"]["Properties"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert queries["failed"]["MetricStat"]["Stat"] == "Average"
    assert queries["rate"]["Expression"] == "failed * 100"
    assert [q["Id"] for q in alarm["Metrics"] if q["ReturnData"]] == ["rate"]
    assert alarm["Threshold"] == 5
    dimensions = {d["Name"]: d["Value"] for d in queries["failed"]["MetricStat"]["Metric"]["Dimensions"]}
    assert dimensions["Stage"] == "dev"
    # The alarm's ApiName is the name the API is given.
    api_name = deployments("dev").one("AWS::ApiGateway::RestApi")["Name"]
    assert dimensions["ApiName"] == api_name


def test_table_alarms_sum_every_operation_of_the_table(deployment: Deployment) -> None:
    for name in ("TableThrottlesAlarm", "TableSystemErrorsAlarm"):
        queries = deployment.resources[name]["Properties"]["Metrics"]
        stats = [q for q in queries if "MetricStat" in q]
        operations = set()
        for query in stats:
            dimensions = {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"]["Dimensions"]}
            assert dimensions["TableName"] == _table_ref(deployment)
            operations.add("dynamodb:" + dimensions["Operation"])
        assert operations == TABLE_ACTIONS
        (total,) = [q for q in queries if q["ReturnData"]]
        assert all(q["Id"] in total["Expression"] for q in stats)


def test_alarm_email_subscription_only_with_an_address(deployments: DeploymentOf) -> None:
    assert deployments("dev").of_type("AWS::SNS::Subscription") == {}
    subscription = deployments("prod").one("AWS::SNS::Subscription")
    assert subscription == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }


def test_dashboard_graphs_every_alarmed_metric(deployment: Deployment) -> None:
    body = deployment.one("AWS::CloudWatch::Dashboard")["DashboardBody"]
    text, variables = sub_text(body)
    assert set(variables) == {"ApiName", "TableName"}
    assert variables["TableName"] == _table_ref(deployment)
    dashboard = json.loads(substitute(text, {}))
    widgets = dashboard["widgets"]
    alarm_widget = next(w for w in widgets if w["type"] == "alarm")
    alarms = deployment.of_type("AWS::CloudWatch::Alarm")
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(f"<{name}.Arn>" for name in alarms)
    graphed = json.dumps([w for w in widgets if w["type"] == "metric"])
    for metric in (
        "Count",
        "5XXError",
        "Latency",
        "Errors",
        "Throttles",
        "Duration",
        "ThrottledRequests",
        "SystemErrors",
        "ExecutionsFailed",
    ):
        assert f'"{metric}"' in graphed or f'MetricName=\\"{metric}\\"' in graphed, metric


def test_outputs_name_the_url_table_and_dashboard(deployment: Deployment) -> None:
    outputs = deployment.resolved["Outputs"]
    assert {"ApiUrl", "TableName", "DashboardUrl", "AlarmTopicArn", "FunctionLogGroup"} <= set(outputs)
    assert "#dashboards:name=${Dashboard}" in sub_text(outputs["DashboardUrl"]["Value"])[0]


# -- static UI hosting -----------------------------------------------------------------------------
def test_no_ui_hosting_by_default(deployments: DeploymentOf) -> None:
    dev = deployments("dev")
    assert set(dev.of_type("AWS::S3::Bucket")) == {"FilesBucket"}  # the jobs' files only
    for resource_type in (
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
    ):
        assert dev.of_type(resource_type) == {}
    assert "UiUrl" not in dev.resolved["Outputs"]


def test_ui_hosting_private_bucket_cloudfront_and_api_origin(deployments: DeploymentOf) -> None:
    ui = deployments("ui")
    bucket = ui.resources["UiBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    policy = ui.resources["UiBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (read,) = [s for s in policy if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert "${UiDistribution}" in sub_text(read["Condition"]["StringEquals"]["AWS:SourceArn"])[0]
    (deny,) = [s for s in policy if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    config = ui.one("AWS::CloudFront::Distribution")["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["ui"]["OriginAccessControlId"] == {"Fn::GetAtt": ["UiOriginAccessControl", "Id"]}
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origins["api"]["OriginPath"] == {"Fn::Sub": "/${StageName}"}
    assert (
        sub_text(origins["api"]["DomainName"])[0]
        == "${RecordsApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    )
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    records = behaviours["/records*"]
    assert records["TargetOriginId"] == "api"
    assert {"POST", "PUT", "PATCH", "DELETE"} <= set(records["AllowedMethods"])
    assert all(b["ViewerProtocolPolicy"] == "https-only" for b in behaviours.values())
    oac = ui.one("AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    assert {"UiUrl", "UiBucketName"} <= set(ui.resolved["Outputs"])


# -- what the local runtime and the other tests rely on --------------------------------------------
def test_names_the_local_runtime_reads_are_kept(sam_template: Template) -> None:
    resources = sam_template["Resources"]
    assert resources["RecordsTable"]["Type"] == "AWS::DynamoDB::Table"
    assert resources["RecordsApi"]["Type"] == "AWS::Serverless::Api"
    function = resources["RecordsFunction"]
    assert function["Type"] == "AWS::Serverless::Function"
    assert function["Properties"]["CodeUri"] == "src/"
    assert function["Properties"]["Handler"] == "serverless_crud.handler.lambda_handler"
    assert sam_template["Parameters"]["StageName"]["Default"] == "dev"
    assert sam_template["Parameters"]["AuthMode"]["Default"] == "cognito"  # secure by default
    for name in (
        "ExistingTableName",
        "ExistingUserPoolArn",
        "DomainName",
        "HostedZoneId",
        "CertificateArn",
        "AlarmEmail",
    ):
        assert sam_template["Parameters"][name]["Default"] == ""


def test_every_parameter_has_a_default_and_a_description(sam_template: Template) -> None:
    """`sam deploy --guided` then only asks; `sam deploy` with nothing set deploys dev."""
    for name, spec in sam_template["Parameters"].items():
        assert "Default" in spec, name
        assert len(spec.get("Description", "").split()) >= 3, name


@pytest.mark.parametrize(
    ("parameter", "accepted", "rejected"),
    [
        (
            "DomainName",
            ["", "api.example.com", "records.api.example.co.uk"],
            ["https://api.example.com", "api.example.com.", "API.example.com", "localhost"],
        ),
        ("HostedZoneId", ["", "Z0123456789ABCDEFGHIJ"], ["/hostedzone/Z0123", "z0123"]),
        (
            "CertificateArn",
            ["", "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb"],
            ["arn:aws:iam::123456789012:role/x", "0f1e2d3c"],
        ),
        ("AlarmEmail", ["", "ops@example.com"], ["ops", "ops@example", "a b@example.com"]),
        ("ExistingTableName", ["", "legacy-records", "Records_2024.v1"], ["ab", "records table"]),
        ("StageName", ["dev", "prod", "v2_beta"], ["", "my-stage", "a/b"]),
        (
            "ExistingUserPoolArn",
            ["", "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Ab12Cd34E"],
            ["eu-west-1_Ab12Cd34E", "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/"],
        ),
    ],
)
def test_parameter_patterns_catch_typos_before_deploying(
    sam_template: Template, parameter: str, accepted: list[str], rejected: list[str]
) -> None:
    """CloudFormation refuses a value that does not match the whole AllowedPattern."""
    pattern = re.compile(sam_template["Parameters"][parameter]["AllowedPattern"])
    assert [v for v in accepted if not pattern.fullmatch(v)] == []
    assert [v for v in rejected if pattern.fullmatch(v)] == []


def test_ui_reaches_the_api_through_the_custom_domain_when_there_is_one(deployments: DeploymentOf) -> None:
    """No stage prefix on the API's side, so its Location headers hold on CloudFront too."""
    config = deployments("everything").one("AWS::CloudFront::Distribution")["DistributionConfig"]
    (api,) = [o for o in config["Origins"] if o["Id"] == "api"]
    assert api["DomainName"] == "api.example.com"
    assert "OriginPath" not in api


def test_api_gateways_own_errors_carry_the_security_headers(deployment: Deployment) -> None:
    """The function sets them on its responses (api/security_headers.py); API Gateway's own answers
    (no route, throttled, refused by the authorizer) get them from the gateway responses."""
    from serverless_crud.api.security_headers import HEADERS, HSTS

    api = deployment.one("AWS::ApiGateway::RestApi")
    responses = api["Body"]["x-amazon-apigateway-gateway-responses"]
    assert set(responses) >= {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "ACCESS_DENIED"}
    for kind, response in responses.items():
        headers = response["responseParameters"]
        for name, value in {**HEADERS, "Strict-Transport-Security": HSTS}.items():
            assert headers[f"gatewayresponse.header.{name}"] == f"'{value}'", (kind, name)


@pytest.mark.parametrize(
    "origins",
    [
        "*",
        "https://app.example.com",
        "https://app.example.com, http://localhost:3000",
        "https://a.example.com,https://b.example.com:8443",
        "",
        "ftp://files.example.com",
        "https://app.example.com/path",
        "app.example.com",
        "https://",
    ],
)
def test_allowed_origins_pattern_takes_what_the_function_takes(sam_template: Template, origins: str) -> None:
    """`sam deploy --guided` must not take a value the function then refuses at cold start."""
    from serverless_crud.settings import origins as parse_origins

    pattern = sam_template["Parameters"]["AllowedOrigins"]["AllowedPattern"]
    try:
        parse_origins(origins)
        accepted = True
    except ValueError:
        accepted = False
    assert (re.fullmatch(pattern, origins) is not None) == accepted


# -- history ---------------------------------------------------------------------------------------
def test_history_reads_the_records_stream_in_batches_with_a_dead_letter_queue(deployment: Deployment) -> None:
    mappings = deployment.of_type("AWS::Lambda::EventSourceMapping")
    (mapping,) = [
        m["Properties"]
        for m in mappings.values()
        if m["Properties"]["FunctionName"] == {"Ref": "HistoryFunction"}
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["HistoryDeadLetterQueue", "Arn"]}}
    }
    if deployment.name == "existing-table":
        arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${ExistingTableName}"
        assert mapping["EventSourceArn"] == {"Fn::Sub": arn + "/stream/${ExistingTableStreamLabel}"}
    else:
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["RecordsTable", "StreamArn"]}
        table = deployment.resources["RecordsTable"]["Properties"]
        assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    history = deployment.resources["HistoryTable"]["Properties"]
    assert history["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert [i["IndexName"] for i in history["GlobalSecondaryIndexes"]] == ["deleted", "deleted_everyone"]
    environment = deployment.resources["HistoryFunction"]["Properties"]["Environment"]["Variables"]
    assert str(environment["HISTORY_RETENTION_DAYS"]) == "365"  # the parameter's default
    role = deployment.resources["HistoryFunctionRole"]["Properties"]
    own = [s for s in iter_statements(role) if s.get("Sid") == "HistoryEntries"]
    assert own == [
        {
            "Sid": "HistoryEntries",
            "Effect": "Allow",
            "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:GetItem"],
            "Resource": {"Fn::GetAtt": ["HistoryTable", "Arn"]},
        }
    ]
