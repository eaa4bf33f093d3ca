variable "cluster_name" {
  description = "Name of the EKS cluster the node groups join."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be 1 to 100 characters: letters, digits, hyphens and underscores, starting with a letter or digit."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the nodes (must match or trail the control plane), e.g. \"1.32\"."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like \"1.32\" (major.minor)."
  }
}

variable "subnet_ids" {
  description = "Private subnet IDs the nodes are launched in."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least one subnet ID (subnet-...)."
  }
}

variable "node_security_group_id" {
  description = "Security group attached to every node through the launch template."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]+$", var.node_security_group_id))
    error_message = "node_security_group_id must be a security group ID (sg-...)."
  }
}

variable "cpu_node_role_arn" {
  description = "IAM role ARN of the nodes of groups with gpu = false."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.cpu_node_role_arn))
    error_message = "cpu_node_role_arn must be an IAM role ARN."
  }
}

variable "gpu_node_role_arn" {
  description = "IAM role ARN of the nodes of groups with gpu = true."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.gpu_node_role_arn))
    error_message = "gpu_node_role_arn must be an IAM role ARN."
  }
}

variable "data_kms_key_arn" {
  description = "KMS key ARN encrypting the nodes' root EBS volumes. Its key policy must let the EC2 Auto Scaling service-linked role use it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.data_kms_key_arn))
    error_message = "data_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "node_groups" {
  description = <<-EOT
    Managed node groups keyed by a short pool name ("cpu", "gpu"). gpu = true selects the
    AL2023 NVIDIA AMI and the GPU node role, and requires NVIDIA GPU instance families.
    Taint effects use Kubernetes spelling (NoSchedule, PreferNoSchedule, NoExecute).
  EOT
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

  validation {
    condition     = length(var.node_groups) > 0 && alltrue([for k in keys(var.node_groups) : can(regex("^[a-z][a-z0-9-]{0,11}$", k))])
    error_message = "node_groups needs at least one entry; keys are short pool names ([a-z][a-z0-9-], max 12 characters)."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : length(g.instance_types) > 0 && alltrue([for t in g.instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])])
    error_message = "Each node group needs at least one EC2 instance type written family.size (e.g. m5.large)."
  }

  validation {
    condition = alltrue([
      for g in values(var.node_groups) : !g.gpu || alltrue([
        for t in g.instance_types : contains(
          ["g4dn", "g5", "g6", "g6e", "gr6", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en"],
          split(".", t)[0]
        )
      ])
    ])
    error_message = "A node group with gpu = true may only use NVIDIA GPU instance families: g4dn, g5, g6, g6e, gr6, p3, p3dn, p4d, p4de, p5, p5e, p5en."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : contains(["ON_DEMAND", "SPOT"], g.capacity_type)])
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.min_size >= 0 && g.max_size >= 1 && g.min_size <= g.desired_size && g.desired_size <= g.max_size])
    error_message = "Each node group must satisfy 0 <= min_size <= desired_size <= max_size and max_size >= 1."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.disk_size_gib >= 20 && g.disk_size_gib <= 16384 && floor(g.disk_size_gib) == g.disk_size_gib])
    error_message = "disk_size_gib must be a whole number between 20 and 16384."
  }

  validation {
    condition = alltrue(flatten([
      for g in values(var.node_groups) : [
        for t in g.taints : contains(["NoSchedule", "PreferNoSchedule", "NoExecute"], t.effect)
      ]
    ]))
    error_message = "Taint effects must be NoSchedule, PreferNoSchedule or NoExecute."
  }
}

variable "addon_versions" {
  description = "Pinned versions of the managed add-ons, keyed by add-on name (the environment's full map is fine). This module installs coredns, aws-efs-csi-driver and aws-ebs-csi-driver, after the node groups; the other keys are ignored (modules/eks installs those)."
  type        = map(string)

  validation {
    condition     = alltrue([for name in ["coredns", "aws-efs-csi-driver", "aws-ebs-csi-driver"] : contains(keys(var.addon_versions), name)])
    error_message = "addon_versions must have the keys coredns, aws-efs-csi-driver and aws-ebs-csi-driver."
  }

  validation {
    condition     = alltrue([for name, version in var.addon_versions : can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", version)) if contains(["coredns", "aws-efs-csi-driver", "aws-ebs-csi-driver"], name)])
    error_message = "The coredns, aws-efs-csi-driver and aws-ebs-csi-driver versions must be EKS add-on versions such as v1.11.4-eksbuild.2."
  }
}

variable "efs_csi_role_arn" {
  description = "IRSA role ARN of the aws-efs-csi-driver add-on (AmazonEFSCSIDriverPolicy); modules/eks creates it (efs_csi_role_arn output)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.efs_csi_role_arn))
    error_message = "efs_csi_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "ebs_csi_role_arn" {
  description = "IRSA role ARN of the aws-ebs-csi-driver add-on (AmazonEBSCSIDriverPolicy, use of the data key); modules/eks creates it (ebs_csi_role_arn output)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.ebs_csi_role_arn))
    error_message = "ebs_csi_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "max_unavailable_percentage" {
  description = "Share of the nodes of a group that a rolling update may replace at once, in percent."
  type        = number
  default     = 33

  validation {
    condition     = var.max_unavailable_percentage >= 1 && var.max_unavailable_percentage <= 100
    error_message = "max_unavailable_percentage must be between 1 and 100."
  }
}

variable "tags" {
  description = "Tags merged onto every taggable resource, and propagated to instances, volumes and network interfaces through the launch templates."
  type        = map(string)
  default     = {}
}
