"""Turn logs: the durable JSONL record of a run, compatible with the Rust ``ail``."""
