locals {
  name = "mlplat-${var.env}"

  tags = merge(var.tags, {
    "mlplat:env"     = var.env
    "mlplat:cluster" = var.cluster_name
  })
}

data "aws_availability_zones" "available" {
  state = "available"

  # Regular zones only: Local Zones and Wavelength Zones lack EKS and EFS.
  filter {
    name   = "zone-type"
    values = ["availability-zone"]
  }
}

module "network" {
  source = "../../modules/network"

  name                 = local.name
  cluster_name         = var.cluster_name
  vpc_cidr             = var.vpc_cidr
  azs                  = slice(data.aws_availability_zones.available.names, 0, length(var.private_subnet_cidrs))
  private_subnet_cidrs = var.private_subnet_cidrs
  public_subnet_cidrs  = var.public_subnet_cidrs
  single_nat_gateway   = var.single_nat_gateway

  tags = local.tags
}
