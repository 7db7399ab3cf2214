"""The ``convert`` and ``templates`` commands of ``tbp-dicom`` (arguments and handlers).

tbp_core/cli.py lists the commands and calls :func:`add_convert` or
:func:`add_templates` only for the command being run; the building code
(codecs, IOD builders, anatomy tables) is imported inside the functions.

``convert`` has three forms:

- ``convert INPUT... -o OUT``: the given images, one series (a close-up batch
  may be linked to an overview with ``--regional``);
- ``convert --manifest SESSION.csv -o DIR``: a TBP session described by a CSV;
- ``convert FOLDER --session -o DIR``: a TBP session named by its file names.

A session becomes one study with a series of overviews and a series of
close-ups (:mod:`tbp_core.building.sessionconvert`); its description is
checked whole first, and any problem is reported (one line each, naming the
CSV line or the file and the fix) before anything is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from tbp_core.errors import TbpError

if TYPE_CHECKING:
    from tbp_core.building.batch import ItemResult
    from tbp_core.building.convert import ConvertOptions
    from tbp_core.building.manifest import Session
    from tbp_core.building.templates import SessionTemplate

__all__ = ["add_convert", "add_templates", "run_convert", "run_templates"]

EXIT_OK = 0
EXIT_UNUSABLE = 2

#: The IOD of a plain conversion when --iod is not given.
_DEFAULT_IOD = "vl-photographic"


def _fail(message: str) -> None:
    print(f"tbp-dicom: {' '.join(message.split())}", file=sys.stderr)


def add_convert(convert: argparse.ArgumentParser) -> None:
    """Add the arguments of ``convert`` to ``parser``.

    Parameters
    ----------
    convert : argparse.ArgumentParser
        The command's sub-parser.
    """
    # Light modules only: the image is read while pydicom and numpy are imported
    # (_run_plain), which needs them not imported yet.
    from tbp_core.building.iods import IODS
    from tbp_core.building.transfersyntaxes import DEFAULT_TRANSFER_SYNTAX, TRANSFER_SYNTAXES
    from tbp_core.sources.sourceimage import DEFAULT_MAX_PIXELS, AlphaPolicy

    convert.add_argument(
        "inputs", nargs="*", metavar="INPUT", help="image files (or one FOLDER with --session)"
    )
    convert.add_argument(
        "-o", "--output", metavar="OUT", help="file or directory (a directory for a session)"
    )
    convert.add_argument(
        "--iod", choices=list(IODS), default=None, help=f"IOD to produce (default {_DEFAULT_IOD})"
    )
    convert.add_argument(
        "--metadata", metavar="TEMPLATE.json", help="keyword-JSON or DICOM JSON metadata"
    )
    convert.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEYWORD=VALUE",
        help="set one attribute (repeatable; wins over the template)",
    )
    convert.add_argument(
        "--alpha",
        choices=get_args(AlphaPolicy),
        default="refuse",
        help="transparent images: refuse (default), drop the alpha channel, or "
        "composite onto white or black",
    )
    convert.add_argument(
        "--include-gps", action="store_true", help="write EXIF GPS location (off by default)"
    )
    convert.add_argument(
        "--include-device-identity",
        action="store_true",
        help="write the EXIF camera owner and body/lens serial numbers (off by default)",
    )
    convert.add_argument(
        "--include-maker-note",
        action="store_true",
        help="write the camera vendor's opaque EXIF MakerNote (off by default)",
    )
    convert.add_argument(
        "--transfer-syntax",
        choices=list(TRANSFER_SYNTAXES),
        default=DEFAULT_TRANSFER_SYNTAX,
        help="how Pixel Data is encoded",
    )
    convert.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help=f"largest image accepted, in pixels (default {DEFAULT_MAX_PIXELS:,})",
    )
    convert.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="processes converting a batch (default: all cores; 1: this process only)",
    )
    convert.add_argument(
        "--regional",
        metavar="OVERVIEW.dcm",
        help="regional overview the inputs are close-ups of: reference it, join its study",
    )
    convert.add_argument(
        "--location", metavar="X,Y", help="lesion's pixel column,row on the --regional overview"
    )
    convert.add_argument(
        "--lesion-id", metavar="ID", help="lesion's Tracking ID (with a stable Tracking UID)"
    )
    session = convert.add_argument_group(
        "TBP sessions",
        "Convert a whole session into one study: series 1 the regional overviews (VL "
        "Photographic), series 2 the dermoscopic close-ups, each close-up linked to its "
        "overview. The description is checked whole first: any problem is reported with "
        "its CSV line (or file) and the fix, and nothing is written (exit 2). Manifest "
        "columns: file, region, laterality, lesion_id, regional, and optionally kind "
        "(overview|closeup) and x, y (the lesion's pixel on its overview); region is a code "
        "meaning ('Skin of back' or 'back'), a SNOMED CT code, or a view of 'tbp-dicom "
        "templates'; relative paths are read from the CSV's folder. File names for "
        "--session: <region>[_overview|_closeup][_<lesion id>].png, e.g. back_overview.png, "
        "left-arm_closeup_L12.jpg (a close-up is linked to the overview of its region).",
    )
    session.add_argument(
        "--manifest", metavar="SESSION.csv", help="convert the session this CSV describes"
    )
    session.add_argument(
        "--session",
        action="store_true",
        help="INPUT is a FOLDER: convert it as a session, regions from the file names",
    )
    session.add_argument(
        "--closeup-metadata",
        metavar="TEMPLATE.json",
        help="template for the close-ups only, over --metadata (e.g. the dermatoscope's "
        "Manufacturer, ManufacturerModelName, DeviceSerialNumber, SoftwareVersions)",
    )
    session.add_argument(
        "--dry-run",
        action="store_true",
        help="check the session and print it as a manifest (regions resolved); write nothing",
    )
    convert.add_argument(
        "-v", "--verbose", action="store_true", help="print the EXIF mapping report"
    )


def run_convert(args: argparse.Namespace) -> int:
    """Run ``convert``: a session (``--manifest`` / ``--session``) or plain inputs.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.

    Returns
    -------
    int
        0, or 2 when an input failed (the others are still converted).
    """
    if args.manifest or args.session:
        return _run_session(args)
    if args.closeup_metadata or args.dry_run:
        raise TbpError(
            "--closeup-metadata and --dry-run are for sessions: add --manifest or --session"
        )
    if not args.inputs:
        raise TbpError(
            "nothing to convert: give INPUT images, a FOLDER with --session, or "
            "--manifest SESSION.csv"
        )
    folders = [name for name in args.inputs if Path(name).is_dir()]
    if folders:
        raise TbpError(
            f"'{folders[0]}' is a folder: add --session to convert it as a TBP session "
            "(regions from the file names), or give its images"
        )
    if not args.output:
        raise TbpError("-o OUT is required: the output file or directory")
    if (args.location or args.lesion_id) and not args.regional:
        raise TbpError("--location and --lesion-id need --regional OVERVIEW.dcm")
    return _run_plain(args)


def _options(args: argparse.Namespace, iod_name: str) -> ConvertOptions:
    from tbp_core.building.convert import ConvertOptions
    from tbp_core.building.iods import get_iod

    return ConvertOptions(
        iod=get_iod(iod_name),
        alpha=args.alpha,
        include_gps=args.include_gps,
        include_device_identity=args.include_device_identity,
        include_maker_note=args.include_maker_note,
        transfer_syntax=args.transfer_syntax,
        max_pixels=args.max_pixels,
    )


def _load_metadata(
    args: argparse.Namespace, iod_name: str, *extra_templates: str | None
) -> dict[str, Any]:
    """Template values (``--metadata``, then ``extra_templates``), ``--set`` on top."""
    from tbp_core.building.iods import get_iod
    from tbp_core.building.metadata import merge_metadata, parse_assignment, parse_template

    iod_key = get_iod(iod_name).standard_key
    layers: list[dict[str, Any]] = []
    for name in (args.metadata, *extra_templates):
        if not name:
            continue
        path = Path(name)
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise TbpError(f"cannot read metadata template '{path}': {exc.strerror}") from exc
        layers.append(parse_template(text, iod_key=iod_key))
    layers.append(dict(parse_assignment(item, iod_key=iod_key) for item in args.assignments))
    return merge_metadata(*layers)


def _lesion_link(args: argparse.Namespace, user: dict[str, Any]) -> dict[str, Any]:
    """The ``--regional`` layer (overview's study, reference, location, lesion id)."""
    from tbp_core.building import lesionlink
    from tbp_core.fileio import dicomio

    overview = dicomio.read(args.regional)
    lesionlink.check_overview(overview, f"--regional '{args.regional}'")
    location = lesionlink.parse_location(args.location) if args.location else None
    return lesionlink.lesion_link_metadata(
        overview, user, location=location, lesion_id=args.lesion_id
    )


def _run_plain(args: argparse.Namespace) -> int:
    """Convert each input (large batches in worker processes); report each, keep going."""
    from tbp_core.fileio.readahead import ReadAhead

    # One image: read it while the builders and pydicom are imported.
    ahead = ReadAhead(Path(args.inputs[0])) if len(args.inputs) == 1 else None
    from tbp_core.building import batch
    from tbp_core.building.iods import new_series_context
    from tbp_core.building.metadata import merge_metadata

    iod_name = args.iod or _DEFAULT_IOD
    metadata = _load_metadata(args, iod_name)
    if args.regional:
        metadata = merge_metadata(_lesion_link(args, metadata), metadata)
    output = Path(args.output)
    single_file = len(args.inputs) == 1 and output.suffix.lower() == ".dcm"
    if not single_file:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TbpError(f"cannot create output directory '{output}': {exc.strerror}") from exc
    job = batch.BatchJob(
        metadata, new_series_context(), _options(args, iod_name), exif_report=args.verbose
    )
    items = batch.plan_batch(args.inputs, output, single_file=single_file)
    bar = sys.stderr.isatty() and len(items) > 1  # a progress bar on a terminal only
    try:
        results = batch.run_batch(
            items,
            job,
            jobs=args.jobs,
            on_result=lambda result: _report(result, clear_bar=bar),
            on_progress=_show_progress if bar else None,
            read=ahead.read if ahead else Path.read_bytes,
        )
    finally:
        if bar:
            _show_progress(0, 0)
    return EXIT_UNUSABLE if any(result.error for result in results) else EXIT_OK


def _describe_session(args: argparse.Namespace) -> Session:
    """The session of ``--manifest`` or of the ``--session`` FOLDER, checked."""
    from tbp_core.building.manifest import parse_manifest
    from tbp_core.building.sessionfolder import session_from_folder

    used = [
        flag
        for flag, value in (
            ("--iod", args.iod),
            ("--regional", args.regional),
            ("--location", args.location),
            ("--lesion-id", args.lesion_id),
        )
        if value
    ]
    if used:
        raise TbpError(
            f"{', '.join(used)} cannot be used with a session: overviews are VL Photographic, "
            "close-ups Dermoscopic, and links, locations and lesion ids come from the manifest "
            "(regional, x, y, lesion_id) or the file names"
        )
    if args.manifest and args.session:
        raise TbpError("give either --manifest SESSION.csv or FOLDER --session, not both")
    if args.manifest:
        if args.inputs:
            raise TbpError(
                f"--manifest lists the images itself: remove {args.inputs[0]!r} (or add it "
                "as a row of the manifest)"
            )
        return parse_manifest(args.manifest)
    if len(args.inputs) != 1 or not Path(args.inputs[0]).is_dir():
        raise TbpError(
            "--session needs one FOLDER of images: tbp-dicom convert FOLDER --session -o DIR"
        )
    return session_from_folder(args.inputs[0])


def _run_session(args: argparse.Namespace) -> int:
    """Check a whole session, then convert it into one study (or print it, --dry-run)."""
    from tbp_core.building.manifest import ManifestError, session_csv
    from tbp_core.building.sessionconvert import SessionJob, check_session, convert_session

    if not args.dry_run:
        if not args.output:
            raise TbpError("-o DIR is required: the directory the session is written to")
        if Path(args.output).suffix.lower() == ".dcm":
            raise TbpError(
                f"-o {args.output}: a session writes one file per image — give a directory"
            )
    try:
        session = _describe_session(args)
        job = SessionJob(
            overview_metadata=_load_metadata(args, "vl-photographic"),
            closeup_metadata=_load_metadata(args, "dermoscopic", args.closeup_metadata),
            options=_options(args, _DEFAULT_IOD),
            exif_report=args.verbose,
        )
        check_session(session, job)
    except ManifestError as exc:
        for problem in exc.problems:
            _fail(problem)
        _fail("nothing was written")
        return EXIT_UNUSABLE
    for note in session.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.dry_run:
        base = Path(args.manifest).parent if args.manifest else Path(args.inputs[0])
        sys.stdout.write(session_csv(session, base=base))
        return EXIT_OK
    bar = sys.stderr.isatty() and len(session.entries) > 1
    try:
        result = convert_session(
            session,
            Path(args.output),
            job,
            jobs=args.jobs,
            on_result=lambda item: _report(item, clear_bar=bar),
            on_progress=_show_progress if bar else None,
        )
    finally:
        if bar:
            _show_progress(0, 0)
    print(
        f"session: study {result.study_instance_uid} -> {args.output}: overviews "
        f"{len(session.overviews)} (series 1), close-ups {len(session.closeups)} (series 2)"
    )
    return EXIT_UNUSABLE if result.failed else EXIT_OK


def _show_progress(done: int, total: int) -> None:
    """Redraw the progress bar on stderr; erase it when done (or for 0 of 0)."""
    from tbp_core.building.batch import progress_bar

    line = progress_bar(done, total) if done < total else ""
    sys.stderr.write(f"\r\x1b[K{line}")
    sys.stderr.flush()


def _report(result: ItemResult, *, clear_bar: bool) -> None:
    """One line per input: converted on stdout (with notes), failed on stderr."""
    if clear_bar:
        _show_progress(0, 0)
    if result.error:
        _fail(result.error)
        return
    print(
        f"{result.source.name} -> {result.target} ({result.modality}, "
        f"{result.columns}x{result.rows} {result.photometric} {result.bits_allocated}-bit, "
        f"instance {result.instance_number})"
    )
    for notice in result.notices:
        print(f"  note: {notice}")
    if result.exif_report:
        print(result.exif_report)
    for warning in result.warnings:
        print(f"  note: {warning}")
    sys.stdout.flush()


# ------------------------------------------------------------------ templates


def add_templates(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``templates`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's sub-parser.
    """
    parser.add_argument("name", nargs="?", metavar="NAME", help="only this session template")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="output format")


def run_templates(args: argparse.Namespace) -> int:
    """Print the session templates: their views, region codes, sides and file names.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.

    Returns
    -------
    int
        0.
    """
    from tbp_core.building.templates import SESSION_TEMPLATES, session_template

    chosen = [session_template(args.name)] if args.name else list(SESSION_TEMPLATES.values())
    if args.format == "json":
        listing = {"templates": [_template_json(template) for template in chosen]}
        print(json.dumps(listing, indent=1, ensure_ascii=False))
        return EXIT_OK
    for template in chosen:
        print(f"{template.name}: {template.description}")
        for view in template.views:
            code = view.region()
            region = f"{code.code_meaning} ({code.coding_scheme} {code.code_value})"
            print(
                f"  {view.name:16} {region:42} {view.laterality or '-':2} {view.name}_overview.png"
            )
        print(f"  {'close-ups':16} {_CLOSEUPS}")
        print(f"  source: {template.source}")
    return EXIT_OK


_CLOSEUPS = (
    "any number: Dermoscopic Photography Images, each linked to the overview of its "
    "region; file name <view>_closeup_<lesion id>.jpg"
)


def _template_json(template: SessionTemplate) -> dict[str, Any]:
    """One session template in ``templates --format json``."""
    views = []
    for view in template.views:
        code = view.region()
        views.append(
            {
                "name": view.name,
                "title": view.title,
                "kind": "overview",
                "code_value": code.code_value,
                "coding_scheme": code.coding_scheme,
                "code_meaning": code.code_meaning,
                "laterality": view.laterality,
                "aliases": list(view.aliases),
                "file_name": f"{view.name}_overview.png",
            }
        )
    return {
        "name": template.name,
        "description": template.description,
        "source": template.source,
        "views": views,
        "closeups": _CLOSEUPS,
    }
