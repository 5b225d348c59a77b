# -- HTTPS custom domain (all conditional on domain_name) --------------------------------------------

resource "aws_acm_certificate" "api" {
  count = local.create_certificate ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

# With a hosted zone the validation record is written here; without one, the apply waits (up to the
# timeout) until you add the CNAME that the output certificate_validation_records names.
resource "aws_route53_record" "certificate_validation" {
  for_each = {
    for option in flatten(aws_acm_certificate.api[*].domain_validation_options) : option.domain_name => option
    if local.has_hosted_zone
  }

  zone_id         = var.hosted_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "api" {
  count = local.create_certificate ? 1 : 0

  certificate_arn         = one(aws_acm_certificate.api[*].arn)
  validation_record_fqdns = local.has_hosted_zone ? [for record in aws_route53_record.certificate_validation : record.fqdn] : null
}

resource "aws_api_gateway_domain_name" "this" {
  count = local.has_domain ? 1 : 0

  domain_name              = var.domain_name
  regional_certificate_arn = local.create_certificate ? one(aws_acm_certificate_validation.api[*].certificate_arn) : var.certificate_arn
  security_policy          = "TLS_1_2"
  tags                     = var.tags

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_base_path_mapping" "this" {
  count = local.has_domain ? 1 : 0

  domain_name = one(aws_api_gateway_domain_name.this[*].domain_name)
  api_id      = aws_api_gateway_rest_api.records.id
  stage_name  = aws_api_gateway_stage.records.stage_name
}

resource "aws_route53_record" "api_alias" {
  for_each = local.create_dns_records ? { ipv4 = "A", ipv6 = "AAAA" } : {}

  zone_id = var.hosted_zone_id
  name    = var.domain_name
  type    = each.value

  alias {
    name                   = one(aws_api_gateway_domain_name.this[*].regional_domain_name)
    zone_id                = one(aws_api_gateway_domain_name.this[*].regional_zone_id)
    evaluate_target_health = false
  }
}
