"""Results on disk: a file is complete or absent, a results folder is one whole run, and nothing
planner did not write is ever replaced.

A single file (a report, a map) is written beside its target under a temporary name and renamed
over it. A results folder (``planner run``, ``planner optimize``) is written whole into a hidden
staging sibling ``.NAME.staging-PID-RANDOM``; its manifest ``run.json`` lists every file with
its size and SHA-256; then the staging folder is swapped in for the old one by one rename
(``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere the old folder is renamed aside first, and
an interrupted swap is undone by the next writer). Leftovers of a writer that died (its process
is gone) are removed the next time the same folder is written.

A folder holds at most one run and one optimisation, and only of the same scenario in the same
region: each command replaces its own part and keeps the other only when it belongs to the
same scenario and region (that is how a sizing frontier reaches a run's report).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NotRequired

from typing_extensions import TypedDict  # pydantic reads typing.TypedDict from 3.12 only

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

MANIFEST = "run.json"
"""The manifest of a results folder: what wrote it, and every file with its size and SHA-256."""
TOOL = "planner"
STAGING_MARK = ".planner-staging"
"""In a staging folder until its manifest is written: marks it as planner's."""
REPORT_GENERATOR = "planner report"
"""Written into every report (HTML generator meta tag, PDF Creator): marks the file as ours."""

Kind = Literal["run", "optimise"]
_MAX_MANIFEST = 1 << 20
_MAX_REPORT = 64 << 20
_LEFTOVER = re.compile(
    r"\.(?P<name>.+)\.(?P<what>staging|aside|tmp)-(?P<pid>\d+)-[0-9a-f]{8}(\.\w+)?"
)
"""A leftover's name: ``.TARGET.staging-PID-RANDOM`` (``aside``, or ``tmp`` with a suffix)."""


class FolderError(Exception):
    """A place planner must not write, or a results folder that is not one whole run; the
    message is one line for the user."""


# -- the manifest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A file of a results folder as its manifest lists it."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Part:
    """What one command (a run or an optimisation) wrote into a results folder."""

    kind: Kind
    run_id: str
    created: str  # ISO 8601, UTC
    planner_version: str
    scenario: str  # the scenario's name ([scenario] name)
    region: str  # region.name, or "abstract"
    files: tuple[Listed, ...]

    def same_place(self, scenario: str, region: str) -> bool:
        """Whether this part is of the given scenario in the given region."""
        return (self.scenario, self.region) == (scenario, region)


@dataclass(frozen=True)
class Manifest:
    """A results folder's ``run.json``: a run, an optimisation, or a run with the optimisation
    of the same scenario and region."""

    run: Part | None
    optimise: Part | None

    @property
    def parts(self) -> tuple[Part, ...]:
        return tuple(p for p in (self.run, self.optimise) if p is not None)

    @property
    def files(self) -> tuple[Listed, ...]:
        return tuple(f for p in self.parts for f in p.files)

    def to_json(self) -> bytes:
        main = self.run or self.optimise
        assert main is not None
        doc: dict[str, object] = {"tool": TOOL, **_part_json(main)}
        if self.run is not None and self.optimise is not None:
            doc["optimise"] = _part_json(self.optimise)
        return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _part_json(p: Part) -> dict[str, object]:
    return {
        "kind": p.kind,
        "planner_version": p.planner_version,
        "run_id": p.run_id,
        "created": p.created,
        "scenario": p.scenario,
        "region": p.region,
        "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in p.files],
    }


class _ListedJson(TypedDict):
    name: str
    size: int
    sha256: str


class _PartJson(TypedDict):
    kind: Kind
    planner_version: str
    run_id: str
    created: str
    scenario: str
    region: str
    files: list[_ListedJson]


class _ManifestJson(_PartJson):
    tool: Literal["planner"]
    optimise: NotRequired[_PartJson]


@cache
def _manifest_adapter() -> TypeAdapter[_ManifestJson]:
    from pydantic import TypeAdapter

    return TypeAdapter(_ManifestJson)


