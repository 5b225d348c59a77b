# One variable per parameter of template.yaml, named as the parameter in snake_case, with the same
# default and the same constraints: `terraform apply` with nothing set deploys the dev stack, as
# `sam deploy` does. "true"/"false" parameters are booleans here, comma-separated ones lists.

variable "name" {
  type        = string
  default     = ""
  description = "Prefix of every name the stack gives (the SAM stack's name); empty: serverless-crud-<stage_name>."

  validation {
    condition     = var.name == "" || can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,39}$", var.name))
    error_message = "The name must start with a letter and hold at most 40 letters, digits and hyphens."
  }
}

variable "function_zip" {
  type        = string
  default     = null
  description = "Path of the functions' deployment package (null: build/function.zip of this repository, which `make package` writes)."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags given to every resource that takes tags (through the provider's default_tags, set them there instead)."
}

variable "stage_name" {
  type        = string
  default     = "dev"
  description = "API Gateway stage name. \"dev\" is disposable (its table and user pool go with the stack); any other stage keeps them (deletion protection)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_]+$", var.stage_name))
    error_message = "The stage name holds letters, digits and underscores only."
  }
}

variable "allowed_origins" {
  type        = list(string)
  default     = ["*"]
  description = "Origins allowed by CORS ([\"*\"] for any)."

  validation {
    condition     = length(var.allowed_origins) > 0 && alltrue([for origin in var.allowed_origins : can(regex("^ *(\\*|https?://[^/, ]+) *$", origin))])
    error_message = "Name at least one origin, or \"*\": each a scheme and host such as https://app.example.com, no path."
  }
}

variable "existing_table_name" {
  type        = string
  default     = ""
  description = "Name of an existing DynamoDB table to use instead of creating one (empty: create the table)."

  validation {
    condition     = can(regex("^$|^[a-zA-Z0-9_.-]{3,255}$", var.existing_table_name))
    error_message = "Empty, or a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)."
  }
}

variable "existing_table_stream_label" {
  type        = string
  default     = ""
  description = "The label of the existing table's stream (NEW_AND_OLD_IMAGES; its ARN's end, after /stream/), which the history reads; required with existing_table_name (ignored when the module creates the table)."

  validation {
    condition     = can(regex("^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}$", var.existing_table_stream_label))
    error_message = "Empty, or a stream label such as 2026-01-31T12:00:00.000."
  }
}

variable "history_retention_days" {
  type        = number
  default     = 365
  description = "Days each version of a record is kept in its history, and a deleted record can be restored (0: kept forever)."

  validation {
    condition     = var.history_retention_days >= 0 && var.history_retention_days <= 36500
    error_message = "The history's retention is from 0 (forever) to 36500 days."
  }
}

variable "existing_table_indexes" {
  type        = bool
  default     = false
  description = "true when the existing table has the sort and search indexes of docs/access-patterns.md; without them, sorts other than by id are 400 (ignored when the module creates the table)."
}

variable "search_read_budget" {
  type        = number
  default     = 2000
  description = "Items a listing page may evaluate (read and filter) before it returns early with a cursor."

  validation {
    condition     = var.search_read_budget >= 100 && var.search_read_budget <= 100000
    error_message = "The read budget is from 100 to 100000 items."
  }
}

variable "partition_key_name" {
  type        = string
  default     = "email"
  description = "Attribute name of the table's partition key (String)."

  validation {
    condition     = length(var.partition_key_name) >= 1 && length(var.partition_key_name) <= 255
    error_message = "The partition key needs a name of 1 to 255 characters."
  }
}

variable "sort_key_name" {
  type        = string
  default     = "id"
  description = "Attribute name of the table's sort key (Number)."

  validation {
    condition     = length(var.sort_key_name) >= 1 && length(var.sort_key_name) <= 255
    error_message = "The sort key needs a name of 1 to 255 characters."
  }
}

variable "max_body_bytes" {
  type        = number
  default     = 65536
  description = "Largest request body the function accepts (413 above it); 4,000,000 at most (Lambda's 6 MB payload, base64 included)."

  validation {
    condition     = var.max_body_bytes >= 1024 && var.max_body_bytes <= 4000000
    error_message = "The body limit is from 1024 to 4000000 bytes."
  }
}

