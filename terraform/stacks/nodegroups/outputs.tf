output "node_group_names" {
  description = "EKS node group name, keyed by pool name."
  value       = module.nodegroups.node_group_names
}

output "node_group_arns" {
  description = "EKS node group ARN, keyed by pool name."
  value       = module.nodegroups.node_group_arns
}

output "launch_template_ids" {
  description = "Launch template ID, keyed by pool name."
  value       = module.nodegroups.launch_template_ids
}

output "addon_versions_installed" {
  description = "Installed version of each managed add-on of this stack (coredns, aws-efs-csi-driver, aws-ebs-csi-driver), keyed by add-on name."
  value       = module.nodegroups.addon_versions
}