def parse_manifest(data: bytes, where: str) -> Manifest:
    """A manifest from its bytes; anything else is a one-line FolderError naming ``where``."""
    from pydantic import ValidationError

    try:
        doc = _manifest_adapter().validate_json(data, strict=True)
    except ValidationError as exc:
        raise FolderError(f"{where}: not a planner manifest ({first_problem(exc)})") from None
    main = _part(doc, where)
    other = _part(doc["optimise"], where) if "optimise" in doc else None
    if other is not None and (main.kind, other.kind) != ("run", "optimise"):
        raise FolderError(f"{where}: not a planner manifest (optimise: only a run carries one)")
    if other is not None and not other.same_place(main.scenario, main.region):
        raise FolderError(f"{where}: not a planner manifest (its optimisation is of another place)")
    names = [f.name for p in (main, other) if p is not None for f in p.files]
    for name in names:
        if not _plain_name(name) or name in (MANIFEST, STAGING_MARK):
            raise FolderError(f"{where}: not a planner manifest (file name {name!r})")
    if len(set(names)) != len(names):
        raise FolderError(f"{where}: not a planner manifest (a file is listed twice)")
    if main.kind == "run":
        return Manifest(run=main, optimise=other)
    return Manifest(run=None, optimise=main)


def _part(doc: _PartJson, where: str) -> Part:
    files = tuple(Listed(f["name"], f["size"], f["sha256"]) for f in doc["files"])
    for f in files:
        if f.size < 0 or not re.fullmatch(r"[0-9a-f]{64}", f.sha256):
            raise FolderError(f"{where}: not a planner manifest (size or sha256 of {f.name!r})")
    return Part(
        kind=doc["kind"],
        run_id=doc["run_id"],
        created=doc["created"],
        planner_version=doc["planner_version"],
        scenario=doc["scenario"],
        region=doc["region"],
        files=files,
    )


def first_problem(exc: ValidationError) -> str:
    """The first error of a pydantic ValidationError as ``where.in[2]: what``."""
    errors = exc.errors()
    e = errors[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]).lstrip(".")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'the whole file'}: {e['msg']}{more}"


