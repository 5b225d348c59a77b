variable "name" {
  type        = string
  description = "Prefix of the names given (the distribution's comment, the origin access control)."
}

variable "short_name" {
  type        = string
  description = "Lower-case prefix of the bucket's name (at most 24 characters)."
}

variable "api_domain_name" {
  type        = string
  description = "Host name of the API origin: the custom domain, or the execute-api host."
}

variable "api_origin_path" {
  type        = string
  default     = null
  description = "Path of the API origin: the stage (\"/dev\") on the execute-api host, null on a custom domain."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of every resource that takes tags."
}
