"""Patch ``efs-delete-file-system-policy``: DeleteFileSystemPolicy.

Gap (moto 5.2.5): the operation is not implemented; ``DELETE /2015-02-01/file-systems/<id>/policy``
answers 500, so destroying an ``aws_efs_file_system_policy`` retries until the provider's timeout
and ``terraform destroy`` of the storage stack hangs.

Closed by: a response method that removes the policy (FileSystemNotFound for an unknown file
system), answering 200 with an empty body as EFS does.
"""

from __future__ import annotations

from typing import Any

from moto.efs.exceptions import FileSystemNotFound
from moto.efs.responses import EFSResponse


def _delete_file_system_policy(self: Any) -> Any:
    """DeleteFileSystemPolicy: DELETE /2015-02-01/file-systems/{FileSystemId}/policy."""
    file_system_id = self._get_param("FileSystemId")
    file_system = self.efs_backend.file_systems_by_id.get(file_system_id)
    if file_system is None:
        raise FileSystemNotFound(file_system_id)
    file_system.file_system_policy = None
    return "{}", {"status": 200, "Content-Type": "application/json"}


def apply() -> None:
    """Add DeleteFileSystemPolicy to moto's EFS responses (idempotent)."""
    setattr(EFSResponse, "delete_file_system_policy", _delete_file_system_policy)  # noqa: B010
