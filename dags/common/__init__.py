"""Light helpers shared by the crew DAGs (no DAGs here; see .airflowignore)."""
