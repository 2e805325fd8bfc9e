"""Rendered agenda PDFs kept on disk, so a link opened a second time is not laid out again.

A long programme takes WeasyPrint seconds; the same copy is asked for many times (every
attendee opens their link, phones re-fetch, printers retry). A copy is identified by:

- the delegation and the state of its programme: its id, ``revision`` (raised by the flush
  hook, scheduler.models.changes, on every change to the delegation's own fields and to its
  meetings, people, venues...), ``updated_at``, and a digest of the delegation's own fields
  (which the revision covers too; kept as a cheap second guard);
- whose copy: the person or none, the audience, the paper, the share selector it was asked
  through (a rotated link gets new files, whatever else happens), and for the coordinator
  copy whether travel times were estimated;
- what renders it: a digest of the agenda code, templates and stylesheet and the WeasyPrint
  version, so a deploy does not serve PDFs made by the old template.

Files live in one folder that every gunicorn worker reads (``instance/agenda-cache`` unless
``AGENDA_PDF_CACHE_DIR`` says otherwise), one subfolder per delegation and per programme
state; writing a new state removes the delegation's older ones. Files are written to a
temporary name and moved into place with ``os.replace``, so a reader sees a whole file or
none. The cache is a convenience: if the disk refuses, the PDF is still served.

No Flask request in here; the views pass the folder in.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import weasyprint

from scheduler.i18n import current_language
from scheduler.models import Delegation, Person

log = logging.getLogger(__name__)

_AGENDA_PACKAGE = Path(__file__).resolve().parent
_PACKAGE = _AGENDA_PACKAGE.parent
_RENDERING_SOURCES = (
    *sorted(_AGENDA_PACKAGE.glob("*.py")),
    *sorted((_PACKAGE / "templates" / "agenda").glob("*.html")),
    _PACKAGE / "static" / "agenda.css",
    _PACKAGE / "static" / "vendor" / "fonts" / "fonts-pdf.css",  # names the fonts' versions
    _PACKAGE / "i18n.py",  # dates, times and names as each language writes them
    *sorted((_PACKAGE / "translations").glob("*/LC_MESSAGES/messages.mo")),
)


@cache
def renderer_fingerprint() -> str:
    """A digest of the code, templates and stylesheet that make the PDF, and the WeasyPrint."""
    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__}\n".encode())
    for path in _RENDERING_SOURCES:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _delegation_digest(delegation: Delegation) -> str:
    fields = (
        delegation.key,
        delegation.name,
        delegation.native_name,
        delegation.host,
        delegation.description,
        delegation.timezone,
        delegation.start_date,
        delegation.end_date,
    )
    return hashlib.sha256(repr(fields).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class PdfKey:
    """Everything a rendered agenda PDF depends on."""

    delegation_id: int
    revision: int
    updated_at_us: int
    delegation_digest: str
    person_id: int | None
    audience: str
    paper: str
    share_selector: str | None  # the link's selector for shared copies; None behind sign-in
    estimate_travel: bool
    renderer: str
    # The coordinators' copy prints override reasons, which raise no revision: the latest one.
    latest_override: int | None = None
    language: str = "en"  # the copy's language: en, ko, ja
    # A host's copy: only that organisation's meetings (access.restrict_to_host).
    host_organization_id: int | None = None

    @classmethod
    def for_copy(
        cls,
        delegation: Delegation,
        *,
        person: Person | None,
        audience: str,
        paper: str,
        share_selector: str | None,
        estimate_travel: bool = True,
        latest_override: int | None = None,
        language: str | None = None,
        host_organization_id: int | None = None,
    ) -> PdfKey:
        return cls(
            delegation_id=delegation.id,
            revision=delegation.revision,
            updated_at_us=int(delegation.updated_at.timestamp() * 1_000_000),
            delegation_digest=_delegation_digest(delegation),
            person_id=person.id if person is not None else None,
            audience=audience,
            paper=paper,
            share_selector=share_selector,
            estimate_travel=estimate_travel,
            renderer=renderer_fingerprint(),
            latest_override=latest_override,
            language=language or current_language(),
            host_organization_id=host_organization_id,
        )

    @property
    def state_folder(self) -> str:
        """The programme state and renderer: one folder each, the older ones pruned."""
        return f"r{self.revision}-{self.updated_at_us}-{self.delegation_digest}-{self.renderer}"

    @property
    def filename(self) -> str:
        who = f"p{self.person_id}" if self.person_id is not None else "all"
        via = self.share_selector or "signed-in"
        travel = "est" if self.estimate_travel else "noest"
        decided = f"-o{self.latest_override}" if self.latest_override is not None else ""
        return f"{self.audience}-{who}-{self.paper}-{via}-{travel}{decided}-{self.language}.pdf"


@dataclass(frozen=True)
class CachedPdf:
    data: bytes
    etag: str  # strong: the SHA-256 of the bytes, the same in every worker
    rendered: bool  # laid out for this request, rather than read from the cache


def _revision_of(state_folder: str) -> int | None:
    head = state_folder.split("-", 1)[0]
    return int(head[1:]) if head[:1] == "r" and head[1:].isdigit() else None


def _etag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PdfCache:
    """Agenda PDFs under one folder, keyed by :class:`PdfKey`."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def path(self, key: PdfKey) -> Path:
        return self.folder / f"d{key.delegation_id}" / key.state_folder / key.filename

    def get(self, key: PdfKey) -> CachedPdf | None:
        try:
            data = self.path(key).read_bytes()
        except FileNotFoundError:  # never written, or pruned a moment ago
            return None
        except OSError:
            log.warning("agenda PDF cache: cannot read %s", self.path(key), exc_info=True)
            return None
        return CachedPdf(data, _etag(data), rendered=False)

    def put(self, key: PdfKey, data: bytes) -> None:
        """Store atomically and drop the delegation's older programme states; never raises."""
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            log.warning("agenda PDF cache: cannot write %s", path, exc_info=True)
            return
        self.prune(key)

    def prune(self, key: PdfKey) -> None:
        """Remove the delegation's files of older revisions, and of this one made otherwise.

        A newer revision's folder is left alone: a worker still reading the old programme
        must not delete what another has just rendered from the new one.
        """
        delegation_folder = self.folder / f"d{key.delegation_id}"
        try:
            folders = list(delegation_folder.iterdir())
        except OSError:
            return
        for folder in folders:
            revision = _revision_of(folder.name)
            if folder.name != key.state_folder and (revision is None or revision <= key.revision):
                shutil.rmtree(folder, ignore_errors=True)

    def get_or_render(self, key: PdfKey, render: Callable[[], bytes]) -> CachedPdf:
        """The stored PDF for this key, or a fresh one, rendered once and stored."""
        cached = self.get(key)
        if cached is not None:
            return cached
        data = render()
        self.put(key, data)
        return CachedPdf(data, _etag(data), rendered=True)
