"""What is still there after ``down``: every AWS resource tagged with the environment.

``mlplat down`` only counts as done when this inventory finds zero resources. It combines two sources:

* the Resource Groups Tagging API (one ``GetResources`` query per ownership tag), which sees almost every
  taggable type but lags: it may miss a resource created a moment ago, and it goes on listing resources
  that are terminated, deleted or scheduled for deletion for a while;
* direct listings of the types mlplat and Kubernetes create (EC2, load balancers, EFS, EKS, S3, ECR, KMS,
  Secrets Manager, IAM, CloudWatch Logs), which are authoritative for their types and skip what no longer
  bills (terminated instances, deleted NAT gateways, KMS keys pending deletion, secrets scheduled for
  deletion...).

A tagging-API hit of a type a direct listing checked is trusted only when that listing saw it too; hits of
other types (or of a type whose listing could not run) are reported as found by the tagging API only.

A resource belongs to the environment when it carries ``mlplat:env=<env>``, or, without any
``mlplat:env`` tag, one of the cluster's ownership tags (``mlplat:cluster``,
``kubernetes.io/cluster/<cluster>=owned``, ``elbv2.k8s.aws/cluster``, ``KubernetesCluster``, the VPC CNI's
``cluster.k8s.amazonaws.com/name``). A resource tagged with another env is never counted.

A listing the endpoint does not implement (an emulator answering 404 / 501 / ``NotImplemented``, or
something that is not an AWS answer at all) does not stop the inventory: it is named in
:attr:`InventoryResult.unchecked` with the reason, so the caller can say what was *not* proven. Any other
AWS failure (access denied, throttling past the retries...) raises :class:`AwsError` naming the service
and API.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.aws.tags import tag_dict
from eksctl_ml.errors import AwsError, LeftoverResourcesError, MlplatError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Leftover:
    """One resource that still exists. ``service`` is the boto3 service name, ``kind`` the ARN type."""

    service: str
    kind: str
    id: str
    arn: str | None
    note: str = ""


@dataclass(frozen=True)
class InventoryResult:
    """What remains, and which listings could not run (``"<listing>: <why>"``)."""

    leftovers: list[Leftover] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when nothing remains (says nothing about ``unchecked``)."""
        return not self.leftovers


TAGGING_ONLY_NOTE = "found only by the tagging API"

# Error codes meaning "this endpoint does not implement the API" rather than "the call failed".
_UNAVAILABLE_CODES = frozenset(
    {
        "NotImplemented",
        "NotImplementedError",
        "NotImplementedException",
        "UnknownOperationException",
        "UnknownOperation",
        "InvalidAction",
        "UnsupportedOperation",
        "UnsupportedOperationException",
    }
)
_UNAVAILABLE_STATUS = frozenset({404, 501})
# A bare HTTP status as the error code means the body was not an AWS error document at all.
_BARE_STATUS_UNAVAILABLE = frozenset({"404", "405", "500", "501", "502"})

# S3 answers these for a bucket that lives in another region than the client's.
_S3_OTHER_REGION_CODES = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "301"}
)

_KMS_GONE_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})
_NAT_GONE_STATES = frozenset({"deleted", "deleting"})

# Tagging-API ARN services whose boto3 client is named differently.
_ARN_SERVICE = {"elasticfilesystem": "efs", "elasticloadbalancing": "elbv2"}


class _UnavailableError(Exception):
    """A listing's API is not implemented by the endpoint; the listing goes to ``unchecked``."""


# --- calling AWS -------------------------------------------------------------------------------------


