"""What an artifact holds, ready to show: text, JSON, YAML, a table, an image or an MLmodel.

`load_preview` reads the start of one artifact file and sniffs its kind from the name
(`.json`, `.csv`, `MLmodel`...) and then from the content (image signatures, JSON, text
that decodes as UTF-8, else binary). Text shows its first megabyte and says when it is cut;
JSON and YAML are pretty-printed; CSV and TSV become a table of the first 1,000 rows; an
MLmodel file is parsed into its flavors, signature and versions; a binary file gets its size
and "no preview". No Qt.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.services.artifacts import format_bytes, read_head
from mlops_desktop.services.tasks import TaskState

#: How much of a text file a preview shows.
TEXT_PREVIEW_BYTES = 1_000_000
#: JSON, YAML and MLmodel files up to this size are parsed and pretty-printed; a larger
#: one is shown as text (its first megabyte).
STRUCTURED_PREVIEW_BYTES = 10_000_000
#: How much of a CSV or TSV file is read, and how many of its rows are shown.
TABLE_PREVIEW_BYTES = 5_000_000
TABLE_PREVIEW_ROWS = 1000
#: Images larger than this are not previewed (download them).
IMAGE_PREVIEW_BYTES = 25_000_000
#: The file that describes an MLflow model.
MLMODEL_FILE = "MLmodel"

_TEXT_SUFFIXES = frozenset(
    {".txt", ".log", ".out", ".err", ".py", ".md", ".rst", ".sh", ".cfg", ".ini", ".toml"}
    | {".sql", ".r", ".scala", ".java", ".js", ".ts", ".html", ".htm", ".css", ".xml", ".tex"}
)
_JSON_SUFFIXES = frozenset({".json", ".geojson", ".ipynb"})
_YAML_SUFFIXES = frozenset({".yaml", ".yml"})
_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_IMAGE_SUFFIXES = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".gif": "gif",
    ".svg": "svg",
}
_BINARY_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".joblib", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".safetensors"}
    | {".h5", ".hdf5", ".keras", ".pb", ".parquet", ".feather", ".arrow", ".npy", ".npz"}
    | {".zip", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".whl", ".so", ".dll", ".exe", ".pdf"}
    | {".db", ".sqlite", ".cbm", ".ubj", ".mp4", ".wav", ".mp3"}
)


class PreviewKind(StrEnum):
    TEXT = "text"
    JSON = "json"
    YAML = "yaml"
    TABLE = "table"  # CSV or TSV
    IMAGE = "image"
    MLMODEL = "mlmodel"
    BINARY = "binary"  # no preview: its size, and a download
    FOLDER = "folder"


#: How much of a file each kind of preview reads (text and unknown kinds: the first MB).
_READ_LIMITS: dict[PreviewKind | None, int] = {
    PreviewKind.IMAGE: IMAGE_PREVIEW_BYTES,
    PreviewKind.JSON: STRUCTURED_PREVIEW_BYTES,
    PreviewKind.YAML: STRUCTURED_PREVIEW_BYTES,
    PreviewKind.MLMODEL: STRUCTURED_PREVIEW_BYTES,
    PreviewKind.TABLE: TABLE_PREVIEW_BYTES,
}


@dataclass(frozen=True)
class TablePreview:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    more_rows: bool = False  # the file has rows beyond those shown


@dataclass(frozen=True)
class SignatureColumn:
    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class ModelFlavor:
    name: str
    details: tuple[tuple[str, str], ...] = ()  # the flavor's settings, as text


@dataclass(frozen=True)
class MLmodelSummary:
    """What an MLmodel file says, in the terms a reviewer asks about."""

    flavors: tuple[ModelFlavor, ...]
    inputs: tuple[SignatureColumn, ...] = ()
    outputs: tuple[SignatureColumn, ...] = ()
    params: tuple[SignatureColumn, ...] = ()
    python_version: str = ""
    mlflow_version: str = ""
    run_id: str = ""
    model_id: str = ""
    model_uuid: str = ""
    created: str = ""
    size_bytes: int | None = None
    artifact_path: str = ""


@dataclass(frozen=True)
class Preview:
    """What an artifact holds, ready to show: one of text, a table, an image or a model."""

    path: str
    kind: PreviewKind
    size_bytes: int | None = None
    text: str = ""  # text, pretty-printed JSON or YAML, the MLmodel file itself
    table: TablePreview | None = None
    image: bytes = b""
    image_format: str = ""  # "png", "jpeg", "gif" or "svg"
    model: MLmodelSummary | None = None
    truncated: bool = False  # only the start of the file is shown
    note: str = ""  # one sentence: what is shown of it, or why there is no preview

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


def load_preview(
    tracking: TrackingBackend,
    run_id: str,
    path: str,
    state: TaskState,
    *,
    size_bytes: int | None = None,
) -> Preview:
    """Read the start of artifact `path` and make it ready to show.

    The kind comes from the name (`.json`, `.csv`, `MLmodel`...), then from the content:
    image signatures, JSON, text that decodes, else binary. `size_bytes` (from the listing)
    lets a preview say "the first 1 MB of 40 MB" and skip reading images too big to show.
    """
    path = path.strip("/")
    name = PurePosixPath(path).name
    kind = kind_from_name(name)
    state.progress(-1, f"Reading {name}")
    if kind is PreviewKind.BINARY:
        return _binary(path, size_bytes)
    if kind is PreviewKind.IMAGE and size_bytes is not None and size_bytes > IMAGE_PREVIEW_BYTES:
        return _binary(
            path,
            size_bytes,
            f"{name} is {format_bytes(size_bytes)}, too large to preview: download it.",
        )
    if kind in (PreviewKind.JSON, PreviewKind.YAML, PreviewKind.MLMODEL) and (
        size_bytes is not None and size_bytes > STRUCTURED_PREVIEW_BYTES
    ):
        kind = PreviewKind.TEXT
    limit = _READ_LIMITS.get(kind, TEXT_PREVIEW_BYTES)
    data, truncated = read_head(tracking, run_id, path, limit, state)
    if size_bytes is None and not truncated:
        size_bytes = len(data)
    return preview_from_bytes(path, data, truncated, size_bytes, kind)


def kind_from_name(name: str) -> PreviewKind | None:
    """The preview kind a file's name promises, or None when only its content can tell."""
    if name == MLMODEL_FILE:
        return PreviewKind.MLMODEL
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _JSON_SUFFIXES:
        return PreviewKind.JSON
    if suffix in _YAML_SUFFIXES:
        return PreviewKind.YAML
    if suffix in _TABLE_SUFFIXES:
        return PreviewKind.TABLE
    if suffix in _IMAGE_SUFFIXES:
        return PreviewKind.IMAGE
    if suffix in _BINARY_SUFFIXES:
        return PreviewKind.BINARY
    if suffix in _TEXT_SUFFIXES or name.lower() in ("license", "readme", "dockerfile"):
        return PreviewKind.TEXT
    return None


