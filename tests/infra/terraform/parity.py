"""The SAM stack and the Terraform module side by side: which resource is which, in one vocabulary.

Each resource CloudFormation would create (the SAM transform's output for a scenario, conditions
resolved) is matched to the module's planned instance of the corresponding Terraform type whose name
is made of the same words, the type's own words aside: `ImportStateMachineRole` (AWS::IAM::Role) is
`aws_iam_role.state_machine["import"]`, `RecordsTable` is `aws_dynamodb_table.records`,
`UserPool` is `aws_cognito_user_pool.this`, `UiBucket` is `module.ui.aws_s3_bucket.this`. Where a
type has one resource left on each side (the alias, the stage), they are each other.

Then both sides' values are written the same way: CloudFormation's `Ref` and `Fn::GetAtt` become the
`${address.attribute}` an evaluated Terraform reference reads, `Fn::Sub`, `Fn::Select`, `Fn::Split`
and `Fn::Join` are computed, and the few Terraform attributes that are compositions of others
(`invoke_arn`, `execution_arn`) are spelt out as AWS documents them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from .evaluate import Environment, Evaluation, Instance
from .syntax import snake_case

#: The Terraform type of each CloudFormation type the template creates.
TERRAFORM_TYPES = {
    "AWS::DynamoDB::Table": "aws_dynamodb_table",
    "AWS::SecretsManager::Secret": "aws_secretsmanager_secret",
    "AWS::Cognito::UserPool": "aws_cognito_user_pool",
    "AWS::Cognito::UserPoolClient": "aws_cognito_user_pool_client",
    "AWS::Cognito::UserPoolGroup": "aws_cognito_user_group",
    "AWS::Logs::LogGroup": "aws_cloudwatch_log_group",
    "AWS::Lambda::Function": "aws_lambda_function",
    "AWS::Lambda::Alias": "aws_lambda_alias",
    "AWS::Lambda::Permission": "aws_lambda_permission",
    "AWS::IAM::Role": "aws_iam_role",
    "AWS::S3::Bucket": "aws_s3_bucket",
    "AWS::S3::BucketPolicy": "aws_s3_bucket_policy",
    "AWS::StepFunctions::StateMachine": "aws_sfn_state_machine",
    "AWS::CloudWatch::Alarm": "aws_cloudwatch_metric_alarm",
    "AWS::CloudWatch::Dashboard": "aws_cloudwatch_dashboard",
    "AWS::ApiGateway::Account": "aws_api_gateway_account",
    "AWS::ApiGateway::RestApi": "aws_api_gateway_rest_api",
    "AWS::ApiGateway::Deployment": "aws_api_gateway_deployment",
    "AWS::ApiGateway::Stage": "aws_api_gateway_stage",
    "AWS::ApiGateway::UsagePlan": "aws_api_gateway_usage_plan",
    "AWS::ApiGateway::ApiKey": "aws_api_gateway_api_key",
    "AWS::ApiGateway::UsagePlanKey": "aws_api_gateway_usage_plan_key",
    "AWS::ApiGateway::DomainName": "aws_api_gateway_domain_name",
    "AWS::ApiGateway::BasePathMapping": "aws_api_gateway_base_path_mapping",
    "AWS::CertificateManager::Certificate": "aws_acm_certificate",
    "AWS::Route53::RecordSet": "aws_route53_record",
    "AWS::SNS::Topic": "aws_sns_topic",
    "AWS::SNS::Subscription": "aws_sns_topic_subscription",
    "AWS::CloudFront::OriginAccessControl": "aws_cloudfront_origin_access_control",
    "AWS::CloudFront::Distribution": "aws_cloudfront_distribution",
    "AWS::SQS::Queue": "aws_sqs_queue",
    "AWS::Lambda::EventSourceMapping": "aws_lambda_event_source_mapping",
}

#: CloudFormation resources that are a setting of another Terraform resource, not one of their own.
FOLDED = {
    "AWS::Lambda::Version": "the versions `publish = true` makes aws_lambda_function publish",
}

#: Terraform instances with no CloudFormation resource of their own, and why.
TERRAFORM_ONLY = {
    "aws_route53_record.certificate_validation": "CloudFormation writes the certificate's validation "
    "record itself (DomainValidationOptions with the hosted zone)",
}

#: What `Ref` returns, by CloudFormation type: the Terraform attribute holding the same value.
REF_ATTRIBUTES = {
    "AWS::DynamoDB::Table": "name",
    "AWS::SecretsManager::Secret": "arn",
    "AWS::Cognito::UserPool": "id",
    "AWS::Cognito::UserPoolClient": "id",
    "AWS::Logs::LogGroup": "name",
    "AWS::Lambda::Function": "function_name",
    "AWS::Lambda::Alias": "arn",
    "AWS::IAM::Role": "name",
    "AWS::S3::Bucket": "bucket",
    "AWS::StepFunctions::StateMachine": "arn",
    "AWS::CloudWatch::Alarm": "alarm_name",
    "AWS::CloudWatch::Dashboard": "dashboard_name",
    "AWS::ApiGateway::RestApi": "id",
    "AWS::ApiGateway::Deployment": "id",
    "AWS::ApiGateway::Stage": "stage_name",
    "AWS::ApiGateway::UsagePlan": "id",
    "AWS::ApiGateway::ApiKey": "id",
    "AWS::ApiGateway::DomainName": "domain_name",
    "AWS::CertificateManager::Certificate": "arn",
    "AWS::SNS::Topic": "arn",
    "AWS::CloudFront::Distribution": "id",
    "AWS::CloudFront::OriginAccessControl": "id",
    "AWS::SQS::Queue": "url",
}

#: Fn::GetAtt attributes whose Terraform name is not the snake_case of CloudFormation's.
GETATT_ATTRIBUTES = {
    ("AWS::ApiGateway::DomainName", "RegionalHostedZoneId"): "regional_zone_id",
    ("AWS::S3::Bucket", "RegionalDomainName"): "bucket_regional_domain_name",
    ("AWS::SQS::Queue", "QueueName"): "name",
}

#: Terraform attributes that hold the same value as another (the one a comparison reads).
ALIASES = {
    ("aws_s3_bucket", "id"): "bucket",
    ("aws_dynamodb_table", "id"): "name",
    ("aws_cloudwatch_log_group", "id"): "name",
    ("aws_sfn_state_machine", "id"): "arn",
    ("aws_sns_topic", "id"): "arn",
    ("aws_iam_role", "id"): "name",
    ("aws_lambda_function", "id"): "function_name",
    ("aws_api_gateway_domain_name", "id"): "domain_name",
    ("aws_secretsmanager_secret", "id"): "arn",
}


def _words(identifier: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", identifier)]


def _letters(words: list[str]) -> str:
    """Words in any order, read as one: their letters, sorted."""
    return "".join(sorted("".join(words)))


@dataclass
class Pairing:
    """CloudFormation logical ids and Terraform instances of one scenario, matched."""

    cfn: dict[str, Any]  # logical id -> resource (resolved)
    plan: dict[str, Instance]  # address -> instance
    matches: dict[str, Instance]  # logical id -> instance
    unmatched_cfn: list[str]
    unmatched_terraform: list[str]
    unmapped_types: list[str]

    def tf(self, logical_id: str) -> Instance:
        return self.matches[logical_id]

    def of_type(self, cfn_type: str) -> dict[str, Instance]:
        return {k: v for k, v in self.matches.items() if self.cfn[k]["Type"] == cfn_type}


def pair(cfn_resources: dict[str, Any], plan: dict[str, Instance]) -> Pairing:
    """Match each CloudFormation resource to the Terraform instance that is the same resource."""
    resources = {k: v for k, v in plan.items() if v.mode == "resource"}
    matches: dict[str, Instance] = {}
    unmatched: list[str] = []
    unmapped = sorted({r["Type"] for r in cfn_resources.values()} - set(TERRAFORM_TYPES) - set(FOLDED))
    taken: set[str] = set()
    for logical_id, resource in cfn_resources.items():
        tf_type = TERRAFORM_TYPES.get(resource["Type"])
        if tf_type is None:
            continue
        own = set(tf_type.split("_"))
        wanted = _letters([w for w in _words(logical_id) if w not in own])
        found = [
            i
            for i in resources.values()
            if i.type == tf_type and wanted in _identities(i, own) and i.address not in taken
        ]
        if len(found) == 1:
            matches[logical_id] = found[0]
            taken.add(found[0].address)
        else:
            unmatched.append(logical_id)
    # One left on each side of a type: the same resource under another name (SAM's generated ones).
    for logical_id in list(unmatched):
        tf_type = TERRAFORM_TYPES[cfn_resources[logical_id]["Type"]]
        same_cfn = [u for u in unmatched if TERRAFORM_TYPES[cfn_resources[u]["Type"]] == tf_type]
        same_tf = [i for i in resources.values() if i.type == tf_type and i.address not in taken]
        if len(same_cfn) == 1 and len(same_tf) == 1 and tf_type != "aws_lambda_permission":
            matches[logical_id] = same_tf[0]
            taken.add(same_tf[0].address)
            unmatched.remove(logical_id)
    mapped_types = set(TERRAFORM_TYPES.values())
    left = [
        a
        for a, i in resources.items()
        if i.type in mapped_types
        and a not in taken
        and i.type != "aws_lambda_permission"
        and re.sub(r"\[.*\]$", "", a) not in TERRAFORM_ONLY
    ]
    unmatched = [u for u in unmatched if cfn_resources[u]["Type"] != "AWS::Lambda::Permission"]
    return Pairing(cfn_resources, plan, matches, unmatched, left, unmapped)


def _identities(instance: Instance, own: set[str]) -> set[str]:
    """The spellings an instance answers to: its name, its for_each key, both, its module's name."""
    name = [w for w in instance.name.split("_") if w not in own and w != "this"]
    module = re.findall(r"module\.(\w+)", instance.address)
    key = _words(instance.key) if isinstance(instance.key, str) else []
    found = {_letters(name), _letters(name + key), _letters(key)} if key else {_letters(name)}
    if module:
        found |= {_letters(_words(module[-1]) + name)}
    return found


