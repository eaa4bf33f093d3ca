variable "name" {
  description = "Name prefix for every resource of the module (for example `mlplat-dev`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,38}$", var.name))
    error_message = "name must start with a letter, contain only letters, digits and hyphens, and be 2 to 39 characters long."
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster that will use this VPC; used for the `kubernetes.io/cluster/<name>` discovery tag on subnets and security groups."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be a valid EKS cluster name: 1 to 100 characters, letters, digits, hyphens and underscores, starting with a letter or digit."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC (a /16 to /24 network)."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24, false)
    error_message = "vpc_cidr must be a valid IPv4 CIDR block with a prefix length between /16 and /24."
  }
}

variable "azs" {
  description = "Availability zone names to spread the subnets over, in order; subnet `i` of each list goes to `azs[i]`."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 6 && length(distinct(var.azs)) == length(var.azs)
    error_message = "azs must hold 2 to 6 distinct availability zone names."
  }
}

variable "private_subnet_cidrs" {
  description = "IPv4 CIDR blocks of the private subnets (worker nodes, internal load balancers, EFS mount targets), one per availability zone."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.private_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "Every entry of private_subnet_cidrs must be a valid IPv4 CIDR block."
  }

  validation {
    condition     = length(var.private_subnet_cidrs) == length(var.azs)
    error_message = "private_subnet_cidrs must have exactly one entry per availability zone in azs."
  }
}

variable "public_subnet_cidrs" {
  description = "IPv4 CIDR blocks of the public subnets (NAT gateways, internet-facing load balancers), one per availability zone."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.public_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "Every entry of public_subnet_cidrs must be a valid IPv4 CIDR block."
  }

  validation {
    condition     = length(var.public_subnet_cidrs) == length(var.azs)
    error_message = "public_subnet_cidrs must have exactly one entry per availability zone in azs."
  }
}

variable "single_nat_gateway" {
  description = "Create one shared NAT gateway (cheaper, single-AZ egress) instead of one NAT gateway per availability zone (highly available)."
  type        = bool
  default     = false
}

variable "s3_endpoint_allowed_actions" {
  description = "S3 actions allowed through the S3 gateway endpoint (object-level access; bucket administration is not done from inside the VPC)."
  type        = list(string)
  default = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
    "s3:GetBucketLocation",
  ]

  validation {
    condition     = length(var.s3_endpoint_allowed_actions) > 0 && alltrue([for a in var.s3_endpoint_allowed_actions : can(regex("^s3:[A-Za-z*]+$", a)) && a != "s3:*"])
    error_message = "s3_endpoint_allowed_actions must list S3 actions (s3:...), not s3:*."
  }
}

variable "flow_log_retention_in_days" {
  description = "Retention of the VPC flow log CloudWatch log group, in days; 0 keeps logs forever."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_in_days)
    error_message = "flow_log_retention_in_days must be one of the values CloudWatch Logs accepts (0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "flow_log_kms_key_arn" {
  description = "ARN of an existing KMS key to encrypt the VPC flow log group with; null creates a dedicated key (the platform's data key only exists after the iam phase). The key policy must allow the CloudWatch Logs service principal."
  type        = string
  default     = null

  validation {
    condition     = var.flow_log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.flow_log_kms_key_arn))
    error_message = "flow_log_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags merged onto every resource of the module (the stacks also set them as provider default tags)."
  type        = map(string)
  default     = {}
}
