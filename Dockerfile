# One image for the web service and the worker; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HELPLINE_FLOWS_DIR=/app/flows
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ivr ./ivr
COPY workers ./workers
COPY flows ./flows
RUN pip install --no-cache-dir . && useradd --system --home /app helpline
USER helpline

# Twilio's webhook budget is 15 s; gunicorn's worker timeout (10 s) stays under it.
EXPOSE 5000
CMD ["helpline", "serve"]
