output "url" {
  description = "The UI served by CloudFront"
  value       = "https://${aws_cloudfront_distribution.this.domain_name}/"
}

output "bucket_name" {
  description = "Bucket to upload the UI's static files to"
  value       = aws_s3_bucket.this.bucket
}
