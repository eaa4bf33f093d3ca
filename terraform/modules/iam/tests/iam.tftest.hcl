mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
}

variables {
  name = "mlplat-test"
  tags = {
    "mlplat:env"     = "test"
    "mlplat:cluster" = "mlplat-test"
  }
}

run "roles_and_policies" {
  command = apply

  assert {
    condition     = aws_iam_role.cluster.name == "mlplat-test-eks-cluster"
    error_message = "Unexpected cluster role name."
  }

  assert {
    condition = (
      one(jsondecode(aws_iam_role.cluster.assume_role_policy).Statement).Principal.Service == "eks.amazonaws.com"
      && contains(one(jsondecode(aws_iam_role.cluster.assume_role_policy).Statement).Action, "sts:AssumeRole")
    )
    error_message = "The cluster role must be assumable by eks.amazonaws.com."
  }

  assert {
    condition = toset([for a in aws_iam_role_policy_attachment.cluster : a.policy_arn]) == toset([
      "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
      "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController",
    ])
    error_message = "The cluster role must have exactly AmazonEKSClusterPolicy and AmazonEKSVPCResourceController."
  }

  assert {
    condition     = toset(keys(aws_iam_role.node)) == toset(["cpu", "gpu"])
    error_message = "A CPU and a GPU node role are expected by default."
  }

  assert {
    condition = alltrue([
      for r in values(aws_iam_role.node) :
      one(jsondecode(r.assume_role_policy).Statement).Principal.Service == "ec2.amazonaws.com"
    ])
    error_message = "Node roles must be assumable by ec2.amazonaws.com."
  }

  assert {
    condition = alltrue([
      for role in ["cpu", "gpu"] :
      toset([for k, a in aws_iam_role_policy_attachment.node : a.policy_arn if startswith(k, "${role}/")]) == toset([
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      ])
    ])
    error_message = "Each node role must have exactly the worker node, ECR read-only and SSM core policies."
  }

  assert {
    condition     = alltrue([for a in aws_iam_role_policy_attachment.node : !strcontains(a.policy_arn, "AmazonEKS_CNI_Policy")])
    error_message = "Node roles must not carry the CNI policy (the VPC CNI gets an IRSA role)."
  }

  assert {
    condition     = alltrue([for t in concat([aws_iam_role.cluster.tags], [for r in values(aws_iam_role.node) : r.tags]) : t["mlplat:env"] == "test" && t["mlplat:cluster"] == "mlplat-test"])
    error_message = "Every role must carry mlplat:env and mlplat:cluster."
  }

  assert {
    condition     = output.node_role_names["gpu"] == "mlplat-test-gpu-node" && output.node_role_arns["cpu"] == aws_iam_role.node["cpu"].arn
    error_message = "Outputs must expose node roles by key."
  }
}

run "rejects_invalid_inputs" {
  command = plan

  variables {
    name       = "-bad name"
    node_roles = ["GPU!"]
  }

  expect_failures = [var.name, var.node_roles]
}
