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
CMD ["litestar", "run", "--host", "0.0.0.0", "--port", "8000", "--wc", "2"]
