# -- functions: the records API (and web UI), and the jobs' tasks -----------------------------------
# Both run the package `make package` builds (build/function.zip): serverless_crud and the wheels of
# requirements/function.txt for python3.12 on arm64, as `sam build` builds it.

locals {
  # IAM role and bucket names are account-wide (or global): a short prefix, and a suffix Terraform draws.
  short_name   = lower(substr(local.name, 0, 24))
  function_zip = coalesce(var.function_zip, "${path.module}/../../build/function.zip")
  code_hash    = filebase64sha256(local.function_zip)

  lambda_assume_role = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = ["lambda.amazonaws.com"] }
      Action    = ["sts:AssumeRole"]
    }]
  })

  # What every function writes its logs with; X-Ray's only when tracing is on.
  function_managed_policies = concat(
    ["arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
    local.tracing_enabled ? ["arn:${local.partition}:iam::aws:policy/AWSXrayWriteOnlyAccess"] : [],
  )
}

resource "aws_cloudwatch_log_group" "records_function" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest; a customer managed key adds cost and key administration, and reading the logs already requires IAM permission.
  #checkov:skip=CKV_AWS_338:Retention follows log_retention_in_days (30 days by default, as the SAM stack); a year is the operator's choice, not a fixed minimum.
  name              = "/aws/lambda/${local.name}-records"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_iam_role" "records_function" {
  name_prefix        = "${local.short_name}-records-"
  assume_role_policy = local.lambda_assume_role
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "records_function" {
  count = length(local.function_managed_policies)

  role       = aws_iam_role.records_function.name
  policy_arn = local.function_managed_policies[count.index]
}

