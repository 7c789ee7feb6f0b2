"""Data-QA crew: deterministic profiling decides pass/fail; an analyst and a reviewer explain."""
