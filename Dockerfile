# The service image: Debian with tesseract, the project in a virtual environment,
# running as an unprivileged user.  `docker compose up` (compose.yaml) runs the API,
# two Celery workers, Redis and PostgreSQL; `docker run IMAGE` alone runs the
# embedded default (SQLite and files under /data).
# Not built here (no Docker engine on the development machines); the same steps
# (scripts/setup.sh, `intake serve`) are what the tests run.
FROM python:3.11-slim-bookworm
ENV OMP_THREAD_LIMIT=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY common ./common
COPY reading ./reading
COPY extractors ./extractors
COPY lexicons ./lexicons
COPY criteria ./criteria
COPY pipeline ./pipeline
COPY outputs ./outputs
COPY intake ./intake
COPY evaluation ./evaluation
COPY fixtures ./fixtures
COPY scripts ./scripts
RUN bash scripts/setup.sh
RUN useradd --system --uid 10001 --home-dir /data intake \
 && mkdir -p /data && chown intake /data && chmod 700 /data
USER intake
ENV PATH=/app/.venv/bin:$PATH INTAKE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/ready').status != 200)"
ENTRYPOINT ["intake"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
