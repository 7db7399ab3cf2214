"""The ``tbp-dicom`` command (thin: parses arguments, calls the library, reports).

Exit codes: 0 success; 1 reserved for ``validate`` finding errors; 2 unusable
input or arguments, with one line per problem on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tbp_core import __version__
from tbp_core.errors import TbpError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from tbp_core.building.batch import ItemResult
    from tbp_core.validation.findings import ValidationReport

# Command modules are imported inside the handlers (and the convert options
# inside _add_convert): ``dump`` must not pay for pandas, image codecs or the
# building code, and ``--help`` for nothing at all.

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNUSABLE = 2


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` on one line and exit with status 2."""
        self.exit(EXIT_UNUSABLE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _add_convert(convert: argparse.ArgumentParser) -> None:
    """Arguments of ``convert`` (imports the building options it offers)."""
    from tbp_core.building.codecs import DEFAULT_TRANSFER_SYNTAX, TRANSFER_SYNTAXES
    from tbp_core.building.iods import IODS
    from tbp_core.sources.images import DEFAULT_MAX_PIXELS

    convert.add_argument("inputs", nargs="+", metavar="INPUT", help="image files")
    convert.add_argument("-o", "--output", required=True, metavar="OUT", help="file or directory")
    convert.add_argument(
        "--iod", choices=list(IODS), default="vl-photographic", help="IOD to produce"
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
        choices=["refuse", "drop", "white", "black"],
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
    convert.add_argument(
        "-v", "--verbose", action="store_true", help="print the EXIF mapping report"
    )
    convert.set_defaults(handler=_run_convert)


def _add_validate(check: argparse.ArgumentParser) -> None:
    """Arguments of ``validate``."""
    check.add_argument("files", nargs="+", metavar="FILE", help="DICOM files")
    check.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    check.set_defaults(handler=_run_validate)


def _add_dump(show: argparse.ArgumentParser) -> None:
    """Arguments of ``dump``."""
    show.add_argument("file", metavar="FILE", help="a DICOM file")
    show.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    show.add_argument("--no-private", action="store_true", help="hide private elements")
    show.add_argument(
        "--max-depth", type=int, default=None, metavar="N", help="sequence levels shown (0: none)"
    )
    show.add_argument(
        "--search", metavar="TEXT", help="only list elements whose tag, keyword or value matches"
    )
    show.add_argument(
        "--sr-tree",
        action="store_true",
        help="print an SR document's content tree (relationship, value type, concept, value)",
    )
    show.set_defaults(handler=_run_dump)


def _add_structure(explain_cmd: argparse.ArgumentParser) -> None:
    """Arguments of ``structure``."""
    explain_cmd.add_argument("file", metavar="FILE", help="a DICOM file")
    explain_cmd.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format"
    )
    explain_cmd.add_argument(
        "--all", action="store_true", help="text: also list absent attributes not required"
    )
    explain_cmd.set_defaults(handler=_run_structure)


def _add_index(listing: argparse.ArgumentParser) -> None:
    """Arguments of ``index``."""
    listing.add_argument(
        "paths", nargs="+", metavar="PATH", help="DICOM files, directories or ZIP archives"
    )
    listing.add_argument(
        "--columns",
        metavar="COL,...",
        default="",
        help="more columns: keywords, tags (gggg,eeee) or paths like "
        "AnatomicRegionSequence[0].CodeMeaning",
    )
    listing.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="output format"
    )
    listing.set_defaults(handler=_run_index)


def _add_edit(change: argparse.ArgumentParser) -> None:
    """Arguments of ``edit``."""
    change.add_argument("file", metavar="FILE", help="a DICOM file")
    change.add_argument("-o", "--output", metavar="OUT", help="file to write (not FILE itself)")
    change.add_argument(
        "--in-place", action="store_true", help="replace FILE itself (still all or nothing)"
    )
    change.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEYWORD=VALUE",
        help="set (or add) an element; paths like Seq[0].Keyword and (gggg,eeee) work too",
    )
    change.add_argument(
        "--delete", action="append", default=[], metavar="KEYWORD", help="delete an element"
    )
    change.set_defaults(handler=_run_edit)


def _add_conformance(statement: argparse.ArgumentParser) -> None:
    """Arguments of ``conformance``."""
    statement.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format"
    )
    statement.set_defaults(handler=_run_conformance)


def _add_deidentify(anonymise: argparse.ArgumentParser) -> None:
    """Arguments of ``deidentify`` (defined with the command, in tbp_core.sharing)."""
    from tbp_core.sharing import commands

    commands.add_deidentify(anonymise)


def _add_send(transfer: argparse.ArgumentParser) -> None:
    """Arguments of ``send`` (defined with the command, in tbp_core.sharing)."""
    from tbp_core.sharing import commands

    commands.add_send(transfer)