variable "require_if_match" {
  type        = bool
  default     = false
  description = "true makes every PUT, PATCH and DELETE carry If-Match with the record's ETag (428 otherwise)."
}

variable "log_level" {
  type        = string
  default     = "INFO"
  description = "Powertools log level of the functions."

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "The log level is one of DEBUG, INFO, WARNING, ERROR."
  }
}

variable "log_retention_in_days" {
  type        = number
  default     = 30
  description = "Days to keep the functions' logs, the state machines' logs and the API access logs."

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "The retention is one of the periods CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90 ... 3653 days)."
  }
}

variable "reserved_concurrency" {
  type        = number
  default     = -1
  description = "Reserved concurrent executions of the records function; -1 reserves none, 0 stops the function (an emergency brake)."

  validation {
    condition     = var.reserved_concurrency >= -1
    error_message = "The reserved concurrency is -1 (none) or more."
  }
}

variable "tracing_mode" {
  type        = string
  default     = "Disabled"
  description = "X-Ray tracing of the functions, the state machines and the API stage: Active or Disabled."

  validation {
    condition     = contains(["Active", "Disabled"], var.tracing_mode)
    error_message = "The tracing mode is Active or Disabled."
  }
}

variable "snap_start" {
  type        = bool
  default     = false
  description = "true turns on Lambda SnapStart for the versions the records function publishes (see docs/deploy.md)."
}

variable "throttling_rate_limit" {
  type        = number
  default     = 50
  description = "Steady-state requests per second allowed on the stage."

  validation {
    condition     = var.throttling_rate_limit >= 1
    error_message = "The rate limit is at least 1 request per second."
  }
}

variable "throttling_burst_limit" {
  type        = number
  default     = 100
  description = "Burst of requests allowed on the stage above the steady rate."

  validation {
    condition     = var.throttling_burst_limit >= 1
    error_message = "The burst limit is at least 1 request."
  }
}

variable "auth_mode" {
  type        = string
  default     = "cognito"
  description = "\"cognito\" (secure by default): every /records* request carries an ID token of the user pool; \"none\" serves the API open, without sign-in."

  validation {
    condition     = contains(["cognito", "none"], var.auth_mode)
    error_message = "The auth mode is cognito or none."
  }
}

variable "existing_user_pool_arn" {
  type        = string
  default     = ""
  description = "ARN of an existing Cognito user pool to sign in with instead of creating one (empty: create the pool); it must have an \"admin\" group."

  validation {
    condition     = can(regex("^$|^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/[a-z0-9-]+_[A-Za-z0-9]+$", var.existing_user_pool_arn))
    error_message = "Empty, or a Cognito user pool ARN."
  }
}

variable "advanced_security_mode" {
  type        = string
  default     = "OFF"
  description = "Cognito threat protection of the created pool: AUDIT or ENFORCED switch the pool to the Plus feature plan (billed per monthly active user); OFF keeps Essentials."

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.advanced_security_mode)
    error_message = "The advanced security mode is OFF, AUDIT or ENFORCED."
  }
}

variable "mfa_configuration" {
  type        = string
  default     = "OPTIONAL"
  description = "Multi-factor authentication of the created pool with an authenticator app (TOTP): OPTIONAL, ON or OFF."

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "The MFA configuration is OFF, OPTIONAL or ON."
  }
}

variable "api_key_required" {
  type        = bool
  default     = false
  description = "true requires an API key (header x-api-key) on every method, with a usage plan throttled like the stage."
}

