mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/terraform-test"
      user_id    = "AIDAEXAMPLEUSERID0001"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/0b1e4a8c-1111-2222-3333-444455556666"
      key_id = "0b1e4a8c-1111-2222-3333-444455556666"
    }
  }

  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mlplat-test/mock-AbCdEf"
      id  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mlplat-test/mock-AbCdEf"
    }
  }
}

variables {
  name              = "mlplat-test"
  eks_key_user_arns = ["arn:aws:iam::123456789012:role/mlplat-test-eks-cluster"]
  tags = {
    "mlplat:env"     = "test"
    "mlplat:cluster" = "mlplat-test"
  }
}

run "kms_keys_and_secrets" {
  command = apply

  assert {
    condition     = aws_kms_key.eks.enable_key_rotation && aws_kms_key.data.enable_key_rotation
    error_message = "Key rotation must be on for both KMS keys."
  }

  assert {
    condition     = aws_kms_alias.eks.name == "alias/mlplat-test-eks" && aws_kms_alias.data.name == "alias/mlplat-test-data"
    error_message = "Aliases must be alias/<name>-eks and alias/<name>-data."
  }

  assert {
    condition = alltrue([
      for k in [aws_kms_key.eks, aws_kms_key.data] :
      anytrue([
        for s in jsondecode(k.policy).Statement :
        s.Effect == "Allow" && s.Principal == { AWS = "arn:aws:iam::123456789012:root" } && s.Action == "kms:*"
      ])
    ])
    error_message = "Both key policies must let the account root administer the key."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_kms_key.eks.policy).Statement :
      s.Sid == "EKSSecretsEncryption" && toset(flatten([try(s.Principal.AWS, [])])) == toset(var.eks_key_user_arns) && contains(flatten([s.Action]), "kms:Encrypt") && contains(flatten([s.Action]), "kms:Decrypt")
    ])
    error_message = "The EKS key policy must let the cluster role encrypt and decrypt."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_kms_key.data.policy).Statement :
      s.Sid == "AllowUseThroughAWSServices" && toset(try(s.Condition.StringEquals["kms:ViaService"], [])) == toset([
        "ec2.us-east-1.amazonaws.com",
        "elasticfilesystem.us-east-1.amazonaws.com",
        "s3.us-east-1.amazonaws.com",
        "ecr.us-east-1.amazonaws.com",
        "secretsmanager.us-east-1.amazonaws.com",
      ]) && try(s.Condition.StringEquals["kms:CallerAccount"], "") == "123456789012"
    ])
    error_message = "The data key must be usable through EBS, EFS, S3, ECR and Secrets Manager of this account only."
  }

  # A wildcard principal is only acceptable when scoped by conditions.
  assert {
    condition = alltrue([
      for s in concat(jsondecode(aws_kms_key.eks.policy).Statement, jsondecode(aws_kms_key.data.policy).Statement) :
      try(s.Principal.AWS, "") != "*" || length(try(s.Condition, {})) > 0
    ])
    error_message = "No key policy statement may grant an unconditioned wildcard principal."
  }

  assert {
    condition = alltrue([
      for s in concat(jsondecode(aws_kms_key.eks.policy).Statement, jsondecode(aws_kms_key.data.policy).Statement) :
      !contains(flatten([s.Action]), "*")
    ])
    error_message = "No key policy statement may allow Action \"*\"."
  }

  assert {
    condition = alltrue([
      for s in [aws_secretsmanager_secret.alertmanager] :
      s.kms_key_id == aws_kms_key.data.arn && s.recovery_window_in_days == 7
    ])
    error_message = "Secrets must be encrypted with the data key and keep the default 7-day recovery window."
  }

  assert {
    condition     = aws_secretsmanager_secret.alertmanager.name_prefix == "mlplat-test/alertmanager/receivers-"
    error_message = "Unexpected secret name."
  }

  # Values go through the write-only argument only: nothing readable in state.
  assert {
    condition = alltrue([
      for v in [aws_secretsmanager_secret_version.alertmanager] :
      v.secret_string_wo == null && v.secret_string_wo_version == 1 && v.secret_binary == null
    ])
    error_message = "Secret values must only be set through secret_string_wo."
  }

  assert {
    condition     = nonsensitive(aws_secretsmanager_secret_version.alertmanager.secret_string == null)
    error_message = "secret_string must stay unset so no secret value reaches the state."
  }

  assert {
    condition = alltrue([
      for t in [aws_kms_key.eks.tags, aws_kms_key.data.tags, aws_secretsmanager_secret.alertmanager.tags] :
      t["mlplat:env"] == "test" && t["mlplat:cluster"] == "mlplat-test"
    ])
    error_message = "Every taggable resource must carry mlplat:env and mlplat:cluster."
  }
}

run "rejects_invalid_inputs" {
  command = plan

  variables {
    recovery_window_in_days     = 3
    kms_deletion_window_in_days = 45
    eks_key_user_arns           = ["mlplat-test-eks-cluster"]
  }

  expect_failures = [
    var.recovery_window_in_days,
    var.kms_deletion_window_in_days,
    var.eks_key_user_arns,
  ]
}
