"""The Terraform module deploys what the SAM template deploys, scenario by scenario.

For each scenario of conftest.SCENARIOS, the SAM template goes through the SAM transform (as the
other infrastructure tests do) and the module is evaluated with the same parameters as variables;
`terraform.parity` pairs their resources and writes their values in one vocabulary. Then what
matters is compared: every resource has its counterpart, and tables, functions, roles, the API,
sign-in, state machines, buckets, logs, alarms, the dashboard, the domain, UI hosting and outputs are
equal. A change to one side that the other does not make fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import ROOT, SCENARIOS, Deployment, Template
from .terraform.evaluate import Evaluation, Instance
from .terraform.parameters import as_variable, variable_name
from .terraform.parity import Normaliser, Pairing, evaluate_plan, pair, same_statements
from .terraform.syntax import snake_case

STACK = "serverless-crud-dev"


class Side:
    """One scenario, both ways: CloudFormation's resources and the module's plan, paired."""

    def __init__(self, deployment: Deployment, evaluation: Evaluation) -> None:
        self.deployment = deployment
        self.evaluation = evaluation
        self.plan = evaluate_plan(evaluation)
        self.pairing: Pairing = pair(deployment.resources, self.plan)
        self.norm = Normaliser(self.pairing, evaluation.environment, STACK, deployment.sam["Parameters"])

    def cfn(self, logical_id: str) -> dict[str, Any]:
        """A CloudFormation resource's properties, in the common vocabulary."""
        properties: dict[str, Any] = self.norm.cfn(
            self.deployment.resources[logical_id].get("Properties", {})
        )
        return properties

    def tf(self, logical_id: str) -> dict[str, Any]:
        """Its Terraform counterpart's evaluated arguments and blocks."""
        return self.pairing.tf(logical_id).values

    def ids(self, cfn_type: str) -> list[str]:
        return sorted(k for k, v in self.deployment.resources.items() if v["Type"] == cfn_type)

    def attached(self, tf_type: str, argument: str, target: str) -> list[Instance]:
        """The instances of a type whose `argument` names `target` (a bucket's policy, a role's)."""
        return [i for i in self.plan.values() if i.type == tf_type and target in str(i.values.get(argument))]


@pytest.fixture(scope="module")
def sides(
    deployments: Callable[[str], Deployment], scenario_evaluations: dict[str, Evaluation]
) -> dict[str, Side]:
    return {name: Side(deployments(name), scenario_evaluations[name]) for name in SCENARIOS}


@pytest.fixture(params=sorted(SCENARIOS))
def side(request: pytest.FixtureRequest, sides: dict[str, Side]) -> Side:
    return sides[request.param]


def one(blocks: list[dict[str, Any]] | None) -> dict[str, Any]:
    assert blocks is not None and len(blocks) == 1, blocks
    return blocks[0]


# -- the same resources ----------------------------------------------------------------------------
def test_every_resource_has_its_counterpart(side: Side) -> None:
    assert side.pairing.unmapped_types == [], (
        "a new CloudFormation type: give parity.TERRAFORM_TYPES its Terraform type"
    )
    assert side.pairing.unmatched_cfn == [], "in the SAM stack, not in the Terraform module"
    assert side.pairing.unmatched_terraform == [], "in the Terraform module, not in the SAM stack"
    assert len(side.pairing.matches) >= 30


def test_api_gateway_may_invoke_the_function_on_the_same_paths(side: Side) -> None:
    stage = side.deployment.sam["Parameters"]["StageName"]["Default"]

    def suffix(arn: str) -> str:
        # After the API's own reference: the stage (a reference, or its value), method and path.
        rest = re.sub(r"^.*?\$\{[^}]+\}/", "", arn)
        return re.sub(r"^(\$\{[^}]+\}|" + re.escape(stage) + ")/", "<stage>/", rest)

    cfn = sorted(suffix(side.cfn(k)["SourceArn"]) for k in side.ids("AWS::Lambda::Permission"))
    permissions = [i.values for i in side.plan.values() if i.type == "aws_lambda_permission"]
    assert sorted(suffix(p["source_arn"]) for p in permissions) == cfn == ["<stage>/*"]
    alias = side.pairing.tf(side.ids("AWS::Lambda::Alias")[0])
    for permission in permissions:
        assert (permission["principal"], permission["action"]) == (
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
        )
        assert permission["qualifier"] == "${" + alias.reference + ".name}"


def test_the_function_publishes_the_versions_the_alias_serves(side: Side) -> None:
    (version,) = side.ids("AWS::Lambda::Version")
    function = side.deployment.resources[version]["Properties"]["FunctionName"]["Ref"]
    assert side.tf(function)["publish"] is True
    (alias,) = side.ids("AWS::Lambda::Alias")
    assert side.tf(alias)["name"] == side.cfn(alias)["Name"]
    assert side.tf(alias)["function_version"] == "${" + side.pairing.tf(function).reference + ".version}"


# -- parameters and variables ----------------------------------------------------------------------
def _valid(evaluation: Evaluation, name: str, value: Any) -> bool:
    """Whether every validation of a variable accepts a value."""
    probe = Evaluation(evaluation.module, {**evaluation.variables, name: value}, evaluation.environment)
    variable = evaluation.module.variables[name]
    return all(
        probe.expr(check.body.attributes["condition"].expr, {}) is True
        for check in variable.body.blocks_of("validation")
    )


