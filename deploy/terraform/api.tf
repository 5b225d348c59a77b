# -- the REST API: the OpenAPI document of openapi/apigateway.json, the stage, its limits -----------
# The same document is SAM's RecordsApi DefinitionBody. Its `${...}` placeholders are filled here;
# what follows a variable (the authorizer with auth_mode, the API key with api_key_required) is
# applied to the decoded document, as the SAM template applies it with its conditions.

locals {
  api_name = "${local.name}-api"

  openapi = jsondecode(templatefile("${path.module}/../../openapi/apigateway.json", {
    api_name                    = local.api_name
    records_function_invoke_arn = aws_lambda_alias.records_live.invoke_arn
    user_pool_arn               = local.user_pool_arn
  }))

  # A method the document guards (any security requirement) takes the sign-in and the key as
  # configured; OPTIONS and the UI's pages stay open ("security": []).
  guarded_security = concat(
    local.use_cognito ? [{ cognito = [] }] : [],
    local.use_api_key ? [{ api_key = [] }] : [],
  )
  api_paths = {
    for path, methods in local.openapi.paths : path => {
      for method, operation in methods : method => merge(operation, {
        security = length(operation.security) > 0 ? local.guarded_security : []
      })
    }
  }
  security_schemes = {
    for name, scheme in local.openapi.components.securitySchemes : name => scheme
    if name != "cognito" || local.use_cognito
  }

  # API Gateway's own errors (throttling, missing key, payload too large, timeouts; UNAUTHORIZED and
  # ACCESS_DENIED named too) never reach the function: they carry the CORS header as well, and the
  # headers the function sets on every response (always over HTTPS there, so HSTS too).
  gateway_headers = {
    "gatewayresponse.header.Access-Control-Allow-Origin" = local.gateway_origin
    "gatewayresponse.header.X-Content-Type-Options"      = "'nosniff'"
    "gatewayresponse.header.Referrer-Policy"             = "'no-referrer'"
    "gatewayresponse.header.Strict-Transport-Security"   = "'max-age=31536000'"
  }
  gateway_responses = {
    DEFAULT_4XX   = { responseParameters = local.gateway_headers, responseTemplates = {} }
    DEFAULT_5XX   = { responseParameters = local.gateway_headers, responseTemplates = {} }
    UNAUTHORIZED  = { statusCode = "401", responseParameters = local.gateway_headers, responseTemplates = {} }
    ACCESS_DENIED = { statusCode = "403", responseParameters = local.gateway_headers, responseTemplates = {} }
  }

  api_body = jsonencode(merge(local.openapi, {
    paths                                   = local.api_paths
    components                              = merge(local.openapi.components, { securitySchemes = local.security_schemes })
    "x-amazon-apigateway-gateway-responses" = local.gateway_responses
  }))

  access_log_format = jsonencode({
    requestId          = "$context.requestId"
    extendedRequestId  = "$context.extendedRequestId"
    requestTime        = "$context.requestTime"
    ip                 = "$context.identity.sourceIp"
    userAgent          = "$context.identity.userAgent"
    httpMethod         = "$context.httpMethod"
    resourcePath       = "$context.resourcePath"
    path               = "$context.path"
    protocol           = "$context.protocol"
    status             = "$context.status"
    responseLength     = "$context.responseLength"
    responseLatency    = "$context.responseLatency"
    integrationLatency = "$context.integrationLatency"
    integrationStatus  = "$context.integration.status"
    errorType          = "$context.error.responseType"
    errorMessage       = "$context.error.message"
    apiKeyId           = "$context.identity.apiKeyId"
    domainName         = "$context.domainName"
    stage              = "$context.stage"
    xrayTraceId        = "$context.xrayTraceId"
  })
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest; access logs hold no secrets (no bodies, no keys).
  #checkov:skip=CKV_AWS_338:Retention follows log_retention_in_days (30 days by default, as the SAM stack); a year is the operator's choice, not a fixed minimum.
  name              = "/aws/apigateway/${local.name}-access"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

# API Gateway writes access and execution logs through one role per account and region.
resource "aws_iam_role" "api_gateway_cloudwatch" {
  name_prefix = "${local.short_name}-apigw-logs-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  role       = aws_iam_role.api_gateway_cloudwatch.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch.arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}

resource "aws_api_gateway_rest_api" "records" {
  name = local.api_name
  body = local.api_body
  # Every media type may carry a base64 body (e.g. gzip from the function).
  binary_media_types = ["*/*"]
  tags               = var.tags

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# A new deployment whenever the document changes (what SAM's AlwaysDeploy and its hashed deployment
# ids do), created before the old one goes so that the stage never points at nothing.
resource "aws_api_gateway_deployment" "records" {
  rest_api_id = aws_api_gateway_rest_api.records.id

  triggers = {
    redeployment = sha1(local.api_body)
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "records" {
  #checkov:skip=CKV_AWS_120:Every response is live record data (Cache-Control no-store); a stage cache would serve stale records.
  #checkov:skip=CKV_AWS_73:X-Ray tracing follows tracing_mode (default Disabled: the SDK costs ~60 ms of cold start); checkov cannot evaluate the variable.
  #checkov:skip=CKV2_AWS_51:API clients sign in with Cognito ID tokens (and API keys when required); client certificates would shut out browsers.
  #checkov:skip=CKV2_AWS_29:No WAF by default (about 6 USD a month before requests); the stage is throttled. Associate a web ACL with the stage when traffic warrants it.
  rest_api_id          = aws_api_gateway_rest_api.records.id
  deployment_id        = aws_api_gateway_deployment.records.id
  stage_name           = var.stage_name
  xray_tracing_enabled = local.tracing_enabled
  tags                 = var.tags

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = local.access_log_format
  }

  depends_on = [aws_api_gateway_account.this]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Responses are live record data: a cache would serve stale records.
  rest_api_id = aws_api_gateway_rest_api.records.id
  stage_name  = aws_api_gateway_stage.records.stage_name
  method_path = "*/*"

  settings {
    logging_level          = "ERROR"
    cache_data_encrypted   = true
    data_trace_enabled     = false
    metrics_enabled        = true
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }
}

# Optional API key: a usage plan on the stage, throttled like the stage, and one key in it.
resource "aws_api_gateway_usage_plan" "this" {
  count = local.use_api_key ? 1 : 0

  name        = "${local.name}-usage"
  description = "Clients of the records API"
  tags        = var.tags

  api_stages {
    api_id = aws_api_gateway_rest_api.records.id
    stage  = aws_api_gateway_stage.records.stage_name
  }

  throttle_settings {
    rate_limit  = var.throttling_rate_limit
    burst_limit = var.throttling_burst_limit
  }
}

resource "aws_api_gateway_api_key" "this" {
  count = local.use_api_key ? 1 : 0

  name        = "${local.name}-key"
  description = "Key of the records API (read its value with `aws apigateway get-api-key --include-value`)"
  enabled     = true
  tags        = var.tags
}

resource "aws_api_gateway_usage_plan_key" "this" {
  count = local.use_api_key ? 1 : 0

  key_id        = one(aws_api_gateway_api_key.this[*].id)
  key_type      = "API_KEY"
  usage_plan_id = one(aws_api_gateway_usage_plan.this[*].id)
}
