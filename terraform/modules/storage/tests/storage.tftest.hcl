mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_subnet" {
    defaults = {
      vpc_id = "vpc-0a1b2c3d4e5f60718"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::mlplat-test-models-123456789012"
      id  = "mlplat-test-models-123456789012"
    }
  }

  mock_resource "aws_efs_file_system" {
    defaults = {
      arn = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"
      id  = "fs-0123456789abcdef0"
    }
  }

  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:us-east-1:123456789012:repository/mlplat-test/triton-models"
      repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlplat-test/triton-models"
    }
  }
}

variables {
  name                  = "mlplat-test"
  vpc_id                = "vpc-0a1b2c3d4e5f60718"
  private_subnet_ids    = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60712", "subnet-0a1b2c3d4e5f60713"]
  efs_security_group_id = "sg-0a1b2c3d4e5f60719"
  kms_key_arn           = "arn:aws:kms:us-east-1:123456789012:key/0b1e4a8c-1111-2222-3333-444455556666"
  model_bucket_name     = "mlplat-test-models-123456789012"
  ecr_repositories      = ["triton-models", "triton-server"]
  tags = {
    "mlplat:env"     = "test"
    "mlplat:cluster" = "mlplat-test"
  }
}

run "storage_resources" {
  command = apply

  assert {
    condition     = aws_efs_file_system.this.encrypted && aws_efs_file_system.this.kms_key_id == var.kms_key_arn
    error_message = "EFS must be encrypted with the data key."
  }

  assert {
    condition = alltrue([
      for r in aws_s3_bucket_server_side_encryption_configuration.this.rule :
      one(r.apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
      && one(r.apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
      && r.bucket_key_enabled
    ]) && length(aws_s3_bucket_server_side_encryption_configuration.this.rule) == 1
    error_message = "The bucket must default to SSE-KMS with the data key and an S3 bucket key."
  }

  assert {
    condition = alltrue([
      for r in values(aws_ecr_repository.this) :
      one(r.encryption_configuration).encryption_type == "KMS" && one(r.encryption_configuration).kms_key == var.kms_key_arn
    ])
    error_message = "ECR repositories must be encrypted with the data key."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_efs_file_system_policy.this.policy).Statement :
      s.Effect == "Deny" && try(s.Condition.Bool["aws:SecureTransport"], "") == "false"
    ])
    error_message = "The EFS file system policy must deny unencrypted transport."
  }

  assert {
    condition     = length(aws_efs_mount_target.this) == 3 && tolist(aws_efs_mount_target.this[*].subnet_id) == var.private_subnet_ids
    error_message = "One mount target per private subnet is expected."
  }

  assert {
    condition     = alltrue([for m in aws_efs_mount_target.this : m.security_groups == toset([var.efs_security_group_id])])
    error_message = "Mount targets must use only the EFS security group."
  }

  assert {
    condition = (
      one(aws_efs_access_point.model_cache.root_directory).path == "/model-cache"
      && one(aws_efs_access_point.model_cache.posix_user).uid == 1000
      && one(aws_efs_access_point.model_cache.posix_user).gid == 1000
      && one(one(aws_efs_access_point.model_cache.root_directory).creation_info).owner_uid == 1000
      && one(one(aws_efs_access_point.model_cache.root_directory).creation_info).owner_gid == 1000
    )
    error_message = "The model cache access point must be /model-cache owned by and enforcing uid/gid 1000."
  }

  assert {
    condition     = contains([for p in aws_efs_file_system.this.lifecycle_policy : p.transition_to_ia], "AFTER_30_DAYS")
    error_message = "EFS must move cold files to Infrequent Access."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls
      && aws_s3_bucket_public_access_block.this.block_public_policy
      && aws_s3_bucket_public_access_block.this.ignore_public_acls
      && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "All four public access block settings must be on."
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "Versioning must be enabled."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "Object ownership must be BucketOwnerEnforced (ACLs disabled)."
  }

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.status == "Enabled" && one(r.noncurrent_version_expiration).noncurrent_days == 30
    ])
    error_message = "Noncurrent versions must expire after noncurrent_version_expiration_days."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement :
      s.Effect == "Deny" && try(s.Condition.Bool["aws:SecureTransport"], "") == "false"
      && contains(s.Resource, "arn:aws:s3:::mlplat-test-models-123456789012/*")
    ])
    error_message = "The bucket policy must deny requests without TLS."
  }

  assert {
    condition     = aws_s3_bucket.this.force_destroy == false
    error_message = "force_destroy must default to false."
  }

  assert {
    condition     = toset(keys(aws_ecr_repository.this)) == toset(var.ecr_repositories) && aws_ecr_repository.this["triton-models"].name == "mlplat-test/triton-models"
    error_message = "One repository per entry, named <name>/<repository>."
  }

  assert {
    condition = alltrue([
      for r in values(aws_ecr_repository.this) :
      r.image_tag_mutability == "IMMUTABLE" && one(r.image_scanning_configuration).scan_on_push
    ])
    error_message = "Repositories must have immutable tags and scan on push."
  }

  assert {
    condition = alltrue([
      for p in values(aws_ecr_lifecycle_policy.this) :
      length(jsondecode(p.policy).rules) == 2
    ]) && length(aws_ecr_lifecycle_policy.this) == 2
    error_message = "Each repository must have the lifecycle policy."
  }

  assert {
    condition     = output.ecr_repository_urls["triton-models"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlplat-test/triton-models"
    error_message = "ecr_repository_urls must be keyed by the short repository name."
  }

  # Triton reads the model prefix and nothing else.
  assert {
    condition = alltrue([
      for s in jsondecode(output.triton_policy_json).Statement :
      length(setintersection(toset(flatten([s.Action])), toset(["s3:PutObject", "s3:DeleteObject", "s3:*", "kms:Encrypt", "kms:GenerateDataKey"]))) == 0
    ])
    error_message = "The Triton policy must be read-only."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(output.triton_policy_json).Statement :
      contains(flatten([s.Action]), "s3:GetObject") && s.Resource == "arn:aws:s3:::mlplat-test-models-123456789012/models/*"
    ])
    error_message = "Triton must read objects under the model prefix only."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(output.triton_policy_json).Statement :
      contains(flatten([s.Action]), "kms:Decrypt") && s.Resource == var.kms_key_arn
    ])
    error_message = "Triton must be able to decrypt with the data key."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(output.log_shipping_policy_json).Statement :
      contains(flatten([s.Action]), "s3:PutObject") && s.Resource == "arn:aws:s3:::mlplat-test-models-123456789012/loki/*"
    ])
    error_message = "Loki must write under the loki/ prefix only."
  }

  assert {
    condition = alltrue([
      for s in concat(jsondecode(output.triton_policy_json).Statement, jsondecode(output.log_shipping_policy_json).Statement) :
      !contains(flatten([s.Action]), "*") && !contains(flatten([s.Resource]), "*")
    ])
    error_message = "No workload policy may use a wildcard action or resource."
  }

  assert {
    condition = alltrue([
      for t in concat(
        [aws_efs_file_system.this.tags, aws_efs_access_point.model_cache.tags, aws_s3_bucket.this.tags],
        [for r in values(aws_ecr_repository.this) : r.tags],
      ) : t["mlplat:env"] == "test" && t["mlplat:cluster"] == "mlplat-test"
    ])
    error_message = "Every taggable resource must carry mlplat:env and mlplat:cluster."
  }
}



run "rejects_subnet_outside_vpc" {
  command = plan

  variables {
    vpc_id = "vpc-0fffffffffffffff0"
  }

  expect_failures = [aws_efs_mount_target.this]
}

run "rejects_bad_bucket_names" {
  command = plan

  variables {
    model_bucket_name = "Models_Bucket"
  }

  expect_failures = [var.model_bucket_name]
}

run "rejects_ip_like_bucket_name" {
  command = plan

  variables {
    model_bucket_name = "192.168.10.20"
  }

  expect_failures = [var.model_bucket_name]
}

run "rejects_invalid_inputs" {
  command = plan

  variables {
    model_prefix       = "/models"
    kms_key_arn        = "alias/mlplat-test-data"
    ecr_repositories   = ["Triton", "Triton"]
    private_subnet_ids = []
  }

  expect_failures = [var.model_prefix, var.kms_key_arn, var.ecr_repositories, var.private_subnet_ids]
}
