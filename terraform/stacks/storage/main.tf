locals {
  name = "mlplat-${var.env}"

  tags = merge(var.tags, {
    "mlplat:env"     = var.env
    "mlplat:cluster" = var.cluster_name
  })
}

module "storage" {
  source = "../../modules/storage"

  name                  = local.name
  vpc_id                = var.vpc_id
  private_subnet_ids    = var.private_subnet_ids
  efs_security_group_id = var.efs_security_group_id
  kms_key_arn           = var.data_kms_key_arn
  model_bucket_name     = var.model_bucket_name
  model_prefix          = var.model_prefix
  log_prefix            = "loki/"
  ecr_repositories      = var.ecr_repositories
  force_destroy         = var.force_destroy

  tags = local.tags
}

module "triton_irsa" {
  source = "../../modules/security/modules/irsa-role"

  name              = "${local.name}-triton"
  description       = "Triton Inference Server: read models from s3://${var.model_bucket_name}/${var.model_prefix}"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer_url   = var.oidc_issuer_url
  service_accounts  = ["triton:triton"]

  inline_policies = {
    model-repository-read = module.storage.triton_policy_json
  }

  tags = local.tags
}

module "log_shipping_irsa" {
  source = "../../modules/security/modules/irsa-role"

  name              = "${local.name}-log-shipping"
  description       = "Loki: read and write s3://${var.model_bucket_name}/loki/"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer_url   = var.oidc_issuer_url
  service_accounts  = ["observability:loki"]

  inline_policies = {
    log-store-read-write = module.storage.log_shipping_policy_json
  }

  tags = local.tags
}
