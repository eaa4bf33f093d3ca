terraform {
  # 1.11: write-only arguments and ephemeral resources (modules/security).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100"
    }
  }

  # Partial configuration: the mlplat runner passes bucket, key, region and
  # use_lockfile=true with -backend-config at init time.
  backend "s3" {}
}
