"""The sync engine: runs, watermarks, leases, retries and the classification of errors
into permanent (stop and say why) and transient (back off and try again)."""
