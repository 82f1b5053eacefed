"""Evidence uploads are read to their end marker: a valid header does not carry a page or
a script behind it, and a name that is too long is named as the problem."""

from __future__ import annotations

from webapp.models import FileUpload

from .test_api import PDF, png_bytes, upload


def jpeg_bytes() -> bytes:
    """SOI, a JFIF segment, one scan whose coded data holds a stuffed 0xFF, EOI."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + sos + b"\x12\xff\x00\x34\xff\xd0\x56" + b"\xff\xd9"


def refused(as_user, name: str, content: bytes) -> str:
    resp = upload(as_user, name, content)
    assert resp.status_code == 422, (name, resp.get_json())
    error = resp.get_json()["error"]
    assert error["fields"]["file"] == [error["message"]]
    return error["message"]


def test_whole_files_of_each_kind_are_accepted(api, world):
    as_p3 = api("uP3")
    for name, content in [
        ("户籍证明.png", png_bytes()),
        ("照片.jpg", jpeg_bytes()),
        ("证明.pdf", PDF),
        ("增量保存.pdf", PDF + b"1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\r\n"),
    ]:
        resp = upload(as_p3, name, content)
        assert resp.status_code == 201, (name, resp.get_json())
    assert FileUpload.query.count() == 4


def test_a_pdf_that_is_a_web_page_after_its_header_is_refused(api, world):
    as_p3 = api("uP3")
    page = b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n"
    assert "网页或脚本" in refused(as_p3, "证明.pdf", page)
    assert "网页或脚本" in refused(as_p3, "证明.pdf", PDF.replace(b"endobj", b"<SCRIPT>x", 1))
    assert "%%EOF" in refused(as_p3, "证明.pdf", b"%PDF-1.4\nhello, this is text")
    assert FileUpload.query.count() == 0


def test_images_with_a_tail_or_cut_short_are_refused(api, world):
    as_p3 = api("uP3")
    tail = b"<script>alert(document.cookie)</script>"
    assert "结束标记之后" in refused(as_p3, "a.png", png_bytes() + tail)
    assert "IEND" in refused(as_p3, "a.png", png_bytes()[:-12])
    assert "校验" in refused(as_p3, "a.png", png_bytes()[:-1] + b"\x00")
    assert "结束标记之后" in refused(as_p3, "a.jpg", jpeg_bytes() + tail)
    assert "EOI" in refused(as_p3, "a.jpg", jpeg_bytes()[:-2])
    assert FileUpload.query.count() == 0
    assert upload(as_p3, "a.png", png_bytes() + b"\n").status_code == 201  # an editor's newline


def test_a_name_over_the_limit_gets_its_own_message(api, world):
    as_p3 = api("uP3")
    message = refused(as_p3, "证" * 252 + ".pdf", PDF)
    assert "文件名不能超过 255 个字符" in message and "256" in message
    resp = upload(as_p3, "证" * 251 + ".pdf", PDF)
    assert resp.status_code == 201 and resp.get_json()["name"] == "证" * 251 + ".pdf"
