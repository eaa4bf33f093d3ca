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
# Node groups
################################################################################

variable "kubernetes_version" {
  description = "Kubernetes minor version of the nodes, e.g. \"1.32\" (the control plane's)."
  type        = string
}

variable "node_groups" {
  description = "Managed node groups keyed by pool name (\"cpu\", \"gpu\"); see modules/nodegroups for the rules."
  type = map(object({
    instance_types = list(string)
    capacity_type  = string
    min_size       = number
    desired_size   = number
    max_size       = number
    disk_size_gib  = number
    labels         = map(string)
    taints = list(object({
      key    = string
      value  = string
      effect = string
    }))
    gpu = bool
  }))
}

variable "addon_versions" {
  description = "Pinned managed add-on versions keyed by add-on (the same map as the cluster stack's). This stack installs coredns, aws-efs-csi-driver and aws-ebs-csi-driver, after the node groups; the other keys are ignored."
  type        = map(string)

  validation {
    condition     = alltrue([for name in ["coredns", "aws-efs-csi-driver", "aws-ebs-csi-driver"] : contains(keys(var.addon_versions), name)])
    error_message = "addon_versions must have the keys coredns, aws-efs-csi-driver and aws-ebs-csi-driver."
  }
}

################################################################################
# Upstream outputs (network, iam and cluster stacks)
################################################################################

variable "private_subnet_ids" {
  description = "Private subnet IDs of the network stack (nodes)."
  type        = list(string)
}

variable "node_security_group_id" {
  description = "Node security group of the network stack."
  type        = string
}

variable "cpu_node_role_arn" {
  description = "IAM role of the CPU nodes, from the iam stack."
  type        = string
}

variable "gpu_node_role_arn" {
  description = "IAM role of the GPU nodes, from the iam stack."
  type        = string
}

variable "data_kms_key_arn" {
  description = "KMS key (iam stack) encrypting the nodes' EBS volumes."
  type        = string
}

variable "efs_csi_role_arn" {
  description = "IRSA role of the aws-efs-csi-driver add-on, from the cluster stack (efs_csi_role_arn output)."
  type        = string
}

variable "ebs_csi_role_arn" {
  description = "IRSA role of the aws-ebs-csi-driver add-on, from the cluster stack (ebs_csi_role_arn output)."
  type        = string
}
