"""Runners: what sends a prompt to a model (stub, Claude CLI, OpenAI-compatible HTTP)."""
