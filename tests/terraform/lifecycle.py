"""One full lifecycle of the network, iam and storage stacks against the AWS emulator (moto server).

``run_lifecycle`` does, in the order the platform provisions them:

1. create the S3 state bucket and an IAM OIDC provider (normally the cluster stack's) with boto3;
2. network and iam (independent of each other, run side by side): ``init`` with the real S3 backend
   (``use_lockfile=true``), ``plan -out``, ``apply`` of that plan, ``output -json`` and ``state pull``;
3. storage, fed with the outputs of the first two, the same way (meanwhile, step 4 for network and iam);
4. a second ``plan -detailed-exitcode`` of every stack and its ``show -json``: every value is known by
   then, so this is the plan checkov scans;
5. ``destroy`` in reverse: storage, then network and iam side by side.

Every step's result is recorded (nothing raises), so the tests can assert on each step separately and
a failure early on still leads to a destroy of whatever was created.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.terraform.tf import as_list, describe, terraform

REGION = "us-east-1"
ACCOUNT = "123456789012"
ENV = "ci"
CLUSTER = "mlplat-ci"
STATE_BUCKET = "mlplat-ci-tfstate"
MODEL_BUCKET = f"mlplat-ci-models-{ACCOUNT}"
OIDC_ISSUER = "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
COMMON_VARS: dict[str, Any] = {
    "env": ENV,
    "cluster_name": CLUSTER,
    "region": REGION,
    "tags": {"owner": "mlplat-tests", "cost-center": "ml-platform"},
}
NETWORK_VARS: dict[str, Any] = {
    "vpc_cidr": "10.42.0.0/16",
    "private_subnet_cidrs": ["10.42.0.0/19", "10.42.32.0/19", "10.42.64.0/19"],
    "public_subnet_cidrs": ["10.42.96.0/22", "10.42.100.0/22", "10.42.104.0/22"],
    "single_nat_gateway": False,
}
STACK_ORDER = ("network", "iam", "storage")


@dataclass
class Change:
    address: str
    resource_type: str
    actions: list[str]
    attributes: list[str]
    before: dict[str, Any]
    after: dict[str, Any]

    def __str__(self) -> str:
        details = ", ".join(f"{a}: {self.before.get(a)!r} -> {self.after.get(a)!r}" for a in self.attributes)
        return f"{self.address} ({'/'.join(self.actions)}): {details}"


@dataclass
class StackRun:
    name: str
    workdir: Path
    data_dir: Path
    var_file: Path
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    plan2_json: Path | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    second_plan_rc: int | None = None
    second_plan_changes: list[Change] = field(default_factory=list)
    state_after_destroy: list[str] | None = None

    def ok(self, step: str) -> bool:
        result = self.steps.get(step)
        return result is not None and result.returncode == 0

    def report(self, step: str) -> str:
        result = self.steps.get(step)
        if result is None:
            earlier = [describe(r) for r in self.steps.values() if r.returncode != 0]
            return f"{self.name}: step {step!r} did not run. " + "\n".join(earlier)
        return describe(result)


@dataclass
class Lifecycle:
    endpoint: str
    stacks: dict[str, StackRun]
    setup_error: str | None = None
    grafana_secret: dict[str, Any] | None = None
    leftovers: dict[str, list[str]] = field(default_factory=dict)
    wall_seconds: float = 0.0


def _boto3_client(service: str, endpoint: str, retries: int = 3) -> Any:
    import boto3
    import botocore.config

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    config = botocore.config.Config(retries={"max_attempts": retries, "mode": "standard"})
    return session.client(service, endpoint_url=endpoint, config=config)  # type: ignore[call-overload]


def _changed_attributes(before: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any]) -> list[str]:
    keys = set(before) | set(after)
    return sorted(k for k in keys if before.get(k) != after.get(k) or unknown.get(k))


class _Runner:
    def __init__(self, tree: Path, env: Mapping[str, str], endpoint: str, work: Path) -> None:
        self.tree = tree
        self.endpoint = endpoint
        self.work = work
        self.env = {
            **env,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def new_stack(self, name: str) -> StackRun:
        folder = self.work / name
        folder.mkdir(parents=True, exist_ok=True)
        return StackRun(name, self.tree / "stacks" / name, folder / "data", folder / "vars.tfvars.json")

    def step(self, stack: StackRun, step: str, args: list[str], timeout: float = 300) -> bool:
        start = time.monotonic()
        try:
            result = terraform(
                ["-chdir=" + str(stack.workdir), *args],
                cwd=self.work,
                env=self.env,
                data_dir=stack.data_dir,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            result = subprocess.CompletedProcess(exc.cmd, 124, str(exc.stdout or ""), f"timed out after {timeout}s")
        stack.durations[step] = round(time.monotonic() - start, 1)
        stack.steps[step] = result
        return result.returncode == 0

    def provision(self, stack: StackRun, variables: Mapping[str, Any]) -> None:
        stack.var_file.write_text(json.dumps(variables, indent=2), encoding="utf-8")
        plan_file = stack.var_file.with_name("plan.tfplan")
        backend = [
            f"-backend-config=bucket={STATE_BUCKET}",
            f"-backend-config=key=mlplat/{ENV}/{stack.name}.tfstate",
            f"-backend-config=region={REGION}",
            "-backend-config=use_lockfile=true",
            "-backend-config=use_path_style=true",
        ]
        if not self.step(stack, "init", ["init", "-input=false", "-no-color", *backend], timeout=180):
            return
        if not self.step(
            stack, "plan", ["plan", "-input=false", "-no-color", f"-var-file={stack.var_file}", f"-out={plan_file}"]
        ):
            return
        if not self.step(stack, "apply", ["apply", "-input=false", "-no-color", str(plan_file)], timeout=420):
            return
        if self.step(stack, "output", ["output", "-json", "-no-color"]):
            stack.outputs = {k: v["value"] for k, v in json.loads(stack.steps["output"].stdout).items()}
        # The raw state (no provider needed to read it, unlike ``show -json``).
        if self.step(stack, "state_pull", ["state", "pull"]):
            stack.state = json.loads(stack.steps["state_pull"].stdout)

    def second_plan(self, stack: StackRun) -> None:
        if not stack.ok("apply"):
            return
        plan_file = stack.var_file.with_name("plan2.tfplan")
        self.step(
            stack,
            "plan2",
            [
                "plan", "-input=false", "-no-color", "-detailed-exitcode",
                f"-var-file={stack.var_file}", f"-out={plan_file}",
            ],
        )  # fmt: skip
        stack.second_plan_rc = stack.steps["plan2"].returncode
        if stack.second_plan_rc not in (0, 2):
            return
        if not self.step(stack, "show_plan2", ["show", "-json", "-no-color", str(plan_file)]):
            return
        stack.plan2_json = stack.var_file.with_name("plan2.json")
        stack.plan2_json.write_text(stack.steps["show_plan2"].stdout, encoding="utf-8")
        if stack.second_plan_rc == 0:
            return
        plan = json.loads(stack.steps["show_plan2"].stdout)
        for rc in plan.get("resource_changes", []):
            change = rc.get("change", {})
            actions = change.get("actions", [])
            if actions in (["no-op"], ["read"]):
                continue
            before = change.get("before") or {}
            after = change.get("after") or {}
            stack.second_plan_changes.append(
                Change(
                    rc["address"], rc["type"], actions,
                    _changed_attributes(before, after, change.get("after_unknown") or {}), before, after,
                )
            )  # fmt: skip

    def destroy(self, stack: StackRun) -> None:
        if "init" not in stack.steps or not stack.ok("init"):
            return
        self.step(
            stack,
            "destroy",
            ["destroy", "-auto-approve", "-input=false", "-no-color", f"-var-file={stack.var_file}"],
            timeout=420,
        )
        if self.step(stack, "state_list", ["state", "list"]):
            stack.state_after_destroy = stack.steps["state_list"].stdout.split()


def _in_parallel(*calls: Callable[[], None]) -> None:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


def _storage_vars(network: Mapping[str, Any], iam: Mapping[str, Any], oidc_arn: str) -> dict[str, Any]:
    return {
        **COMMON_VARS,
        "vpc_id": network["vpc_id"],
        "private_subnet_ids": network["private_subnet_ids"],
        "efs_security_group_id": network["efs_security_group_id"],
        "data_kms_key_arn": iam["data_kms_key_arn"],
        "oidc_provider_arn": oidc_arn,
        "oidc_issuer_url": OIDC_ISSUER,
        "model_bucket_name": MODEL_BUCKET,
        "force_destroy": True,
    }


def run_lifecycle(
    tree: Path,
    env: Mapping[str, str],
    endpoint: str,
    work: Path,
    on_plans: Callable[[dict[str, Path]], None] | None = None,
) -> Lifecycle:
    """Run the whole lifecycle; ``on_plans`` gets the JSON of the second plans (made after apply, so every
    value is known: what checkov scans) as soon as they exist, before the destroy."""
    started = time.monotonic()
    runner = _Runner(tree, env, endpoint, work)
    stacks = {name: runner.new_stack(name) for name in STACK_ORDER}
    life = Lifecycle(endpoint, stacks)
    try:
        _boto3_client("s3", endpoint).create_bucket(Bucket=STATE_BUCKET)
        oidc_arn = _boto3_client("iam", endpoint).create_open_id_connect_provider(
            Url=OIDC_ISSUER,
            ClientIDList=["sts.amazonaws.com"],
            ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
        )["OpenIDConnectProviderArn"]
    except Exception as exc:  # the emulator itself is broken: nothing else can run
        life.setup_error = f"{type(exc).__name__}: {exc}"
        return life

    network, iam, storage = stacks["network"], stacks["iam"], stacks["storage"]

    notified: list[bool] = []

    def _notify() -> None:
        if on_plans is not None and not notified:
            notified.append(True)
            on_plans({name: run.plan2_json for name, run in stacks.items() if run.plan2_json is not None})

    # The second plans of network and iam do not depend on storage: run them while it applies.
    def storage_then_replan() -> None:
        if network.ok("output") and iam.ok("output"):
            runner.provision(storage, _storage_vars(network.outputs, iam.outputs, oidc_arn))
        runner.second_plan(storage)

    try:
        _in_parallel(
            lambda: runner.provision(network, {**COMMON_VARS, **NETWORK_VARS}),
            lambda: runner.provision(iam, COMMON_VARS),
        )
        password = ""
        if iam.ok("output"):
            life.grafana_secret, password = _read_grafana_secret(endpoint, iam)
        _in_parallel(storage_then_replan, lambda: runner.second_plan(network), lambda: runner.second_plan(iam))
        if life.grafana_secret is not None and password and iam.plan2_json is not None:
            life.grafana_secret["password_in_plan"] = password in iam.plan2_json.read_text(encoding="utf-8")
        _notify()
    finally:
        _notify()
        runner.destroy(storage)
        _in_parallel(lambda: runner.destroy(network), lambda: runner.destroy(iam))
        try:
            life.leftovers = _leftovers(endpoint)
        except Exception as exc:  # recorded: the destroy test reports it
            life.leftovers = {"error": [f"{type(exc).__name__}: {exc}"]}
        life.wall_seconds = round(time.monotonic() - started, 1)
    return life


def _read_grafana_secret(endpoint: str, iam: StackRun) -> tuple[dict[str, Any], str]:
    """The generated Grafana secret as stored in the emulator (summary, password), and whether the password
    shows up in the stack's state."""
    arn = iam.outputs.get("grafana_admin_secret_arn")
    try:
        response = _boto3_client("secretsmanager", endpoint).get_secret_value(SecretId=arn)
        value = json.loads(response["SecretString"])
    except Exception as exc:  # recorded: the test reports it
        return {"error": f"{type(exc).__name__}: {exc}"}, ""
    password = str(value.get("admin-password", ""))
    return {
        "keys": sorted(value),
        "password_length": len(password),
        "password_in_state": bool(password) and password in json.dumps(iam.state),
    }, password


