"""Schema migrations: Flyway-convention files read by PostgreSQL's own parser (``files``,
``sqltext``), a zero-downtime linter with squawk's rules (``lint``, ``rules``, ``catalog``),
apply/undo/repair/baseline with a Flyway-exact history under Flyway's lock (``history``,
``flyway``, ``runner``), rehearsal under load (``rehearse``) and cross-service impact
(``impact``)."""
