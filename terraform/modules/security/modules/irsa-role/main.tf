locals {
  # The condition keys are the issuer without its scheme.
  issuer = trimsuffix(replace(var.oidc_issuer_url, "/^https:\\/\\//", ""), "/")
}

resource "aws_iam_role" "this" {
  name                 = var.name
  path                 = var.path
  description          = coalesce(var.description, "IRSA role for ${join(", ", var.service_accounts)}")
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ServiceAccountWebIdentity"
      Effect    = "Allow"
      Principal = { Federated = var.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.issuer}:sub" = [for s in var.service_accounts : "system:serviceaccount:${s}"]
          "${local.issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = var.policy_arns

  role       = aws_iam_role.this.name
  policy_arn = each.value
}

resource "aws_iam_role_policy" "this" {
  for_each = var.inline_policies

  name   = each.key
  role   = aws_iam_role.this.id
  policy = each.value
}