class _Ctx:
    """The clients, the ownership rule and what the listings learned, shared by all listings."""

    def __init__(self, aws: AwsClients, env: str, cluster: str) -> None:
        self.aws = aws
        self.env = env
        self.cluster = cluster
        self.region = aws.region
        self.partition = _partition(aws.region)
        self._account: str | None = None
        self._account_known = False
        self._ownership = {
            "mlplat:cluster": cluster,
            f"kubernetes.io/cluster/{cluster}": "owned",
            "elbv2.k8s.aws/cluster": cluster,
            "KubernetesCluster": cluster,
            "cluster.k8s.amazonaws.com/name": cluster,
        }

    # The ownership rule ---------------------------------------------------------------------------

    @property
    def tag_queries(self) -> list[tuple[str, str]]:
        """One tagging-API query per tag that can make a resource the env's."""
        return [("mlplat:env", self.env), *self._ownership.items()]

    def owns(self, tags: Mapping[str, str]) -> bool:
        if "mlplat:env" in tags:
            return tags["mlplat:env"] == self.env
        return any(tags.get(key) == value for key, value in self._ownership.items())

    # Identity -------------------------------------------------------------------------------------

    def account(self, owner: str | None = None) -> str | None:
        """The account for ARNs the API does not return: the item's owner, else STS (once)."""
        if owner:
            return owner
        if not self._account_known:
            self._account_known = True
            try:
                self._account = self.aws.caller_identity().account
            except MlplatError:
                self._account = None
        return self._account

    def ec2_arn(self, kind: str, rid: str, owner: str | None = None) -> str | None:
        account = self.account(owner)
        return f"arn:{self.partition}:ec2:{self.region}:{account}:{kind}/{rid}" if account else None

    # Calls ----------------------------------------------------------------------------------------

    def call(self, service: str, api: str, *, ok: Collection[str] = (), **kwargs: Any) -> dict[str, Any] | None:
        """One API call; ``None`` when it fails with an error code in ``ok``."""
        client = self.aws.client(service)
        try:
            response: dict[str, Any] = getattr(client, api)(**kwargs)
        except Exception as exc:
            _reraise(exc, service, _operation(client, api), ok)
            return None
        return response

    def pages(self, service: str, api: str, *, ok: Collection[str] = (), **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a (paginated or not) list call; nothing more once one fails with a code in ``ok``."""
        client = self.aws.client(service)
        if not client.can_paginate(api):
            response = self.call(service, api, ok=ok, **kwargs)
            if response is not None:
                yield response
            return
        iterator = iter(client.get_paginator(api).paginate(**kwargs))
        while True:
            try:
                page: dict[str, Any] = next(iterator)
            except StopIteration:
                return
            except Exception as exc:
                _reraise(exc, service, _operation(client, api), ok)
                return
            yield page


def _operation(client: Any, api: str) -> str:
    mapping = getattr(getattr(client, "meta", None), "method_to_api_mapping", None) or {}
    return str(mapping.get(api, api))


def _reraise(exc: Exception, service: str, operation: str, ok: Collection[str]) -> None:
    """Return when ``exc`` is an expected error (code in ``ok``); otherwise raise what it means."""
    import botocore.exceptions
    import botocore.parsers

    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {}) or {}
        code = str(error.get("Code", "") or "")
        message = str(error.get("Message", "") or "").strip()
        status = (exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode")
        if code in ok:
            return
        if code in _UNAVAILABLE_CODES or code in _BARE_STATUS_UNAVAILABLE or status in _UNAVAILABLE_STATUS:
            raise _UnavailableError(f"{service} {operation} not available (HTTP {status}, {code or 'no error code'})")
        hint = None
        if "AccessDenied" in code or "Unauthorized" in code or code == "AuthorizationError":
            hint = (
                f"the credentials need {service} read access ({operation}) for the leftover inventory; "
                "grant it or check the remaining resources in the console"
            )
        raise AwsError(
            f"leftover inventory: {service} {operation} failed ({code or status})",
            detail=_first_line(message),
            hint=hint,
        ) from exc
    if isinstance(exc, botocore.parsers.ResponseParserError):
        # The endpoint answered something that is not an AWS response (an emulator's HTML 404/500 page).
        raise _UnavailableError(f"{service} {operation} not available (the answer is not an AWS response)") from exc
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        raise AwsError(f"leftover inventory: {service} {operation} failed", detail=str(exc)) from exc
    raise exc


def _first_line(text: str) -> str:
    return text.splitlines()[0][:300] if text else ""


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the listings ------------------------------------------------------------------------------------

Covers = Callable[[str, str, str], bool]


@dataclass(frozen=True)
class _Listing:
    name: str
    run: Callable[[_Ctx], Iterable[Leftover]]
    covers: Covers  # (service, kind, id) of a tagging-API hit -> this listing is authoritative for it


def _kinds(*pairs: tuple[str, str]) -> Covers:
    wanted = frozenset(pairs)
    return lambda service, kind, _rid: (service, kind) in wanted


@dataclass(frozen=True)
class _Ec2Type:
    name: str
    api: str
    key: str
    kind: str
    id_field: str
    keep: Callable[[Mapping[str, Any]], bool] | None = None
    note: Callable[[Mapping[str, Any]], str] | None = None
    children: tuple[str, ...] = ()  # ARN types that cannot outlive this one (covered by its listing)


_EC2_TYPES = [
    _Ec2Type("ec2 VPCs", "describe_vpcs", "Vpcs", "vpc", "VpcId"),
    _Ec2Type("ec2 subnets", "describe_subnets", "Subnets", "subnet", "SubnetId"),
    _Ec2Type(
        "ec2 security groups",
        "describe_security_groups",
        "SecurityGroups",
        "security-group",
        "GroupId",
        keep=lambda item: item.get("GroupName") != "default",
        children=("security-group-rule",),
    ),
    _Ec2Type(
        "ec2 internet gateways",
        "describe_internet_gateways",
        "InternetGateways",
        "internet-gateway",
        "InternetGatewayId",
    ),
    _Ec2Type(
        "ec2 NAT gateways",
        "describe_nat_gateways",
        "NatGateways",
        "natgateway",
        "NatGatewayId",
        keep=lambda item: str(item.get("State", "")).lower() not in _NAT_GONE_STATES,
        note=lambda item: f"state={item.get('State')}",
    ),
    _Ec2Type(
        "ec2 elastic IPs",
        "describe_addresses",
        "Addresses",
        "elastic-ip",
        "AllocationId",
        note=lambda item: f"public IP {item.get('PublicIp')}",
    ),
    _Ec2Type("ec2 route tables", "describe_route_tables", "RouteTables", "route-table", "RouteTableId"),
    _Ec2Type(
        "ec2 VPC endpoints",
        "describe_vpc_endpoints",
        "VpcEndpoints",
        "vpc-endpoint",
        "VpcEndpointId",
        keep=lambda item: str(item.get("State", "")).lower() != "deleted",
        note=lambda item: f"state={item.get('State')}",
    ),
    _Ec2Type(
        "ec2 launch templates", "describe_launch_templates", "LaunchTemplates", "launch-template", "LaunchTemplateId"
    ),
    _Ec2Type(
        "ec2 network interfaces",
        "describe_network_interfaces",
        "NetworkInterfaces",
        "network-interface",
        "NetworkInterfaceId",
        note=lambda item: f"status={item.get('Status')}",
    ),
    _Ec2Type(
        "ec2 volumes",
        "describe_volumes",
        "Volumes",
        "volume",
        "VolumeId",
        note=lambda item: "; ".join(
            part
            for part in (
                f"state={item.get('State')}",
                _pvc_note(tag_dict(item.get("Tags"))),
            )
            if part
        ),
    ),
]


def _pvc_note(tags: Mapping[str, str]) -> str:
    namespace = tags.get("kubernetes.io/created-for/pvc/namespace")
    name = tags.get("kubernetes.io/created-for/pvc/name")
    if not name:
        return ""
    return f"PVC {namespace}/{name}" if namespace else f"PVC {name}"


def _ec2_listing(spec: _Ec2Type) -> _Listing:
    def run(ctx: _Ctx) -> Iterator[Leftover]:
        for page in ctx.pages("ec2", spec.api):
            for item in page.get(spec.key, []):
                tags = tag_dict(item.get("Tags") if "Tags" in item else item.get("TagSet"))
                if not ctx.owns(tags) or (spec.keep is not None and not spec.keep(item)):
                    continue
                rid = str(item.get(spec.id_field) or item.get("PublicIp") or "")
                arn = item.get("SubnetArn") or ctx.ec2_arn(spec.kind, rid, item.get("OwnerId"))
                yield Leftover("ec2", spec.kind, rid, arn, spec.note(item) if spec.note else "")

    return _Listing(spec.name, run, _kinds(("ec2", spec.kind), *(("ec2", child) for child in spec.children)))


def _ec2_instances(ctx: _Ctx) -> Iterator[Leftover]:
    for page in ctx.pages("ec2", "describe_instances"):
        for reservation in page.get("Reservations", []):
            for item in reservation.get("Instances", []):
                state = str((item.get("State") or {}).get("Name", ""))
                if state == "terminated" or not ctx.owns(tag_dict(item.get("Tags"))):
                    continue
                rid = str(item["InstanceId"])
                arn = ctx.ec2_arn("instance", rid, reservation.get("OwnerId"))
                yield Leftover("ec2", "instance", rid, arn, f"state={state}")


def _elbv2_tags(ctx: _Ctx, arns: list[str]) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    for batch in _chunks(arns, 20):
        gone = {"LoadBalancerNotFound", "TargetGroupNotFound"}
        response = ctx.call("elbv2", "describe_tags", ok=gone, ResourceArns=batch)
        # One of them went away meanwhile: ask one by one.
        answers = (
            [response]
            if response is not None
            else [ctx.call("elbv2", "describe_tags", ok=gone, ResourceArns=[arn]) for arn in batch]
        )
        for answer in answers:
            for desc in (answer or {}).get("TagDescriptions", []):
                tags[str(desc["ResourceArn"])] = tag_dict(desc.get("Tags"))
    return tags


def _elbv2_load_balancers(ctx: _Ctx) -> Iterator[Leftover]:
    lbs = [lb for page in ctx.pages("elbv2", "describe_load_balancers") for lb in page.get("LoadBalancers", [])]
    tags = _elbv2_tags(ctx, [str(lb["LoadBalancerArn"]) for lb in lbs])
    for lb in lbs:
        arn = str(lb["LoadBalancerArn"])
        if arn in tags and ctx.owns(tags[arn]):
            yield Leftover("elbv2", "loadbalancer", str(lb["LoadBalancerName"]), arn, f"type={lb.get('Type')}")


def _elbv2_target_groups(ctx: _Ctx) -> Iterator[Leftover]:
    groups = [tg for page in ctx.pages("elbv2", "describe_target_groups") for tg in page.get("TargetGroups", [])]
    tags = _elbv2_tags(ctx, [str(tg["TargetGroupArn"]) for tg in groups])
    for tg in groups:
        arn = str(tg["TargetGroupArn"])
        if arn in tags and ctx.owns(tags[arn]):
            yield Leftover("elbv2", "targetgroup", str(tg["TargetGroupName"]), arn)


def _classic_elbs(ctx: _Ctx) -> Iterator[Leftover]:
    names = [
        str(lb["LoadBalancerName"])
        for page in ctx.pages("elb", "describe_load_balancers")
        for lb in page.get("LoadBalancerDescriptions", [])
    ]
    tags: dict[str, dict[str, str]] = {}
    for batch in _chunks(names, 20):
        response = ctx.call("elb", "describe_tags", ok={"LoadBalancerNotFound"}, LoadBalancerNames=batch)
        # One of them went away meanwhile: ask one by one.
        answers = (
            [response]
            if response is not None
            else [
                ctx.call("elb", "describe_tags", ok={"LoadBalancerNotFound"}, LoadBalancerNames=[name])
                for name in batch
            ]
        )
        for answer in answers:
            for desc in (answer or {}).get("TagDescriptions", []):
                tags[str(desc["LoadBalancerName"])] = tag_dict(desc.get("Tags"))
    for name in names:
        if name in tags and ctx.owns(tags[name]):
            account = ctx.account()
            arn = (
                f"arn:{ctx.partition}:elasticloadbalancing:{ctx.region}:{account}:loadbalancer/{name}"
                if account
                else None
            )
            yield Leftover("elb", "loadbalancer", name, arn, "classic load balancer")


def _efs_file_systems(ctx: _Ctx) -> Iterator[Leftover]:
    for page in ctx.pages("efs", "describe_file_systems"):
        for fs in page.get("FileSystems", []):
            if fs.get("LifeCycleState") == "deleted" or not ctx.owns(tag_dict(fs.get("Tags"))):
                continue
            rid = str(fs["FileSystemId"])
            account = ctx.account(fs.get("OwnerId"))
            arn = fs.get("FileSystemArn") or (
                f"arn:{ctx.partition}:elasticfilesystem:{ctx.region}:{account}:file-system/{rid}" if account else None
            )
            yield Leftover("efs", "file-system", rid, arn, f"state={fs.get('LifeCycleState')}")


def _eks(ctx: _Ctx) -> Iterator[Leftover]:
    names = {str(name) for page in ctx.pages("eks", "list_clusters") for name in page.get("clusters", [])}
    names.add(ctx.cluster)  # the named cluster is asked for even when the list lags behind
    for name in sorted(names):
        response = ctx.call("eks", "describe_cluster", ok={"ResourceNotFoundException"}, name=name)
        if response is None:
            continue
        cluster = response.get("cluster", {})
        if name != ctx.cluster and not ctx.owns(tag_dict(cluster.get("tags"))):
            continue
        yield Leftover("eks", "cluster", name, cluster.get("arn"), f"status={cluster.get('status')}")
        for page in ctx.pages("eks", "list_nodegroups", ok={"ResourceNotFoundException"}, clusterName=name):
            for nodegroup in page.get("nodegroups", []):
                described = ctx.call(
                    "eks",
                    "describe_nodegroup",
                    ok={"ResourceNotFoundException"},
                    clusterName=name,
                    nodegroupName=nodegroup,
                )
                if described is None:
                    continue
                detail = described.get("nodegroup", {})
                yield Leftover(
                    "eks",
                    "nodegroup",
                    f"{name}/{nodegroup}",
                    detail.get("nodegroupArn"),
                    f"status={detail.get('status')}",
                )


def _s3_region(ctx: _Ctx, bucket: str) -> str | None:
    response = ctx.call("s3", "get_bucket_location", ok={"NoSuchBucket", *_S3_OTHER_REGION_CODES}, Bucket=bucket)
    if response is None:
        return None
    location = response.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)


def _s3_buckets(ctx: _Ctx) -> Iterator[Leftover]:
    # ListBuckets filters by region where the SDK knows how to ask (botocore >= 1.35); else we check below.
    operation = ctx.aws.client("s3").meta.service_model.operation_model("ListBuckets")
    by_region = {"BucketRegion": ctx.region} if "BucketRegion" in operation.input_shape.members else {}
    for page in ctx.pages("s3", "list_buckets", **by_region):
        for bucket in page.get("Buckets", []):
            name = str(bucket["Name"])
            listed_region = bucket.get("BucketRegion")
            if listed_region and listed_region != ctx.region:
                continue
            response = ctx.call(
                "s3", "get_bucket_tagging", ok={"NoSuchTagSet", "NoSuchBucket", *_S3_OTHER_REGION_CODES}, Bucket=name
            )
            if response is None or not ctx.owns(tag_dict(response.get("TagSet"))):
                continue
            # An endpoint that ignores BucketRegion lists every region's buckets: confirm the match's region.
            if not listed_region and _s3_region(ctx, name) != ctx.region:
                continue
            yield Leftover("s3", "bucket", name, f"arn:{ctx.partition}:s3:::{name}")


def _ecr_repositories(ctx: _Ctx) -> Iterator[Leftover]:
    for page in ctx.pages("ecr", "describe_repositories"):
        for repo in page.get("repositories", []):
            arn = str(repo["repositoryArn"])
            response = ctx.call("ecr", "list_tags_for_resource", ok={"RepositoryNotFoundException"}, resourceArn=arn)
            if response is not None and ctx.owns(tag_dict(response.get("tags"))):
                yield Leftover("ecr", "repository", str(repo["repositoryName"]), arn)


def _kms_keys(ctx: _Ctx) -> Iterator[Leftover]:
    for page in ctx.pages("kms", "list_keys"):
        for key in page.get("Keys", []):
            key_id = str(key["KeyId"])
            described = ctx.call("kms", "describe_key", ok={"NotFoundException"}, KeyId=key_id)
            if described is None:
                continue
            meta = described.get("KeyMetadata", {})
            # AWS-managed keys are not ours; a key pending deletion no longer counts (it cannot be used).
            if meta.get("KeyManager") == "AWS" or meta.get("KeyState") in _KMS_GONE_STATES:
                continue
            tags: dict[str, str] = {}
            for tag_page in ctx.pages("kms", "list_resource_tags", ok={"NotFoundException"}, KeyId=key_id):
                tags.update(tag_dict(tag_page.get("Tags")))
            if ctx.owns(tags):
                yield Leftover(
                    "kms", "key", key_id, meta.get("Arn") or key.get("KeyArn"), f"state={meta.get('KeyState')}"
                )


def _secrets(ctx: _Ctx) -> Iterator[Leftover]:
    for page in ctx.pages("secretsmanager", "list_secrets"):
        for secret in page.get("SecretList", []):
            if secret.get("DeletedDate") is not None or not ctx.owns(tag_dict(secret.get("Tags"))):
                continue
            yield Leftover("secretsmanager", "secret", str(secret["Name"]), secret.get("ARN"))


def _iam_tags(ctx: _Ctx, api: str, **kwargs: Any) -> dict[str, str]:
    tags: dict[str, str] = {}
    for page in ctx.pages("iam", api, ok={"NoSuchEntity"}, **kwargs):
        tags.update(tag_dict(page.get("Tags")))
    return tags


def _iam_roles(ctx: _Ctx) -> Iterator[Leftover]:
    for page in ctx.pages("iam", "list_roles"):
        for role in page.get("Roles", []):
            if str(role.get("Path", "")).startswith("/aws-service-role/"):
                continue  # service-linked roles belong to the account, not to an env
            if ctx.owns(_iam_tags(ctx, "list_role_tags", RoleName=role["RoleName"])):
                yield Leftover("iam", "role", str(role["RoleName"]), role.get("Arn"))


def _iam_policies(ctx: _Ctx) -> Iterator[Leftover]:
    for page in ctx.pages("iam", "list_policies", Scope="Local"):
        for policy in page.get("Policies", []):
            if ctx.owns(_iam_tags(ctx, "list_policy_tags", PolicyArn=policy["Arn"])):
                yield Leftover("iam", "policy", str(policy["PolicyName"]), policy.get("Arn"))


def _iam_oidc_providers(ctx: _Ctx) -> Iterator[Leftover]:
    for page in ctx.pages("iam", "list_open_id_connect_providers"):
        for provider in page.get("OpenIDConnectProviderList", []):
            arn = str(provider["Arn"])
            if ctx.owns(_iam_tags(ctx, "list_open_id_connect_provider_tags", OpenIDConnectProviderArn=arn)):
                yield Leftover("iam", "oidc-provider", arn.split(":oidc-provider/", 1)[-1], arn)


def _eks_log_group_name(cluster: str) -> str:
    return f"/aws/eks/{cluster}/cluster"


def _log_groups(ctx: _Ctx) -> Iterator[Leftover]:
    name = _eks_log_group_name(ctx.cluster)
    for page in ctx.pages("logs", "describe_log_groups", logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group.get("logGroupName") != name:
                continue
            arn = group.get("logGroupArn") or str(group.get("arn") or "").removesuffix(":*") or None
            yield Leftover("logs", "log-group", name, arn, "EKS control-plane logs")


def _listings(cluster: str) -> list[_Listing]:
    log_group = _eks_log_group_name(cluster)
    return [
        *(_ec2_listing(spec) for spec in _EC2_TYPES),
        _Listing("ec2 instances", _ec2_instances, _kinds(("ec2", "instance"))),
        # Listeners and rules cannot outlive their load balancer: the load balancer's line covers them.
        _Listing(
            "elbv2 load balancers",
            _elbv2_load_balancers,
            _kinds(("elbv2", "loadbalancer"), ("elbv2", "listener"), ("elbv2", "listener-rule")),
        ),
        _Listing("elbv2 target groups", _elbv2_target_groups, _kinds(("elbv2", "targetgroup"))),
        _Listing("classic load balancers", _classic_elbs, _kinds(("elb", "loadbalancer"))),
        _Listing("efs file systems", _efs_file_systems, _kinds(("efs", "file-system"))),
        # Every cluster of the region is looked at; node groups, add-ons, Fargate profiles... go with theirs.
        _Listing("eks clusters and node groups", _eks, lambda service, _kind, _rid: service == "eks"),
        _Listing("s3 buckets", _s3_buckets, _kinds(("s3", "bucket"))),
        _Listing("ecr repositories", _ecr_repositories, _kinds(("ecr", "repository"))),
        _Listing("kms keys", _kms_keys, _kinds(("kms", "key"))),
        _Listing("secretsmanager secrets", _secrets, _kinds(("secretsmanager", "secret"))),
        _Listing("iam roles", _iam_roles, _kinds(("iam", "role"))),
        _Listing("iam policies", _iam_policies, _kinds(("iam", "policy"))),
        _Listing("iam OIDC providers", _iam_oidc_providers, _kinds(("iam", "oidc-provider"))),
        _Listing(
            "cloudwatch log group",
            _log_groups,
            lambda service, kind, rid: (service, kind, rid) == ("logs", "log-group", log_group),
        ),
    ]


# --- the tagging API ---------------------------------------------------------------------------------


def parse_arn(arn: str) -> tuple[str, str, str]:
    """``(service, kind, id)`` of an ARN, with the boto3 service name (``elbv2``/``elb``, ``efs``)."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "unknown", "resource", arn
    service, resource = parts[2], parts[5]
    separators = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    if separators:
        cut = min(separators)
        kind, rid = resource[:cut], resource[cut + 1 :]
    elif service == "s3":
        kind, rid = "bucket", resource
    else:
        kind, rid = "resource", resource
    if service == "elasticloadbalancing" and kind == "loadbalancer" and not rid.startswith(("app/", "net/", "gwy/")):
        return "elb", kind, rid
    return _ARN_SERVICE.get(service, service), kind, rid


def _tagging(ctx: _Ctx) -> Iterator[Leftover]:
    for key, value in ctx.tag_queries:
        filters = [{"Key": key, "Values": [value]}]
        for page in ctx.pages("resourcegroupstaggingapi", "get_resources", TagFilters=filters):
            for mapping in page.get("ResourceTagMappingList", []):
                if not ctx.owns(tag_dict(mapping.get("Tags"))):
                    continue
                arn = str(mapping["ResourceARN"])
                service, kind, rid = parse_arn(arn)
                yield Leftover(service, kind, rid, arn, TAGGING_ONLY_NOTE)


# --- putting it together -----------------------------------------------------------------------------


def _run(listing: _Listing, ctx: _Ctx, found: list[Leftover], unchecked: list[str]) -> bool:
    """Run one listing into ``found``; False (and a line in ``unchecked``) when its API is unavailable."""
    try:
        for leftover in listing.run(ctx):
            found.append(leftover)
    except _UnavailableError as exc:
        unchecked.append(f"{listing.name}: {exc}")
        return False
    return True


def find_leftovers(aws: AwsClients, env: str, cluster: str, *, progress: Progress | None = None) -> InventoryResult:
    """Every resource in ``aws.region`` (and IAM, S3) that still belongs to ``env`` / ``cluster``.

    Raises :class:`AwsError` for a failing call (access denied...); APIs the endpoint does not implement
    end up in :attr:`InventoryResult.unchecked` instead.
    """
    say = progress or (lambda _message: None)
    ctx = _Ctx(aws, env, cluster)
    unchecked: list[str] = []

    say("inventory: resource groups tagging API")
    tagged: list[Leftover] = []
    _run(_Listing("tagging API", _tagging, lambda *_: False), ctx, tagged, unchecked)

    direct: list[Leftover] = []
    covering: list[Covers] = []
    for listing in _listings(cluster):
        say(f"inventory: {listing.name}")
        if _run(listing, ctx, direct, unchecked):
            covering.append(listing.covers)

    # A tagging hit of a type a listing checked counts only if that listing saw it (the tagging API lags).
    direct_arns = {item.arn for item in direct if item.arn}
    stale = 0
    for item in tagged:
        covered = any(covers(item.service, item.kind, item.id) for covers in covering)
        if covered:
            stale += item.arn not in direct_arns
            continue
        direct.append(item)
    if stale:
        say(
            f"inventory: ignored {stale} tagging-API result(s) the direct listings do not confirm "
            "(deleted, scheduled for deletion or in another region)"
        )

    result = InventoryResult(_dedupe(direct), unchecked)
    say(f"inventory: {len(result.leftovers)} resource(s) remain, {len(unchecked)} listing(s) unavailable")
    return result


def _dedupe(items: Iterable[Leftover]) -> list[Leftover]:
    seen_arns: set[str] = set()
    seen_ids: set[tuple[str, str, str]] = set()
    unique: list[Leftover] = []
    for item in items:
        key = (item.service, item.kind, item.id)
        if (item.arn and item.arn in seen_arns) or key in seen_ids:
            continue
        if item.arn:
            seen_arns.add(item.arn)
        seen_ids.add(key)
        unique.append(item)
    return sorted(unique, key=lambda item: (item.service, item.kind, item.id))


def render_leftovers(result: InventoryResult) -> str:
    """``0 resources remain`` or ``N resources remain:`` and one line per resource, then what was unchecked."""
    count = len(result.leftovers)
    head = f"{count} resources remain"
    if result.unchecked:
        listings = len(result.unchecked)
        head += f" ({listings} listing{'s' if listings != 1 else ''} unavailable)"
    lines = [head + (":" if count else "")]
    for item in result.leftovers:
        line = f"  {item.service}/{item.kind} {item.id}  {item.arn or '-'}"
        lines.append(f"{line}  ({item.note})" if item.note else line)
    lines.extend(f"  unavailable: {entry}" for entry in result.unchecked)
    return "\n".join(lines)


def raise_if_leftovers(result: InventoryResult, env: str) -> None:
    """:class:`LeftoverResourcesError` listing what remains, when anything does."""
    if result.leftovers:
        raise LeftoverResourcesError(
            f"env {env!r}: `down` finished but resources remain\n{render_leftovers(result)}",
            hint="delete them (or run `mlplat down` again), then re-check; each line names the resource",
        )
