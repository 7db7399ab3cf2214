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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tbp_core import __version__
from tbp_core.errors import TbpError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

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
    """Arguments of ``convert`` (defined with the command, in tbp_core.building)."""
    from tbp_core.building import commands

    commands.add_convert(convert)
    convert.set_defaults(handler=_run_convert)


def _add_templates(listing: argparse.ArgumentParser) -> None:
    """Arguments of ``templates`` (defined with the command, in tbp_core.building)."""
    from tbp_core.building import commands

    commands.add_templates(listing)
    listing.set_defaults(handler=_run_templates)


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
        "inputs of one call share one study and one series. A whole TBP session "
        "(--manifest SESSION.csv, or FOLDER --session) becomes one study with a series of "
        "overviews and a series of dermoscopic close-ups linked to them.",
        _add_convert,
    ),
    "templates": (
        "list the TBP session templates: body-region views, codes, file names",
        "List each session template: its regional views with the anatomic region code "
        "(CID 4029) and side, the file name --session expects for each, and the close-ups. "
        "A view's name can be used as a region in a manifest or a file name. Exit 0.",
        _add_templates,
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


def _run_convert(args: argparse.Namespace) -> int:
    """Convert images, a manifest's session or a folder's session."""
    from tbp_core.building import commands

    return commands.run_convert(args)


def _run_templates(args: argparse.Namespace) -> int:
    """List the TBP session templates."""
    from tbp_core.building import commands

    return commands.run_templates(args)


def _run_validate(args: argparse.Namespace) -> int:
    """Validate each file; print text or the JSON of ARCHITECTURE.md §4.

    The files are also checked together: a close-up's lesion link must name an
    overview among them that is a VL image (:mod:`tbp_core.validation.links`).
    """
    from tbp_core.fileio import dicomio
    from tbp_core.validation import links
    from tbp_core.validation.findings import sorted_findings
    from tbp_core.validation.validate import validate

    results: list[tuple[str, ValidationReport]] = []
    facts: list[tuple[str, Dataset]] = []
    unreadable = False
    for name in args.files:
        try:
            # pydicom warns about invalid values while reading; the findings
            # report each of them, so the warnings are not repeated on stderr.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = dicomio.read(Path(name))
                report = validate(ds)
        except TbpError as exc:
            _fail(str(exc))
            unreadable = True
            continue
        results.append((name, report))
        facts.append((name, links.reference_facts(ds)))
    linked = links.check_links(facts, links.IN_FILES)
    results = [
        (name, replace(report, findings=sorted_findings((*report.findings, *extra))))
        if extra
        else (name, report)
        for (name, report), extra in zip(results, linked, strict=True)
    ]
    if args.format == "json":
        payload = {"files": [_report_json(name, report) for name, report in results]}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for name, report in results:
            print(_report_text(name, report))
    if unreadable:
        return EXIT_UNUSABLE
    return EXIT_FINDINGS if any(report.errors for _, report in results) else EXIT_OK


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
