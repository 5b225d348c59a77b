# A root module deploying serverless-crud with the module of deploy/terraform: copy this directory,
# set the backend and the variables, then `terraform init`, `plan`, `apply` (docs/terraform.md).

terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.69.1, < 7.0.0"
    }
  }

  # Remote state: a bucket of your own, versioned and encrypted; the lock file is S3's own
  # (`use_lockfile`, Terraform 1.10 or later and OpenTofu 1.10 or later). The state holds the cursor
  # key in the functions' environment: keep it encrypted and its bucket private. Configure with
  # `terraform init -backend-config=backend.hcl` (bucket, key, region).
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      app   = "serverless-crud"
      stage = var.stage_name
    }
  }
}

variable "region" {
  type        = string
  default     = "eu-west-1"
  description = "The AWS region to deploy to."
}

variable "stage_name" {
  type        = string
  default     = "dev"
  description = "API Gateway stage name; any stage but dev keeps its table and user pool (deletion protection)."
}

variable "domain_name" {
  type        = string
  default     = ""
  description = "Custom domain of the API (empty: the execute-api URL only)."
}

variable "hosted_zone_id" {
  type        = string
  default     = ""
  description = "Route 53 hosted zone of domain_name (empty: validate the certificate and point the name yourself)."
}

variable "alarm_email" {
  type        = string
  default     = ""
  description = "E-mail address that receives the alarms (empty: none)."
}

variable "allowed_origins" {
  type        = list(string)
  default     = ["*"]
  description = "Origins allowed by CORS."
}

module "serverless_crud" {
  source = "../.."

  name            = "serverless-crud-${var.stage_name}"
  stage_name      = var.stage_name
  domain_name     = var.domain_name
  hosted_zone_id  = var.hosted_zone_id
  alarm_email     = var.alarm_email
  allowed_origins = var.allowed_origins
}

output "api_url" {
  description = "Invoke URL of the API stage"
  value       = module.serverless_crud.api_url
}

output "custom_domain_url" {
  description = "The API on its custom domain (null without one)"
  value       = module.serverless_crud.custom_domain_url
}

output "user_pool_id" {
  description = "The user pool users sign in to"
  value       = module.serverless_crud.user_pool_id
}

output "user_pool_client_id" {
  description = "The web UI's app client"
  value       = module.serverless_crud.user_pool_client_id
}

output "dashboard_url" {
  description = "The CloudWatch dashboard"
  value       = module.serverless_crud.dashboard_url
}
