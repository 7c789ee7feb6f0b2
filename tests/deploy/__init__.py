"""Checks of the deployment files (Astro project, compose files, Dockerfiles) that run without Docker."""