# Jobs: their records, the files the API writes (imports) and links to (exports), and the
# executions it starts and reads.
resource "aws_iam_role_policy" "records_function_jobs" {
  name = "jobs"
  role = aws_iam_role.records_function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "JobRecords"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
        Resource = aws_dynamodb_table.jobs.arn
      },
      {
        Sid      = "ImportFiles"
        Effect   = "Allow"
        Action   = "s3:PutObject"
        Resource = "${aws_s3_bucket.files.arn}/imports/*"
      },
      {
        Sid      = "UploadedImports"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${aws_s3_bucket.files.arn}/imports/uploads/*"
      },
      {
        Sid      = "ExportLinks"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${aws_s3_bucket.files.arn}/exports/*"
      },
      {
        Sid      = "StartJobs"
        Effect   = "Allow"
        Action   = "states:StartExecution"
        Resource = [aws_sfn_state_machine.job["import"].arn, aws_sfn_state_machine.job["export"].arn, aws_sfn_state_machine.job["erase"].arn]
      },
      {
        Sid    = "ReadJobExecutions"
        Effect = "Allow"
        Action = "states:DescribeExecution"
        Resource = [
          "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${aws_sfn_state_machine.job["import"].name}:*",
          "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${aws_sfn_state_machine.job["export"].name}:*",
          "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${aws_sfn_state_machine.job["erase"].name}:*",
        ]
      },
    ]
  })
}

# Exactly the operations of dal/repository.py and dal/listing.py, on the records table only.
resource "aws_iam_role_policy" "records_function_records" {
  name = "records"
  role = aws_iam_role.records_function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "RecordsTableItems"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan"]
        Resource = local.table_arn
      },
      # Listings read the table's indexes (Query only: docs/access-patterns.md).
      {
        Sid      = "RecordsTableIndexes"
        Effect   = "Allow"
        Action   = "dynamodb:Query"
        Resource = "${local.table_arn}/index/*"
      },
      # History: read (a record's versions, the deleted), and who deleted a record (dal/history.py).
      {
        Sid      = "HistoryEntries"
        Effect   = "Allow"
        Action   = ["dynamodb:Query", "dynamodb:UpdateItem"]
        Resource = [aws_dynamodb_table.history.arn, "${aws_dynamodb_table.history.arn}/index/*"]
      },
      # Powertools' idempotency records: written, read, completed, deleted on failure.
      {
        Sid      = "IdempotencyRecords"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        Resource = aws_dynamodb_table.idempotency.arn
      },
    ]
  })
}

resource "aws_lambda_function" "records" {
  #checkov:skip=CKV_AWS_50:X-Ray tracing follows tracing_mode (Disabled by default: the X-Ray SDK costs ~60 ms of cold start); checkov cannot evaluate the variable.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway only: failures go back to the caller, there is nothing for a dead-letter queue to receive.
  #checkov:skip=CKV_AWS_117:Reaches only DynamoDB and CloudWatch through their IAM-authenticated public endpoints; a VPC would add NAT or endpoint costs and cold-start latency, no control.
  #checkov:skip=CKV_AWS_173:Environment variables are encrypted at rest with the Lambda service key; the only sensitive one (CURSOR_SECRET) is a signing key for opaque cursors, not a credential.
  #checkov:skip=CKV_AWS_272:The package is built and deployed by the same pipeline from the repository; code signing would need a signing profile and a signer in that pipeline for no other source of code.
  #checkov:skip=CKV_AWS_115:Reserved concurrency follows reserved_concurrency (none by default, as the SAM stack: the account's pool); checkov cannot evaluate the variable.
  function_name    = "${local.name}-records"
  description      = "serverless-crud records API and web UI"
  role             = aws_iam_role.records_function.arn
  filename         = local.function_zip
  source_code_hash = local.code_hash
  handler          = "serverless_crud.handler.lambda_handler"
  runtime          = "python3.12"
  architectures    = ["arm64"]
  memory_size      = 512
  timeout          = 10
  # API Gateway invokes the alias "live", which every change moves to a newly published version:
  # SnapStart applies to published versions only.
  publish                        = true
  reserved_concurrent_executions = var.reserved_concurrency
  tags                           = var.tags

  snap_start {
    apply_on = var.snap_start ? "PublishedVersions" : "None"
  }

  dynamic "tracing_config" {
    for_each = local.tracing_enabled ? [var.tracing_mode] : []
    content {
      mode = tracing_config.value
    }
  }

  # Text format on purpose: Powertools already writes JSON lines, and Lambda's JSON format would
  # switch on its own log-level filter, overriding POWERTOOLS_LOG_LEVEL.
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.records_function.name
  }

  environment {
    variables = {
      TABLE_NAME                   = local.table_name
      PARTITION_KEY                = var.partition_key_name
      SORT_KEY                     = var.sort_key_name
      ALLOWED_ORIGINS              = join(",", var.allowed_origins)
      CURSOR_SECRET                = data.aws_secretsmanager_secret_version.cursor.secret_string
      MAX_BODY_BYTES               = var.max_body_bytes
      REQUIRE_IF_MATCH             = tostring(var.require_if_match)
      AUTH_MODE                    = var.auth_mode
      USER_POOL_ID                 = local.user_pool_id
      USER_POOL_CLIENT_ID          = local.use_cognito ? one(aws_cognito_user_pool_client.this[*].id) : ""
      SEARCH_INDEXES               = local.create_table ? "true" : tostring(var.existing_table_indexes)
      SEARCH_READ_BUDGET           = var.search_read_budget
      IDEMPOTENCY_TABLE            = aws_dynamodb_table.idempotency.name
      HISTORY_TABLE                = aws_dynamodb_table.history.name
      HISTORY_RETENTION_DAYS       = var.history_retention_days
      POWERTOOLS_SERVICE_NAME      = "serverless-crud"
      POWERTOOLS_METRICS_NAMESPACE = "ServerlessCrud"
      POWERTOOLS_LOG_LEVEL         = var.log_level
      # The function loads the X-Ray SDK (Powertools Tracer) only when this is true.
      TRACING_ENABLED                  = tostring(local.tracing_enabled)
      JOBS_TABLE                       = aws_dynamodb_table.jobs.name
      FILES_BUCKET                     = aws_s3_bucket.files.bucket
      IMPORT_STATE_MACHINE             = aws_sfn_state_machine.job["import"].arn
      EXPORT_STATE_MACHINE             = aws_sfn_state_machine.job["export"].arn
      ERASE_STATE_MACHINE              = aws_sfn_state_machine.job["erase"].arn
      MAX_IMPORT_BYTES                 = var.max_import_bytes
      MAX_IMPORT_ROWS                  = var.max_import_rows
      MAX_LINE_BYTES                   = var.max_import_line_bytes
      IMPORT_CONCURRENCY               = var.import_concurrency
      IMPORT_TOLERATED_FAILURE_PERCENT = var.import_tolerated_failure_percent
      EXPORT_SEGMENTS                  = var.export_segments
    }
  }

  depends_on = [aws_iam_role_policy_attachment.records_function]
}

resource "aws_lambda_alias" "records_live" {
  name             = "live"
  function_name    = aws_lambda_function.records.function_name
  function_version = aws_lambda_function.records.version
}

# The API's stage may invoke the alias for every route of the API (any method, any resource of
# openapi/apigateway.json), as the SAM template's RecordsApiInvokesFunction grants.
resource "aws_lambda_permission" "records_api" {
  statement_id  = "api"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.records.function_name
  qualifier     = aws_lambda_alias.records_live.name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.records.execution_arn}/${var.stage_name}/*"
}

# -- the state machines' tasks: the same package, its own handler -----------------------------------

resource "aws_cloudwatch_log_group" "tasks_function" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest; reading them requires IAM permission.
  #checkov:skip=CKV_AWS_338:Retention follows log_retention_in_days (30 days by default, as the SAM stack); a year is the operator's choice, not a fixed minimum.
  name              = "/aws/lambda/${local.name}-tasks"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_iam_role" "tasks_function" {
  name_prefix        = "${local.short_name}-tasks-"
  assume_role_policy = local.lambda_assume_role
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "tasks_function" {
  count = length(local.function_managed_policies)

  role       = aws_iam_role.tasks_function.name
  policy_arn = local.function_managed_policies[count.index]
}

resource "aws_iam_role_policy" "tasks_function" {
  name = "jobs"
  role = aws_iam_role.tasks_function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "RecordsInBatches"
        Effect   = "Allow"
        Action   = ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query", "dynamodb:Scan"]
        Resource = local.table_arn
      },
      {
        Sid      = "JobRecords"
        Effect   = "Allow"
        Action   = "dynamodb:UpdateItem"
        Resource = aws_dynamodb_table.jobs.arn
      },
      # An erasure erases the owner's history too: its marker, then every entry (a Scan).
      {
        Sid      = "ErasedHistory"
        Effect   = "Allow"
        Action   = ["dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"]
        Resource = aws_dynamodb_table.history.arn
      },
      # Chunks, results, reports and export parts; big objects as multipart uploads (an export's file
      # is joined from its parts by UploadPartCopy: GetObject on the source).
      {
        Sid      = "JobFiles"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
        Resource = ["${aws_s3_bucket.files.arn}/imports/*", "${aws_s3_bucket.files.arn}/exports/*"]
      },
      {
        Sid       = "ListJobFiles"
        Effect    = "Allow"
        Action    = "s3:ListBucket"
        Resource  = aws_s3_bucket.files.arn
        Condition = { StringLike = { "s3:prefix" = ["exports/*"] } }
      },
    ]
  })
}

# An import's split reads the whole file in one run (10,000,000 rows in minutes): Lambda's longest
# timeout, and memory for the CPU share (the tasks hold one chunk, not the file).
resource "aws_lambda_function" "tasks" {
  #checkov:skip=CKV_AWS_50:X-Ray tracing follows tracing_mode (Disabled by default: the X-Ray SDK costs ~60 ms of cold start); checkov cannot evaluate the variable.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by Step Functions, whose Retry and Catch handle every failure.
  #checkov:skip=CKV_AWS_117:Reaches only DynamoDB, S3 and CloudWatch through their IAM-authenticated endpoints.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the state machines (import_concurrency chunks, export_segments segments at once).
  #checkov:skip=CKV_AWS_173:Environment variables hold names and ARNs only; the cursor key is not a credential.
  #checkov:skip=CKV_AWS_272:The package is built and deployed by the same pipeline from the repository; code signing would need a signing profile and a signer in that pipeline for no other source of code.
  function_name    = "${local.name}-tasks"
  description      = "serverless-crud jobs' tasks (import, export, erase)"
  role             = aws_iam_role.tasks_function.arn
  filename         = local.function_zip
  source_code_hash = local.code_hash
  handler          = "serverless_crud.tasks.handler"
  runtime          = "python3.12"
  architectures    = ["arm64"]
  memory_size      = 1024
  timeout          = 900
  tags             = var.tags

  dynamic "tracing_config" {
    for_each = local.tracing_enabled ? [var.tracing_mode] : []
    content {
      mode = tracing_config.value
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.tasks_function.name
  }

  environment {
    variables = {
      TABLE_NAME                       = local.table_name
      PARTITION_KEY                    = var.partition_key_name
      SORT_KEY                         = var.sort_key_name
      CURSOR_SECRET                    = data.aws_secretsmanager_secret_version.cursor.secret_string
      JOBS_TABLE                       = aws_dynamodb_table.jobs.name
      FILES_BUCKET                     = aws_s3_bucket.files.bucket
      HISTORY_TABLE                    = aws_dynamodb_table.history.name
      HISTORY_RETENTION_DAYS           = var.history_retention_days
      POWERTOOLS_SERVICE_NAME          = "serverless-crud-tasks"
      POWERTOOLS_METRICS_NAMESPACE     = "ServerlessCrud"
      POWERTOOLS_LOG_LEVEL             = var.log_level
      TRACING_ENABLED                  = tostring(local.tracing_enabled)
      MAX_IMPORT_BYTES                 = var.max_import_bytes
      MAX_IMPORT_ROWS                  = var.max_import_rows
      MAX_LINE_BYTES                   = var.max_import_line_bytes
      IMPORT_CONCURRENCY               = var.import_concurrency
      IMPORT_TOLERATED_FAILURE_PERCENT = var.import_tolerated_failure_percent
      EXPORT_SEGMENTS                  = var.export_segments
    }
  }

  depends_on = [aws_iam_role_policy_attachment.tasks_function]
}
