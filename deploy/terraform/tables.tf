# -- data --------------------------------------------------------------------------------------------

# The records. dev is disposable; every other stage turns deletion protection on, so that neither a
# destroy nor a replacement can delete the data (Terraform has no DeletionPolicy Retain: turn the
# protection off first to delete the table on purpose).
resource "aws_dynamodb_table" "records" {
  count = local.create_table ? 1 : 0

  name                        = "${local.name}-records"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.partition_key_name
  range_key                   = var.sort_key_name
  deletion_protection_enabled = !local.is_dev
  tags                        = var.tags
  # Every change, before and after, for the history (history.tf; docs/history.md).
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = var.partition_key_name
    type = "S"
  }
  attribute {
    name = var.sort_key_name
    type = "N"
  }
  attribute {
    name = "_name"
    type = "S"
  }
  attribute {
    name = "_updated"
    type = "S"
  }
  attribute {
    name = "_amount"
    type = "S"
  }
  attribute {
    name = "_shard"
    type = "S"
  }

  # The sort and search indexes of docs/access-patterns.md: an owner's records by name, updated_at
  # and amount; everyone's by each order, over four write shards. Projected ALL.
  global_secondary_index {
    name            = "by_name"
    hash_key        = var.partition_key_name
    range_key       = "_name"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "by_updated"
    hash_key        = var.partition_key_name
    range_key       = "_updated"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "by_amount"
    hash_key        = var.partition_key_name
    range_key       = "_amount"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "all_by_id"
    hash_key        = "_shard"
    range_key       = var.sort_key_name
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "all_by_name"
    hash_key        = "_shard"
    range_key       = "_name"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "all_by_updated"
    hash_key        = "_shard"
    range_key       = "_updated"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "all_by_amount"
    hash_key        = "_shard"
    range_key       = "_amount"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key; a customer managed key adds cost and key administration for no access-control gain here (access is IAM-scoped).
  server_side_encryption {
    enabled = true
  }
}

# Responses of requests sent with an Idempotency-Key (Powertools' layout: key "id", expiry
# "expiration"), kept 24 hours; DynamoDB's TTL deletes them after that.
resource "aws_dynamodb_table" "idempotency" {
  #checkov:skip=CKV_AWS_28:Holds replayable responses for 24 hours only (TTL); a point-in-time restore of them would replay stale answers. The records table has PITR on.
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key, as the records table (access is IAM-scoped).
  name         = "${local.name}-idempotency"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  tags         = var.tags

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expiration"
    enabled        = true
  }

  server_side_encryption {
    enabled = true
  }
}

# One record per job, keyed by its owner (a Query lists theirs) and its time-ordered id.
resource "aws_dynamodb_table" "jobs" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key, as the records table (access is IAM-scoped).
  name         = "${local.name}-jobs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "owner"
  range_key    = "id"
  tags         = var.tags

  attribute {
    name = "owner"
    type = "S"
  }
  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

# Signs pagination cursors (HMAC key). Secrets Manager generates it (an ephemeral value, written
# through a write-only argument); the functions read it into their environment, as the SAM stack's
# dynamic reference does, so the state holds it there: keep the state encrypted (docs/terraform.md).
resource "aws_secretsmanager_secret" "cursor" {
  #checkov:skip=CKV_AWS_149:Encrypted with the AWS managed key; only this stack's functions read it, so a customer managed key would add cost without narrowing access.
  #checkov:skip=CKV2_AWS_57:A new key only invalidates outstanding cursors, so it is replaced by hand (raise secret_string_wo_version below) rather than by a rotation function.
  name_prefix = "${local.name}-cursor-"
  description = "${local.name}: HMAC key signing pagination cursors"
  tags        = var.tags
}

ephemeral "aws_secretsmanager_random_password" "cursor" {
  password_length     = 64
  exclude_punctuation = true
  include_space       = false
}

resource "aws_secretsmanager_secret_version" "cursor" {
  secret_id                = aws_secretsmanager_secret.cursor.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.cursor.random_password
  secret_string_wo_version = 1
}

data "aws_secretsmanager_secret_version" "cursor" {
  secret_id  = aws_secretsmanager_secret.cursor.id
  version_id = aws_secretsmanager_secret_version.cursor.version_id
}
