variable "cluster_name" {
  description = "Name of the EKS cluster. Also names the control-plane log group and the IRSA roles."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be 1 to 100 characters: letters, digits, hyphens and underscores, starting with a letter or digit."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane, e.g. \"1.32\"."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like \"1.32\" (major.minor)."
  }
}

variable "cluster_role_arn" {
  description = "ARN of the IAM role the EKS control plane assumes (AmazonEKSClusterPolicy attached)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.cluster_role_arn))
    error_message = "cluster_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "subnet_ids" {
  description = "Private subnet IDs for the control-plane ENIs, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least two subnet IDs (subnet-...) in different availability zones."
  }
}

variable "security_group_ids" {
  description = "Additional security groups attached to the control-plane ENIs (the cluster security group of the network stack)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "security_group_ids must contain security group IDs (sg-...)."
  }
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API endpoint is reachable from the internet (restricted by public_access_cidrs)."
  type        = bool
}

variable "endpoint_private_access" {
  description = "Whether the Kubernetes API endpoint is reachable from inside the VPC. Nodes use it when public access is off."
  type        = bool
}

variable "public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public API endpoint."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.public_access_cidrs) > 0 && alltrue([for c in var.public_access_cidrs : can(cidrhost(c, 0)) && can(regex("^[0-9.]+/[0-9]+$", c))])
    error_message = "public_access_cidrs must be a non-empty list of IPv4 CIDR blocks."
  }
}

variable "enabled_log_types" {
  description = "Control-plane log types sent to CloudWatch Logs."
  type        = list(string)
  default     = ["api", "audit", "authenticator"]

  validation {
    condition     = alltrue([for t in var.enabled_log_types : contains(["api", "audit", "authenticator", "controllerManager", "scheduler"], t)])
    error_message = "enabled_log_types may contain only api, audit, authenticator, controllerManager and scheduler."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the control-plane log group /aws/eks/<cluster_name>/cluster, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a retention period CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "log_kms_key_arn" {
  description = "Optional KMS key ARN encrypting the control-plane log group. Its key policy must allow logs.<region>.amazonaws.com. Null: CloudWatch-managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "authentication_mode" {
  description = "How the cluster authenticates IAM principals: API (access entries only) or API_AND_CONFIG_MAP (access entries and the aws-auth ConfigMap)."
  type        = string
  default     = "API"

  validation {
    condition     = contains(["API", "API_AND_CONFIG_MAP"], var.authentication_mode)
    error_message = "authentication_mode must be API or API_AND_CONFIG_MAP."
  }
}

variable "admin_role_arns" {
  description = "IAM role ARNs given a cluster-admin access entry (AmazonEKSClusterAdminPolicy, cluster scope) besides the creator. The identity running Terraform is skipped: EKS already bootstraps it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "admin_role_arns must contain IAM role ARNs (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "secrets_kms_key_arn" {
  description = "ARN of the customer-managed KMS key used for envelope encryption of Kubernetes secrets. Key rotation is managed where the key is created."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "addon_versions" {
  description = "Pinned versions of the managed add-ons, keyed by add-on name. This module installs vpc-cni, kube-proxy and eks-pod-identity-agent (required keys); coredns, aws-efs-csi-driver and aws-ebs-csi-driver may be present (the environment's full map) and are installed after the nodes by modules/nodegroups."
  type        = map(string)

  validation {
    condition = (
      length(setsubtract(["vpc-cni", "kube-proxy", "eks-pod-identity-agent"], keys(var.addon_versions))) == 0 &&
      length(setsubtract(keys(var.addon_versions), ["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-efs-csi-driver", "aws-ebs-csi-driver"])) == 0
    )
    error_message = "addon_versions must have the keys vpc-cni, kube-proxy and eks-pod-identity-agent, and may only add coredns, aws-efs-csi-driver and aws-ebs-csi-driver (installed by modules/nodegroups)."
  }

  validation {
    condition     = alltrue([for v in values(var.addon_versions) : can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", v))])
    error_message = "Each add-on version must be an EKS add-on version such as v1.19.2-eksbuild.1."
  }
}

variable "ebs_csi_kms_key_arns" {
  description = "Customer-managed KMS keys the EBS CSI driver may encrypt volumes with (a StorageClass's kmsKeyId; mlplat's gp3 class uses the iam stack's data key). Its role gets an inline policy for them: grants for AWS resources, and encrypt/decrypt/data-key use. Empty: no KMS permission (enough for the AWS managed aws/ebs key)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.ebs_csi_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "ebs_csi_kms_key_arns must contain KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>), not aliases or key ids."
  }
}

variable "vpc_cni_enable_network_policy" {
  description = "Enable Kubernetes NetworkPolicy enforcement in the VPC CNI add-on."
  type        = bool
  default     = true
}

variable "vpc_cni_enable_prefix_delegation" {
  description = "Assign /28 IPv4 prefixes to node ENIs (higher pod density) in the VPC CNI add-on."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags merged onto every taggable resource of the module."
  type        = map(string)
  default     = {}
}
