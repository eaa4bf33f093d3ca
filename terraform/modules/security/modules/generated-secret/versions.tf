terraform {
  # 1.11: write-only arguments (secret_string_wo) and ephemeral resources.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100: ephemeral aws_secretsmanager_random_password and the write-only
      # secret_string_wo / secret_string_wo_version arguments.
      version = ">= 5.100"
    }
  }
}
