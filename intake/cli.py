"""`intake` command line: a thin layer over the composer.

Logs go to stderr; stdout carries only the report.  Errors are turned into exit
codes in exactly one place (:func:`main`), and never show a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

# Tesseract's own OpenMP threading makes a page several times slower on a
# shared 2-core machine; we parallelise over pages instead.  Set before any
# worker is forked.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import typer

from common.errors import IntakeError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Read prior-authorization faxes and check them against a payer's medical policy.",
)

log = logging.getLogger("intake")

FileArg = Annotated[Path, typer.Argument(help="PDF, TIFF, PNG, JPEG or UTF-8 text file")]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logs on stderr")] = False,
) -> None:
    _setup_logging(verbose)


@app.command()
def process(
    file: FileArg,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    fhir: Annotated[bool, typer.Option("--fhir", help="print a FHIR R4 Bundle")] = False,
    policy: Annotated[
        str | None,
        typer.Option(
            help="policy id; default: the policy for the requested product in force on the date of service"
        ),
    ] = None,
) -> None:
    """Run the whole pipeline on one file and print the criteria report."""
    from pipeline.composer import process_file

    done = process_file(file, policy_id=policy)
    if fhir:
        from outputs.fhir import to_fhir_bundle

        typer.echo(json.dumps(to_fhir_bundle(done), indent=2))
    elif as_json:
        typer.echo(done.report.model_dump_json(indent=2))
    else:
        from outputs.summary import render_summary

        typer.echo(render_summary(done.report, policy=done.policy, labs=done.facts.labs))


@app.command()
def ocr(file: FileArg) -> None:
    """Print each page's text with word confidences (for debugging)."""
    from common.settings import Settings
    from reading.reader import read_document
    from reading.text import page_text_with_confidence

    document = read_document(file, Settings())
    for page in document.pages:
        typer.echo(f"=== page {page.number} ({page.source.value}, rotation {page.rotation}) ===")
        for notice in page.warnings:
            typer.echo(f"! {notice.code}: {notice.message}")
        typer.echo(page_text_with_confidence(page))


@app.command("eval")
def eval_(
    corpus: Annotated[Path, typer.Argument(help="folder of documents with ground truth")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    check_floors: Annotated[bool, typer.Option("--check-floors", help="exit 1 under the floors")] = False,
    ocr: Annotated[
        str,
        typer.Option(
            help="recorded: use the corpus's current OCR recordings, reading live where none is current; "
            "live: always OCR; record: OCR and keep the readings"
        ),
    ] = "recorded",
    show: Annotated[bool, typer.Option("--show", help="blind set: list each document's problems")] = False,
    reports: Annotated[
        Path | None,
        typer.Option(help="blind set: score reports saved by another checkout instead of running"),
    ] = None,
) -> None:
    """Measure the pipeline against ground truth (a corpus, or a blind held-out set)."""
    from evaluation.blind import is_blind_set
    from evaluation.blind import main as blind_main
    from evaluation.corpus import main as eval_main

    if ocr not in {"recorded", "live", "record"}:
        raise typer.BadParameter("--ocr must be recorded, live or record")
    if corpus.is_dir() and is_blind_set(corpus):
        raise typer.Exit(blind_main(corpus, as_json=as_json, ocr=ocr, show=show, reports=reports))
    raise typer.Exit(eval_main(corpus, as_json=as_json, check_floors=check_floors, ocr=ocr))


@app.command()
def bench(
    corpus: Annotated[
        Path | None, typer.Argument(help="folder of documents; default: bundled corpus")
    ] = None,
    limit: Annotated[int, typer.Option(help="documents per kind")] = 3,
) -> None:
    """Time the OCR stage against bare tesseract, and extraction against OCR."""
    from evaluation.bench import main as bench_main

    raise typer.Exit(bench_main(corpus, limit=limit))


@app.command()
def watch(
    inbox: Annotated[Path, typer.Argument(help="folder the fax server drops files into")],
    store: Annotated[Path, typer.Option(help="where originals, reports and errors are kept")] = Path(
        "var/store"
    ),
    once: Annotated[bool, typer.Option("--once", help="process what is there, then stop")] = False,
) -> None:
    """Process every file dropped in a folder; originals are kept in the store."""
    from common.settings import Settings
    from intake.store import OriginalStore
    from intake.watch import watch as watch_folder

    watch_folder(inbox, OriginalStore(store), Settings(), once=once)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    store: Annotated[Path, typer.Option()] = Path("var/store"),
) -> None:
    """Serve the HTTP intake API (upload a fax, read its report)."""
    import uvicorn

    from intake.api import create_app

    uvicorn.run(create_app(store_root=store), host=host, port=port)


@app.command()
def policies() -> None:
    """List the policy files the service knows (bundled and INTAKE_POLICY_DIRS)."""
    from common.settings import Settings
    from criteria.policy import list_policies

    for p in list_policies(Settings().policy_dirs):
        until = f" to {p.superseded_on}" if p.superseded_on else ""
        typer.echo(f"{p.id}\t{p.drug.brand}\t{p.effective}{until}\t{p.title}")


def main() -> None:
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except IntakeError as err:
        typer.echo(f"error {err.code}: {err.message}\n  what to do: {err.hint}", err=True)
        sys.exit(err.exit_code)
    except typer.Exit as ex:
        sys.exit(ex.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as err:  # the one place an unexpected failure becomes a message
        import click

        if isinstance(err, click.exceptions.ClickException):
            err.show()
            sys.exit(err.exit_code)
        log.debug("unexpected failure", exc_info=True)
        typer.echo(
            f"error E000_INTERNAL: {type(err).__name__}: {err}\n"
            "  what to do: this is a bug; the original file is untouched. Re-run with -v and report it.",
            err=True,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
