# The UI's static files from a private S3 bucket through CloudFront (origin access control), with
# the API as a second origin for the paths the function serves. The root module calls it when
# enable_ui_hosting is true.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # CloudFront's managed policies, by id.
  caching_optimized                  = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  caching_disabled                   = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  security_headers                   = "67f7725c-6f97-4210-82d7-5512b31e9d03"
  all_viewer_except_host_header      = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
  api_paths_served_by_the_api_origin = ["/records*", "/health", "/openapi.json"]
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Holds only the UI's public static files, written by the deploy pipeline; requests are visible in CloudFront and API access logs, server access logs would add nothing.
  #checkov:skip=CKV_AWS_144:Static files rebuilt from the repository by every deployment: a replica in another region would protect nothing.
  #checkov:skip=CKV_AWS_145:Public static files, encrypted with S3 managed keys (SSE-S3); a customer managed key would protect nothing.
  #checkov:skip=CKV2_AWS_62:No consumer of object events: CloudFront reads the files on request.
  bucket_prefix = "${var.short_name}-ui-"
  force_destroy = true
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  #checkov:skip=CKV_AWS_300:The UI's files are small static files the deploy pipeline uploads in single PUTs; old versions expire after 30 days.
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-old-ui-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudFrontReadsThroughOac"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "s3:GetObject"
        Resource  = "${aws_s3_bucket.this.arn}/*"
        Condition = { StringEquals = { "AWS:SourceArn" = "arn:${data.aws_partition.current.partition}:cloudfront::${data.aws_caller_identity.current.account_id}:distribution/${aws_cloudfront_distribution.this.id}" } }
      },
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_cloudfront_origin_access_control" "this" {
  name                              = "${var.name}-ui"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_68:No WAF by default (about 6 USD a month before requests); the API is throttled at the stage. Attach a web ACL here when traffic warrants it.
  #checkov:skip=CKV_AWS_86:CloudFront standard logs need a bucket with ACLs enabled; the API's access logs already record every data request.
  #checkov:skip=CKV_AWS_174:Served on the default *.cloudfront.net certificate, whose TLS policy CloudFront fixes; the custom domain (TLS 1.2 minimum) is on the API.
  #checkov:skip=CKV_AWS_310:One origin per kind of content (the UI's files, the API): an origin group would fail over to a copy that does not exist.
  #checkov:skip=CKV2_AWS_32:The default behaviour uses the managed SecurityHeadersPolicy; the API behaviours pass the API's own security headers through.
  #checkov:skip=CKV2_AWS_42:Served on the default *.cloudfront.net certificate, with the TLS policy CloudFront fixes; a custom domain for the UI is each deployment's choice.
  #checkov:skip=CKV2_AWS_47:No WAF by default (see CKV_AWS_68): the Log4j rule set needs a web ACL.
  comment             = "${var.name} UI"
  enabled             = true
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  price_class         = "PriceClass_100"
  default_root_object = "index.html"
  tags                = var.tags

  origin {
    origin_id                = "ui"
    domain_name              = aws_s3_bucket.this.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.this.id
  }

  # Through the custom domain when there is one: the API then sees the paths the viewer sent (no
  # stage prefix), so the Location headers it writes are valid on CloudFront too.
  origin {
    origin_id   = "api"
    domain_name = var.api_domain_name
    origin_path = var.api_origin_path

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = "ui"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.caching_optimized
    response_headers_policy_id = local.security_headers
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.api_paths_served_by_the_api_origin
    content {
      path_pattern             = ordered_cache_behavior.value
      target_origin_id         = "api"
      viewer_protocol_policy   = "https-only"
      allowed_methods          = ordered_cache_behavior.value == "/records*" ? ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"] : ["GET", "HEAD"]
      cached_methods           = ["GET", "HEAD"]
      compress                 = true
      cache_policy_id          = local.caching_disabled
      origin_request_policy_id = local.all_viewer_except_host_header
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