# -- one vocabulary --------------------------------------------------------------------------------
class Normaliser:
    """CloudFormation values -> the `${address.attribute}` strings and plain values of an evaluation."""

    def __init__(
        self, pairing: Pairing, environment: Environment, stack_name: str, parameters: dict[str, Any]
    ) -> None:
        self.pairing = pairing
        self.pseudo = {
            **{name: spec.get("Default") for name, spec in parameters.items()},
            "AWS::Region": environment.region,
            "AWS::AccountId": environment.account_id,
            "AWS::Partition": environment.partition,
            "AWS::URLSuffix": environment.dns_suffix,
            "AWS::StackName": stack_name,
        }

    def address(self, logical_id: str) -> str:
        if logical_id not in self.pairing.matches:
            raise KeyError(f"{logical_id} has no Terraform counterpart")
        return self.pairing.matches[logical_id].reference

    def ref(self, logical_id: str) -> str:
        if logical_id in self.pseudo:
            return self.pseudo[logical_id]
        resource_type = self.pairing.cfn[logical_id]["Type"]
        return "${" + f"{self.address(logical_id)}.{REF_ATTRIBUTES[resource_type]}" + "}"

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = self.pairing.cfn[logical_id]["Type"]
        if resource_type == "AWS::Lambda::Version":
            # A version the function publishes: Terraform reads it from the function.
            function = self.pairing.cfn[logical_id]["Properties"]["FunctionName"]["Ref"]
            return "${" + f"{self.address(function)}.{snake_case(attribute)}" + "}"
        if resource_type == "AWS::Logs::LogGroup" and attribute == "Arn":
            # CloudFormation's log group ARN ends with ":*"; Terraform's stops before it.
            return "${" + f"{self.address(logical_id)}.arn" + "}:*"
        name = GETATT_ATTRIBUTES.get((resource_type, attribute), snake_case(attribute))
        return "${" + f"{self.address(logical_id)}.{name}" + "}"

    def cfn(self, value: Any) -> Any:
        """A CloudFormation value in the evaluation's vocabulary."""
        if isinstance(value, list):
            return [self.cfn(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self.sub(text, {k: self.cfn(v) for k, v in variables.items()})
            if key == "Fn::Select":
                index, items = arg
                return self.cfn(items)[int(index)]
            if key == "Fn::Split":
                separator, text = arg
                return str(self.cfn(text)).split(separator)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(i) for i in self.cfn(items))
        return {k: self.cfn(v) for k, v in value.items()}

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)


