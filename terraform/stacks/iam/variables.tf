################################################################################
# Common to every stack
################################################################################

variable "env" {
  description = "Environment name (for example `dev`, `prod`); prefixes resource names as `mlplat-<env>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.env))
    error_message = "env must match ^[a-z][a-z0-9-]{1,20}$."
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster of this environment."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be 1 to 100 characters: letters, digits, hyphens and underscores, starting with a letter or digit."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "tags" {
  description = "Extra tags for every resource; `mlplat:env` and `mlplat:cluster` are added by the stack."
  type        = map(string)
  default     = {}
}