def preview_from_bytes(
    path: str,
    data: bytes,
    truncated: bool,
    size_bytes: int | None,
    kind: PreviewKind | None = None,
) -> Preview:
    """A preview of the first bytes of a file (all of it unless `truncated`)."""
    kind = kind if kind is not None else kind_from_name(PurePosixPath(path).name)
    image = image_format(data)
    if kind is PreviewKind.IMAGE or (kind is None and image):
        if not image:
            return _binary(path, size_bytes, "This file is not an image it can read: download it.")
        if truncated:
            return _binary(path, size_bytes, "This image is too large to preview: download it.")
        return Preview(path, PreviewKind.IMAGE, size_bytes, image=data, image_format=image)
    if _looks_binary(data):
        return _binary(path, size_bytes)
    text = _decode(data, truncated)
    if kind is None:
        kind = PreviewKind.JSON if text.lstrip()[:1] in ("{", "[") and not truncated else None
    if kind is PreviewKind.JSON:
        return _json_preview(path, text, size_bytes)
    if kind is PreviewKind.YAML:
        return _yaml_preview(path, text, size_bytes)
    if kind is PreviewKind.MLMODEL:
        return _mlmodel_preview(path, text, size_bytes)
    if kind is PreviewKind.TABLE:
        delimiter = _TABLE_SUFFIXES.get(PurePosixPath(path).suffix.lower(), ",")
        return _table_preview(path, text, truncated, size_bytes, delimiter)
    return _text_preview(path, text, truncated, size_bytes)


