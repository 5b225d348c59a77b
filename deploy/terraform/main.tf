# serverless-crud as a Terraform (or OpenTofu) module: the stack template.yaml describes, resource
# for resource, from the same artifacts (the function package of `make package`, the ASL files of
# statemachines/, the API's OpenAPI document of openapi/). tests/infra/test_terraform_parity.py keeps
# the two equal.

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # What CloudFormation calls the stack's name, region, account, partition and URL suffix.
  name       = var.name != "" ? var.name : "serverless-crud-${var.stage_name}"
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  dns_suffix = data.aws_partition.current.dns_suffix

  # The template's conditions.
  is_dev             = var.stage_name == "dev"
  create_table       = var.existing_table_name == ""
  use_api_key        = var.api_key_required
  use_cognito        = var.auth_mode == "cognito"
  create_user_pool   = local.use_cognito && var.existing_user_pool_arn == ""
  tracing_enabled    = var.tracing_mode == "Active"
  has_domain         = var.domain_name != ""
  has_hosted_zone    = var.hosted_zone_id != ""
  create_certificate = local.has_domain && var.certificate_arn == ""
  create_dns_records = local.has_domain && local.has_hosted_zone
  host_ui            = var.enable_ui_hosting

  # The records table: the one created here, or an existing one.
  table_name = local.create_table ? one(aws_dynamodb_table.records[*].name) : var.existing_table_name
  table_arn  = local.create_table ? one(aws_dynamodb_table.records[*].arn) : "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${var.existing_table_name}"

  # The user pool: the one created here, an existing one, or none (the open mode).
  user_pool_arn = local.create_user_pool ? one(aws_cognito_user_pool.this[*].arn) : var.existing_user_pool_arn
  user_pool_id  = local.create_user_pool ? one(aws_cognito_user_pool.this[*].id) : (local.use_cognito ? element(split("/", var.existing_user_pool_arn), 1) : "")

  # API Gateway's own answers (throttled, unauthorised, too large) carry the first allowed origin.
  gateway_origin = "'${var.allowed_origins[0]}'"
}
