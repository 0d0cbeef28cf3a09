# The production image: web (gunicorn), worker and beat all run from it.
FROM python:3.12-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    PATH=/app/.venv/bin:$PATH

RUN pip install --no-cache-dir uv
WORKDIR /app

# Dependencies first, from the lock file, so code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# collectstatic needs settings, not services: placeholder URLs are never connected to.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://unused/unused \
    REDIS_URL=redis://unused:6379/0 python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app crm \
    && mkdir -p /data/media && chown crm /data/media
# Where import and export files live (a named volume in docker-compose.yml starts as a copy
# of this empty folder, owned by crm); the code in /app stays read-only to the app.
ENV MEDIA_ROOT=/data/media
USER crm
EXPOSE 8000
CMD ["gunicorn", "crm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
