"""Hunter: a self-hosted, single-user job search service."""

__version__ = "0.1.0"