def image_format(data: bytes) -> str:
    """ "png", "jpeg", "gif" or "svg" from the file's first bytes; "" for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return "svg"
    return ""


def _binary(path: str, size_bytes: int | None, note: str = "") -> Preview:
    size = f" ({format_bytes(size_bytes)})" if size_bytes is not None else ""
    return Preview(
        path,
        PreviewKind.BINARY,
        size_bytes,
        note=note or f"No preview for this kind of file{size}: download it to open it.",
    )


def _looks_binary(data: bytes) -> bool:
    """A NUL byte, or mostly bytes that are not UTF-8, in the first 8 KB."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    decoded = codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=False)
    return decoded.count("\ufffd") > max(8, len(decoded) // 20)


def _decode(data: bytes, truncated: bool) -> str:
    """UTF-8 text; a character cut at the end of a truncated read is left out."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    return decoder.decode(data, final=not truncated)


def _cut_note(size_bytes: int | None, shown: int) -> str:
    of = f" of {format_bytes(size_bytes)}" if size_bytes is not None else ""
    return f"Showing the first {format_bytes(shown)}{of}: download the file to see all of it."


def _text_preview(path: str, text: str, truncated: bool, size_bytes: int | None) -> Preview:
    note = _cut_note(size_bytes, len(text.encode())) if truncated else ""
    return Preview(path, PreviewKind.TEXT, size_bytes, text=text, truncated=truncated, note=note)


def _as_text(path: str, text: str, size_bytes: int | None, problem: str) -> Preview:
    """A file that is not what its name says, shown as text with the reason."""
    return Preview(
        path, PreviewKind.TEXT, size_bytes, text=text, note=f"{problem}; it is shown as text."
    )


def _json_preview(path: str, text: str, size_bytes: int | None) -> Preview:
    try:
        value = json.loads(text)
    except ValueError as error:
        return _as_text(path, text, size_bytes, f"This file is not valid JSON ({error})")
    pretty = json.dumps(value, indent=2, ensure_ascii=False)
    return Preview(path, PreviewKind.JSON, size_bytes, text=pretty)


def _yaml_preview(path: str, text: str, size_bytes: int | None) -> Preview:
    import yaml  # PyYAML comes with mlflow

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return _as_text(path, text, size_bytes, f"This file is not valid YAML ({first_line})")
    pretty = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return Preview(path, PreviewKind.YAML, size_bytes, text=str(pretty))


def _mlmodel_preview(path: str, text: str, size_bytes: int | None) -> Preview:
    try:
        model = parse_mlmodel(text.encode())
    except ValueError as error:
        return _as_text(path, text, size_bytes, f"This MLmodel file could not be read ({error})")
    return Preview(path, PreviewKind.MLMODEL, size_bytes, text=text, model=model)


def _table_preview(
    path: str, text: str, truncated: bool, size_bytes: int | None, delimiter: str
) -> Preview:
    lines = text.splitlines()
    if truncated and lines:
        lines = lines[:-1]  # the last line was cut in the middle
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    try:
        header = next(reader, [])
        rows: list[tuple[str, ...]] = []
        for row in reader:
            if len(rows) == TABLE_PREVIEW_ROWS:
                truncated = True
                break
            rows.append(tuple(row))
    except csv.Error as error:
        return Preview(
            path,
            PreviewKind.TEXT,
            size_bytes,
            text=text,
            truncated=truncated,
            note=f"This file could not be read as a table ({error}); it is shown as text.",
        )
    width = max([len(header), *(len(row) for row in rows)]) if rows or header else 0
    columns = tuple(header) + tuple(f"column {i + 1}" for i in range(len(header), width))
    table = TablePreview(
        columns, tuple(row + ("",) * (width - len(row)) for row in rows), more_rows=truncated
    )
    note = (
        f"Showing the first {len(rows):,} rows: download the file to see all of it."
        if truncated
        else f"{len(rows):,} rows."
    )
    return Preview(path, PreviewKind.TABLE, size_bytes, table=table, truncated=truncated, note=note)


def parse_mlmodel(data: bytes) -> MLmodelSummary:
    """The flavors, signature and versions an MLmodel file holds; ValueError when it is not
    an MLmodel file (not YAML, or no flavors)."""
    import yaml

    try:
        document = yaml.safe_load(data.decode("utf-8", errors="replace"))
    except yaml.YAMLError as error:
        raise ValueError(f"not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("flavors"), dict):
        raise ValueError("it lists no model flavors")
    flavors = tuple(
        ModelFlavor(str(name), _flavor_details(settings))
        for name, settings in document["flavors"].items()
    )
    python_function = document["flavors"].get("python_function") or {}
    signature = document.get("signature") or {}
    size = document.get("model_size_bytes")
    return MLmodelSummary(
        flavors=flavors,
        inputs=_signature_columns(signature.get("inputs")),
        outputs=_signature_columns(signature.get("outputs")),
        params=_signature_columns(signature.get("params")),
        python_version=str(python_function.get("python_version", "") or ""),
        mlflow_version=str(document.get("mlflow_version", "") or ""),
        run_id=str(document.get("run_id", "") or ""),
        model_id=str(document.get("model_id", "") or ""),
        model_uuid=str(document.get("model_uuid", "") or ""),
        created=str(document.get("utc_time_created", "") or ""),
        size_bytes=int(size) if isinstance(size, int) else None,
        artifact_path=str(document.get("artifact_path", "") or ""),
    )


def _flavor_details(settings: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(settings, dict):
        return ()
    details = []
    for key, value in settings.items():
        if isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items())
        else:
            text = "" if value is None else str(value)
        details.append((str(key), text))
    return tuple(details)


def _signature_columns(spec: Any) -> tuple[SignatureColumn, ...]:
    """A signature part: MLflow stores it as a JSON string of column (or tensor) specs."""
    if not spec:
        return ()
    try:
        items = json.loads(spec) if isinstance(spec, str) else spec
    except ValueError:
        return (SignatureColumn("(unreadable)", str(spec)[:80]),)
    if not isinstance(items, list):
        return ()
    columns = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type", ""))
        tensor = item.get("tensor-spec")
        if isinstance(tensor, dict):
            kind = f"tensor {tensor.get('dtype', '')} {tuple(tensor.get('shape') or ())}"
        elif kind == "array" and isinstance(item.get("items"), dict):
            kind = f"array of {item['items'].get('type', '')}"
        name = str(item.get("name", "") or f"#{number + 1}")
        columns.append(SignatureColumn(name, kind, bool(item.get("required", True))))
    return tuple(columns)
