"""Evidence uploads: which files are accepted, and who may read one back.

A file is accepted only when its extension and its first bytes agree on PDF, JPEG or
PNG, so a renamed text or executable file is refused, and when it is whole to its end
marker with nothing behind it (`webapp.filecheck`). A file is readable by its uploader
and by anyone who can see an instance whose data cites it in an `evidence` list.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from sqlalchemy import Text, cast

from webapp.extensions import db
from webapp.filecheck import problem
from webapp.models import FileUpload, Instance, User, audit
from workflows import jurisdiction

MAX_BYTES = 10 * 1024 * 1024
MAX_NAME = 255  # FileUpload.name
KINDS = {  # content type → (extensions, magic prefix)
    "application/pdf": ((".pdf",), b"%PDF-"),
    "image/jpeg": ((".jpg", ".jpeg"), b"\xff\xd8\xff"),
    "image/png": ((".png",), b"\x89PNG\r\n\x1a\n"),
}


def sniff(filename: str, head: bytes) -> str | None:
    """The content type when extension and magic bytes both say the same kind, else None."""
    lower = filename.lower()
    for content_type, (extensions, magic) in KINDS.items():
        if lower.endswith(extensions) and head.startswith(magic):
            return content_type
    return None


class UploadRefused(ValueError):
    """A file that is not a PDF/JPEG/PNG of at most 10 MB; the message says why, in Chinese."""


def store_upload(user: User, filename: str, content: bytes) -> FileUpload:
    """Check and stage one evidence file in the current transaction (audited)."""
    if len(content) > MAX_BYTES:
        raise UploadRefused("文件不能超过 10 MB。")
    if not content:
        raise UploadRefused("文件为空。")
    name = PurePath(filename.replace("\\", "/")).name
    if len(name) > MAX_NAME:
        raise UploadRefused(
            f"文件名不能超过 {MAX_NAME} 个字符（现为 {len(name)} 个），请改短后重新上传。"
        )
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise UploadRefused("文件名含有控制字符或无效字符，请改名后重新上传。")
    content_type = sniff(name, content[:16])
    if content_type is None:
        raise UploadRefused(f"“{name}”不是 PDF、JPEG 或 PNG 文件（扩展名与文件内容须一致）。")
    why = problem(content_type, content)
    if why:
        raise UploadRefused(f"“{name}”：{why}")
    upload = FileUpload(
        name=name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by_id=user.id,
    )
    db.session.add(upload)
    db.session.flush()
    audit(user, "file.upload", upload, None, {"name": name, "size": upload.size})
    return upload


def _cites(data, file_id: int) -> bool:
    """Whether any `evidence` list anywhere in the instance data holds this file id."""
    if isinstance(data, dict):
        evidence = data.get("evidence")
        if isinstance(evidence, list) and any(str(item) == str(file_id) for item in evidence):
            return True
        return any(_cites(value, file_id) for value in data.values())
    if isinstance(data, list):
        return any(_cites(item, file_id) for item in data)
    return False


def readable_file(user: User, file_id: int) -> FileUpload | None:
    """The upload if the user may read it; None (answered as 404) otherwise."""
    upload = db.session.get(FileUpload, file_id)
    if upload is None:
        return None
    if upload.uploaded_by_id == user.id:
        return upload
    # Narrow in SQL to instances in reach whose data mentions evidence, then check exactly.
    candidates = jurisdiction.instances(user).filter(cast(Instance.data, Text).contains("evidence"))
    if any(_cites(instance.data, file_id) for instance in candidates):
        return upload
    return None