def _plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, or None if it has none; an unreadable one is a FolderError."""
    path = folder / MANIFEST
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FolderError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise FolderError(f"{path}: not a regular file, so not a planner manifest")
    if st.st_size > _MAX_MANIFEST:
        raise FolderError(f"{path}: {st.st_size:,} bytes, too large for a planner manifest")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FolderError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_manifest(data, str(path))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def listed(path: Path) -> Listed:
    """A file as a manifest lists it."""
    return Listed(path.name, path.stat().st_size, sha256_of(path))


def mismatch(folder: Path, manifest: Manifest, *, hashes: bool = True) -> str | None:
    """The first way the folder differs from its manifest (a file missing, another size or
    content), or None if every listed file is there as listed. Unlisted files do not count."""
    for f in manifest.files:
        try:
            st = os.lstat(folder / f.name)
        except OSError:
            return f"{f.name} is missing"
        if not stat.S_ISREG(st.st_mode):
            return f"{f.name} is not a regular file"
        if st.st_size != f.size:
            return f"{f.name} has {st.st_size:,} bytes, {MANIFEST} lists {f.size:,}"
        if hashes and sha256_of(folder / f.name) != f.sha256:
            return f"{f.name} is not the file {MANIFEST} lists (SHA-256 differs)"
    return None


def whole_run(folder: Path) -> Manifest:
    """The manifest of a results folder that is one whole run (or optimisation), every listed
    file present as listed; otherwise a one-line FolderError saying to run it again."""
    try:
        return _whole_run(folder)
    except OSError as exc:  # a path too long, a folder that cannot be listed, ...
        raise FolderError(f"{folder}: cannot be read ({exc.strerror or exc})") from None


def _whole_run(folder: Path) -> Manifest:
    recover(folder)
    if not folder.is_dir():
        raise FolderError(f"{folder}: no such results folder (run `planner run SCENARIO` first)")
    again = f"run it again: planner run SCENARIO --out {folder}"
    try:
        manifest = read_manifest(folder)
    except FolderError as exc:
        raise FolderError(f"{folder}: not one whole run ({exc}); {again}") from None
    if manifest is None:
        raise FolderError(
            f"{folder}: not one whole run (no {MANIFEST}: written by an older planner or not "
            f"by planner); {again}"
        )
    if (problem := mismatch(folder, manifest)) is not None:
        raise FolderError(f"{folder}: not one whole run ({problem}); {again}")
    return manifest


# -- where planner may write ------------------------------------------------------------------


def _check_place(path: Path, option: str) -> None:
    """Refuse a path naming no entry of its own, under a parent that is not a folder or cannot
    be written, or holding the current folder."""
    if path.name in ("", ".", ".."):
        raise FolderError(
            f"{option}: {str(path)!r} names no file or folder of its own (an empty path, . or "
            "..); give a name"
        )
    absolute = Path(os.path.abspath(path))
    up = absolute.parent
    while not os.path.lexists(up):
        up = up.parent
    if not up.is_dir():
        raise FolderError(f"{option}: {up} is not a folder, so {path} cannot be made in it")
    if not os.access(up, os.W_OK | os.X_OK):
        raise FolderError(f"{option}: cannot write in {up} (a read-only folder)")
    real = Path(os.path.realpath(absolute.parent)) / absolute.name
    try:
        here = Path.cwd().resolve()
    except OSError:  # the current folder was removed: nothing can be inside it
        return
    if here.is_relative_to(real):
        raise FolderError(f"{option}: {path} is the current folder or holds it; give another")


@dataclass(frozen=True)
class FileTarget:
    """A file planner may write: absent, or a report planner wrote (replaced keeping its mode)."""

    path: Path
    mode: int | None


def file_target(
    path: Path, option: str = "--out", ours: Callable[[Path], bool] | None = None
) -> FileTarget:
    """Check, before any work, that ``path`` may be written: absent, or a regular file that
    planner wrote (``ours``, by default ``written_by_planner``) and that is the user's own and
    writable."""
    _check_place(path, option)
    st = _existing(path, option)
    if st is None:
        return FileTarget(path, None)
    if stat.S_ISDIR(st.st_mode):
        raise FolderError(f"{option}: {path} is a folder; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise FolderError(f"{option}: {path} is a device or other special file, not a file")
    if not (ours or written_by_planner)(path):
        raise FolderError(
            f"{option}: {path} exists and planner did not write it; give another name or remove it"
        )
    if st.st_uid != os.geteuid() or not st.st_mode & stat.S_IWUSR:
        raise FolderError(f"{option}: {path} is read-only or another user's; planner keeps it")
    return FileTarget(path, stat.S_IMODE(st.st_mode))


def written_by_planner(path: Path) -> bool:
    """Whether a file is a report planner wrote: HTML with our generator meta tag in its head,
    or a PDF whose Creator is ours."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_REPORT:
            return False
        with open(path, "rb") as f:
            head = f.read(4096)
            if head.startswith(b"%PDF-"):
                return f"/Creator ({REPORT_GENERATOR}".encode() in head + f.read()
    except OSError:
        return False
    return f'<meta name="generator" content="{REPORT_GENERATOR}'.encode() in head


def write_atomically(path: Path, write: Callable[[Path], None], mode: int | None = None) -> None:
    """Call ``write`` on a temporary sibling, then rename it over ``path`` (its mode ``mode``,
    or readable by others as the umask allows). Temporaries left by a writer that died are
    removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path, ("tmp",))
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask() if mode is None else mode)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- a results folder, written whole ----------------------------------------------------------


@dataclass(frozen=True)
class Committed:
    """A results folder swapped in: its manifest, and the other command's part of the folder
    before, kept (same scenario and region) or dropped."""

    manifest: Manifest
    kept: Part | None
    dropped: Part | None


@dataclass
class Stage:
    """The staging folder a command writes its results into; committed whole, or not at all."""

    folder: ResultsFolder
    dir: Path
    committed: Committed | None = None
    names: list[str] = field(default_factory=list)  # in the order they were asked for

    def file(self, name: str) -> Path:
        """Where to write the results file ``name`` (by any writer, streaming ones too)."""
        if not _plain_name(name) or name in (MANIFEST, STAGING_MARK):
            raise ValueError(f"{name!r} is not a results file name")
        if name not in self.names:
            self.names.append(name)
        return self.dir / name

    def write(self, name: str, write: Callable[[Path], object]) -> None:
        """Write the results file ``name`` with ``write(path)``."""
        write(self.file(name))


@dataclass(frozen=True)
class ResultsFolder:
    """A results folder a command may write: checked by ``results_folder`` before any work."""

    path: Path
    kind: Kind
    scenario: str
    region: str
    option: str = "--out"
    previous: Manifest | None = field(default=None, compare=False)

    @contextmanager
    def staged(self) -> Iterator[Stage]:
        """A staging folder to write every file into; when the block ends without an
        exception, the manifest is written and the folder swapped in whole (``stage.committed``
        says what it holds). Otherwise the staging folder is removed and the old one stays."""
        stage = Stage(self, _new_sibling(self.path, "staging"))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(stage.dir, 0o700)
            (stage.dir / STAGING_MARK).write_text(
                json.dumps({"pid": os.getpid(), "target": self.path.name}), "utf-8"
            )
            yield stage
            stage.committed = _commit(self, stage.dir)
        except OSError as exc:
            raise FolderError(
                f"{self.path}: cannot be written ({exc.strerror or exc}); what was there is "
                "unchanged"
            ) from None
        finally:
            if os.path.lexists(stage.dir):
                _remove_tree(stage.dir)


def _existing(path: Path, option: str) -> os.stat_result | None:
    """What is at ``path`` itself (None: nothing); a symbolic link is refused, never followed."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise FolderError(f"{option}: {path} is a symbolic link; planner does not replace one")
    return st