variable "domain_name" {
  type        = string
  default     = ""
  description = "Custom domain for the API, e.g. api.example.com (empty: only the execute-api URL)."

  validation {
    condition     = can(regex("^$|^([a-z0-9][a-z0-9-]{0,62}\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "Empty, or a lower-case host name such as api.example.com (no trailing dot)."
  }
}

variable "hosted_zone_id" {
  type        = string
  default     = ""
  description = "Route 53 hosted zone of domain_name: validates the certificate by DNS and gets the alias A and AAAA records (empty: do both yourself at your DNS provider)."

  validation {
    condition     = can(regex("^$|^Z[A-Z0-9]{1,32}$", var.hosted_zone_id))
    error_message = "Empty, or a Route 53 hosted zone id (Z...)."
  }
}

variable "certificate_arn" {
  type        = string
  default     = ""
  description = "Existing ACM certificate (same region) for domain_name (empty: request one, validated by DNS)."

  validation {
    condition     = can(regex("^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$", var.certificate_arn))
    error_message = "Empty, or an ACM certificate ARN."
  }
}

variable "alarm_email" {
  type        = string
  default     = ""
  description = "E-mail address subscribed to the alarm topic (empty for no subscription)."

  validation {
    condition     = can(regex("^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "Empty, or an e-mail address."
  }
}

variable "api5xx_rate_percent" {
  type        = number
  default     = 5
  description = "Alarm when more than this percentage of API requests end in 5xx (over 5 minutes)."

  validation {
    condition     = var.api5xx_rate_percent >= 0 && var.api5xx_rate_percent <= 100
    error_message = "The 5xx rate is a percentage, from 0 to 100."
  }
}

variable "api_latency_p99_milliseconds" {
  type        = number
  default     = 3000
  description = "Alarm when the API's p99 latency stays above this for 15 minutes."

  validation {
    condition     = var.api_latency_p99_milliseconds >= 1
    error_message = "The latency threshold is at least 1 millisecond."
  }
}

variable "file_retention_days" {
  type        = number
  default     = 7
  description = "Days the files of imports and exports stay in the files bucket (job records expire after 30 days)."

  validation {
    condition     = var.file_retention_days >= 1 && var.file_retention_days <= 365
    error_message = "The file retention is from 1 to 365 days."
  }
}

variable "max_import_bytes" {
  type        = number
  default     = 1073741824
  description = "Largest file one import takes, in bytes (1 GiB by default; 5 GiB, S3's largest upload, at most). S3 refuses a bigger upload (the presigned POST's content-length-range) and the API a bigger request body, before any job starts."

  validation {
    condition     = var.max_import_bytes >= 1024 && var.max_import_bytes <= 5368709120
    error_message = "The import size limit is from 1024 to 5368709120 bytes."
  }
}

variable "max_import_rows" {
  type        = number
  default     = 10000000
  description = "Most rows one import takes; a file with more fails at its first step, before any row is written."

  validation {
    condition     = var.max_import_rows >= 1 && var.max_import_rows <= 10000000
    error_message = "The import row limit is from 1 to 10000000."
  }
}

variable "max_import_line_bytes" {
  type        = number
  default     = 65536
  description = "Longest line of an imported file, in bytes; a file with a longer line fails at its first step (a request body: refused by the API), before any row is written."

  validation {
    condition     = var.max_import_line_bytes >= 1024 && var.max_import_line_bytes <= 1048576
    error_message = "The line limit is from 1024 to 1048576 bytes."
  }
}

variable "import_concurrency" {
  type        = number
  default     = 10
  description = "Chunks of 1,000 rows an import writes at once (its Distributed Map's MaxConcurrency). An on-demand table takes about 4,000 writes a second at first; throttled writes are retried."

  validation {
    condition     = var.import_concurrency >= 1 && var.import_concurrency <= 1000
    error_message = "The import concurrency is from 1 to 1000."
  }
}

variable "import_tolerated_failure_percent" {
  type        = number
  default     = 0
  description = "Percentage of an import's chunks that may fail (after their retries) without failing the import; their rows are reported as not imported. 0: any failed chunk fails the import."

  validation {
    condition     = var.import_tolerated_failure_percent >= 0 && var.import_tolerated_failure_percent <= 100
    error_message = "The tolerated failure percentage is from 0 to 100."
  }
}

variable "export_segments" {
  type        = number
  default     = 8
  description = "Parallel Scan segments of an export of every record, each read by a child execution of the export's Distributed Map (an export of one owner's records is one Query)."

  validation {
    condition     = var.export_segments >= 1 && var.export_segments <= 1000
    error_message = "The export segments are from 1 to 1000."
  }
}

variable "enable_ui_hosting" {
  type        = bool
  default     = false
  description = "true also serves the UI's static files from a private S3 bucket through CloudFront (HTTPS), with the API as a second origin for /records*."
}
