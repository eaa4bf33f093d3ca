variable "name" {
  description = "Name prefix of the Secrets Manager secret (a unique suffix is appended)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.name))
    error_message = "name must be 1 to 512 characters of letters, digits and /_+=.@-."
  }
}

variable "description" {
  description = "Description of the secret."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "recovery_window_in_days" {
  description = "Days Secrets Manager keeps the deleted secret recoverable: 0 deletes at once, otherwise 7 to 30."
  type        = number
  default     = 7

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "password_key" {
  description = "JSON key under which the generated password is stored."
  type        = string
  default     = "password"

  validation {
    condition     = length(var.password_key) > 0
    error_message = "password_key must not be empty."
  }
}

variable "static_fields" {
  description = "Non-secret JSON fields stored next to the password (for example a user name)."
  type        = map(string)
  default     = {}
}

variable "password_length" {
  description = "Length of the generated password."
  type        = number
  default     = 32

  validation {
    condition     = var.password_length >= 16 && var.password_length <= 4096
    error_message = "password_length must be between 16 and 4096."
  }
}

variable "exclude_punctuation" {
  description = "Leave punctuation out of the generated password (letters and digits only), for consumers that mishandle special characters."
  type        = bool
  default     = true
}

variable "value_version" {
  description = "Version of the generated value; increase it to have AWS generate and store a new password."
  type        = number
  default     = 1

  validation {
    condition     = var.value_version >= 1 && floor(var.value_version) == var.value_version
    error_message = "value_version must be a positive integer."
  }
}

variable "tags" {
  description = "Tags of the secret."
  type        = map(string)
  default     = {}
}
