# -- optional static UI hosting: a private bucket behind CloudFront (OAC), the API as second origin --

module "ui" {
  source = "./modules/ui_hosting"
  count  = local.host_ui ? 1 : 0

  name       = local.name
  short_name = local.short_name
  # Through the custom domain when there is one: the API then sees the paths the viewer sent (no
  # stage prefix), so the Location headers it writes are valid on CloudFront too.
  api_domain_name = local.has_domain ? var.domain_name : "${aws_api_gateway_rest_api.records.id}.execute-api.${local.region}.${local.dns_suffix}"
  api_origin_path = local.has_domain ? null : "/${var.stage_name}"
  tags            = var.tags
}
