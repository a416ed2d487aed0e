"""QuickBooks Online: payload mapping (the mapping package); the live client and sync live beside it."""
