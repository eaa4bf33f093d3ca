terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }

  # Partial configuration: the mlplat runner passes bucket, key, region and
  # use_lockfile=true with -backend-config at init time.
  backend "s3" {}
}
