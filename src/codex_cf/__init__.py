"""codex-cf: run the OpenAI Codex CLI through Cloudflare AI Gateway."""

__version__ = "0.1.0"