def test_every_parameter_is_a_variable_with_the_same_default(
    sam_template: Template, sides: dict[str, Side]
) -> None:
    module = sides["dev"].evaluation.module
    for parameter, spec in sam_template["Parameters"].items():
        name = variable_name(parameter)
        assert name in module.variables, f"{parameter}: no variable {name} in deploy/terraform"
        default = Evaluation(module, {"name": STACK}).expr(
            module.variables[name].body.attributes["default"].expr, {}
        )
        assert as_variable(module, parameter, spec["Default"]) == (name, default), parameter
        assert len(module.variables[name].body.attributes["description"].expr.parts[0].split()) >= 3  # type: ignore[attr-defined]


def test_variables_accept_and_refuse_what_the_parameters_do(
    sam_template: Template, sides: dict[str, Side]
) -> None:
    evaluation = sides["dev"].evaluation
    module = evaluation.module
    samples = [
        "",
        "x",
        "dev",
        "prod",
        "my-stage",
        "api.example.com",
        "API.example.com",
        "ops@example.com",
        "Z0123456789ABCDEFGHIJ",
        "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa",
        "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Ab12Cd34E",
        "legacy-records",
    ]
    for parameter, spec in sam_template["Parameters"].items():
        name = variable_name(parameter)
        candidates: list[Any] = []
        if "AllowedValues" in spec:
            candidates = [*map(str, spec["AllowedValues"]), "not-one-of-them"]
        elif "AllowedPattern" in spec:
            candidates = samples
        elif "MinValue" in spec or "MaxValue" in spec:
            low, high = spec.get("MinValue"), spec.get("MaxValue")
            candidates = [str(v) for v in (low, high) if v is not None]
            candidates += [str(v - 1) for v in (low,) if v is not None] + [
                str(v + 1) for v in (high,) if v is not None
            ]
        for text in candidates:
            sam_accepts = _sam_accepts(spec, text)
            try:
                _, value = as_variable(module, parameter, text)
            except (AssertionError, ValueError):
                assert not sam_accepts, (parameter, text)
                continue
            assert _valid(evaluation, name, value) == sam_accepts, (parameter, text)


def _sam_accepts(spec: dict[str, Any], text: str) -> bool:
    if "AllowedValues" in spec and text not in map(str, spec["AllowedValues"]):
        return False
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], text):
        return False
    if "MinValue" in spec and float(text) < spec["MinValue"]:
        return False
    return not ("MaxValue" in spec and float(text) > spec["MaxValue"])


# -- data ------------------------------------------------------------------------------------------
def _cfn_table(p: dict[str, Any]) -> dict[str, Any]:
    keys = {k["KeyType"]: k["AttributeName"] for k in p["KeySchema"]}
    return {
        "billing": p["BillingMode"],
        "keys": (keys["HASH"], keys.get("RANGE")),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in p["AttributeDefinitions"]),
        "indexes": sorted(
            (
                i["IndexName"],
                {k["KeyType"]: k["AttributeName"] for k in i["KeySchema"]}["HASH"],
                {k["KeyType"]: k["AttributeName"] for k in i["KeySchema"]}.get("RANGE"),
                i["Projection"]["ProjectionType"],
            )
            for i in p.get("GlobalSecondaryIndexes", [])
        ),
        "ttl": (p["TimeToLiveSpecification"]["AttributeName"], True)
        if "TimeToLiveSpecification" in p
        else None,
        "pitr": p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled", False),
        "encrypted": p["SSESpecification"]["SSEEnabled"],
        "deletion_protection": p.get("DeletionProtectionEnabled", False),
    }


def _tf_table(v: dict[str, Any]) -> dict[str, Any]:
    ttl = v.get("ttl")
    return {
        "billing": v["billing_mode"],
        "keys": (v["hash_key"], v.get("range_key")),
        "attributes": sorted((a["name"], a["type"]) for a in v["attribute"]),
        "indexes": sorted(
            (i["name"], i["hash_key"], i.get("range_key"), i["projection_type"])
            for i in v.get("global_secondary_index", [])
        ),
        "ttl": (one(ttl)["attribute_name"], one(ttl)["enabled"]) if ttl else None,
        "pitr": one(v["point_in_time_recovery"])["enabled"] if v.get("point_in_time_recovery") else False,
        "encrypted": one(v["server_side_encryption"])["enabled"],
        "deletion_protection": v.get("deletion_protection_enabled", False),
    }


def test_tables_keys_indexes_ttl_recovery_encryption(side: Side) -> None:
    tables = side.ids("AWS::DynamoDB::Table")
    assert tables
    for table in tables:
        assert _tf_table(side.tf(table)) == _cfn_table(side.cfn(table)), table


def test_the_cursor_secret_is_generated_by_secrets_manager(side: Side) -> None:
    (secret,) = side.ids("AWS::SecretsManager::Secret")
    generated = side.cfn(secret)["GenerateSecretString"]
    (password,) = [i.values for i in side.plan.values() if i.type == "aws_secretsmanager_random_password"]
    assert password is not None
    assert password["password_length"] == generated["PasswordLength"]
    assert password["exclude_punctuation"] == generated["ExcludePunctuation"]
    assert password["include_space"] == generated["IncludeSpace"]
    (version,) = [
        i.values
        for i in side.plan.values()
        if i.type == "aws_secretsmanager_secret_version" and i.mode == "resource"
    ]
    assert "ephemeral.aws_secretsmanager_random_password" in version["secret_string_wo"]


