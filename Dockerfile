# The Tandem service image. Stateless: configuration from the environment, data in PostgreSQL.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PICCOLO_CONF=tandem.piccolo_conf LITESTAR_APP=tandem.app:create_app \
    UV_PYTHON_DOWNLOADS=never \
    FORWARDED_ALLOW_IPS=""
WORKDIR /app
RUN useradd --create-home --uid 10001 tandem
COPY pyproject.toml README.md ./
COPY platform ./platform
COPY matching ./matching
COPY training_content ./training_content
RUN pip install --no-cache-dir uv && uv pip install --system --no-cache .
USER tandem
EXPOSE 8000
# One process per container: scale with replicas (docker-compose.yml runs two). uvicorn's own
# `--workers` (`litestar run --wc N`) binds its socket without naming TCP, and asyncio then leaves
# Nagle's algorithm on, so every keep-alive request waited about 40 ms (uvicorn issue 3149).
CMD ["litestar", "run", "--host", "0.0.0.0", "--port", "8000"]
