# Unit tests of modules/nodegroups with a mocked AWS provider (no credentials, no network):
#   terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0a1b2c3d4e5f60001"
      arn            = "arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0a1b2c3d4e5f60001"
      latest_version = 1
    }
  }

  mock_resource "aws_eks_node_group" {
    defaults = {
      arn = "arn:aws:eks:us-east-1:123456789012:nodegroup/mlplat-test/pool/0a1b2c3d-1111-2222-3333-444455556666"
    }
  }

  mock_resource "aws_eks_addon" {
    defaults = {
      arn = "arn:aws:eks:us-east-1:123456789012:addon/mlplat-test/coredns/0a1b2c3d-1111-2222-3333-444455556666"
    }
  }
}

variables {
  cluster_name           = "mlplat-test"
  kubernetes_version     = "1.32"
  subnet_ids             = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
  node_security_group_id = "sg-0a1b2c3d4e5f60001"
  cpu_node_role_arn      = "arn:aws:iam::123456789012:role/mlplat-test-cpu-node"
  gpu_node_role_arn      = "arn:aws:iam::123456789012:role/mlplat-test-gpu-node"
  data_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
  efs_csi_role_arn       = "arn:aws:iam::123456789012:role/mlplat-test-efs-csi"
  ebs_csi_role_arn       = "arn:aws:iam::123456789012:role/mlplat-test-ebs-csi"
  # The environment's full map, as the cluster stack gets it: only coredns and the CSI drivers are used here.
  addon_versions = {
    "vpc-cni"                = "v1.19.2-eksbuild.1"
    "coredns"                = "v1.11.4-eksbuild.2"
    "kube-proxy"             = "v1.32.0-eksbuild.2"
    "eks-pod-identity-agent" = "v1.3.4-eksbuild.1"
    "aws-efs-csi-driver"     = "v2.1.4-eksbuild.1"
    "aws-ebs-csi-driver"     = "v1.44.0-eksbuild.1"
  }
  tags = {
    "mlplat:env" = "test"
    team         = "ml-platform"
  }
  node_groups = {
    cpu = {
      instance_types = ["m5.large", "m5.xlarge"]
      capacity_type  = "ON_DEMAND"
      min_size       = 2
      desired_size   = 2
      max_size       = 4
      disk_size_gib  = 50
      labels         = { "mlplat.io/pool" = "cpu" }
      taints         = []
      gpu            = false
    }
    gpu = {
      instance_types = ["g5.xlarge"]
      capacity_type  = "ON_DEMAND"
      min_size       = 0
      desired_size   = 1
      max_size       = 2
      disk_size_gib  = 100
      labels         = { "mlplat.io/pool" = "gpu" }
      taints         = [{ key = "nvidia.com/gpu", value = "true", effect = "NoSchedule" }]
      gpu            = true
    }
  }
}

run "gpu_and_cpu_groups" {
  command = apply

  assert {
    condition     = aws_eks_node_group.this["gpu"].ami_type == "AL2023_x86_64_NVIDIA" && aws_eks_node_group.this["cpu"].ami_type == "AL2023_x86_64_STANDARD"
    error_message = "GPU groups must use the AL2023 NVIDIA AMI, others the AL2023 standard AMI."
  }

  assert {
    condition     = aws_eks_node_group.this["gpu"].node_role_arn == var.gpu_node_role_arn && aws_eks_node_group.this["cpu"].node_role_arn == var.cpu_node_role_arn
    error_message = "Each group must use the node role of its kind."
  }

  assert {
    condition = aws_eks_node_group.this["gpu"].taint == toset([{
      key    = "nvidia.com/gpu"
      value  = "true"
      effect = "NO_SCHEDULE"
    }])
    error_message = "The GPU group must carry the nvidia.com/gpu=true:NoSchedule taint (EKS spelling NO_SCHEDULE)."
  }

  assert {
    condition     = length(aws_eks_node_group.this["cpu"].taint) == 0
    error_message = "The CPU group must not be tainted."
  }

  assert {
    condition     = aws_eks_node_group.this["gpu"].labels["mlplat.io/pool"] == "gpu" && aws_eks_node_group.this["cpu"].labels["mlplat.io/pool"] == "cpu"
    error_message = "Each group must carry its mlplat.io/pool label."
  }

  assert {
    condition     = aws_eks_node_group.this["gpu"].node_group_name == "mlplat-test-gpu" && aws_eks_node_group.this["gpu"].version == "1.32"
    error_message = "Node groups are named <cluster>-<pool> and run kubernetes_version."
  }

  assert {
    condition = alltrue([
      for group in values(aws_eks_node_group.this) :
      one(group.update_config).max_unavailable_percentage == 33 && one(group.launch_template).version == "1"
    ])
    error_message = "Node groups must roll 33% at a time and use their launch template's latest version."
  }

  assert {
    condition     = one(aws_eks_node_group.this["cpu"].scaling_config).min_size == 2 && one(aws_eks_node_group.this["cpu"].scaling_config).max_size == 4
    error_message = "scaling_config must follow the node group sizes."
  }

  assert {
    condition     = output.node_group_names == { cpu = "mlplat-test-cpu", gpu = "mlplat-test-gpu" }
    error_message = "node_group_names must map pool to node group name."
  }

  assert {
    condition     = output.launch_template_ids["gpu"] == "lt-0a1b2c3d4e5f60001" && startswith(output.node_group_arns["cpu"], "arn:aws:eks:")
    error_message = "The launch template and node group outputs must be keyed by pool."
  }
}

