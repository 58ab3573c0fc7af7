"""The demo's outgoing mail: activation and reset links the host would send. Kept as JSON
lines beside the database so every worker and the operator page see the same list."""

from __future__ import annotations

import fcntl
import json
import os
from typing import List

from . import backend


def _path() -> str:
    return backend.db_path() + ".mail.jsonl"


def post(channel: str, recipient: str, link: str) -> None:
    line = json.dumps({"channel": channel, "to": recipient, "link": link,
                       "at": backend.engine().now()}, ensure_ascii=False)
    with open(_path(), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(line + "\n")


def latest(count: int = 20) -> List[dict]:
    if not os.path.exists(_path()):
        return []
    with open(_path()) as f:
        lines = f.readlines()[-count:]
    return [json.loads(line) for line in reversed(lines)]
