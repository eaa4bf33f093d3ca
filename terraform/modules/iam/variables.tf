variable "name" {
  description = "Name prefix of the IAM roles (for example `mlplat-dev`); roles are named `<name>-eks-cluster` and `<name>-<node role>-node`."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,38}$", var.name))
    error_message = "name must start with a letter, contain only letters, digits and hyphens, and be 2 to 39 characters long."
  }
}

variable "node_roles" {
  description = "Keys of the worker node roles to create, one per node group class (for example `cpu` and `gpu`)."
  type        = set(string)
  default     = ["cpu", "gpu"]

  validation {
    condition     = length(var.node_roles) > 0 && alltrue([for r in var.node_roles : can(regex("^[a-z][a-z0-9-]{0,15}$", r))])
    error_message = "node_roles must hold at least one key, each 1 to 16 lowercase letters, digits or hyphens starting with a letter."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of an IAM policy to set as permissions boundary on every role; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be null or an IAM policy ARN."
  }
}

variable "path" {
  description = "IAM path of the roles."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([\\x21-\\x7E]+/)?$", var.path))
    error_message = "path must start and end with a slash."
  }
}

variable "tags" {
  description = "Tags merged onto every resource of the module (the stacks also set them as provider default tags)."
  type        = map(string)
  default     = {}
}