# coredns and the EFS and EBS CSI drivers run Deployments that need nodes: they are installed here, after
# the node groups (depends_on; tests/terraform/test_eks_modules.py checks the edge in `terraform graph`).
run "addons_that_need_nodes" {
  command = apply

  assert {
    condition     = toset(keys(aws_eks_addon.after_nodes)) == toset(["coredns", "aws-efs-csi-driver", "aws-ebs-csi-driver"])
    error_message = "Exactly coredns, aws-efs-csi-driver and aws-ebs-csi-driver are installed with the node groups (the DaemonSet add-ons come with the cluster)."
  }

  assert {
    condition     = alltrue([for name, addon in aws_eks_addon.after_nodes : addon.addon_version == var.addon_versions[name] && addon.addon_name == name && addon.cluster_name == "mlplat-test"])
    error_message = "Add-on versions must come from addon_versions, on the node groups' cluster."
  }

  assert {
    condition     = alltrue([for addon in values(aws_eks_addon.after_nodes) : addon.resolve_conflicts_on_create == "OVERWRITE" && addon.resolve_conflicts_on_update == "OVERWRITE"])
    error_message = "Add-ons must overwrite conflicting self-managed configuration."
  }

  assert {
    condition     = aws_eks_addon.after_nodes["aws-efs-csi-driver"].service_account_role_arn == var.efs_csi_role_arn && aws_eks_addon.after_nodes["coredns"].service_account_role_arn == null
    error_message = "The EFS CSI driver must run with the IRSA role passed in (efs_csi_role_arn); coredns needs none."
  }

  assert {
    condition     = aws_eks_addon.after_nodes["aws-ebs-csi-driver"].service_account_role_arn == var.ebs_csi_role_arn && aws_eks_addon.after_nodes["aws-ebs-csi-driver"].addon_version == "v1.44.0-eksbuild.1"
    error_message = "The EBS CSI driver must run with the IRSA role passed in (ebs_csi_role_arn), at its pinned version."
  }

  assert {
    condition     = alltrue([for addon in values(aws_eks_addon.after_nodes) : addon.tags["mlplat:env"] == "test" && addon.tags["team"] == "ml-platform"])
    error_message = "Add-ons must carry the module tags."
  }

  assert {
    condition     = output.addon_versions == { "coredns" = "v1.11.4-eksbuild.2", "aws-efs-csi-driver" = "v2.1.4-eksbuild.1", "aws-ebs-csi-driver" = "v1.44.0-eksbuild.1" }
    error_message = "The addon_versions output must map each installed add-on to its version."
  }
}

run "rejects_missing_addon_pins_and_bad_csi_roles" {
  command = plan

  variables {
    addon_versions = {
      "vpc-cni" = "v1.19.2-eksbuild.1"
      "coredns" = "v1.11.4-eksbuild.2"
    }
    efs_csi_role_arn = "mlplat-test-efs-csi"
    ebs_csi_role_arn = "arn:aws:iam::123456789012:policy/mlplat-test-ebs-csi"
  }

  expect_failures = [var.addon_versions, var.efs_csi_role_arn, var.ebs_csi_role_arn]
}

# A map from before the EBS CSI driver (no aws-ebs-csi-driver pin) is refused, not installed unpinned.
run "rejects_a_map_without_the_ebs_csi_pin" {
  command = plan

  variables {
    addon_versions = {
      "coredns"            = "v1.11.4-eksbuild.2"
      "aws-efs-csi-driver" = "v2.1.4-eksbuild.1"
    }
  }

  expect_failures = [var.addon_versions]
}

run "rejects_an_unpinned_addon_version" {
  command = plan

  variables {
    addon_versions = {
      "coredns"            = "v1.11.4-eksbuild.2"
      "aws-efs-csi-driver" = "v2.1.4-eksbuild.1"
      "aws-ebs-csi-driver" = "latest"
    }
  }

  expect_failures = [var.addon_versions]
}

