"""The ``deidentify`` and ``send`` commands of ``tbp-dicom`` (arguments and handlers).

tbp_core/cli.py lists the commands and calls :func:`add_deidentify` and
:func:`add_send` only for the command being run; the libraries behind them
(pynetdicom, the profile table) are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import functools
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tbp_core.errors import TbpError
from tbp_core.sharing.profile import RETAIN_OPTIONS
from tbp_core.sharing.send import DEFAULT_CALLING_AET

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["add_deidentify", "add_send", "run_deidentify", "run_send"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_UNUSABLE = 2


def _fail(message: str) -> None:
    print(f"tbp-dicom: {' '.join(message.split())}", file=sys.stderr)


def add_deidentify(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``deidentify`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's sub-parser.
    """
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="DICOM files")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="file or directory")
    parser.add_argument(
        "--retain",
        nargs="+",
        action="extend",
        choices=RETAIN_OPTIONS,
        default=[],
        metavar="OPTION",
        help="profile options: dates (full dates), shifted-dates (dates moved by a per-patient "
        "offset), patient-characteristics, device, uids, descriptors (clean, not remove), "
        "tbp-private (keep the TBP calibration block)",
    )
    parser.add_argument(
        "--patient-id", metavar="NEW", help="new Patient ID and Patient's Name for every input"
    )
    parser.add_argument(
        "--map",
        metavar="MAP.csv",
        help="write the old → new identifiers here (keep it private: it re-identifies)",
    )
    parser.set_defaults(handler=run_deidentify)


def add_send(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``send`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's sub-parser.
    """
    parser.add_argument("files", nargs="+", metavar="FILE", help="DICOM files")
    parser.add_argument(
        "--to",
        required=True,
        metavar="DESTINATION",
        help="dicom://AET@HOST:PORT or http(s)://HOST[:PORT]/DICOMWEB-ROOT",
    )
    parser.add_argument(
        "--calling-aet",
        default=DEFAULT_CALLING_AET,
        metavar="AET",
        help="our AE title (DICOM only)",
    )
    parser.add_argument(
        "--timeout", type=float, default=15.0, metavar="SECONDS", help="network timeout"
    )
    parser.set_defaults(handler=run_send)


def _write_bytes(stream: BinaryIO, data: bytes) -> None:
    stream.write(data)


def _read(name: str) -> Dataset:
    from tbp_core.fileio import dicomio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dicomio.read(Path(name))


def run_deidentify(args: argparse.Namespace) -> int:
    """De-identify each input into OUT; one line per failed input, the others go on.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of ``deidentify``.

    Returns
    -------
    int
        0, or 2 when any input failed.
    """
    from tbp_core.fileio import dicomio
    from tbp_core.fileio.safewrite import same_file, write_atomically
    from tbp_core.sharing.deidentify import DeidentifyOptions, IdentifierMap, deidentify

    options = DeidentifyOptions(frozenset(args.retain))
    if args.patient_id is not None and not 0 < len(args.patient_id) <= 64:
        raise TbpError(f"--patient-id '{args.patient_id}' must be 1 to 64 characters (LO)")
    ids = IdentifierMap(patient_id=args.patient_id)
    output = Path(args.output)
    single = len(args.inputs) == 1 and output.suffix.lower() == ".dcm"
    if not single:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TbpError(f"cannot create output directory '{output}': {exc.strerror}") from exc
    status = EXIT_OK
    written: set[Path] = set()
    for name in args.inputs:
        target = output if single else output / f"{Path(name).stem or 'object'}.dcm"
        try:
            if same_file(Path(name), target) or target in written:
                raise TbpError(
                    f"{name}: the output {target} is the input itself or was written from "
                    "another input with the same name; choose another -o"
                )
            result = deidentify(_read(name), options, ids)
            write_atomically(target, functools.partial(dicomio.write, result.dataset))
        except TbpError as exc:
            message = str(exc)
            _fail(message if Path(name).name in message else f"{name}: {message}")
            status = EXIT_UNUSABLE
            continue
        except Exception as exc:  # a damaged input must not stop the batch
            _fail(f"{name}: cannot be de-identified ({type(exc).__name__}: {exc})")
            status = EXIT_UNUSABLE
            continue
        written.add(target)
        counts = {
            action: sum(c.action == action for c in result.changes)
            for action in ("removed", "replaced", "kept", "added")
        }
        summary = ", ".join(f"{n} {action}" for action, n in counts.items() if n)
        print(f"{name} -> {target} ({summary})")
        for notice in result.notices:
            print(f"  note: {notice}")
    if args.map:
        text = ids.to_csv().encode("utf-8")
        write_atomically(Path(args.map), lambda stream: _write_bytes(stream, text))
        print(f"identifier map -> {args.map}")
    return status


def run_send(args: argparse.Namespace) -> int:
    """Verify the server, then store each readable file and print the PACS's answer.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of ``send``.

    Returns
    -------
    int
        0 all stored, 1 some refused, 2 unusable input or no connection.
    """
    from tbp_core.sharing.send import parse_destination, send, verify

    destination = parse_destination(args.to)
    unusable = False
    items: list[tuple[str, Dataset]] = []
    for name in args.files:
        try:
            items.append((name, _read(name)))
        except TbpError as exc:
            _fail(str(exc))
            unusable = True
    if not items:
        return EXIT_UNUSABLE
    print(verify(destination, args.calling_aet, args.timeout))
    refused = False
    for outcome in send(destination, items, args.calling_aet, args.timeout):
        mark = "stored" if outcome.stored else "REFUSED"
        print(f"{outcome.name}: {mark} {outcome.sop_instance_uid} — {outcome.status}")
        refused = refused or not outcome.stored
    if unusable:
        return EXIT_UNUSABLE
    return EXIT_REFUSED if refused else EXIT_OK
