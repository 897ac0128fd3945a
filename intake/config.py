"""The service's settings, read from the environment (prefix ``INTAKE_``).

Apart from :class:`common.settings.Settings` (how a document is read) because
these say where the service keeps things and how its jobs run; a worker on
another machine needs the same values, so every one is an environment variable.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", frozen=True, extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="originals, page images and the SQLite file")
    # Unset: SQLite under data_dir.  Set (postgresql+psycopg://...): PostgreSQL holds the cases.
    database_url: str | None = None
    # Unset: the service's own worker processes take jobs from the job table.
    # Set (redis://...): jobs go through Celery; `intake worker` runs the workers.
    broker_url: str | None = None
    max_upload_mb: float = Field(default=50.0, gt=0, description="largest request body accepted")
    job_workers: int = Field(default=2, ge=0, description="worker processes `intake serve` starts")
    # A worker renews its lease every third of this; a job whose lease lapses (its
    # worker was killed) is taken again.  Short enough to notice a dead worker soon,
    # long enough that a busy machine does not miss a renewal.
    job_lease_s: float = Field(default=30.0, gt=0)
    job_time_limit_s: float = Field(default=600.0, gt=0, description="one attempt's limit")
    max_attempts: int = Field(default=3, ge=1, description="attempts before a job is failed")
    # How often lapsed leases are collected and unsent jobs sent to the broker.
    sweep_s: float = Field(default=2.0, gt=0)
    # A queued job the broker has held this long is sent again (the broker may have lost it);
    # a second copy is harmless, the job table decides who runs it.
    resend_after_s: float = Field(default=900.0, gt=0)
    poll_s: float = Field(default=0.2, gt=0, description="how often an idle embedded worker looks for work")
    worker_nice: int = Field(default=5, ge=0, le=19, description="workers yield the CPU to the API")
    # The reviewer page's sign-in: a session lasts this long at most, and ends sooner when
    # left idle (an unattended screen showing health information).
    session_hours: float = Field(default=12.0, gt=0, description="longest a reviewer's session lasts")
    session_idle_minutes: float = Field(default=30.0, gt=0, description="a session idle this long ends")
    # Unset: the cookie is marked Secure when the request came over HTTPS (uvicorn takes a
    # local proxy's X-Forwarded-Proto); set true behind a TLS proxy it does not trust.
    cookie_secure: bool | None = None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # The psycopg 3 driver is the one installed; a plain postgresql:// URL means it.
            if url.startswith(("postgresql://", "postgres://")):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.data_dir / 'intake.sqlite3').resolve()}"

    @property
    def embedded(self) -> bool:
        return self.broker_url is None
