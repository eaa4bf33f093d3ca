variable "name" {
  description = "Name prefix (for example `mlplat-dev`): KMS aliases become `alias/<name>-eks` and `alias/<name>-data`, secrets `<name>/...`."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,38}$", var.name))
    error_message = "name must start with a letter, contain only letters, digits and hyphens, and be 2 to 39 characters long."
  }
}

variable "key_administrator_arns" {
  description = "IAM principal ARNs allowed to administer (not use) both KMS keys, in addition to the account root that the key policies always trust."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.key_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:.+$", a))])
    error_message = "Every key_administrator_arns entry must be an IAM principal ARN."
  }
}

variable "eks_key_user_arns" {
  description = "IAM role ARNs allowed to use the EKS secrets encryption key (the EKS cluster role)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.eks_key_user_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:.+$", a))])
    error_message = "Every eks_key_user_arns entry must be an IAM principal ARN."
  }
}

variable "data_key_user_arns" {
  description = "IAM principal ARNs allowed to use the data key directly (outside of the AWS services listed in data_key_via_services)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.data_key_user_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:.+$", a))])
    error_message = "Every data_key_user_arns entry must be an IAM principal ARN."
  }
}

variable "data_key_via_services" {
  description = "AWS services (endpoint prefixes) through which any principal of the account may use the data key, subject to its own IAM permissions."
  type        = list(string)
  default     = ["ec2", "elasticfilesystem", "s3", "ecr", "secretsmanager"]

  validation {
    condition     = alltrue([for s in var.data_key_via_services : can(regex("^[a-z0-9-]+$", s))])
    error_message = "data_key_via_services entries must be service endpoint prefixes such as ec2 or s3."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before a destroyed KMS key is deleted, in days (7 to 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "recovery_window_in_days" {
  description = "Days Secrets Manager keeps a deleted secret recoverable: 0 deletes at once, otherwise 7 to 30."
  type        = number
  default     = 7

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "alertmanager_secret_version" {
  description = "Version of the placeholder Alertmanager receivers value; increase it to overwrite the secret with the placeholder again. Real receiver credentials are put into the secret out of band."
  type        = number
  default     = 1

  validation {
    condition     = var.alertmanager_secret_version >= 1 && floor(var.alertmanager_secret_version) == var.alertmanager_secret_version
    error_message = "alertmanager_secret_version must be a positive integer."
  }
}

variable "tags" {
  description = "Tags merged onto every resource of the module (the stacks also set them as provider default tags)."
  type        = map(string)
  default     = {}
}
