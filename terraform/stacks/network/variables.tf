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
# Network
################################################################################

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets, one per availability zone; the number of entries (2 to 6) sets how many AZs are used."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_cidrs) >= 2 && length(var.private_subnet_cidrs) <= 6
    error_message = "private_subnet_cidrs must hold 2 to 6 CIDR blocks (one per availability zone)."
  }
}

variable "public_subnet_cidrs" {
  description = "CIDR blocks of the public subnets, one per availability zone; must have as many entries as private_subnet_cidrs."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_cidrs) == length(var.private_subnet_cidrs)
    error_message = "public_subnet_cidrs must have as many entries as private_subnet_cidrs."
  }
}

variable "single_nat_gateway" {
  description = "Use one shared NAT gateway instead of one per availability zone."
  type        = bool
}
