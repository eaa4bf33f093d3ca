data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  dns_suffix = data.aws_partition.current.dns_suffix

  account_root_arn = "arn:${local.partition}:iam::${local.account_id}:root"

  key_usage_actions = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
  ]

  key_grant_actions = [
    "kms:CreateGrant",
    "kms:ListGrants",
    "kms:RevokeGrant",
  ]

  key_admin_actions = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
  ]

  # Without this statement the key would be unmanageable: it delegates access
  # control to IAM policies of the account (the AWS default key policy).
  root_statement = {
    Sid       = "EnableAccountRootAdministration"
    Effect    = "Allow"
    Principal = { AWS = local.account_root_arn }
    Action    = "kms:*"
    Resource  = "*"
  }

  admin_statements = [for s in [{
    Sid       = "KeyAdministration"
    Effect    = "Allow"
    Principal = { AWS = var.key_administrator_arns }
    Action    = local.key_admin_actions
    Resource  = "*"
  }] : s if length(var.key_administrator_arns) > 0]

  eks_key_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [local.root_statement],
      local.admin_statements,
      [for s in [
        {
          Sid       = "EKSSecretsEncryption"
          Effect    = "Allow"
          Principal = { AWS = var.eks_key_user_arns }
          Action    = local.key_usage_actions
          Resource  = "*"
        },
        {
          Sid       = "EKSGrantsForAWSResources"
          Effect    = "Allow"
          Principal = { AWS = var.eks_key_user_arns }
          Action    = local.key_grant_actions
          Resource  = "*"
          Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
        },
      ] : s if length(var.eks_key_user_arns) > 0],
    )
  }

  via_services = [for s in var.data_key_via_services : "${s}.${local.region}.${local.dns_suffix}"]

  data_key_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [local.root_statement],
      local.admin_statements,
      [
        # Same shape as the AWS managed aws/ebs key: principals of this
        # account (service-linked roles such as Auto Scaling's included) may
        # use the key only through the listed services, and still need their
        # own IAM permission for the service call.
        {
          Sid       = "AllowUseThroughAWSServices"
          Effect    = "Allow"
          Principal = { AWS = "*" }
          Action    = local.key_usage_actions
          Resource  = "*"
          Condition = {
            StringEquals = {
              "kms:CallerAccount" = local.account_id
              "kms:ViaService"    = local.via_services
            }
          }
        },
        {
          Sid       = "AllowGrantsThroughAWSServices"
          Effect    = "Allow"
          Principal = { AWS = "*" }
          Action    = local.key_grant_actions
          Resource  = "*"
          Condition = {
            StringEquals = {
              "kms:CallerAccount" = local.account_id
              "kms:ViaService"    = local.via_services
            }
            Bool = { "kms:GrantIsForAWSResource" = "true" }
          }
        },
        {
          Sid       = "AllowCloudWatchLogsOfThisAccount"
          Effect    = "Allow"
          Principal = { Service = "logs.${local.region}.${local.dns_suffix}" }
          Action = [
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
          ]
          Resource = "*"
          Condition = {
            ArnLike = {
              "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
            }
          }
        },
      ],
      [for s in [{
        Sid       = "DirectKeyUsage"
        Effect    = "Allow"
        Principal = { AWS = var.data_key_user_arns }
        Action    = local.key_usage_actions
        Resource  = "*"
      }] : s if length(var.data_key_user_arns) > 0],
    )
  }
}

################################################################################
# KMS: EKS secrets envelope encryption
################################################################################

resource "aws_kms_key" "eks" {
  description             = "${var.name}: EKS Kubernetes secrets envelope encryption"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = jsonencode(local.eks_key_policy)

  tags = merge(var.tags, { Name = "${var.name}-eks" })
}

resource "aws_kms_alias" "eks" {
  name          = "alias/${var.name}-eks"
  target_key_id = aws_kms_key.eks.key_id
}

################################################################################
# KMS: data at rest (EBS, EFS, S3, ECR, Secrets Manager, CloudWatch Logs)
################################################################################

resource "aws_kms_key" "data" {
  description             = "${var.name}: platform data at rest (EBS, EFS, S3, ECR, Secrets Manager, CloudWatch Logs)"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = jsonencode(local.data_key_policy)

  tags = merge(var.tags, { Name = "${var.name}-data" })
}

resource "aws_kms_alias" "data" {
  name          = "alias/${var.name}-data"
  target_key_id = aws_kms_key.data.key_id
}

################################################################################
# Secrets Manager: Alertmanager receivers
################################################################################

resource "aws_secretsmanager_secret" "alertmanager" {
  # unique suffix: see the generated-secret module (recovery window vs. the next `up`)
  name_prefix             = "${var.name}/alertmanager/receivers-"
  description             = "Alertmanager receiver credentials of ${var.name} (Slack webhook, PagerDuty routing key)"
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.recovery_window_in_days

  tags = merge(var.tags, { Name = "${var.name}-alertmanager" })
}

# Placeholder only: operators put the real receiver credentials into the
# secret out of band; being write-only, Terraform neither stores nor reverts them.
resource "aws_secretsmanager_secret_version" "alertmanager" {
  secret_id = aws_secretsmanager_secret.alertmanager.id
  secret_string_wo = jsonencode({
    slack_api_url         = ""
    pagerduty_routing_key = ""
  })
  secret_string_wo_version = var.alertmanager_secret_version
}
