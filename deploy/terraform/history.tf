# -- history: the records table's stream, written to the history table (docs/history.md) ----------

# Every version of every record: an entry per change, keyed by the record's key ("<email>#<id>") and
# its place in the record's history; the sparse indexes "deleted" and "deleted_everyone" list an
# owner's (every owner's) deleted records.
# TTL on "expires" (history_retention_days). Deletion protection as the records table.
resource "aws_dynamodb_table" "history" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key, as the records table (access is IAM-scoped).
  name                        = "${local.name}-history"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "record"
  range_key                   = "entry"
  deletion_protection_enabled = !local.is_dev
  tags                        = var.tags

  attribute {
    name = "record"
    type = "S"
  }
  attribute {
    name = "entry"
    type = "S"
  }
  attribute {
    name = "deleted_owner"
    type = "S"
  }
  attribute {
    name = "deleted_all"
    type = "S"
  }
  attribute {
    name = "deleted_at"
    type = "S"
  }

  global_secondary_index {
    name            = "deleted"
    hash_key        = "deleted_owner"
    range_key       = "deleted_at"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "deleted_everyone"
    hash_key        = "deleted_all"
    range_key       = "deleted_at"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_cloudwatch_log_group" "history_function" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest; reading them requires IAM permission.
  #checkov:skip=CKV_AWS_338:Retention follows log_retention_in_days (30 days by default, as the SAM stack); a year is the operator's choice, not a fixed minimum.
  name              = "/aws/lambda/${local.name}-history"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

# Batches the consumer gave up on (Lambda's record of each); kept 14 days, the longest SQS allows.
resource "aws_sqs_queue" "history_dead_letter" {
  name_prefix               = "${local.short_name}-history-dlq-"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_iam_role" "history_function" {
  name_prefix        = "${local.short_name}-history-"
  assume_role_policy = local.lambda_assume_role
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "history_function" {
  count = length(local.history_managed_policies)

  role       = aws_iam_role.history_function.name
  policy_arn = local.history_managed_policies[count.index]
}

locals {
  # The stream's reads (what SAM attaches for a DynamoDB event), beside the logs every function writes.
  history_managed_policies = concat(
    local.function_managed_policies,
    ["arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"],
  )
  stream_arn = local.create_table ? one(aws_dynamodb_table.records[*].stream_arn) : "${local.table_arn}/stream/${var.existing_table_stream_label}"
}

resource "aws_iam_role_policy" "history_function" {
  name = "history"
  role = aws_iam_role.history_function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # Entries written once (PutItem), deletions merged with their note (UpdateItem), a re-created
      # key's deletions found (Query) and taken out of the deleted index, an owner's erasure marker
      # read (GetItem).
      {
        Sid      = "HistoryEntries"
        Effect   = "Allow"
        Action   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:GetItem"]
        Resource = aws_dynamodb_table.history.arn
      },
    ]
  })
}

# The on-failure destination's permission (SAM adds it for the event's DestinationConfig).
resource "aws_iam_role_policy" "history_function_dead_letter" {
  name = "dead-letter"
  role = aws_iam_role.history_function.id
  policy = jsonencode({
    Statement = [
      {
        Action   = "sqs:SendMessage"
        Effect   = "Allow"
        Resource = aws_sqs_queue.history_dead_letter.arn
      },
    ]
  })
}

resource "aws_lambda_function" "history" {
  #checkov:skip=CKV_AWS_50:X-Ray tracing follows tracing_mode (Disabled by default: the X-Ray SDK costs ~60 ms of cold start); checkov cannot evaluate the variable.
  #checkov:skip=CKV_AWS_116:Invoked by its event source mapping, whose on-failure destination (the history dead-letter queue) receives every batch given up on; a function DLQ applies to asynchronous invocations only.
  #checkov:skip=CKV_AWS_117:Reaches only DynamoDB and CloudWatch through their IAM-authenticated endpoints.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the stream's shards (one batch per shard at a time).
  #checkov:skip=CKV_AWS_173:Environment variables hold table names and numbers only, no secret of any kind.
  #checkov:skip=CKV_AWS_272:The package is built and deployed by the same pipeline from the repository; code signing would need a signing profile and a signer in that pipeline for no other source of code.
  function_name    = "${local.name}-history"
  description      = "serverless-crud record history (the records table's stream)"
  role             = aws_iam_role.history_function.arn
  filename         = local.function_zip
  source_code_hash = local.code_hash
  handler          = "serverless_crud.history_consumer.handler"
  runtime          = "python3.12"
  architectures    = ["arm64"]
  memory_size      = 512
  timeout          = 60
  tags             = var.tags

  dynamic "tracing_config" {
    for_each = local.tracing_enabled ? [var.tracing_mode] : []
    content {
      mode = tracing_config.value
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.history_function.name
  }

  environment {
    variables = {
      TABLE_NAME                   = local.table_name
      PARTITION_KEY                = var.partition_key_name
      SORT_KEY                     = var.sort_key_name
      HISTORY_TABLE                = aws_dynamodb_table.history.name
      HISTORY_RETENTION_DAYS       = var.history_retention_days
      POWERTOOLS_SERVICE_NAME      = "serverless-crud-history"
      POWERTOOLS_METRICS_NAMESPACE = "ServerlessCrud"
      POWERTOOLS_LOG_LEVEL         = var.log_level
      TRACING_ENABLED              = tostring(local.tracing_enabled)
    }
  }

  depends_on = [aws_iam_role_policy_attachment.history_function]
}

# A change that cannot be written stops its batch there (ReportBatchItemFailures); a batch that keeps
# failing is split in two until the change at fault is alone, then goes to the dead-letter queue.
resource "aws_lambda_event_source_mapping" "history_function_changes" {
  function_name                      = aws_lambda_function.history.arn
  event_source_arn                   = local.stream_arn
  starting_position                  = "TRIM_HORIZON"
  batch_size                         = 100
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = 10

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.history_dead_letter.arn
    }
  }

  lifecycle {
    precondition {
      condition     = local.create_table || var.existing_table_stream_label != ""
      error_message = "An existing table needs existing_table_stream_label: the label of its stream (NEW_AND_OLD_IMAGES), from which the history is written."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "history_errors" {
  alarm_name          = "${local.name}-history-errors"
  alarm_description   = "The history consumer failed to write a change (its batch is retried, then sent to the dead-letter queue): Lambda Errors, or the function's HistoryWriteFailures."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "errors"
    return_data = false
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = aws_lambda_function.history.function_name }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "failures"
    return_data = false
    metric {
      namespace   = "ServerlessCrud"
      metric_name = "HistoryWriteFailures"
      dimensions  = { service = "serverless-crud-history" }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "total"
    label       = "History consumer errors"
    expression  = "FILL(errors, 0) + FILL(failures, 0)"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "history_dead_letter" {
  alarm_name          = "${local.name}-history-dead-letter"
  alarm_description   = "Changes the history gave up on wait in the dead-letter queue; docs/history.md says how to replay them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.history_dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "history_iterator_age" {
  alarm_name          = "${local.name}-history-iterator-age"
  alarm_description   = "The history is more than 5 minutes behind the records for 15 minutes (the stream keeps changes 24 hours)."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = aws_lambda_function.history.function_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 300000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}
