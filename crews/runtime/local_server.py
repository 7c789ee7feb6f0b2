"""Start the embedded local LLM server: verified GGUF + llama.cpp's OpenAI-compatible server.

    python -m crews.runtime.local_server [--host 127.0.0.1] [--port 8001] [--threads N]

Set ``CREWS_LLM_SERVER_API_KEY`` to make the server ask every request for that key (the compose stack
does; the local stack, on 127.0.0.1 for one person, does not).

Used by the local stack (scripts/stack.py) and the compose file's ``llm`` service.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from crews.runtime.local_model import ensure_model
from crews.runtime.settings import LOCAL_MODEL


def server_command(model: Path, host: str, port: int, threads: int, n_ctx: int) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model), "--model_alias", LOCAL_MODEL,
        "--host", host, "--port", str(port),
        "--n_ctx", str(n_ctx), "--n_threads", str(threads),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("CREWS_LLM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CREWS_LLM_PORT", "8001")))
    parser.add_argument("--threads", type=int,
                        default=int(os.environ.get("CREWS_LLM_THREADS", os.cpu_count() or 2)))
    parser.add_argument("--n-ctx", type=int, default=int(os.environ.get("CREWS_LLM_CTX", "4096")))
    parser.add_argument("--model-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    model = ensure_model(args.model_dir)
    command = server_command(model, args.host, args.port, args.threads, args.n_ctx)
    os.execve(command[0], command, server_env(os.environ))


def server_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: ``CREWS_LLM_SERVER_API_KEY``, when set, becomes llama.cpp's ``API_KEY``
    (every request then needs it as a bearer token); passed in the environment, not on the command line
    ``ps`` shows."""
    env = {k: v for k, v in environ.items() if k != "API_KEY"}
    if key := environ.get("CREWS_LLM_SERVER_API_KEY"):
        env["API_KEY"] = key
    return env


if __name__ == "__main__":
    main()