def results_folder(
    path: Path, kind: Kind, scenario: str, region: str, option: str = "--out"
) -> ResultsFolder:
    """Check, before any simulation, that a results folder may be written at ``path``: absent,
    an empty folder, or a results folder planner wrote that holds nothing else (its reports
    aside). An interrupted swap there is undone and leftovers of dead writers are removed."""
    try:
        _check_place(path, option)
        recover(path)
        previous = _ours(path, option)
        _remove_leftovers(path, ("staging", "aside"))
    except OSError as exc:  # a path too long, a parent that cannot be searched, ...
        raise FolderError(f"{option}: {path}: {exc.strerror or exc}") from None
    return ResultsFolder(path, kind, scenario, region, option, previous)


def _ours(path: Path, option: str) -> Manifest | None:
    """The manifest of the folder at ``path`` (None if there is none, or an empty folder); a
    FolderError if planner must not replace what is there."""
    st = _existing(path, option)
    if st is None:
        return None
    if stat.S_ISREG(st.st_mode):
        raise FolderError(f"{option}: {path} is a file, not a results folder")
    if not stat.S_ISDIR(st.st_mode):
        raise FolderError(f"{option}: {path} is a device or other special file, not a folder")
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise FolderError(f"{option}: {path} is read-only or another user's; planner keeps it")
    entries = sorted(os.listdir(path))
    if not entries:
        return None
    if MANIFEST not in entries:
        raise FolderError(
            f"{option}: {path} is a folder planner did not write (no {MANIFEST}); give "
            "another or empty it"
        )
    try:
        manifest = read_manifest(path)
    except FolderError as exc:
        raise FolderError(f"{option}: {exc}; planner keeps that folder") from None
    assert manifest is not None
    known = {MANIFEST} | {f.name for f in manifest.files}
    for name in entries:
        if name not in known and not written_by_planner(path / name):
            raise FolderError(
                f"{option}: {path} holds {name!r}, which planner did not write; move it away "
                f"or give another {option}"
            )
    return manifest


def _commit(folder: ResultsFolder, staging: Path) -> Committed:
    target = folder.path
    before = _ours(target, folder.option)  # again: the folder may have changed meanwhile
    kept = _keeper(before, folder, target)
    written = _written(staging)
    if kept is not None:
        clash = {f.name for f in written} & {f.name for f in kept.files}
        if clash:
            raise FolderError(f"{target}: {sorted(clash)[0]} would be written twice")
        for f in kept.files:
            _link(target / f.name, staging / f.name)
    from planner.version import planner_version

    part = Part(
        kind=folder.kind,
        run_id=uuid.uuid4().hex,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        planner_version=planner_version(),
        scenario=folder.scenario,
        region=folder.region,
        files=written,
    )
    if folder.kind == "run":
        manifest = Manifest(run=part, optimise=kept)
    else:
        manifest = Manifest(run=kept, optimise=part)
    _write_manifest(staging, manifest)
    (staging / STAGING_MARK).unlink()
    old_mode = _mode(target)
    os.chmod(staging, 0o777 & ~_umask() if old_mode is None else old_mode)
    _fsync(staging)
    _swap(staging, target)
    other = None if before is None else before.optimise if folder.kind == "run" else before.run
    return Committed(manifest, kept, other if kept is None else None)


