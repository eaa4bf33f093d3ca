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
################################################################################
# Inputs from the network, iam and cluster stacks
################################################################################

variable "vpc_id" {
  description = "ID of the VPC (network stack output `vpc_id`)."
  type        = string
}

variable "private_subnet_ids" {
  description = "IDs of the private subnets for the EFS mount targets (network stack output `private_subnet_ids`)."
  type        = list(string)
}

variable "efs_security_group_id" {
  description = "ID of the EFS security group (network stack output `efs_security_group_id`)."
  type        = string
}

variable "data_kms_key_arn" {
  description = "ARN of the data KMS key (iam stack output `data_kms_key_arn`)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (cluster stack output), trusted by the IRSA roles."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "oidc_issuer_url" {
  description = "Issuer URL of the cluster's OIDC provider (https://oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string

  validation {
    condition     = startswith(var.oidc_issuer_url, "https://")
    error_message = "oidc_issuer_url must be an https:// URL."
  }
}

################################################################################
# Storage
################################################################################

variable "model_bucket_name" {
  description = "Name of the S3 bucket for models (under model_prefix) and Loki data (under `loki/`); globally unique."
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
  description = "Key prefix of the Triton model repository inside the bucket."
  type        = string
  default     = "models/"
}

variable "ecr_repositories" {
  description = "ECR repositories to create, as short names; created as `mlplat-<env>/<name>`."
  type        = list(string)
  default     = ["triton-models"]
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket and the ECR repositories even when they hold objects or images."
  type        = bool
  default     = false
}
