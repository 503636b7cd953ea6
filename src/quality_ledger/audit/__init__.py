"""Audit: the hash chain over the log, verification, checkpoints, replays, exports."""
