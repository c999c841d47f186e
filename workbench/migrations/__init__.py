"""Schema migrations: Flyway-convention files, a zero-downtime linter, apply/undo with a
Flyway-compatible history, rehearsal under load, and cross-service impact."""