# -- functions -------------------------------------------------------------------------------------
def _cfn_environment(value: str, side: Side) -> str:
    """The cursor key: CloudFormation's dynamic reference, the module's read of the secret."""
    match = re.fullmatch(r"\{\{resolve:secretsmanager:\$\{(.+)\.arn\}:SecretString\}\}", str(value))
    return "${data.aws_secretsmanager_secret_version.cursor.secret_string}" if match else str(value)


def test_functions_runtime_memory_timeout_environment_concurrency_tracing(side: Side) -> None:
    functions = side.ids("AWS::Lambda::Function")
    assert len(functions) >= 2
    for function in functions:
        cfn, tf = side.cfn(function), side.tf(function)
        assert (tf["runtime"], tf["handler"], tf["architectures"]) == (
            cfn["Runtime"],
            cfn["Handler"],
            cfn["Architectures"],
        )
        assert (tf["memory_size"], tf["timeout"]) == (cfn["MemorySize"], cfn["Timeout"])
        assert tf["description"] == cfn["Description"]
        assert tf["role"] == cfn["Role"]
        assert tf.get("reserved_concurrent_executions", -1) in (cfn.get("ReservedConcurrentExecutions", -1),)
        tracing = [t["mode"] for t in tf.get("tracing_config", [])]
        assert tracing == ([cfn["TracingConfig"]["Mode"]] if "TracingConfig" in cfn else [])
        snap = [s["apply_on"] for s in tf.get("snap_start", [])] or ["None"]
        assert snap == [cfn.get("SnapStart", {}).get("ApplyOn", "None")]
        logging = one(tf["logging_config"])
        assert (logging["log_format"], logging["log_group"]) == ("Text", cfn["LoggingConfig"]["LogGroup"])
        cfn_env = {k: _cfn_environment(v, side) for k, v in cfn["Environment"]["Variables"].items()}
        tf_env = {k: str(v) for k, v in one(tf["environment"])["variables"].items()}
        assert tf_env == {k: str(v) for k, v in cfn_env.items()}, function
        assert tf["filename"].endswith("function.zip") and tf["source_code_hash"]


def _tf_role(side: Side, role: Instance) -> tuple[list[Any], list[Any], Any]:
    reference = "${" + role.reference + ".name}"
    inline = [json.loads(p.values["policy"]) for p in side.attached("aws_iam_role_policy", "role", reference)]
    managed = sorted(
        a.values["policy_arn"] for a in side.attached("aws_iam_role_policy_attachment", "role", reference)
    )
    statements = [s for document in inline for s in document["Statement"]]
    return same_statements(statements), managed, json.loads(role.values["assume_role_policy"])


