"""profiles: the domain in pure Python (no I/O) — subjects, materials, rules, prefill, privacy, settings."""
