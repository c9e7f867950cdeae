"""`make demo`: the function against the local emulator, every sample event, logs then a summary."""
