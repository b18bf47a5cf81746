# ev_charging_system: one process serving OCPP (9000), REST + dashboard (8001) and MCP (8000).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY alembic.ini main.py ./
COPY migrations ./migrations
COPY ev_charging_system ./ev_charging_system
COPY tools ./tools

# Run as an unprivileged user; the embedded SQLite database (if used) lives in /app/data.
RUN useradd --create-home --uid 1000 evcs && mkdir -p /app/data && chown evcs /app/data
USER evcs

# In a container the MCP server must listen beyond loopback; allow the host names you use.
ENV MCP_SERVER_HOST=0.0.0.0

EXPOSE 9000 8001 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8001/api/health', timeout=4).status == 200 else 1)"

# main.py handles SIGTERM (docker stop) with a clean shutdown.
CMD ["python", "main.py"]
