"""The password policy, the same for `xueji create-user`, `xueji set-password` and the
password page: long enough, and none of the passwords an attacker tries first."""

from __future__ import annotations

from ..demo_data import DEMO_PASSWORD

MIN_LENGTH = 10
MAX_LENGTH = 128  # hashing a megabyte of "password" is a cheap way to tie up a server

# What guessing lists start with (compared in lower case), Chinese favourites included.
COMMON = frozenset(
    {
        "0123456789",
        "1234567890",
        "12345678910",
        "1234567890a",
        "123456789a",
        "123456789abc",
        "a123456789",
        "a1234567890",
        "abc1234567",
        "abcd123456",
        "abcd1234567",
        "aa123456789",
        "qq123456789",
        "asd123456789",
        "zxc123456789",
        "147258369a",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "1qaz2wsx3e",
        "qwertyuiop",
        "qwerty123456",
        "qwer123456",
        "asdfghjkl1",
        "zxcvbnm123",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "p@ssw0rd123",
        "p@ssword123",
        "admin12345",
        "admin123456",
        "administrator",
        "changeme123",
        "welcome123",
        "letmein123",
        "iloveyou123",
        "woaini1314",
        "woaini520520",
        "5201314520",
        "1314520520",
        "xueji123456",
        "xuejitong123",
    }
)


def problem(password: str, username: str) -> str | None:
    """Why `password` is refused for `username` (a Chinese sentence), or None."""
    lowered = password.lower()
    if len(password) < MIN_LENGTH:
        return f"密码太短：至少 {MIN_LENGTH} 个字符。"
    if len(password) > MAX_LENGTH:
        return f"密码太长：最多 {MAX_LENGTH} 个字符。"
    if DEMO_PASSWORD in lowered:
        return f"密码不能使用或包含演示密码 {DEMO_PASSWORD}。"
    if username and username.lower() in lowered:
        return "密码不能包含用户名。"
    if lowered in COMMON:
        return "密码过于常见，很容易被猜中，请换一个。"
    if len(set(password)) < 4:
        return "密码过于简单：至少要有 4 个不同的字符。"
    return None
