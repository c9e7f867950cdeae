"""Thin modules over the Tencent Cloud SDK, one per service, sharing one session (credentials, endpoint, retries)."""
