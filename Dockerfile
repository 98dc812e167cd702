# Not built on the development machine (no registry access there): build and test before use.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 GRADE_WORKER=off
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lti_tool ./lti_tool
COPY templates ./templates
COPY static ./static
COPY config ./config
COPY content ./content
RUN pip install --no-cache-dir -e '.[prod]' && useradd --system --home /app lti && mkdir -p /app/instance && chown lti /app/instance
USER lti
EXPOSE 8000
CMD ["sh", "-c", "lti-tool db upgrade && exec gunicorn -c config/gunicorn.conf.py 'lti_tool:create_app()'"]
