variable "name" {
  description = "Name prefix of the module's resources (for example `mlplat-dev`); ECR repositories are created as `<name>/<repository>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}$", var.name))
    error_message = "name must be 2 to 39 lowercase letters, digits and hyphens, starting with a letter (it is part of ECR repository names)."
  }
}

variable "vpc_id" {
  description = "ID of the VPC that holds the private subnets; every subnet in private_subnet_ids is checked to belong to it."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "private_subnet_ids" {
  description = "IDs of the private subnets to create an EFS mount target in (one per availability zone)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "private_subnet_ids must hold at least one subnet ID (subnet-...)."
  }
}

variable "efs_security_group_id" {
  description = "ID of the security group attached to the EFS mount targets (NFS from the node security group only)."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.efs_security_group_id))
    error_message = "efs_security_group_id must be a security group ID (sg-...)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts EFS, the S3 bucket and the ECR repositories."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "model_bucket_name" {
  description = "Name of the S3 bucket for models (under model_prefix) and Loki log chunks (under log_prefix)."
  type        = string

  validation {
    condition = (
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.model_bucket_name))
      && !can(regex("\\.\\.|\\.-|-\\.", var.model_bucket_name))
      && !can(regex("^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.model_bucket_name))
      && !startswith(var.model_bucket_name, "xn--")
      && !startswith(var.model_bucket_name, "sthree-")
      && !endswith(var.model_bucket_name, "-s3alias")
      && !endswith(var.model_bucket_name, "--ol-s3")
    )
    error_message = "model_bucket_name must be a valid S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, no adjacent dots, not an IP address, no reserved prefix or suffix."
  }
}

variable "model_prefix" {
  description = "Key prefix of the model repository inside the bucket (read by Triton)."
  type        = string
  default     = "models/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.model_prefix))
    error_message = "model_prefix must be a relative key prefix ending in a slash, such as models/."
  }
}

variable "log_prefix" {
  description = "Key prefix of the Loki chunks and index inside the bucket (read and written by Loki)."
  type        = string
  default     = "loki/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.log_prefix))
    error_message = "log_prefix must be a relative key prefix ending in a slash, such as loki/."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions in the bucket are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Allow destroying the S3 bucket and the ECR repositories while they still hold objects or images."
  type        = bool
  default     = false
}

variable "efs_throughput_mode" {
  description = "EFS throughput mode: `elastic` (pay per use, suits bursty model loading), `bursting` or `provisioned`."
  type        = string
  default     = "elastic"

  validation {
    condition     = contains(["elastic", "bursting", "provisioned"], var.efs_throughput_mode)
    error_message = "efs_throughput_mode must be elastic, bursting or provisioned."
  }
}

variable "efs_provisioned_throughput_in_mibps" {
  description = "Provisioned throughput in MiB/s; only used when efs_throughput_mode is `provisioned`."
  type        = number
  default     = null
}

variable "efs_transition_to_ia" {
  description = "When EFS moves files that were not accessed to Infrequent Access (for example AFTER_30_DAYS)."
  type        = string
  default     = "AFTER_30_DAYS"

  validation {
    condition     = contains(["AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS", "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS"], var.efs_transition_to_ia)
    error_message = "efs_transition_to_ia must be one of AFTER_1_DAY, AFTER_7_DAYS, AFTER_14_DAYS, AFTER_30_DAYS, AFTER_60_DAYS, AFTER_90_DAYS, AFTER_180_DAYS, AFTER_270_DAYS, AFTER_365_DAYS."
  }
}

variable "model_cache_path" {
  description = "Root directory of the model cache access point on EFS."
  type        = string
  default     = "/model-cache"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._/-]+$", var.model_cache_path)) && !endswith(var.model_cache_path, "/")
    error_message = "model_cache_path must be an absolute path without a trailing slash."
  }
}

variable "model_cache_uid" {
  description = "POSIX user ID that owns the model cache and that every NFS operation through the access point runs as."
  type        = number
  default     = 1000
}

variable "model_cache_gid" {
  description = "POSIX group ID that owns the model cache and that every NFS operation through the access point runs as."
  type        = number
  default     = 1000
}

variable "ecr_repositories" {
  description = "Names of the ECR repositories to create (created as `<name>/<repository>`)."
  type        = list(string)
  default     = ["triton-models"]

  validation {
    condition     = length(distinct(var.ecr_repositories)) == length(var.ecr_repositories) && alltrue([for r in var.ecr_repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", r))])
    error_message = "ecr_repositories must be distinct, valid ECR repository names (lowercase letters, digits, ., _, - and /)."
  }
}

variable "ecr_untagged_image_expiration_days" {
  description = "Days after which untagged images are removed from the ECR repositories."
  type        = number
  default     = 14

  validation {
    condition     = var.ecr_untagged_image_expiration_days >= 1
    error_message = "ecr_untagged_image_expiration_days must be at least 1."
  }
}

variable "ecr_max_image_count" {
  description = "Number of most recent images each ECR repository keeps; older ones are expired."
  type        = number
  default     = 100

  validation {
    condition     = var.ecr_max_image_count >= 1
    error_message = "ecr_max_image_count must be at least 1."
  }
}

variable "tags" {
  description = "Tags merged onto every resource of the module (the stacks also set them as provider default tags)."
  type        = map(string)
  default     = {}
}