def _leftovers(endpoint: str) -> dict[str, list[str]]:
    """What the stacks' destroy should have removed but is still there."""
    ec2 = _boto3_client("ec2", endpoint)
    iam = _boto3_client("iam", endpoint)
    efs = _boto3_client("efs", endpoint)
    s3 = _boto3_client("s3", endpoint)
    ecr = _boto3_client("ecr", endpoint)
    tag_filter = [{"Name": "tag:mlplat:env", "Values": [ENV]}]
    return {
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag_filter)["Vpcs"]],
        "nat_gateways": [
            n["NatGatewayId"]
            for n in ec2.describe_nat_gateways(Filters=tag_filter)["NatGateways"]
            if n.get("State") not in ("deleted", "deleting")
        ],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"mlplat-{ENV}-")],
        "file_systems": [f["FileSystemId"] for f in efs.describe_file_systems()["FileSystems"]],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"] != STATE_BUCKET],
        "ecr_repositories": [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]],
    }


def iter_state_resources(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every managed resource instance of a raw (``state pull``) state: address, type and attribute values."""
    found: list[dict[str, Any]] = []
    for resource in state.get("resources", []):
        if resource.get("mode") != "managed":
            continue
        prefix = f"{resource['module']}." if resource.get("module") else ""
        for instance in resource.get("instances", []):
            key = instance.get("index_key")
            suffix = "" if key is None else f"[{json.dumps(key)}]"
            found.append(
                {
                    "address": f"{prefix}{resource['type']}.{resource['name']}{suffix}",
                    "type": resource["type"],
                    "values": instance.get("attributes", {}),
                }
            )
    return found


def policy_documents(resource: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(attribute, document) for each IAM-style policy a resource carries."""
    values = resource.get("values", {})
    docs: list[tuple[str, Any]] = []
    for attribute in ("policy", "assume_role_policy"):
        if values.get(attribute):
            docs.append((attribute, values[attribute]))
    for inline in as_list(values.get("inline_policy") or []):
        if isinstance(inline, dict) and inline.get("policy"):
            docs.append(("inline_policy", inline["policy"]))
    return docs
