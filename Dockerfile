# The service image: Debian with tesseract, the project in a virtual environment.
FROM python:3.11-slim-bookworm
ENV OMP_THREAD_LIMIT=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY common ./common
COPY intake ./intake
COPY extractors ./extractors
COPY lexicons ./lexicons
COPY criteria ./criteria
COPY fixtures ./fixtures
COPY scripts ./scripts
RUN bash scripts/setup.sh
RUN useradd --system --uid 10001 intake && chown -R intake /app
USER intake
ENV PATH=/app/.venv/bin:$PATH
ENTRYPOINT ["intake"]
CMD ["process", "fixtures/sample/case-001.g3-204x196.tif"]
