"""SuperOps PSA: payload mapping (mapping.py); the live client and sync live beside it."""