def test_roles_grant_exactly_the_same(side: Side) -> None:
    roles = side.ids("AWS::IAM::Role")
    assert len(roles) >= 5
    for role in roles:
        cfn = side.cfn(role)
        statements = [s for policy in cfn.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
        tf_statements, tf_managed, trust = _tf_role(side, side.pairing.tf(role))
        assert tf_statements == same_statements(statements), role
        assert tf_managed == sorted(cfn.get("ManagedPolicyArns", [])), role
        assert same_statements(trust["Statement"]) == same_statements(
            cfn["AssumeRolePolicyDocument"]["Statement"]
        ), role


def test_the_history_reads_the_same_stream_with_the_same_batching_and_dead_letter_queue(side: Side) -> None:
    (mapping,) = side.ids("AWS::Lambda::EventSourceMapping")
    cfn, tf = side.cfn(mapping), side.tf(mapping)
    assert tf["event_source_arn"] == cfn["EventSourceArn"]
    assert tf["function_name"].removesuffix(".arn}") == cfn["FunctionName"].removesuffix(".function_name}")
    assert (
        tf["starting_position"],
        tf["batch_size"],
        tf["maximum_batching_window_in_seconds"],
        tf["function_response_types"],
        tf["bisect_batch_on_function_error"],
        tf["maximum_retry_attempts"],
    ) == (
        cfn["StartingPosition"],
        cfn["BatchSize"],
        cfn["MaximumBatchingWindowInSeconds"],
        cfn["FunctionResponseTypes"],
        cfn["BisectBatchOnFunctionError"],
        cfn["MaximumRetryAttempts"],
    )
    destination = one(one(tf["destination_config"])["on_failure"])["destination_arn"]
    assert destination == cfn["DestinationConfig"]["OnFailure"]["Destination"]
    (queue,) = side.ids("AWS::SQS::Queue")
    assert (side.tf(queue)["message_retention_seconds"], side.tf(queue)["sqs_managed_sse_enabled"]) == (
        side.cfn(queue)["MessageRetentionPeriod"],
        side.cfn(queue)["SqsManagedSseEnabled"],
    )


# -- the API ---------------------------------------------------------------------------------------
def _tf_body(side: Side) -> dict[str, Any]:
    (api,) = side.ids("AWS::ApiGateway::RestApi")
    body: dict[str, Any] = json.loads(side.tf(api)["body"])
    return body


def test_api_routes_methods_integrations_and_authorizers(side: Side) -> None:
    (api,) = side.ids("AWS::ApiGateway::RestApi")
    cfn_body = side.cfn(api)["Body"]
    tf_body = _tf_body(side)
    assert tf_body["paths"] == cfn_body["paths"]
    assert tf_body["components"] == cfn_body["components"]
    assert tf_body["info"] == cfn_body["info"]
    assert tf_body["openapi"] == cfn_body["openapi"]


def test_api_gateway_responses_media_types_and_endpoint(side: Side) -> None:
    (api,) = side.ids("AWS::ApiGateway::RestApi")
    cfn = side.cfn(api)
    tf = side.tf(api)
    assert (
        _tf_body(side)["x-amazon-apigateway-gateway-responses"]
        == cfn["Body"]["x-amazon-apigateway-gateway-responses"]
    )
    assert tf["binary_media_types"] == [t.replace("~1", "/") for t in cfn["BinaryMediaTypes"]]
    assert one(tf["endpoint_configuration"])["types"] == cfn["EndpointConfiguration"]["Types"]
    assert tf["name"] == cfn["Name"]


def test_stage_logs_tracing_and_throttling(side: Side) -> None:
    (stage,) = side.ids("AWS::ApiGateway::Stage")
    cfn, tf = side.cfn(stage), side.tf(stage)
    assert (tf["stage_name"], tf["xray_tracing_enabled"]) == (
        cfn["StageName"],
        cfn.get("TracingEnabled", False),
    )
    access = one(tf["access_log_settings"])
    assert access["destination_arn"] == cfn["AccessLogSetting"]["DestinationArn"].removesuffix(":*")
    assert json.loads(access["format"]) == json.loads(cfn["AccessLogSetting"]["Format"])
    (settings,) = [i.values for i in side.plan.values() if i.type == "aws_api_gateway_method_settings"]
    (cfn_settings,) = cfn["MethodSettings"]
    tf_settings = one(settings["settings"])
    assert (
        settings["method_path"] == "*/*"
        and cfn_settings["ResourcePath"] == "/*"
        and cfn_settings["HttpMethod"] == "*"
    )
    for name in (
        "LoggingLevel",
        "DataTraceEnabled",
        "MetricsEnabled",
        "ThrottlingRateLimit",
        "ThrottlingBurstLimit",
    ):
        assert tf_settings[snake_case(name)] == cfn_settings[name], name


def test_usage_plan_and_key_when_a_key_is_required(side: Side) -> None:
    plans = side.ids("AWS::ApiGateway::UsagePlan")
    for plan in plans:
        cfn, tf = side.cfn(plan), side.tf(plan)
        throttle = one(tf["throttle_settings"])
        assert (throttle["rate_limit"], throttle["burst_limit"]) == (
            cfn["Throttle"]["RateLimit"],
            cfn["Throttle"]["BurstLimit"],
        )
        assert one(tf["api_stages"])["api_id"] == cfn["ApiStages"][0]["ApiId"]
        assert tf["name"] == cfn["UsagePlanName"]
    for key in side.ids("AWS::ApiGateway::ApiKey"):
        assert (side.tf(key)["name"], side.tf(key)["enabled"]) == (
            side.cfn(key)["Name"],
            side.cfn(key)["Enabled"],
        )
    for link in side.ids("AWS::ApiGateway::UsagePlanKey"):
        cfn, tf = side.cfn(link), side.tf(link)
        assert (tf["key_id"], tf["key_type"], tf["usage_plan_id"]) == (
            cfn["KeyId"],
            cfn["KeyType"],
            cfn["UsagePlanId"],
        )


def test_the_api_gateway_logging_role(side: Side) -> None:
    (account,) = side.ids("AWS::ApiGateway::Account")
    assert side.tf(account)["cloudwatch_role_arn"] == side.cfn(account)["CloudWatchRoleArn"]


# -- sign-in ---------------------------------------------------------------------------------------
def test_user_pool_password_policy_mfa_tier_and_recovery(side: Side) -> None:
    for pool in side.ids("AWS::Cognito::UserPool"):
        cfn, tf = side.cfn(pool), side.tf(pool)
        policy = one(tf["password_policy"])
        for name, value in cfn["Policies"]["PasswordPolicy"].items():
            assert policy[snake_case(name)] == value, name
        assert tf["username_attributes"] == cfn["UsernameAttributes"]
        assert tf["auto_verified_attributes"] == cfn["AutoVerifiedAttributes"]
        assert (
            one(tf["username_configuration"])["case_sensitive"]
            == cfn["UsernameConfiguration"]["CaseSensitive"]
        )
        assert [(s["name"], s["attribute_data_type"], s["required"], s["mutable"]) for s in tf["schema"]] == [
            (s["Name"], s["AttributeDataType"], s["Required"], s["Mutable"]) for s in cfn["Schema"]
        ]
        assert (
            one(tf["admin_create_user_config"])["allow_admin_create_user_only"]
            is cfn["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"]
        )
        recovery = one(tf["account_recovery_setting"])["recovery_mechanism"]
        assert [(r["name"], r["priority"]) for r in recovery] == [
            (r["Name"], r["Priority"]) for r in cfn["AccountRecoverySetting"]["RecoveryMechanisms"]
        ]
        assert tf["mfa_configuration"] == cfn["MfaConfiguration"]
        assert [
            "SOFTWARE_TOKEN_MFA" for m in tf.get("software_token_mfa_configuration", []) if m["enabled"]
        ] == cfn.get("EnabledMfas", [])
        assert (tf["user_pool_tier"], tf["deletion_protection"]) == (
            cfn["UserPoolTier"],
            cfn["DeletionProtection"],
        )
        assert (
            one(tf["user_pool_add_ons"])["advanced_security_mode"]
            == cfn["UserPoolAddOns"]["AdvancedSecurityMode"]
        )
        assert tf["name"] == cfn["UserPoolName"]


def test_user_pool_client_and_admin_group(side: Side) -> None:
    for client in side.ids("AWS::Cognito::UserPoolClient"):
        cfn, tf = side.cfn(client), side.tf(client)
        pairs = {
            "ClientName": "name",
            "UserPoolId": "user_pool_id",
            "GenerateSecret": "generate_secret",
            "ExplicitAuthFlows": "explicit_auth_flows",
            "PreventUserExistenceErrors": "prevent_user_existence_errors",
            "EnableTokenRevocation": "enable_token_revocation",
            "IdTokenValidity": "id_token_validity",
            "AccessTokenValidity": "access_token_validity",
            "RefreshTokenValidity": "refresh_token_validity",
            "AuthSessionValidity": "auth_session_validity",
            "ReadAttributes": "read_attributes",
            "WriteAttributes": "write_attributes",
        }
        assert {p: tf[t] for p, t in pairs.items()} == {p: cfn[p] for p in pairs}
        units = one(tf["token_validity_units"])
        assert {
            "IdToken": units["id_token"],
            "AccessToken": units["access_token"],
            "RefreshToken": units["refresh_token"],
        } == cfn["TokenValidityUnits"]
    for group in side.ids("AWS::Cognito::UserPoolGroup"):
        cfn, tf = side.cfn(group), side.tf(group)
        assert (tf["name"], tf["description"], tf["user_pool_id"]) == (
            cfn["GroupName"],
            cfn["Description"],
            cfn["UserPoolId"],
        )


# -- jobs ------------------------------------------------------------------------------------------
def test_state_machines_are_the_same_files_with_the_same_substitutions(side: Side) -> None:
    machines = side.ids("AWS::StepFunctions::StateMachine")
    assert len(machines) == 3
    for machine in machines:
        cfn, tf = side.cfn(machine), side.tf(machine)
        text = (ROOT / "statemachines" / cfn["DefinitionS3Location"]["Key"]).read_text()
        substitutions = cfn["DefinitionSubstitutions"]
        substituted = re.sub(r"\$\{(\w+)\}", lambda m, s=substitutions: str(s[m.group(1)]), text)
        assert json.loads(tf["definition"]) == json.loads(substituted), machine
        assert tf["name"] == cfn["StateMachineName"]
        assert tf["role_arn"] == cfn["RoleArn"]
        logging = one(tf["logging_configuration"])
        cfn_logging = cfn["LoggingConfiguration"]
        assert (logging["level"], logging["include_execution_data"]) == (
            cfn_logging["Level"],
            cfn_logging["IncludeExecutionData"],
        )
        assert (
            logging["log_destination"]
            == one(cfn_logging["Destinations"])["CloudWatchLogsLogGroup"]["LogGroupArn"]
        )
        assert one(tf["tracing_configuration"])["enabled"] == cfn["TracingConfiguration"]["Enabled"]


def _lifecycle(rules: list[dict[str, Any]]) -> list[Any]:
    return sorted(
        (
            r["id"],
            r["status"],
            one(r["filter"]).get("prefix", "") if r.get("filter") else "",
            one(r["expiration"])["days"] if r.get("expiration") else None,
            one(r["abort_incomplete_multipart_upload"])["days_after_initiation"]
            if r.get("abort_incomplete_multipart_upload")
            else None,
            one(r["noncurrent_version_expiration"])["noncurrent_days"]
            if r.get("noncurrent_version_expiration")
            else None,
        )
        for r in rules
    )


def _cfn_lifecycle(rules: list[dict[str, Any]]) -> list[Any]:
    return sorted(
        (
            r["Id"],
            r["Status"],
            r.get("Prefix", ""),
            r.get("ExpirationInDays"),
            r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
            r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
        )
        for r in rules
    )


def test_buckets_private_encrypted_expiring_and_tls_only(side: Side) -> None:
    buckets = side.ids("AWS::S3::Bucket")
    assert buckets
    for bucket in buckets:
        cfn = side.cfn(bucket)
        reference = "${" + side.pairing.tf(bucket).reference + ".bucket}"

        def companion(tf_type: str, reference: str = reference) -> dict[str, Any] | None:
            found = side.attached(tf_type, "bucket", reference)
            assert len(found) <= 1
            return found[0].values if found else None

        block = companion("aws_s3_bucket_public_access_block")
        assert block is not None
        assert {k: block[snake_case(k)] for k in cfn["PublicAccessBlockConfiguration"]} == cfn[
            "PublicAccessBlockConfiguration"
        ]
        ownership = companion("aws_s3_bucket_ownership_controls")
        assert (
            ownership
            and one(ownership["rule"])["object_ownership"]
            == one(cfn["OwnershipControls"]["Rules"])["ObjectOwnership"]
        )
        encryption = companion("aws_s3_bucket_server_side_encryption_configuration")
        (cfn_rule,) = cfn["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert (
            encryption
            and one(one(encryption["rule"])["apply_server_side_encryption_by_default"])["sse_algorithm"]
            == cfn_rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        )
        lifecycle = companion("aws_s3_bucket_lifecycle_configuration")
        assert lifecycle and _lifecycle(lifecycle["rule"]) == _cfn_lifecycle(
            cfn["LifecycleConfiguration"]["Rules"]
        )
        versioning = companion("aws_s3_bucket_versioning")
        assert (one(versioning["versioning_configuration"])["status"] if versioning else None) == cfn.get(
            "VersioningConfiguration", {}
        ).get("Status")
        cors = companion("aws_s3_bucket_cors_configuration")
        cfn_cors = cfn.get("CorsConfiguration", {}).get("CorsRules")
        if cfn_cors is None:
            assert cors is None
        else:
            assert cors is not None
            assert [
                (r["allowed_methods"], r["allowed_origins"], r["allowed_headers"], r["max_age_seconds"])
                for r in cors["cors_rule"]
            ] == [
                (r["AllowedMethods"], r["AllowedOrigins"], r["AllowedHeaders"], r["MaxAge"]) for r in cfn_cors
            ]
    for policy in side.ids("AWS::S3::BucketPolicy"):
        cfn, tf = side.cfn(policy), side.tf(policy)
        assert tf["bucket"] == cfn["Bucket"]
        assert same_statements(json.loads(tf["policy"])["Statement"]) == same_statements(
            cfn["PolicyDocument"]["Statement"]
        )


def test_log_groups_names_and_retention(side: Side) -> None:
    for group in side.ids("AWS::Logs::LogGroup"):
        cfn, tf = side.cfn(group), side.tf(group)
        assert (tf["name"], tf["retention_in_days"]) == (cfn["LogGroupName"], cfn["RetentionInDays"]), group


# -- monitoring ------------------------------------------------------------------------------------
_ALARM = {
    "AlarmDescription": "alarm_description",
    "Namespace": "namespace",
    "MetricName": "metric_name",
    "Statistic": "statistic",
    "ExtendedStatistic": "extended_statistic",
    "Period": "period",
    "EvaluationPeriods": "evaluation_periods",
    "DatapointsToAlarm": "datapoints_to_alarm",
    "Threshold": "threshold",
    "ComparisonOperator": "comparison_operator",
    "TreatMissingData": "treat_missing_data",
    "AlarmActions": "alarm_actions",
    "OKActions": "ok_actions",
}


def _tf_queries(queries: list[dict[str, Any]]) -> list[Any]:
    found = []
    for q in queries:
        metric = one(q["metric"]) if q.get("metric") else None
        found.append(
            (
                q["id"],
                q.get("return_data"),
                q.get("label"),
                q.get("expression"),
                None
                if metric is None
                else (
                    metric["namespace"],
                    metric["metric_name"],
                    sorted(metric["dimensions"].items()),
                    metric["period"],
                    metric["stat"],
                ),
            )
        )
    return sorted(found, key=repr)


def _cfn_queries(queries: list[dict[str, Any]]) -> list[Any]:
    found = []
    for q in queries:
        stat = q.get("MetricStat")
        found.append(
            (
                q["Id"],
                q.get("ReturnData"),
                q.get("Label"),
                q.get("Expression"),
                None
                if stat is None
                else (
                    stat["Metric"]["Namespace"],
                    stat["Metric"]["MetricName"],
                    sorted((d["Name"], d["Value"]) for d in stat["Metric"]["Dimensions"]),
                    stat["Period"],
                    stat["Stat"],
                ),
            )
        )
    return sorted(found, key=repr)


def test_alarms_watch_the_same_metrics_with_the_same_thresholds(side: Side) -> None:
    alarms = side.ids("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 7
    for alarm in alarms:
        cfn, tf = side.cfn(alarm), side.tf(alarm)
        assert {k: tf.get(t) for k, t in _ALARM.items() if k in cfn} == {
            k: cfn[k] for k in _ALARM if k in cfn
        }, alarm
        assert {t for k, t in _ALARM.items() if k not in cfn and t in tf} <= {"alarm_description"}, alarm
        if "Dimensions" in cfn:
            assert sorted(tf["dimensions"].items()) == sorted(
                (d["Name"], d["Value"]) for d in cfn["Dimensions"]
            )
        assert _tf_queries(tf.get("metric_query", [])) == _cfn_queries(cfn.get("Metrics", [])), alarm


def test_alarm_topic_and_its_subscription(side: Side) -> None:
    (topic,) = side.ids("AWS::SNS::Topic")
    assert side.tf(topic)["display_name"] == side.cfn(topic)["DisplayName"]
    for subscription in side.ids("AWS::SNS::Subscription"):
        cfn, tf = side.cfn(subscription), side.tf(subscription)
        assert (tf["topic_arn"], tf["protocol"], tf["endpoint"]) == (
            cfn["TopicArn"],
            cfn["Protocol"],
            cfn["Endpoint"],
        )


def test_the_dashboard_draws_the_same_widgets(side: Side) -> None:
    (dashboard,) = side.ids("AWS::CloudWatch::Dashboard")
    cfn, tf = side.cfn(dashboard), side.tf(dashboard)
    assert tf["dashboard_name"] == cfn["DashboardName"]
    # The body is JSON with placeholders: read it first, then fill the placeholders of each string
    # (a Terraform address may hold quotes, which JSON text would need escaped).
    text, variables = side.deployment.resources[dashboard]["Properties"]["DashboardBody"]["Fn::Sub"]
    values = {k: side.norm.cfn(v) for k, v in variables.items()}

    def filled(node: Any) -> Any:
        if isinstance(node, str):
            return side.norm.sub(node.replace('\\"', '"'), values)
        if isinstance(node, list):
            return [filled(n) for n in node]
        return {k: filled(v) for k, v in node.items()} if isinstance(node, dict) else node

    assert json.loads(tf["dashboard_body"]) == filled(json.loads(text))


# -- domain and UI hosting -------------------------------------------------------------------------
def test_custom_domain_certificate_mapping_and_records(side: Side) -> None:
    for certificate in side.ids("AWS::CertificateManager::Certificate"):
        cfn, tf = side.cfn(certificate), side.tf(certificate)
        assert (tf["domain_name"], tf["validation_method"]) == (cfn["DomainName"], cfn["ValidationMethod"])
        validation = [
            i for i in side.plan.values() if i.address.startswith("aws_route53_record.certificate_validation")
        ]
        zones = [o["HostedZoneId"] for o in cfn.get("DomainValidationOptions", [])]
        assert [v.values["zone_id"] for v in validation] == zones
    for domain in side.ids("AWS::ApiGateway::DomainName"):
        cfn, tf = side.cfn(domain), side.tf(domain)
        assert (tf["domain_name"], tf["security_policy"]) == (cfn["DomainName"], cfn["SecurityPolicy"])
        assert one(tf["endpoint_configuration"])["types"] == cfn["EndpointConfiguration"]["Types"]
        certificate = cfn["RegionalCertificateArn"]
        assert tf["regional_certificate_arn"] in (
            certificate,
            certificate.replace(
                "aws_acm_certificate.api.arn", "aws_acm_certificate_validation.api.certificate_arn"
            ),
        )
    for mapping in side.ids("AWS::ApiGateway::BasePathMapping"):
        cfn, tf = side.cfn(mapping), side.tf(mapping)
        assert (tf["domain_name"], tf["api_id"], tf["stage_name"]) == (
            cfn["DomainName"],
            cfn["RestApiId"],
            cfn["Stage"],
        )
    for record in side.ids("AWS::Route53::RecordSet"):
        cfn, tf = side.cfn(record), side.tf(record)
        alias = one(tf["alias"])
        assert (tf["zone_id"], tf["name"], tf["type"]) == (cfn["HostedZoneId"], cfn["Name"], cfn["Type"])
        target = cfn["AliasTarget"]
        assert (alias["name"], alias["zone_id"], alias["evaluate_target_health"]) == (
            target["DNSName"],
            target["HostedZoneId"],
            target["EvaluateTargetHealth"],
        )


def test_ui_hosting_distribution_and_origin_access(side: Side) -> None:
    for control in side.ids("AWS::CloudFront::OriginAccessControl"):
        cfn, tf = side.cfn(control)["OriginAccessControlConfig"], side.tf(control)
        assert (
            tf["name"],
            tf["origin_access_control_origin_type"],
            tf["signing_behavior"],
            tf["signing_protocol"],
        ) == (
            cfn["Name"],
            cfn["OriginAccessControlOriginType"],
            cfn["SigningBehavior"],
            cfn["SigningProtocol"],
        )
    for distribution in side.ids("AWS::CloudFront::Distribution"):
        cfn, tf = side.cfn(distribution)["DistributionConfig"], side.tf(distribution)
        assert (
            tf["comment"],
            tf["enabled"],
            tf["http_version"],
            tf["is_ipv6_enabled"],
            tf["price_class"],
            tf["default_root_object"],
        ) == (
            cfn["Comment"],
            cfn["Enabled"],
            cfn["HttpVersion"],
            cfn["IPV6Enabled"],
            cfn["PriceClass"],
            cfn["DefaultRootObject"],
        )
        tf_origins = {o["origin_id"]: o for o in tf["origin"]}
        for origin in cfn["Origins"]:
            mine = tf_origins.pop(origin["Id"])
            assert mine["domain_name"] == origin["DomainName"]
            assert mine.get("origin_path") == origin.get("OriginPath")
            if "OriginAccessControlId" in origin:
                assert mine["origin_access_control_id"] == origin["OriginAccessControlId"]
            if "CustomOriginConfig" in origin:
                custom = one(mine["custom_origin_config"])
                assert (custom["origin_protocol_policy"], custom["origin_ssl_protocols"]) == (
                    origin["CustomOriginConfig"]["OriginProtocolPolicy"],
                    origin["CustomOriginConfig"]["OriginSSLProtocols"],
                )
        assert tf_origins == {}

        def behaviour(b: dict[str, Any], cfn_b: dict[str, Any]) -> None:
            assert (
                b["target_origin_id"],
                b["viewer_protocol_policy"],
                b["compress"],
                b["cache_policy_id"],
            ) == (
                cfn_b["TargetOriginId"],
                cfn_b["ViewerProtocolPolicy"],
                cfn_b["Compress"],
                cfn_b["CachePolicyId"],
            )
            assert b.get("origin_request_policy_id") == cfn_b.get("OriginRequestPolicyId")
            assert b.get("response_headers_policy_id") == cfn_b.get("ResponseHeadersPolicyId")
            assert sorted(b["allowed_methods"]) == sorted(cfn_b.get("AllowedMethods", ["GET", "HEAD"]))

        behaviour(one(tf["default_cache_behavior"]), cfn["DefaultCacheBehavior"])
        ordered = tf["ordered_cache_behavior"]
        assert [b["path_pattern"] for b in ordered] == [b["PathPattern"] for b in cfn["CacheBehaviors"]]
        for mine, theirs in zip(ordered, cfn["CacheBehaviors"], strict=True):
            behaviour(mine, theirs)
        assert (
            one(tf["viewer_certificate"])["cloudfront_default_certificate"]
            is cfn["ViewerCertificate"]["CloudFrontDefaultCertificate"]
        )


# -- outputs ---------------------------------------------------------------------------------------
def test_outputs_are_the_stacks(side: Side) -> None:
    outputs = side.deployment.resolved["Outputs"]
    module = side.evaluation.module
    for name, spec in outputs.items():
        tf_name = variable_name(name)
        assert tf_name in module.outputs, f"output {name}: no output {tf_name} in deploy/terraform"
        value = side.norm.cfn(spec["Value"])
        mine = side.evaluation.output(tf_name)
        from .terraform.parity import terraform

        assert terraform(mine, side.evaluation.environment) == value, name
    present = {n for n in module.outputs if side.evaluation.output(n) is not None}
    assert present - {variable_name(n) for n in outputs} <= {"certificate_validation_records"}


# -- the comparisons catch drift -------------------------------------------------------------------
def _drifted(sam_template: Template, evaluation: Evaluation, change: Callable[[Template], None]) -> Side:
    """The dev scenario with one change made to the SAM template only."""
    import copy

    from .conftest import resolve, translate

    sam = copy.deepcopy(sam_template)
    change(sam)
    translated = translate(sam)
    return Side(Deployment("drifted", sam, translated, resolve(translated)), evaluation)


_DRIFTS: dict[str, tuple[Callable[[Template], None], Callable[[Side], None]]] = {
    "a new index": (
        lambda t: t["Resources"]["RecordsTable"]["Properties"]["GlobalSecondaryIndexes"].append(
            {
                "IndexName": "by_phone",
                "KeySchema": [{"AttributeName": "_name", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ),
        test_tables_keys_indexes_ttl_recovery_encryption,
    ),
    "more memory": (
        lambda t: t["Globals"]["Function"].update(MemorySize=1024),
        test_functions_runtime_memory_timeout_environment_concurrency_tracing,
    ),
    "a new environment variable": (
        lambda t: t["Resources"]["TasksFunction"]["Properties"]["Environment"]["Variables"].update(
            BATCH="25"
        ),
        test_functions_runtime_memory_timeout_environment_concurrency_tracing,
    ),
    "a wider grant": (
        lambda t: t["Resources"]["TasksFunction"]["Properties"]["Policies"][0]["Statement"][1].update(
            Action=["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        ),
        test_roles_grant_exactly_the_same,
    ),
    "a new route": (
        lambda t: t["Resources"]["RecordsApi"]["Properties"]["DefinitionBody"]["paths"].update(
            {"/reports": t["Resources"]["RecordsApi"]["Properties"]["DefinitionBody"]["paths"]["/jobs"]}
        ),
        test_api_routes_methods_integrations_and_authorizers,
    ),
    "a longer password": (
        lambda t: t["Resources"]["UserPool"]["Properties"]["Policies"]["PasswordPolicy"].update(
            MinimumLength=14
        ),
        test_user_pool_password_policy_mfa_tier_and_recovery,
    ),
    "another substitution": (
        lambda t: t["Resources"]["ImportStateMachine"]["Properties"]["DefinitionSubstitutions"].update(
            TasksFunctionArn={"Fn::GetAtt": ["RecordsFunction", "Arn"]}
        ),
        test_state_machines_are_the_same_files_with_the_same_substitutions,
    ),
    "a lower threshold": (
        lambda t: t["Resources"]["ApiLatencyAlarm"]["Properties"].update(EvaluationPeriods=2),
        test_alarms_watch_the_same_metrics_with_the_same_thresholds,
    ),
    "a new queue": (
        lambda t: t["Resources"].update(Queue={"Type": "AWS::SQS::Queue", "Properties": {}}),
        test_every_resource_has_its_counterpart,
    ),
    "a new alarm": (
        lambda t: t["Resources"].update(
            DiskAlarm=dict(
                t["Resources"]["FunctionErrorsAlarm"],
                Properties=dict(t["Resources"]["FunctionErrorsAlarm"]["Properties"]),
            )
        ),
        test_every_resource_has_its_counterpart,
    ),
    "a shorter retention": (
        lambda t: t["Resources"]["StateMachinesLogGroup"]["Properties"].update(RetentionInDays=7),
        test_log_groups_names_and_retention,
    ),
}


@pytest.mark.parametrize("drift", sorted(_DRIFTS))
def test_a_change_made_to_the_template_alone_fails_parity(
    sam_template: Template, scenario_evaluations: dict[str, Evaluation], drift: str
) -> None:
    change, comparison = _DRIFTS[drift]
    side = _drifted(sam_template, scenario_evaluations["dev"], change)
    with pytest.raises(AssertionError):
        comparison(side)