def _keeper(before: Manifest | None, folder: ResultsFolder, target: Path) -> Part | None:
    """The part of the folder there now that stays: the other command's, if it is of the same
    scenario and region and still whole."""
    if before is None:
        return None
    other = before.optimise if folder.kind == "run" else before.run
    if other is None or not other.same_place(folder.scenario, folder.region):
        return None
    if mismatch(target, Manifest(run=other, optimise=None)) is not None:
        return None
    return other


def _written(staging: Path) -> tuple[Listed, ...]:
    files = []
    for p in sorted(staging.iterdir()):
        if p.name == STAGING_MARK:
            continue
        if p.is_symlink() or not p.is_file():
            raise FolderError(f"{p.name}: not a regular file, so not a results file")
        _fsync(p)
        files.append(listed(p))
    return tuple(files)


def _write_manifest(staging: Path, manifest: Manifest) -> None:
    path = staging / MANIFEST
    path.write_bytes(manifest.to_json())
    os.chmod(path, 0o666 & ~_umask())
    _fsync(path)


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.lstat(path).st_mode)
    except FileNotFoundError:
        return None


def _swap(staging: Path, target: Path) -> None:
    """Put the staging folder in the target's place by one rename, then remove the old one."""
    if not os.path.lexists(target):
        os.rename(staging, target)
    elif exchange(staging, target):
        _remove_tree(staging)  # the old folder, now under the staging name
    else:
        aside = _new_sibling(target, "aside")
        os.rename(target, aside)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(aside, target)
            raise
        _remove_tree(aside)
    _fsync(target.parent)


@cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``);
    False where the system or file system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _new_sibling(target: Path, what: str) -> Path:
    return target.parent / f".{target.name}.{what}-{os.getpid()}-{secrets.token_hex(4)}"


# -- leftovers of writers that died -----------------------------------------------------------


@dataclass(frozen=True)
class Leftover:
    """A staging folder, an old folder renamed aside, or a temporary file of a planner process
    that is gone."""

    path: Path
    what: str
    pid: int


def leftovers(target: Path, whats: tuple[str, ...] = ("staging", "aside", "tmp")) -> list[Leftover]:
    """Planner's leftovers beside ``target`` whose writer is no longer running."""
    parent = target.parent
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    found = []
    for name in sorted(names):
        m = _LEFTOVER.fullmatch(name)
        if not m or m["name"] != target.name or m["what"] not in whats:
            continue
        pid = int(m["pid"])
        if not _alive(pid) and _planners(parent / name, m["what"]):
            found.append(Leftover(parent / name, m["what"], pid))
    return found


def _planners(path: Path, what: str) -> bool:
    """Whether a leftover is planner's: a temporary file, or a folder that is empty, marked as
    staging, or holds a planner manifest."""
    try:
        st = os.lstat(path)
        if what == "tmp":
            return stat.S_ISREG(st.st_mode)
        if not stat.S_ISDIR(st.st_mode):
            return False
        entries = os.listdir(path)
        if not entries or STAGING_MARK in entries:
            return True
        return MANIFEST in entries and read_manifest(path) is not None
    except (OSError, FolderError):
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def recover(target: Path) -> None:
    """Undo a swap interrupted between its two renames: with no folder at ``target`` but the
    old one renamed aside by a writer that died, put the old one back."""
    if os.path.lexists(target):
        return
    asides = [x for x in leftovers(target, ("aside",)) if (x.path / MANIFEST).is_file()]
    if asides:
        newest = max(asides, key=lambda x: (x.path / MANIFEST).stat().st_mtime)
        with suppress(OSError):
            os.rename(newest.path, target)


def _remove_leftovers(target: Path, whats: tuple[str, ...]) -> None:
    for x in leftovers(target, whats):
        try:
            if x.what == "tmp":
                x.path.unlink()
            else:
                _remove_tree(x.path)
        except OSError:
            pass


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=False)


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk (a rename is then durable too)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
