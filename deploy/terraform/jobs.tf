# -- jobs: imports, exports and erasures on Step Functions ------------------------------------------

locals {
  # The state machines, each from its file of statemachines/ with the same substitutions as the SAM
  # template's DefinitionSubstitutions.
  state_machines = toset(["import", "export", "erase"])
  # The id each machine's failures have in the alarm's metric math.
  failure_metric_ids = { import = "imports", export = "exports", erase = "erasures" }
  state_machine_substitutions = {
    TasksFunctionArn = aws_lambda_function.tasks.arn
    FilesBucket      = aws_s3_bucket.files.id
  }
  # The machines whose Distributed Map starts child executions of the machine itself.
  distributed_maps = toset(["import", "export"])
}

# Imported and exported files: private, encrypted, TLS only, expired after file_retention_days.
resource "aws_s3_bucket" "files" {
  #checkov:skip=CKV_AWS_18:Objects are written by the stack's own functions only and expire within days; the API access logs and CloudTrail already record who started each job.
  #checkov:skip=CKV_AWS_21:Every object is a short-lived copy (an upload, an export): versions would only keep expired data longer.
  #checkov:skip=CKV_AWS_144:Short-lived copies of data whose source of truth is the records table (PITR on): a replica in another region would protect nothing.
  #checkov:skip=CKV_AWS_145:Encrypted at rest with S3 managed keys (SSE-S3); access goes through IAM and presigned URLs of the stack's functions, a customer managed key would narrow nothing.
  #checkov:skip=CKV2_AWS_62:No consumer of object events: the state machines are started by the API, not by uploads.
  bucket_prefix = "${local.short_name}-files-"
  force_destroy = true
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "files" {
  bucket                  = aws_s3_bucket.files.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "files" {
  bucket = aws_s3_bucket.files.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "files" {
  bucket = aws_s3_bucket.files.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "files" {
  #checkov:skip=CKV_AWS_300:Both rules, imports/ and exports/ (the only prefixes the stack writes), abort incomplete multipart uploads after a day; checkov counts only a rule without a filter.
  bucket = aws_s3_bucket.files.id

  rule {
    id     = "expire-imports"
    status = "Enabled"

    filter {
      prefix = "imports/"
    }

    expiration {
      days = var.file_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-exports"
    status = "Enabled"

    filter {
      prefix = "exports/"
    }

    expiration {
      days = var.file_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# Browsers upload big imports (a presigned form POST) and download exports straight from the bucket
# (presigned GET).
resource "aws_s3_bucket_cors_configuration" "files" {
  bucket = aws_s3_bucket.files.id

  cors_rule {
    allowed_methods = ["GET", "POST"]
    allowed_origins = var.allowed_origins
    allowed_headers = ["Content-Type"]
    max_age_seconds = 600
  }
}

resource "aws_s3_bucket_policy" "files" {
  bucket = aws_s3_bucket.files.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TlsOnly"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.files.arn, "${aws_s3_bucket.files.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.files]
}

resource "aws_cloudwatch_log_group" "state_machines" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest; execution data is not logged.
  #checkov:skip=CKV_AWS_338:Retention follows log_retention_in_days (30 days by default, as the SAM stack); a year is the operator's choice, not a fixed minimum.
  name              = "/aws/vendedlogs/states/${local.name}"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_iam_role" "state_machine" {
  for_each = local.state_machines

  name_prefix = "${local.short_name}-${each.key}-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = ["states.amazonaws.com"] }
      Action    = ["sts:AssumeRole"]
    }]
  })
  tags = var.tags
}

# What SAM's LambdaInvokePolicy grants on the tasks function, the log delivery, a Distributed Map's
# child executions and files and, when tracing is on, X-Ray.
resource "aws_iam_role_policy" "state_machine" {
  for_each = local.state_machines

  name = "tasks"
  role = aws_iam_role.state_machine[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Effect   = "Allow"
          Action   = ["lambda:InvokeFunction"]
          Resource = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${aws_lambda_function.tasks.function_name}*"
        },
        # CloudWatch Logs' log-delivery actions take no resource ARN (as AWS documents).
        {
          Sid    = "ExecutionLogDelivery"
          Effect = "Allow"
          Action = [
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
          ]
          Resource = "*"
        },
      ],
      # The Distributed Map starts its child executions (of this machine), follows and stops them.
      contains(local.distributed_maps, each.key) ? [
        {
          Sid      = "MapChildExecutions"
          Effect   = "Allow"
          Action   = "states:StartExecution"
          Resource = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.name}-${each.key}"
        },
        {
          Sid      = "MapChildExecutionStatus"
          Effect   = "Allow"
          Action   = ["states:DescribeExecution", "states:StopExecution"]
          Resource = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.name}-${each.key}/*"
        },
      ] : [],
      # The import's ItemReader reads the manifest; its ResultWriter writes the children's results.
      each.key == "import" ? [{
        Sid      = "MapManifestAndResults"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
        Resource = "${aws_s3_bucket.files.arn}/imports/*"
      }] : [],
      local.tracing_enabled ? [{
        Sid      = "Traces"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = "*"
      }] : [],
    )
  })
}

resource "aws_sfn_state_machine" "job" {
  #checkov:skip=CKV_AWS_285:Failures are logged (level ERROR) without execution data: the inputs and outputs hold people's records, which logs must not copy.
  #checkov:skip=CKV_AWS_284:X-Ray tracing follows tracing_mode (Disabled by default, as the functions'); checkov cannot evaluate the variable.
  for_each = local.state_machines

  name       = "${local.name}-${each.key}"
  role_arn   = aws_iam_role.state_machine[each.key].arn
  definition = templatefile("${path.module}/../../statemachines/${each.key}.asl.json", local.state_machine_substitutions)
  tags       = var.tags

  logging_configuration {
    level                  = "ERROR"
    include_execution_data = false
    log_destination        = "${aws_cloudwatch_log_group.state_machines.arn}:*"
  }

  tracing_configuration {
    enabled = local.tracing_enabled
  }

  depends_on = [aws_iam_role_policy.state_machine]
}

# Any failed job execution (a file that cannot be read, retries exhausted, a task's error).
resource "aws_cloudwatch_metric_alarm" "job_failures" {
  alarm_name          = "${local.name}-job-failures"
  alarm_description   = "A job (import, export or erasure) failed; its record at GET /jobs/{id} says why."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarm.arn]
  ok_actions          = [aws_sns_topic.alarm.arn]
  tags                = var.tags

  dynamic "metric_query" {
    for_each = aws_sfn_state_machine.job
    content {
      id          = local.failure_metric_ids[metric_query.key]
      return_data = false

      metric {
        namespace   = "AWS/States"
        metric_name = "ExecutionsFailed"
        dimensions  = { StateMachineArn = metric_query.value.arn }
        period      = 300
        stat        = "Sum"
      }
    }
  }

  metric_query {
    id          = "total"
    label       = "Failed job executions"
    expression  = "FILL(imports, 0) + FILL(exports, 0) + FILL(erasures, 0)"
    return_data = true
  }
}