#: Each command: its one-line help, its description and the function adding its arguments.
_COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "convert": (
        "convert PNG, JPEG or TIFF images to DICOM",
        "Convert images to DICOM. One INPUT and OUT ending in .dcm writes that "
        "file; otherwise OUT is a directory and each input becomes OUT/<stem>.dcm. All "
        "inputs of one call share one study and one series.",
        _add_convert,
    ),
    "validate": (
        "check DICOM files against their IOD",
        "Check each file against the IOD of its SOP class: file meta, modules, "
        "Types 1/1C/2/2C, values against their VR and VM, enumerated values. Exit 0 when no "
        "file has errors, 1 when any has, 2 when a file cannot be read.",
        _add_validate,
    ),
    "dump": (
        "print a DICOM file's elements",
        "Print every element (file meta first, sequences with numbered items) "
        "without loading pixel data: UIDs with their names, value lengths, text decoded "
        "with the file's Specific Character Set, and where a damaged file stopped.",
        _add_dump,
    ),
    "structure": (
        "explain a DICOM file: IOD, IEs, modules, attributes with their status",
        "Show the file against the IOD of its SOP class: each IE and module, "
        "each attribute with its Type and status (present, empty, missing, not-applicable), "
        "and the attributes that belong to no module. Missing attributes (and empty Type 1) "
        "are exactly the missing/empty errors of 'tbp-dicom validate'. Exit 0, or 2 when "
        "the file cannot be read.",
        _add_structure,
    ),
    "index": (
        "list the DICOM instances in files, folders and ZIP archives, one row each",
        "One row per DICOM instance found in files, directories (recursively) and ZIP "
        "archives (members named archive.zip!path/in/zip), read without Pixel Data. Files "
        "that are not DICOM instances (a DICOMDIR too) are listed as unreadable with the "
        "reason. Exit 0, or 2 when nothing readable was found.",
        _add_index,
    ),
    "edit": (
        "change elements of a DICOM file",
        "Set, add or delete elements and write the result to OUT. Every edit is "
        "checked against the element's VR and VM first; if one is refused nothing is written.",
        _add_edit,
    ),
    "deidentify": (
        "de-identify DICOM files (PS3.15 Basic Application Level Confidentiality Profile)",
        "Apply the PS3.15 Annex E Basic Profile (Table E.1-1) to each INPUT, with the "
        "--retain options chosen. One INPUT and OUT ending in .dcm writes that file; "
        "otherwise OUT is a directory and each input becomes OUT/<stem>.dcm. UIDs are "
        "replaced consistently across the inputs of one call. Exit 0, or 2 when any input "
        "failed (the others are still written).",
        _add_deidentify,
    ),
    "send": (
        "send DICOM files to a PACS (C-STORE or DICOMweb STOW-RS)",
        "Check the server (C-ECHO or a QIDO-RS query), then store each FILE. Exit 0 when "
        "every file was stored, 1 when the PACS refused some (each with its status), 2 for "
        "unusable input or no connection.",
        _add_send,
    ),
    "conformance": (
        "list what the converter writes: IODs, modules, attributes, transfer syntaxes",
        "For each IOD the converter writes: its modules and the attributes filled, each with "
        "its source (derived, default, EXIF, template) and when it is written; then the "
        "transfer syntaxes offered and the TBP private block. Generated by running the "
        "builders, so it always matches the files produced. Exit 0.",
        _add_conformance,
    ),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the ``tbp-dicom`` argument parser.

    Parameters
    ----------
    command : str, optional
        Give only this command its arguments (the others are listed by name and
        help line), so parsing imports nothing another command needs; None (the
        default) gives every command its arguments.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _OneLineParser(
        prog="tbp-dicom",
        description="Turn Total Body Photography images into correct DICOM.",
    )
    parser.add_argument("--version", action="version", version=f"tbp-dicom {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    for name, (help_line, description, add_arguments) in _COMMANDS.items():
        sub = commands.add_parser(name, help=help_line, description=description)
        if command is None or command == name:
            add_arguments(sub)
    return parser


def _command_of(argv: Sequence[str]) -> str:
    """The command named in ``argv`` (the first word that is one), or ``""``."""
    return next((word for word in argv if word in _COMMANDS), "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tbp-dicom`` and return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status.
    """
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_of(words)).parse_args(words)
    from tbp_core.fileio.safewrite import Interrupted, signals_as_exceptions

    try:
        with signals_as_exceptions():
            status: int = args.handler(args)
    except TbpError as exc:
        _fail(str(exc))
        return EXIT_UNUSABLE
    except (KeyboardInterrupt, Interrupted):
        _fail("interrupted: nothing half-written was left behind")
        return EXIT_UNUSABLE
    except BrokenPipeError:  # output piped into a command that stopped reading (head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the last boundary: one line, never a traceback
        reason = " ".join(str(exc).split())[:200] or "no details"
        _fail(
            f"{args.command} failed on unexpected input ({type(exc).__name__}: {reason}); "
            "the file may be damaged — please report it if it opens elsewhere"
        )
        return EXIT_UNUSABLE
    return status


def _fail(message: str) -> None:
    """Print one line on stderr."""
    print(f"tbp-dicom: {' '.join(message.split())}", file=sys.stderr)


def _load_metadata(args: argparse.Namespace) -> dict[str, Any]:
    """Template values with ``--set`` values on top, checked for the chosen IOD."""
    from tbp_core.building.iods import get_iod
    from tbp_core.building.metadata import merge_metadata, parse_assignment, parse_template

    iod_key = get_iod(args.iod).standard_key
    layers: list[dict[str, Any]] = []
    if args.metadata:
        path = Path(args.metadata)
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise TbpError(f"cannot read metadata template '{path}': {exc.strerror}") from exc
        layers.append(parse_template(text, iod_key=iod_key))
    layers.append(dict(parse_assignment(item, iod_key=iod_key) for item in args.assignments))
    user = merge_metadata(*layers)
    return merge_metadata(_lesion_link(args, user), user) if args.regional else user


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


def _run_convert(args: argparse.Namespace) -> int:
    """Convert each input (large batches in worker processes); report each, keep going."""
    from tbp_core.building import batch
    from tbp_core.building.convert import ConvertOptions
    from tbp_core.building.iods import get_iod, new_series_context

    if (args.location or args.lesion_id) and not args.regional:
        raise TbpError("--location and --lesion-id need --regional OVERVIEW.dcm")
    metadata = _load_metadata(args)
    options = ConvertOptions(
        iod=get_iod(args.iod),
        alpha=args.alpha,
        include_gps=args.include_gps,
        include_device_identity=args.include_device_identity,
        include_maker_note=args.include_maker_note,
        transfer_syntax=args.transfer_syntax,
        max_pixels=args.max_pixels,
    )
    output = Path(args.output)
    single_file = len(args.inputs) == 1 and output.suffix.lower() == ".dcm"
    if not single_file:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TbpError(f"cannot create output directory '{output}': {exc.strerror}") from exc
    job = batch.BatchJob(metadata, new_series_context(), options, exif_report=args.verbose)
    items = batch.plan_batch(args.inputs, output, single_file=single_file)
    bar = sys.stderr.isatty() and len(items) > 1  # a progress bar on a terminal only
    try:
        results = batch.run_batch(
            items,
            job,
            jobs=args.jobs,
            on_result=lambda result: _report(result, clear_bar=bar),
            on_progress=_show_progress if bar else None,
        )
    finally:
        if bar:
            _show_progress(0, 0)
    return EXIT_UNUSABLE if any(result.error for result in results) else EXIT_OK


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


def _run_validate(args: argparse.Namespace) -> int:
    """Validate each file; print text or the JSON of ARCHITECTURE.md §4."""
    from tbp_core.fileio import dicomio
    from tbp_core.validation.validate import validate

    results: list[dict[str, Any]] = []
    unreadable = False
    for name in args.files:
        try:
            # pydicom warns about invalid values while reading; the findings
            # report each of them, so the warnings are not repeated on stderr.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = validate(dicomio.read(Path(name)))
        except TbpError as exc:
            _fail(str(exc))
            unreadable = True
            continue
        results.append({"file": name, "report": report})
        if args.format == "text":
            print(_report_text(name, report))
    if args.format == "json":
        payload = {"files": [_report_json(r["file"], r["report"]) for r in results]}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    if unreadable:
        return EXIT_UNUSABLE
    return EXIT_FINDINGS if any(r["report"].errors for r in results) else EXIT_OK


def _run_dump(args: argparse.Namespace) -> int:
    """Print the dump of one file as text, JSON or search hits."""
    from tbp_core.fileio import dicomio
    from tbp_core.inspection import dump

    if args.max_depth is not None and args.max_depth < 0:
        raise TbpError(f"--max-depth must be 0 or more, not {args.max_depth}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dicomio.read_with_report(Path(args.file))
        if args.sr_tree:
            return _print_sr_tree(args, result.dataset)
        tree = dump.build_tree(
            result.dataset, include_private=not args.no_private, max_depth=args.max_depth
        )
    for note in result.warnings:
        _fail(f"warning: {args.file}: {note}")
    if args.search:
        for hit in dump.search(tree, args.search):
            print(f"{hit.node.tag_text} {hit.node.vr} {hit.path_text} = {hit.node.value_text}")
    elif args.format == "json":
        payload = dump.to_json(tree, stopped_at=result.stopped_at)
        print(json.dumps(payload, indent=1, ensure_ascii=False))
    else:
        print(dump.render_text(tree, title=Path(args.file).name, stopped_at=result.stopped_at))
    return EXIT_OK


def _print_sr_tree(args: argparse.Namespace, dataset: Dataset) -> int:
    """Print the content tree of an SR document (``dump --sr-tree``)."""
    from tbp_core.inspection import srtree

    root = srtree.build_sr_tree(dataset)
    if root is None:
        raise TbpError(
            f"{args.file} is not an SR document (no Value Type and Content Sequence at the "
            "top level); run 'tbp-dicom dump' without --sr-tree"
        )
    if args.format == "json":
        print(json.dumps(srtree.sr_tree_json(root), indent=1, ensure_ascii=False))
    else:
        print(srtree.render_sr_text(root, title=Path(args.file).name))
    return EXIT_OK


def _run_conformance(args: argparse.Namespace) -> int:
    """Print the conformance statement generated from the builders."""
    from tbp_core.building import conformance

    statement = conformance.conformance()
    if args.format == "json":
        print(json.dumps(conformance.conformance_json(statement), indent=1, ensure_ascii=False))
    else:
        print(conformance.render_conformance_text(statement))
    return EXIT_OK


def _run_index(args: argparse.Namespace) -> int:
    """List the instances under the given paths; exit 2 when there is none."""
    from tbp_core.inspection import index, indexformat

    columns = index.parse_columns(index.split_columns(args.columns))
    found = index.index_paths(args.paths, columns)
    if args.format == "json":
        print(json.dumps(indexformat.to_json(found), indent=1, ensure_ascii=False))
    else:
        text = (
            indexformat.to_csv(found) if args.format == "csv" else indexformat.to_table_text(found)
        )
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        for item in found.unreadable:
            _fail(f"skipped {item.file}: {item.error}")
    if not found.instances:
        _fail(f"no readable DICOM instance found in {', '.join(args.paths)}")
        return EXIT_UNUSABLE
    return EXIT_OK


def _run_structure(args: argparse.Namespace) -> int:
    """Print the IOD → IE → Module → Attribute structure of one file."""
    from tbp_core.fileio import dicomio
    from tbp_core.inspection import explain

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dicomio.read_with_report(Path(args.file))
        tree = explain.build_structure(result.dataset)
    for note in result.warnings:
        _fail(f"warning: {args.file}: {note}")
    if args.format == "json":
        print(json.dumps(explain.structure_json(tree, args.file), indent=1, ensure_ascii=False))
    else:
        print(explain.render_text(tree, Path(args.file).name, show_all=args.all))
    return EXIT_OK


def _run_edit(args: argparse.Namespace) -> int:
    """Apply every edit or none, then write the whole file or nothing."""
    from tbp_core.fileio import dicomio
    from tbp_core.fileio.safewrite import same_file, write_atomically
    from tbp_core.inspection import tags

    if not args.assignments and not args.delete:
        raise TbpError("nothing to do: give at least one --set KEYWORD=VALUE or --delete KEYWORD")
    source = Path(args.file)
    if args.in_place == bool(args.output):
        raise TbpError("give either -o OUT or --in-place (to replace FILE itself)")
    target = source if args.in_place else Path(args.output)
    if not args.in_place and same_file(source, target):
        raise TbpError(
            f"-o {target} is the input file; use --in-place to replace it, or another -o"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dicomio.read_with_report(source)
        if result.warnings:
            raise TbpError(
                f"'{source}' is damaged ({result.warnings[0]}); editing it would drop what "
                "could not be read — nothing was written"
            )
        ds = result.dataset
        results = tags.apply_edits(ds, tags.parse_cli_edits(args.assignments, args.delete))
        if results and not results[-1].applied:
            raise TbpError(f"{results[-1].message} — nothing was written")
        write_atomically(target, lambda stream: dicomio.write(ds, stream))
    for change in results:
        print(change.message)
    return EXIT_OK


def _report_json(name: str, report: ValidationReport) -> dict[str, Any]:
    """One file's entry in ``validate --format json``."""
    return {
        "file": name,
        "iod": report.iod,
        "sop_class_uid": report.sop_class_uid,
        "findings": [
            {
                "severity": f.severity,
                "code": f.code,
                "tag": f.tag,
                "keyword": f.keyword,
                "path": f.path,
                "module": f.module,
                "message": f.message,
            }
            for f in report.findings
        ],
    }


def _report_text(name: str, report: ValidationReport) -> str:
    """One file's findings as aligned text lines."""
    counts = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    lines = [f"{name}: {report.iod or 'unknown IOD'} ({report.sop_class_uid or '-'}) — {counts}"]
    for f in report.findings:
        module = f" [{f.module}]" if f.module else ""
        lines.append(f"  {f.severity.upper():7} {f.tag or '-':11} {f.message}{module}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
