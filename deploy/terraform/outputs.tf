# The SAM stack's outputs, by the same names in snake_case; null where the stack has no such output.

output "api_url" {
  description = "Invoke URL of the API stage (execute-api endpoint)"
  value       = "https://${aws_api_gateway_rest_api.records.id}.execute-api.${local.region}.${local.dns_suffix}/${var.stage_name}/"
}

output "custom_domain_url" {
  description = "The API on its HTTPS custom domain"
  value       = local.has_domain ? "https://${var.domain_name}/" : null
}

output "custom_domain_target" {
  description = "Regional endpoint behind the custom domain (point a CNAME here when DNS is not in Route 53)"
  value       = one(aws_api_gateway_domain_name.this[*].regional_domain_name)
}

output "certificate_validation_records" {
  description = "The DNS records that validate the requested certificate (add them at your DNS provider when hosted_zone_id is empty)"
  value       = flatten(aws_acm_certificate.api[*].domain_validation_options)
}

output "ui_url" {
  description = "The UI served by CloudFront"
  value       = one(module.ui[*].url)
}

output "ui_bucket_name" {
  description = "Bucket to upload the UI's static files to"
  value       = one(module.ui[*].bucket_name)
}

output "api_key_id" {
  description = "Id of the API key (value via `aws apigateway get-api-key --api-key <id> --include-value`)"
  value       = one(aws_api_gateway_api_key.this[*].id)
}

output "user_pool_id" {
  description = "The user pool users sign in to (`serverless-crud users add EMAIL`)"
  value       = local.use_cognito ? local.user_pool_id : null
}

output "user_pool_client_id" {
  description = "The web UI's app client of the user pool"
  value       = one(aws_cognito_user_pool_client.this[*].id)
}

output "table_name" {
  description = "DynamoDB table holding the records"
  value       = local.table_name
}

output "function_name" {
  description = "The records function"
  value       = aws_lambda_function.records.function_name
}

output "function_log_group" {
  description = "The function's log group (`aws logs tail <name> --follow`)"
  value       = aws_cloudwatch_log_group.records_function.name
}

output "api_access_log_group" {
  description = "The API stage's access log group"
  value       = aws_cloudwatch_log_group.api_access.name
}

output "alarm_topic_arn" {
  description = "SNS topic receiving every alarm"
  value       = aws_sns_topic.alarm.arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard of the stack"
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards:name=${aws_cloudwatch_dashboard.this.dashboard_name}"
}

output "history_table_name" {
  description = "DynamoDB table holding every version of every record"
  value       = aws_dynamodb_table.history.name
}

output "history_dead_letter_queue_url" {
  description = "Batches of changes the history gave up on (docs/history.md says how to replay them)"
  value       = aws_sqs_queue.history_dead_letter.url
}
