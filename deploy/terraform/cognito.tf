# -- sign-in: a Cognito user pool (or an existing one), the UI's app client, the admin group --------

resource "aws_cognito_user_pool" "this" {
  count = local.create_user_pool ? 1 : 0

  name = "${local.name}-users"
  # Users sign in with their email, which is also the partition of the records they own: it must be
  # verified (Cognito sends a code) before the API accepts it.
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  mfa_configuration        = var.mfa_configuration
  user_pool_tier           = var.advanced_security_mode != "OFF" ? "PLUS" : "ESSENTIALS"
  # dev is disposable; every other stage keeps its users (the pool refuses to be deleted).
  deletion_protection = local.is_dev ? "INACTIVE" : "ACTIVE"
  tags                = var.tags

  username_configuration {
    case_sensitive = false
  }

  schema {
    name                = "email"
    attribute_data_type = "String"
    required            = true
    mutable             = true

    string_attribute_constraints {
      min_length = 0
      max_length = 2048
    }
  }

  # Administrators add users (`serverless-crud users add`): no self sign-up on a records API.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa_configuration != "OFF" ? [true] : []
    content {
      enabled = true
    }
  }

  user_pool_add_ons {
    advanced_security_mode = var.advanced_security_mode
  }
}

# The web UI's client: a public client (no secret: a browser cannot keep one). SRP and the password
# flow (over HTTPS), refresh tokens; nothing else.
resource "aws_cognito_user_pool_client" "this" {
  count = local.use_cognito ? 1 : 0

  name                          = "${local.name}-ui"
  user_pool_id                  = local.user_pool_id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  # ID and access tokens for an hour (the UI refreshes them before), a session for 12 hours.
  id_token_validity      = 60
  access_token_validity  = 60
  refresh_token_validity = 720
  auth_session_validity  = 3
  read_attributes        = ["email", "email_verified"]
  write_attributes       = ["email"]

  token_validity_units {
    id_token      = "minutes"
    access_token  = "minutes"
    refresh_token = "minutes"
  }
}

# Members see and change every record (`serverless-crud users add EMAIL --admin`).
resource "aws_cognito_user_group" "admin" {
  count = local.create_user_pool ? 1 : 0

  name         = "admin"
  description  = "May list, read and change every record"
  user_pool_id = one(aws_cognito_user_pool.this[*].id)
}
