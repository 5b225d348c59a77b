"""Offline checks of the Terraform module (deploy/terraform/): its syntax, layout, schema and values.

No Terraform or OpenTofu binary runs here. `syntax` reads .tf files with the HCL2 grammar checkov
itself parses with (bc-python-hcl2, the `hcl2` module: one parser in the environment); `hcl_tools.cjs`
runs HashiCorp's Go parser and formatter (WebAssembly) over the same files; `evaluate` computes what
a plan would configure for given variables; `provider_schema` checks that against the AWS
provider's schema read from its published bindings.
"""
