# One image for the API and the worker; docker-compose.yml picks the command.
FROM node:20-bookworm-slim AS spa
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm install --no-audit --no-fund
COPY frontend/ ./
COPY openapi/ /src/openapi/
RUN npm run build

FROM python:3.13-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY backend/ backend/
COPY migrations/ migrations/
RUN pip install -e .
COPY --from=spa /src/frontend/dist frontend/dist
RUN useradd --system --home /app postdesk && mkdir -p /app/var /srv/postdesk/files && chown postdesk /app/var /srv/postdesk/files
USER postdesk
EXPOSE 8000
CMD ["postdesk", "run", "--host", "0.0.0.0", "--port", "8000"]
