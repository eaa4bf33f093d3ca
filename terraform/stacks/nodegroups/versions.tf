terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }

  # Partial configuration: bucket, key, region and use_lockfile are passed by the
  # mlplat runner at `terraform init -backend-config=...`.
  backend "s3" {}
}
