variable "name" {
  description = "Name of the IAM role."
  type        = string

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.name))
    error_message = "name must be a valid IAM role name (1 to 64 characters of letters, digits and +=,.@_-)."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the IAM OIDC identity provider of the EKS cluster (`arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>`)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "oidc_issuer_url" {
  description = "Issuer URL of the cluster's OIDC provider, with or without the `https://` scheme."
  type        = string

  validation {
    condition     = can(regex("^(https://)?[a-zA-Z0-9.-]+(/[^\\s]*)?$", var.oidc_issuer_url))
    error_message = "oidc_issuer_url must be an https URL or a host/path such as oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE."
  }
}

variable "service_accounts" {
  description = "Kubernetes service accounts allowed to assume the role, as `namespace:serviceaccount` strings."
  type        = list(string)

  validation {
    condition     = length(var.service_accounts) > 0
    error_message = "service_accounts must name at least one namespace:serviceaccount."
  }

  validation {
    condition     = alltrue([for s in var.service_accounts : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$", s))])
    error_message = "Every service_accounts entry must be namespace:serviceaccount with valid Kubernetes names (no wildcards)."
  }
}

variable "policy_arns" {
  description = "Managed IAM policy ARNs to attach, keyed by a static name (static keys keep for_each plannable when an ARN is only known after apply)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for a in values(var.policy_arns) : a == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", a))])
    error_message = "Every policy_arns value must be an IAM policy ARN."
  }
}

variable "inline_policies" {
  description = "Inline IAM policy documents (JSON strings) to put on the role, keyed by policy name."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.inline_policies) : can(regex("^[\\w+=,.@-]{1,128}$", k))])
    error_message = "inline_policies keys must be valid IAM policy names."
  }
}

variable "description" {
  description = "Description of the IAM role."
  type        = string
  default     = null
}

variable "path" {
  description = "IAM path of the role."
  type        = string
  default     = "/"
}

variable "max_session_duration" {
  description = "Maximum session duration of the role, in seconds (3600 to 43200)."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of an IAM policy to set as permissions boundary on the role; null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of the IAM role."
  type        = map(string)
  default     = {}
}