run "launch_templates_encrypt_disks_and_require_imdsv2" {
  command = plan

  assert {
    condition = alltrue([
      for key, lt in aws_launch_template.this : alltrue([
        for bdm in lt.block_device_mappings : alltrue([
          for ebs in bdm.ebs : ebs.encrypted == "true" && ebs.kms_key_id == var.data_kms_key_arn && ebs.volume_type == "gp3" && ebs.volume_size == var.node_groups[key].disk_size_gib
        ])
      ])
    ])
    error_message = "Root volumes must be encrypted gp3 with the data key and the configured size."
  }

  assert {
    condition = alltrue([
      for lt in values(aws_launch_template.this) :
      one(lt.metadata_options).http_tokens == "required" && one(lt.metadata_options).http_put_response_hop_limit == 2 && one(lt.metadata_options).http_endpoint == "enabled"
    ])
    error_message = "Instances must require IMDSv2 with a hop limit of 2 (pods reach IMDS)."
  }

  assert {
    condition     = alltrue([for lt in values(aws_launch_template.this) : lt.vpc_security_group_ids == toset([var.node_security_group_id])])
    error_message = "Nodes must get the node security group."
  }

  assert {
    condition = alltrue([
      for lt in values(aws_launch_template.this) :
      toset([for spec in lt.tag_specifications : spec.resource_type]) == toset(["instance", "volume", "network-interface"])
    ])
    error_message = "Instances, volumes and network interfaces must be tagged through the launch template."
  }

  assert {
    condition = alltrue(flatten([
      for key, lt in aws_launch_template.this : [
        for spec in lt.tag_specifications : spec.tags["mlplat:env"] == "test" && spec.tags["team"] == "ml-platform" && spec.tags["Name"] == "mlplat-test-${key}"
      ]
    ]))
    error_message = "Tag specifications must carry the module tags and a Name."
  }

  assert {
    condition = alltrue(concat(
      [for lt in values(aws_launch_template.this) : lt.tags["mlplat:env"] == "test" && lt.tags["team"] == "ml-platform"],
      [for group in values(aws_eks_node_group.this) : group.tags["mlplat:env"] == "test" && group.tags["team"] == "ml-platform"],
    ))
    error_message = "Launch templates and node groups must carry the module tags."
  }
}

run "spot_and_other_taint_effects" {
  command = plan

  variables {
    node_groups = {
      batch = {
        instance_types = ["g6.xlarge", "g5.2xlarge"]
        capacity_type  = "SPOT"
        min_size       = 0
        desired_size   = 0
        max_size       = 3
        disk_size_gib  = 80
        labels         = {}
        taints = [
          { key = "nvidia.com/gpu", value = "true", effect = "NoSchedule" },
          { key = "batch", value = "", effect = "PreferNoSchedule" },
          { key = "drain", value = "now", effect = "NoExecute" },
        ]
        gpu = true
      }
    }
  }

  assert {
    condition     = aws_eks_node_group.this["batch"].capacity_type == "SPOT"
    error_message = "capacity_type must pass through."
  }

  assert {
    condition     = toset([for t in aws_eks_node_group.this["batch"].taint : t.effect]) == toset(["NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE"])
    error_message = "Kubernetes taint effects must map to the EKS enum."
  }
}

run "rejects_a_gpu_group_without_nvidia_gpus" {
  command = plan

  variables {
    node_groups = {
      gpu = {
        instance_types = ["g5.xlarge", "m5.2xlarge"]
        capacity_type  = "ON_DEMAND"
        min_size       = 0
        desired_size   = 1
        max_size       = 1
        disk_size_gib  = 100
        labels         = { "mlplat.io/pool" = "gpu" }
        taints         = [{ key = "nvidia.com/gpu", value = "true", effect = "NoSchedule" }]
        gpu            = true
      }
    }
  }

  expect_failures = [var.node_groups]
}

run "rejects_an_amd_gpu_family" {
  command = plan

  variables {
    node_groups = {
      gpu = {
        instance_types = ["g4ad.xlarge"]
        capacity_type  = "ON_DEMAND"
        min_size       = 0
        desired_size   = 1
        max_size       = 1
        disk_size_gib  = 100
        labels         = {}
        taints         = []
        gpu            = true
      }
    }
  }

  expect_failures = [var.node_groups]
}

run "rejects_unordered_sizes" {
  command = plan

  variables {
    node_groups = {
      cpu = {
        instance_types = ["m5.large"]
        capacity_type  = "ON_DEMAND"
        min_size       = 3
        desired_size   = 2
        max_size       = 4
        disk_size_gib  = 50
        labels         = {}
        taints         = []
        gpu            = false
      }
    }
  }

  expect_failures = [var.node_groups]
}

run "rejects_unknown_capacity_type_and_taint_effect" {
  command = plan

  variables {
    node_groups = {
      cpu = {
        instance_types = ["m5.large"]
        capacity_type  = "RESERVED"
        min_size       = 1
        desired_size   = 1
        max_size       = 1
        disk_size_gib  = 50
        labels         = {}
        taints         = [{ key = "a", value = "b", effect = "NO_SCHEDULE" }]
        gpu            = false
      }
    }
  }

  expect_failures = [var.node_groups]
}
