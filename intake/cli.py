"""`intake` command line: a thin layer over the composer.

Logs go to stderr; stdout carries only the report.  Errors are turned into exit
codes in exactly one place (:func:`main`), and never show a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

# Tesseract's own OpenMP threading makes a page several times slower on a
# shared 2-core machine; we parallelise over pages instead.  Set before any
# worker is forked.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import typer
from typer.exceptions import TyperException

from common.errors import IntakeError

if TYPE_CHECKING:
    from intake.config import ServiceConfig

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Read prior-authorization faxes and check them against a payer's medical policy.",
)

log = logging.getLogger("intake")

FileArg = Annotated[Path, typer.Argument(help="PDF, TIFF, PNG, JPEG or UTF-8 text file")]


def setup_logging(level: int) -> None:
    """Logs on stderr.  What is logged never names a patient or a file (ids and codes only)."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for noisy in ("celery", "kombu", "amqp", "alembic", "multipart", "python_multipart"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


_VERBOSE = False


def _service_logging() -> None:
    """The long-running commands log each job (INFO); -v adds debug."""
    setup_logging(logging.DEBUG if _VERBOSE else logging.INFO)


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logs on stderr")] = False,
) -> None:
    global _VERBOSE
    _VERBOSE = verbose
    setup_logging(logging.DEBUG if verbose else logging.WARNING)


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
    received: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="the day the fax was received (YYYY-MM-DD); lab recency is counted from it"
            " when the documents state no request date",
        ),
    ] = None,
) -> None:
    """Run the whole pipeline on one file and print the criteria report."""
    from pipeline.composer import process_file

    done = process_file(file, policy_id=policy, received=received.date() if received else None)
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


DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="the service's data folder (default: INTAKE_DATA_DIR, else var/)"),
]