def terraform(value: Any, environment: Environment) -> Any:
    """An evaluated Terraform value with its composed attributes spelt out and aliases resolved."""
    if isinstance(value, list):
        return [terraform(v, environment) for v in value]
    if isinstance(value, dict):
        return {k: terraform(v, environment) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    partition, region, account = environment.partition, environment.region, environment.account_id

    def expand(match: re.Match[str]) -> str:
        address, kind, attribute = match.group(1), match.group(2), match.group(3)
        if attribute == "invoke_arn" and kind in ("aws_lambda_alias", "aws_lambda_function"):
            functions = f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions"
            return f"{functions}/${{{address}.arn}}/invocations"
        if attribute == "execution_arn" and kind == "aws_api_gateway_rest_api":
            return f"arn:{partition}:execute-api:{region}:{account}:${{{address}.id}}"
        return "${" + f"{address}.{ALIASES.get((kind, attribute), attribute)}" + "}"

    return re.sub(r"\$\{((?:module\.\w+\.)?(?:data\.)?(\w+)\.\w+(?:\[\"[^\"]*\"\])?)\.(\w+)\}", expand, value)


def same_statements(statements: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """IAM statements as comparable tuples (Sid aside; one action or resource is a list of one)."""

    def listed(value: Any) -> tuple[Any, ...]:
        return tuple(sorted(map(str, value if isinstance(value, list) else [value])))

    def principal(value: Any) -> Any:
        if isinstance(value, dict):
            return tuple(sorted((k, listed(v)) for k, v in value.items()))
        return value

    return sorted(
        (
            s["Effect"],
            listed(s.get("Action", [])),
            listed(s.get("Resource", [])),
            principal(s.get("Principal")),
            repr(sorted((s.get("Condition") or {}).items())),
        )
        for s in statements
    )


def evaluate_plan(evaluation: Evaluation) -> dict[str, Instance]:
    """The evaluation's plan, its values in the comparison's vocabulary."""
    return {
        address: dataclasses.replace(instance, values=terraform(instance.values, evaluation.environment))
        for address, instance in evaluation.plan().items()
    }
