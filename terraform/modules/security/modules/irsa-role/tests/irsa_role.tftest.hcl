mock_provider "aws" {}

variables {
  name              = "mlplat-test-triton"
  oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  oidc_issuer_url   = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  service_accounts  = ["triton:triton", "triton:triton-canary"]
  policy_arns = {
    efs = "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
  }
  inline_policies = {
    read-models = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bucket/models/*\"}]}"
  }
  tags = {
    "mlplat:env"     = "test"
    "mlplat:cluster" = "mlplat-test"
  }
}

run "trust_policy" {
  command = apply

  assert {
    condition     = one(jsondecode(aws_iam_role.this.assume_role_policy).Statement).Principal.Federated == var.oidc_provider_arn
    error_message = "The role must trust the cluster's OIDC provider."
  }

  assert {
    condition     = one(jsondecode(aws_iam_role.this.assume_role_policy).Statement).Action == "sts:AssumeRoleWithWebIdentity"
    error_message = "The role must be assumed with web identity."
  }

  assert {
    condition = (
      toset(one(jsondecode(aws_iam_role.this.assume_role_policy).Statement).Condition.StringEquals["oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub"])
      == toset(["system:serviceaccount:triton:triton", "system:serviceaccount:triton:triton-canary"])
    )
    error_message = "The sub condition must list exactly the given service accounts (issuer without https://)."
  }

  assert {
    condition     = one(jsondecode(aws_iam_role.this.assume_role_policy).Statement).Condition.StringEquals["oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud"] == "sts.amazonaws.com"
    error_message = "The aud condition must be sts.amazonaws.com."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.this["efs"].policy_arn == var.policy_arns["efs"] && aws_iam_role_policy.this["read-models"].policy == var.inline_policies["read-models"]
    error_message = "Managed and inline policies must be attached."
  }

  assert {
    condition     = aws_iam_role.this.tags["mlplat:env"] == "test" && aws_iam_role.this.tags["mlplat:cluster"] == "mlplat-test"
    error_message = "The role must carry mlplat:env and mlplat:cluster."
  }
}

run "issuer_without_scheme" {
  command = apply

  variables {
    oidc_issuer_url = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    policy_arns     = {}
    inline_policies = {}
  }

  assert {
    condition     = contains(keys(one(jsondecode(aws_iam_role.this.assume_role_policy).Statement).Condition.StringEquals), "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub")
    error_message = "An issuer given without https:// must give the same condition keys."
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.this) == 0 && length(aws_iam_role_policy.this) == 0
    error_message = "No policies are attached when none are given."
  }
}

run "rejects_invalid_inputs" {
  command = plan

  variables {
    oidc_provider_arn = "arn:aws:iam::123456789012:role/not-a-provider"
    service_accounts  = ["triton"]
    policy_arns       = { bad = "AmazonS3ReadOnlyAccess" }
  }

  expect_failures = [var.oidc_provider_arn, var.service_accounts, var.policy_arns]
}

run "rejects_empty_and_wildcard_subjects" {
  command = plan

  variables {
    service_accounts = ["triton:*"]
  }

  expect_failures = [var.service_accounts]
}