def _config(data: Path | None, **overrides: object) -> ServiceConfig:
    from intake.config import ServiceConfig

    given = {k: v for k, v in overrides.items() if v is not None}
    if data is not None:
        given["data_dir"] = data
    return ServiceConfig(**given)  # type: ignore[arg-type]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    data: DataOpt = None,
    workers: Annotated[
        int | None, typer.Option(help="worker processes (default INTAKE_JOB_WORKERS, 2); none with a broker")
    ] = None,
    watch_folder: Annotated[
        Path | None, typer.Option("--watch", help="also watch this folder (see `intake watch`)")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="log every request")] = False,
) -> None:
    """Serve the intake API and run its workers (embedded: SQLite and files under --data)."""
    import threading

    import uvicorn

    from intake.api import create_app
    from intake.queue.pool import WorkerPool
    from intake.queue.sweeper import Sweeper
    from intake.service import Service

    _service_logging()
    config = _config(data, job_workers=workers)
    service = Service.open(config)
    count = config.job_workers if config.embedded else 0
    pool = WorkerPool(config, count).start() if count else None
    sweeper = Sweeper(service.store, None if config.embedded else service.dispatcher, config).start()
    if watch_folder is not None:
        from intake.watch import FolderWatcher

        watcher = FolderWatcher(watch_folder, service)
        threading.Thread(target=watcher.run, kwargs={"once": False}, name="watch", daemon=True).start()
    where = "Celery on the broker" if not config.embedded else f"{count} worker processes"
    log.warning(
        "serving on http://%s:%d (API docs at /docs); data in %s; jobs run by %s",
        host,
        port,
        config.data_dir,
        where,
    )
    try:
        uvicorn.run(
            create_app(service),
            host=host,
            port=port,
            log_level="warning",
            access_log=access_log,
            timeout_graceful_shutdown=5,
        )
    finally:
        sweeper.stop()
        if pool is not None:
            pool.stop()
        service.close()


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="processes (default INTAKE_JOB_WORKERS, 2)")] = None,
    data: DataOpt = None,
) -> None:
    """Run a Celery worker (needs INTAKE_BROKER_URL; the data folder must be the API's, shared)."""
    import socket

    from common.errors import ConfigError
    from intake.queue.celery_app import QUEUE, worker_app
    from intake.queue.runner import JobRunner
    from intake.service import Service

    _service_logging()
    config = _config(data, job_workers=concurrency)
    if config.embedded:
        raise ConfigError(
            "`intake worker` takes jobs from a broker and INTAKE_BROKER_URL is not set.",
            hint="Set INTAKE_BROKER_URL (and INTAKE_DATABASE_URL); "
            "without them `intake serve` runs its own workers.",
        )
    service = Service.open(config)
    JobRunner(service.store, service.blobs, config, service.settings).warm()  # shared by the forked pool
    service.close()
    celery = worker_app(config)
    celery.worker_main(
        [
            "worker",
            f"--concurrency={max(1, config.job_workers)}",
            "--pool=prefork",
            f"--queues={QUEUE}",
            f"--hostname=intake-{os.getpid()}@{socket.gethostname()}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command("bench-service")
def bench_service(
    faxes: Annotated[int, typer.Option(help="fax TIFFs of the corpus per batch")] = 6,
) -> None:
    """Throughput of `intake serve` with warm workers (pages/min, 1 and 2 workers), upload-to-report time."""
    from evaluation.service_bench import main as bench_main

    raise typer.Exit(bench_main(faxes=faxes))


@app.command()
def watch(
    inbox: Annotated[Path, typer.Argument(help="folder the fax server drops files into")],
    data: DataOpt = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="worker processes to run here (default INTAKE_JOB_WORKERS; 0 when `intake serve` runs them)"
        ),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="take what is there, wait for it, then stop")] = False,
    settle: Annotated[float, typer.Option(help="seconds a file's size must hold still")] = 2.0,
) -> None:
    """Watch a folder: each file is submitted, then moved to processed/ or failed/ with its report."""
    from intake.queue.pool import WorkerPool
    from intake.queue.sweeper import Sweeper
    from intake.service import Service
    from intake.watch import FolderWatcher

    _service_logging()
    config = _config(data, job_workers=workers)
    service = Service.open(config)
    count = config.job_workers if config.embedded else 0
    pool = WorkerPool(config, count).start() if count else None
    sweeper = Sweeper(service.store, None if config.embedded else service.dispatcher, config).start()
    try:
        FolderWatcher(inbox, service, settle_s=0.0 if once else settle).run(once=once)
    finally:
        sweeper.stop()
        if pool is not None:
            pool.stop()
        service.close()


token_app = typer.Typer(no_args_is_help=True, help="API tokens: create, list, revoke.")
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="who or what uses the token (kept in the audit log)")],
    data: DataOpt = None,
) -> None:
    """Make a token; it is printed once, alone on the last line, and only its hash is kept."""
    from intake.auth import create_token
    from intake.service import Service

    service = Service.open(_config(data))
    try:
        token = create_token(service.store, name)
    finally:
        service.close()
    typer.echo(f"token for {name!r} (shown this once; only its hash is kept):", err=True)
    typer.echo(token)


@token_app.command("list")
def token_list(data: DataOpt = None) -> None:
    """The tokens made (names and dates, never the tokens)."""
    from intake.service import Service

    service = Service.open(_config(data))
    try:
        for t in service.store.list_tokens():
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            typer.echo(f"{t.name}\tcreated {t.created_at:%Y-%m-%d %H:%M}\t{state}")
    finally:
        service.close()


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument()], data: DataOpt = None) -> None:
    """Revoke every active token of this name."""
    from intake.service import Service

    service = Service.open(_config(data))
    try:
        count = service.store.revoke_tokens(name)
    finally:
        service.close()
    typer.echo(f"revoked {count} token(s) named {name!r}")
    if not count:
        raise typer.Exit(1)


user_app = typer.Typer(
    no_args_is_help=True, help="Reviewers' accounts for the reviewer page: create, list, password, disable."
)
app.add_typer(user_app, name="user")


def _read_password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True, err=True))


PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from the first line of stdin (scripts)")
]


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="the reviewer's sign-in name (kept with every action)")],
    password_stdin: PasswordStdinOpt = False,
    data: DataOpt = None,
) -> None:
    """Make a reviewer's account; the password is asked twice (or read from stdin) and only its hash kept."""
    from intake.auth import check_new_password, create_user
    from intake.service import Service

    password = _read_password(name, password_stdin)
    check_new_password(name, password)
    service = Service.open(_config(data))
    try:
        create_user(service.accounts, name, password)
    finally:
        service.close()
    typer.echo(f"user {name.strip()!r} created; sign in at /review/login")


@user_app.command("list")
def user_list(data: DataOpt = None) -> None:
    """The reviewers' accounts (names and dates, never a password)."""
    from intake.service import Service

    service = Service.open(_config(data))
    try:
        for u in service.accounts.list_users():
            state = f"disabled {u.disabled_at:%Y-%m-%d %H:%M}" if u.disabled_at else "active"
            typer.echo(f"{u.name}\tcreated {u.created_at:%Y-%m-%d %H:%M}\t{state}")
    finally:
        service.close()


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument()], password_stdin: PasswordStdinOpt = False, data: DataOpt = None
) -> None:
    """Set a new password; the user's sessions end."""
    from intake.auth import check_new_password, hash_password
    from intake.service import Service

    password = _read_password(name, password_stdin)
    check_new_password(name, password)
    service = Service.open(_config(data))
    try:
        changed = service.accounts.set_password(name, hash_password(password))
    finally:
        service.close()
    if not changed:
        typer.echo(f"no user named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"password of {name!r} changed; their sessions have ended")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument()], data: DataOpt = None) -> None:
    """The user can no longer sign in; their sessions end now (their actions stay on record)."""
    from intake.service import Service

    service = Service.open(_config(data))
    try:
        done = service.accounts.disable_user(name)
    finally:
        service.close()
    if not done:
        typer.echo(f"no active user named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"user {name!r} disabled")


@app.command()
def audit(
    document: Annotated[str | None, typer.Option(help="one document's id")] = None,
    limit: Annotated[int, typer.Option(help="newest first, at most this many")] = 100,
    data: DataOpt = None,
) -> None:
    """Who (which token) read which report or page, and when."""
    from intake.service import Service

    service = Service.open(_config(data))
    try:
        for row in service.store.audit_trail(document, limit=limit):
            page = f" page {row.page}" if row.page is not None else ""
            typer.echo(
                f"{row.at:%Y-%m-%dT%H:%M:%SZ}\t{row.actor}\t{row.action}{page}\t{row.document_id or ''}"
            )
    finally:
        service.close()


@app.command()
def demo(
    files: Annotated[
        list[Path] | None, typer.Argument(help="documents to submit (default: the bundled samples)")
    ] = None,
    port: Annotated[int, typer.Option(help="port (default 8000, or a free one if taken)")] = 0,
    data: Annotated[Path, typer.Option("--data", help="data folder of the demo service")] = Path("var/demo"),
    keep_running: Annotated[
        bool,
        typer.Option("--keep-running/--exit", help="leave the service running afterwards (Ctrl-C stops it)"),
    ] = True,
) -> None:
    """Start `intake serve`, make a token, submit sample faxes and print where their reports are."""
    from intake.demo import run_demo

    raise typer.Exit(run_demo(files or None, port=port, data=data, keep_running=keep_running))


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
    except TyperException as err:
        # A mistyped command or option: click's usage text and exit 2 (its own codes).
        show = getattr(err, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {err.format_message()}", err=True)
        sys.exit(err.exit_code)
    except Exception as err:  # the one place an unexpected failure becomes a message
        log.debug("unexpected failure", exc_info=True)
        typer.echo(
            f"error E000_INTERNAL: {type(err).__name__}: {err}\n"
            "  what to do: this is a bug; the original file is untouched. Re-run with -v and report it.",
            err=True,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
