"""The lint rules: a registry of names (squawk's where squawk has the rule, the workbench's own
otherwise), each with its severity, whether it is on by default, and its safe alternative; and
``CHECKS``, the tuple of small functions that find them (each takes a ``FileContext``).

>>> RULES["changing-column-type"].origin, RULES["adding-serial-column"].origin
('squawk', 'workbench')
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.migrations.rules import compat, locking, transactions, types, workbench


@dataclass(frozen=True)
class Rule:
    """One rule: its name, whose it is, severity, default state and what to do instead."""

    name: str
    origin: str  # "squawk" or "workbench"
    severity: str  # "error" (the CLI exits 1) or "warning"
    default: bool
    safe: str


def _rules(origin: str, default: bool, severity: str, table: dict[str, str]) -> dict[str, Rule]:
    return {name: Rule(name, origin, severity, default, safe) for name, safe in table.items()}


_NOT_VALID = ("ADD CONSTRAINT ... NOT VALID (brief lock, no scan), then VALIDATE CONSTRAINT in a "
              "later migration (SHARE UPDATE EXCLUSIVE: writes go on)")
_EXPAND = ("expand/contract: add the new object beside the old one, move every service over "
           "(deploy), and remove the old one in a later release")
_OPT_IN = "coordinate the change with every client first, or suppress it once reviewed"

RULES: dict[str, Rule] = {
    **_rules("squawk", True, "error", {
        "require-concurrent-index-creation":
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS in a migration of its own (the runner drops "
            "an INVALID leftover if it fails, so a retry rebuilds it)",
        "require-concurrent-index-deletion": "DROP INDEX CONCURRENTLY IF EXISTS in its own migration",
        "ban-concurrent-index-creation-in-transaction":
            "put the CONCURRENTLY statement in a migration of its own (no transaction)",
        "constraint-missing-not-valid": _NOT_VALID,
        "adding-field-with-default":
            "add the column without a default (or with a constant or STABLE one on PG 11+), "
            "backfill in batches, then SET DEFAULT",
        "adding-foreign-key-constraint":
            "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT later",
        "changing-column-type":
            "expand/contract: add a column of the new type, dual-write, backfill in batches, "
            "switch readers, drop the old column later",
        "adding-not-nullable-field":
            "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE it in a later "
            "migration; then SET NOT NULL (PG 12+ skips the scan) and drop the check",
        "adding-serial-primary-key-field":
            "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX",
        "disallowed-unique-constraint":
            "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX",
        "adding-required-field":
            "add it nullable (or with a constant default), backfill, then enforce NOT NULL "
            "through a validated CHECK",
        "renaming-column": _EXPAND + " (or keep a view with the old name)",
        "renaming-table": "keep the old name as a view while clients move, then drop it",
        "renaming-object": _EXPAND,
        "ban-drop-database": "never from a migration",
        "ban-drop-column": "stop every service reading and writing it first (deploy), then "
                           "drop it in a later release",
        "ban-drop-table": "stop all use first (deploy); drop it in a later release",
        "ban-drop-not-null": "make sure every reader handles NULL first (deploy)",
        "ban-drop-view": _EXPAND, "ban-drop-function": _EXPAND, "ban-drop-type": _EXPAND,
        "ban-drop-schema": _EXPAND, "ban-drop-sequence": _EXPAND, "ban-drop-domain": _EXPAND,
        "ban-drop-extension": _EXPAND, "ban-drop-constraint": _EXPAND,
        "ban-drop-generated-expression": _EXPAND, "ban-drop-default": _EXPAND,
        "ban-set-schema": _EXPAND, "ban-alter-identity": _EXPAND,
        "transaction-nesting": "remove BEGIN/COMMIT: the runner already wraps the file",
        "ban-uncommitted-transaction": "COMMIT what you BEGIN",
        "ban-create-domain-with-constraint": "a plain domain plus table CHECK constraints",
        "ban-alter-domain-with-add-constraint": "table CHECK constraints (NOT VALID, then "
                                                "VALIDATE)",
        "ban-truncate-cascade": "TRUNCATE the tables you mean by name, without CASCADE",
        "require-concurrent-partition-detach": "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY "
                                               "in its own migration",
        "require-concurrent-reindex": "REINDEX ... CONCURRENTLY in its own migration",
        "ban-duplicate-column-assignments": "assign each column once",
        "prefer-repack": "REPACK (CONCURRENTLY) on PostgreSQL 19+",
    }),
    **_rules("squawk", True, "warning", {
        "require-lock-timeout": "start the file with SET lock_timeout = '2s' (fail fast instead "
                                "of queueing every query behind the lock; retry later)",
        "require-statement-timeout": "start the file with SET statement_timeout = '5min'",
        "prefer-robust-stmts": "IF [NOT] EXISTS, or a transaction, so a partly run migration can "
                               "simply run again",
        "prefer-bigint-over-int": "bigint: widening a key later rewrites the table",
        "prefer-bigint-over-smallint": "bigint",
        "prefer-identity": "bigint GENERATED BY DEFAULT AS IDENTITY",
        "prefer-text-field": "text with CHECK (length(col) <= n) NOT VALID",
        "prefer-timestamp-tz": "timestamptz",
        "ban-char-field": "text",
        "require-enum-value-ordering": "ADD VALUE ... BEFORE/AFTER an existing value",
        "identifier-too-long": "a name of at most 63 bytes",
        "unused-ignore": "name an existing rule in the squawk-ignore comment",
    }),
    **_rules("squawk", False, "error", {
        "ban-alter-generated-expression": _OPT_IN, "ban-drop-index": _OPT_IN,
        "ban-set-default": _OPT_IN, "ban-disable-trigger": _OPT_IN,
        "ban-replica-identity": _OPT_IN, "ban-drop-policy": _OPT_IN, "ban-revoke": _OPT_IN,
        "ban-replace-view-function": _OPT_IN, "ban-alter-policy-condition": _OPT_IN,
        "ban-alter-policy-roles": _OPT_IN, "ban-create-policy": _OPT_IN,
        "ban-alter-function-options": _OPT_IN, "ban-alter-view-options": _OPT_IN,
        "ban-alter-role-options": _OPT_IN, "ban-alter-database-options": _OPT_IN,
        "ban-alter-row-level-security": _OPT_IN, "ban-new-write-restriction": _OPT_IN,
        "ban-add-enum-value": _OPT_IN, "ban-add-composite-attribute": _OPT_IN,
        "ban-add-column": _OPT_IN, "ban-detach-inheritance": _OPT_IN,
        "ban-alter-sequence-values": _OPT_IN, "ban-alter-system-options": _OPT_IN,
        "ban-alter-extension": _OPT_IN, "ban-drop-trigger": _OPT_IN,
    }),
    **_rules("squawk", False, "warning", {
        "require-table-schema": "schema-qualify the table (public.t)",
    }),
    **_rules("workbench", True, "error", {
        "adding-serial-column": "add a nullable bigint column, attach a sequence (SET DEFAULT "
                                "nextval), backfill in batches, then add the identity or NOT NULL",
        "ban-set-tablespace": "pg_repack --tablespace, or build a copy and switch",
        "ban-set-logged-unlogged": "build a copy with the persistence you want and switch",
        "ban-lock-table": "let each statement take the lock it needs, under a lock_timeout",
        "ban-vacuum-full": "pg_repack or pg_squeeze rebuild the table without a long lock",
        "ban-cluster": "pg_repack --order-by rebuilds in order without a long lock",
        "ban-backfill-in-ddl-transaction":
            "commit the DDL first; backfill in batches in a separate step (or a later migration)",
    }),
    **_rules("workbench", True, "warning", {
        "trigger-on-existing-table": "measure the write overhead under load (migrate rehearse); "
                                     "add it in a migration of its own with a lock_timeout",
        "mixed-transaction-statements":
            "split the file: the CONCURRENTLY (or VACUUM ...) statement alone in its own "
            "migration, or pass --mixed to run every statement on its own",
    }),
}

# squawk's aliases, accepted in suppression comments and --include/--exclude.
ALIASES = {"require-timeout-settings": ("require-lock-timeout", "require-statement-timeout"),
           "prefer-timestamptz": ("prefer-timestamp-tz",)}

CHECKS = (
    locking.require_concurrent_index_creation, locking.require_concurrent_index_deletion,
    locking.ban_concurrent_index_creation_in_transaction, locking.constraint_missing_not_valid,
    locking.adding_field_with_default, locking.adding_foreign_key_constraint,
    locking.changing_column_type, locking.adding_not_nullable_field,
    locking.adding_serial_primary_key_field, locking.disallowed_unique_constraint,
    locking.adding_required_field, locking.require_concurrent_partition_detach,
    locking.require_concurrent_reindex, locking.prefer_repack, locking.require_timeout_settings,
    compat.ban_drops, compat.ban_table_changes, compat.renaming, compat.ban_set_schema,
    compat.ban_truncate_cascade, compat.domains, compat.require_enum_value_ordering,
    compat.existing_object_additions, compat.security_changes, compat.require_table_schema,
    types.prefer_bigint_over_int, types.prefer_bigint_over_smallint, types.prefer_identity,
    types.prefer_text_field, types.prefer_timestamp_tz, types.ban_char_field,
    types.identifier_too_long, types.ban_duplicate_column_assignments,
    transactions.transaction_nesting, transactions.ban_uncommitted_transaction,
    transactions.prefer_robust_stmts,
    workbench.adding_serial_column, workbench.ban_table_rewrites, workbench.ban_lock_table,
    workbench.ban_vacuum_full_and_cluster, workbench.trigger_on_existing_table,
    workbench.ban_backfill_in_ddl_transaction, workbench.mixed_transaction_statements,
)


def expand(names: object) -> set[str]:
    """Rule names with squawk's aliases resolved (``require-timeout-settings`` is both
    timeout rules)."""
    out: set[str] = set()
    for name in names or ():  # type: ignore[attr-defined]
        out.update(ALIASES.get(name, (name,)))
    return out
