"""Writes a dump folder page by page while the world is still being simulated.

Each page file is an API response body. The list comes before the paging fields in both
APIs' bodies ({"tickets": [...], "listInfo": {...}}), so a page is written as soon as it is
full and its tail (hasMore, totalCount) is appended when the entity is finished: memory
holds one page per entity, never the world. Hashes for the manifest are kept as the bytes
go out, so nothing is read back.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def encode(obj: object) -> str:
    return _ENCODER.encode(obj)


class PagedList:
    """One API list (a SuperOps query, a QuickBooks entity or the local interactions)."""

    def __init__(self, root: Path, rel_dir: str, page_size: int, head: str, tail):
        self.root, self.rel_dir, self.page_size = root, rel_dir, page_size
        self.head, self.tail = head, tail  # tail(page, count_on_page, total, has_more) -> str
        self.buffer: list[str] = []
        self.pages: list[tuple[str, object, int]] = []  # (relative path, sha256, records)
        self.count = 0
        (root / rel_dir).mkdir(parents=True, exist_ok=True)

    def add(self, record: dict | str) -> None:
        """Queue a record: a dict, or its JSON text already encoded."""
        self.buffer.append(record if isinstance(record, str) else encode(record))
        self.count += 1
        if len(self.buffer) >= self.page_size:
            self._flush()

    def position(self) -> tuple[str, int]:
        """(page file, index on the page) of the record added last."""
        if self.buffer:
            return self._path(len(self.pages) + 1), len(self.buffer) - 1
        return self._path(len(self.pages)), self.page_size - 1

    def _path(self, page: int) -> str:
        return f"{self.rel_dir}/page-{page:04d}.json"

    def _flush(self) -> None:
        path = self._path(len(self.pages) + 1)
        data = f"{self.head}[{','.join(self.buffer)}]".encode()
        digest = hashlib.sha256(data)
        with open(self.root / path, "wb") as fh:
            fh.write(data)
        self.pages.append((path, digest, len(self.buffer)))
        self.buffer = []

    def close(self) -> dict[str, str]:
        if self.buffer or not self.pages:
            self._flush()
        hashes = {}
        last = len(self.pages)
        for n, (path, digest, size) in enumerate(self.pages, 1):
            tail = self.tail(n, size, self.count, n < last).encode()
            with open(self.root / path, "ab") as fh:
                fh.write(tail)
            digest.update(tail)
            hashes[path] = digest.hexdigest()
        return hashes


def superops_list(root: Path, query: str, list_key: str) -> PagedList:
    def tail(page: int, _size: int, total: int, more: bool) -> str:
        info = {"page": page, "pageSize": 100, "hasMore": more, "totalCount": total}
        return f',"listInfo":{encode(info)}}}}}}}'
    return PagedList(root, f"superops/{query}", 100, f'{{"data":{{"{query}":{{"{list_key}":', tail)


def quickbooks_list(root: Path, entity: str, time: str) -> PagedList:
    def tail(page: int, size: int, total: int, _more: bool) -> str:
        return (f',"startPosition":{(page - 1) * 1000 + 1},"maxResults":{size},"totalCount":{total}}},'
                f'"time":{encode(time)}}}')
    return PagedList(root, f"quickbooks/{entity}", 1000, f'{{"QueryResponse":{{"{entity}":', tail)


def local_list(root: Path, name: str) -> PagedList:
    def tail(page: int, _size: int, _total: int, more: bool) -> str:
        return f',"page":{page},"hasMore":{"true" if more else "false"}}}'
    return PagedList(root, f"local/{name}", 1000, f'{{"{name}":', tail)


def prepare(out_dir: Path) -> Path:
    """An empty folder to write into (a previous dump there is replaced)."""
    out_dir = Path(out_dir)
    for sub in ("superops", "quickbooks", "local"):
        if (out_dir / sub).exists():
            shutil.rmtree(out_dir / sub)
    for name in ("manifest.json", "truth.json"):
        if (out_dir / name).exists():
            (out_dir / name).unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def write_json(path: Path, obj: object) -> str:
    data = (json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def write_page(root: Path, rel_path: str, body: object) -> str:
    """A single-page API body (a list with no paging, e.g. getClientStageList)."""
    data = encode(body).encode()
    path = root / rel_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()
