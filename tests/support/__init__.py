"""Test support: a real Celery worker, a local OpenAI-compatible server, test-only extractors."""
