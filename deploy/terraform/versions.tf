# Terraform 1.11 or OpenTofu 1.11 at least: the cursor key is written with a write-only argument
# from an ephemeral resource, so the generated value never enters the plan.
terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The offline checks read this provider version's schema (requirements/terraform-provider.txt).
      version = ">= 6.69.1, < 7.0.0"
    }
  }
}
