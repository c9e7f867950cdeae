"""The project's own wire format: the retry and dead-letter envelopes the function writes to its queues
(envelopes.py) and the signature that lets it trust them when they come back (signature.py).

Readers (the trigger parsers) and the writer (finish.py) both import from here; nothing here imports
from either, so the format has one home.
"""
