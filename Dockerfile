# One image for the web service and the worker; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HELPLINE_FLOWS_DIR=/app/flows
WORKDIR /app
# The same pins and hashes as `make run` (requirements/run.txt), in a layer of
# their own; then the line itself, built by the locked setuptools, offline.
COPY requirements/run.txt ./requirements/run.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/run.txt
COPY pyproject.toml README.md ./
COPY ivr ./ivr
COPY workers ./workers
COPY flows ./flows
RUN pip install --no-cache-dir --no-deps --no-build-isolation --no-index . \
    && useradd --system --home /app helpline
USER helpline

# Twilio's webhook budget is 15 s; gunicorn's worker timeout (10 s) stays under it.
EXPOSE 5000
CMD ["helpline", "serve"]
