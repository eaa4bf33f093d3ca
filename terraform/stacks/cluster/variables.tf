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
# Cluster
################################################################################

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane, e.g. \"1.32\"."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like \"1.32\" (major.minor)."
  }
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API endpoint publicly (restricted to public_access_cidrs)."
  type        = bool
}

variable "endpoint_private_access" {
  description = "Expose the Kubernetes API endpoint inside the VPC."
  type        = bool
}

variable "public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public API endpoint."
  type        = list(string)
}

variable "enabled_log_types" {
  description = "Control-plane log types sent to CloudWatch Logs: a subset of api, audit, authenticator, controllerManager, scheduler."
  type        = list(string)

  validation {
    condition     = alltrue([for t in var.enabled_log_types : contains(["api", "audit", "authenticator", "controllerManager", "scheduler"], t)])
    error_message = "enabled_log_types may contain only api, audit, authenticator, controllerManager and scheduler."
  }
}

variable "authentication_mode" {
  description = "EKS authentication mode: API (access entries only) or API_AND_CONFIG_MAP."
  type        = string

  validation {
    condition     = contains(["API", "API_AND_CONFIG_MAP"], var.authentication_mode)
    error_message = "authentication_mode must be API or API_AND_CONFIG_MAP."
  }
}

variable "admin_role_arns" {
  description = "IAM role ARNs given cluster-admin access entries besides the identity that creates the cluster."
  type        = list(string)
  default     = []
}

variable "addon_versions" {
  description = "Pinned managed add-on versions keyed by add-on: vpc-cni, coredns, kube-proxy, eks-pod-identity-agent, aws-efs-csi-driver, aws-ebs-csi-driver. This stack installs vpc-cni, kube-proxy and eks-pod-identity-agent; the nodegroups stack installs coredns and the EFS and EBS CSI drivers after the nodes."
  type        = map(string)
}

variable "vpc_cni_enable_network_policy" {
  description = "Enable NetworkPolicy enforcement in the VPC CNI add-on."
  type        = bool
  default     = true
}

variable "vpc_cni_enable_prefix_delegation" {
  description = "Enable /28 prefix delegation in the VPC CNI add-on."
  type        = bool
  default     = false
}

variable "cloudwatch_log_kms_key_arn" {
  description = "Optional KMS key (the iam stack's data_kms_key_arn, whose policy admits CloudWatch Logs and EC2) encrypting the control-plane log group; the EBS CSI driver's role may also use it, for the volumes of the gp3 StorageClass (kmsKeyId = the data key). Null keeps CloudWatch-managed log encryption and gives the EBS CSI role no KMS permission."
  type        = string
  default     = null
}

################################################################################
# Upstream outputs (network and iam stacks)
################################################################################

variable "private_subnet_ids" {
  description = "Private subnet IDs of the network stack (control-plane ENIs)."
  type        = list(string)
}

variable "cluster_security_group_id" {
  description = "Cluster security group of the network stack, attached to the control-plane ENIs."
  type        = string
}

variable "cluster_role_arn" {
  description = "IAM role of the EKS control plane, from the iam stack."
  type        = string
}

variable "eks_kms_key_arn" {
  description = "KMS key (iam stack, rotation enabled there) for envelope encryption of Kubernetes secrets."
  type        = string
}
