# Shared provider block: every AWS call goes to a local moto server (see ../regen.sh).
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "aws_endpoint" {
  type        = string
  description = "moto server URL, e.g. http://127.0.0.1:5000"
}

variable "db_password" {
  type      = string
  sensitive = true
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    iam           = var.aws_endpoint
    s3            = var.aws_endpoint
    kms           = var.aws_endpoint
    ec2           = var.aws_endpoint
    rds           = var.aws_endpoint
    lambda        = var.aws_endpoint
    sts           = var.aws_endpoint
    organizations = var.aws_endpoint
    sns           = var.aws_endpoint
  }
}
