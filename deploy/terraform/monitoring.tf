# -- monitoring: one topic for every alarm, the alarms, a dashboard -----------------------------------

locals {
  # DynamoDB publishes ThrottledRequests and SystemErrors per operation: the alarms sum the six the
  # function uses.
  table_operations = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"]

  table_alarms = {
    throttles = {
      metric      = "ThrottledRequests"
      description = "Requests to the records table were throttled (ThrottledRequests, any operation)."
    }
    system_errors = {
      metric      = "SystemErrors"
      description = "DynamoDB answered requests to the records table with a system error (HTTP 500)."
    }
  }

  function_alarms = {
    errors = {
      metric      = "Errors"
      description = "The records function raised or timed out (Lambda Errors)."
    }
    throttles = {
      metric      = "Throttles"
      description = "Invocations of the records function were throttled (Lambda Throttles)."
    }
  }

  alarm_actions = [aws_sns_topic.alarm.arn]
}

resource "aws_sns_topic" "alarm" {
  #checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and alarm notifications carry no data worth a customer managed key.
  name         = "${local.name}-alarms"
  display_name = "${local.name} alarms"
  tags         = var.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email != "" ? 1 : 0

  topic_arn = aws_sns_topic.alarm.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# 5XXError is 1 per failed request and 0 otherwise: its average is the failure rate.
resource "aws_cloudwatch_metric_alarm" "api5xx_rate" {
  alarm_name          = "${local.name}-api-5xx-rate"
  alarm_description   = "More than ${var.api5xx_rate_percent}% of API requests ended in 5xx over 5 minutes."
  evaluation_periods  = 1
  threshold           = var.api5xx_rate_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "failed"
    return_data = false

    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5XXError"
      dimensions  = { ApiName = local.api_name, Stage = var.stage_name }
      period      = 300
      stat        = "Average"
    }
  }

  metric_query {
    id          = "rate"
    label       = "API 5xx rate (%)"
    expression  = "failed * 100"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "api_latency" {
  alarm_name          = "${local.name}-api-latency"
  alarm_description   = "API p99 latency above ${var.api_latency_p99_milliseconds} ms for 15 minutes."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = { ApiName = local.api_name, Stage = var.stage_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = var.api_latency_p99_milliseconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each = local.function_alarms

  alarm_name          = "${local.name}-function-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = aws_lambda_function.records.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "table" {
  for_each = local.table_alarms

  alarm_name          = "${local.name}-table-${each.key}"
  alarm_description   = each.value.description
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  dynamic "metric_query" {
    for_each = local.table_operations
    content {
      id          = lower(metric_query.value)
      return_data = false

      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = each.value.metric
        dimensions  = { TableName = local.table_name, Operation = metric_query.value }
        period      = 60
        stat        = "Sum"
      }
    }
  }

  metric_query {
    id          = "total"
    label       = "DynamoDB ${each.value.metric} (all operations)"
    expression  = join(" + ", [for operation in local.table_operations : "FILL(${lower(operation)}, 0)"])
    return_data = true
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${local.name}-${local.region}"
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "alarm", x = 0, y = 0, width = 24, height = 3
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_metric_alarm.api5xx_rate.arn,
            aws_cloudwatch_metric_alarm.api_latency.arn,
            aws_cloudwatch_metric_alarm.function["errors"].arn,
            aws_cloudwatch_metric_alarm.function["throttles"].arn,
            aws_cloudwatch_metric_alarm.table["throttles"].arn,
            aws_cloudwatch_metric_alarm.table["system_errors"].arn,
            aws_cloudwatch_metric_alarm.job_failures.arn,
            aws_cloudwatch_metric_alarm.history_errors.arn,
            aws_cloudwatch_metric_alarm.history_dead_letter.arn,
            aws_cloudwatch_metric_alarm.history_iterator_age.arn,
          ]
        }
      },
      {
        type = "metric", x = 0, y = 3, width = 12, height = 6
        properties = {
          title = "API requests and errors", region = local.region, view = "timeSeries", stacked = false, period = 60, stat = "Sum"
          metrics = [
            ["AWS/ApiGateway", "Count", "ApiName", local.api_name, "Stage", var.stage_name],
            ["AWS/ApiGateway", "4XXError", "ApiName", local.api_name, "Stage", var.stage_name],
            ["AWS/ApiGateway", "5XXError", "ApiName", local.api_name, "Stage", var.stage_name],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 3, width = 12, height = 6
        properties = {
          title = "API latency (ms)", region = local.region, view = "timeSeries", stacked = false, period = 60, stat = "p99"
          metrics = [
            ["AWS/ApiGateway", "Latency", "ApiName", local.api_name, "Stage", var.stage_name, { stat = "p50" }],
            ["AWS/ApiGateway", "Latency", "ApiName", local.api_name, "Stage", var.stage_name, { stat = "p99" }],
            ["AWS/ApiGateway", "IntegrationLatency", "ApiName", local.api_name, "Stage", var.stage_name, { stat = "p99" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 9, width = 12, height = 6
        properties = {
          title = "Function invocations, errors, throttles", region = local.region, view = "timeSeries", stacked = false, period = 60, stat = "Sum"
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.records.function_name],
            ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.records.function_name],
            ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.records.function_name],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 9, width = 12, height = 6
        properties = {
          title = "Function duration (ms) and concurrency", region = local.region, view = "timeSeries", stacked = false, period = 60, stat = "p99"
          metrics = [
            ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.records.function_name, { stat = "p50" }],
            ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.records.function_name, { stat = "p99" }],
            ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", aws_lambda_function.records.function_name, { stat = "Maximum", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 15, width = 12, height = 6
        properties = {
          title = "DynamoDB throttled requests and system errors", region = local.region, view = "timeSeries", stacked = false, period = 60, stat = "Sum"
          metrics = [
            [{ expression = "SEARCH('{AWS/DynamoDB,Operation,TableName} TableName=\"${local.table_name}\" MetricName=\"ThrottledRequests\"', 'Sum', 60)", id = "throttled" }],
            [{ expression = "SEARCH('{AWS/DynamoDB,Operation,TableName} TableName=\"${local.table_name}\" MetricName=\"SystemErrors\"', 'Sum', 60)", id = "systemerrors" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 21, width = 12, height = 6
        properties = {
          title = "Jobs: executions started, succeeded, failed", region = local.region, view = "timeSeries", stacked = false, period = 300, stat = "Sum"
          metrics = [
            [{ expression = "SEARCH('{AWS/States,StateMachineArn} MetricName=\"ExecutionsStarted\"', 'Sum', 300)", id = "started" }],
            [{ expression = "SEARCH('{AWS/States,StateMachineArn} MetricName=\"ExecutionsSucceeded\"', 'Sum', 300)", id = "succeeded" }],
            [{ expression = "SEARCH('{AWS/States,StateMachineArn} MetricName=\"ExecutionsFailed\"', 'Sum', 300)", id = "failed" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 21, width = 12, height = 6
        properties = {
          title = "History: changes written, failures, iterator age (ms)", region = local.region, view = "timeSeries", stacked = false, period = 60, stat = "Sum"
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.history.function_name],
            ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.history.function_name],
            ["ServerlessCrud", "HistoryWriteFailures", "service", "serverless-crud-history"],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.history_dead_letter.name, { stat = "Maximum" }],
            ["AWS/Lambda", "IteratorAge", "FunctionName", aws_lambda_function.history.function_name, { stat = "Maximum", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 15, width = 12, height = 6
        properties = {
          title = "DynamoDB consumed capacity", region = local.region, view = "timeSeries", stacked = false, period = 60, stat = "Sum"
          metrics = [
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", local.table_name],
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", local.table_name],
          ]
        }
      },
    ]
  })
}
