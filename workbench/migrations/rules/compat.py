"""Rules about running code: what a deployed service still uses (drops, renames, moves) and what
changes the values it reads or the writes it may make (squawk's names, incl. its opt-in
backward-compatibility rules of 2.67+)."""

from __future__ import annotations

import re
from typing import Any

from pglast import ast

from workbench.migrations.rules.context import AT, CON, OBJ, FileContext, constraints_of, relname

_DROPS = {
    OBJ.OBJECT_TABLE: ("ban-drop-table", "a table"),
    OBJ.OBJECT_FOREIGN_TABLE: ("ban-drop-table", "a foreign table"),
    OBJ.OBJECT_VIEW: ("ban-drop-view", "a view"), OBJ.OBJECT_MATVIEW: ("ban-drop-view", "a view"),
    OBJ.OBJECT_FUNCTION: ("ban-drop-function", "a function"),
    OBJ.OBJECT_PROCEDURE: ("ban-drop-function", "a procedure"),
    OBJ.OBJECT_ROUTINE: ("ban-drop-function", "a routine"),
    OBJ.OBJECT_TYPE: ("ban-drop-type", "a type"), OBJ.OBJECT_SCHEMA: ("ban-drop-schema", "a schema"),
    OBJ.OBJECT_SEQUENCE: ("ban-drop-sequence", "a sequence"),
    OBJ.OBJECT_DOMAIN: ("ban-drop-domain", "a domain"),
    OBJ.OBJECT_EXTENSION: ("ban-drop-extension", "an extension (and its functions and types)"),
    OBJ.OBJECT_INDEX: ("ban-drop-index", "an index"),
    OBJ.OBJECT_TRIGGER: ("ban-drop-trigger", "a trigger"),
    OBJ.OBJECT_POLICY: ("ban-drop-policy", "a policy"), OBJ.OBJECT_RULE: ("ban-drop-policy", "a rule"),
}


def ban_drops(ctx: FileContext) -> None:
    """DROP DATABASE/TABLE/VIEW/FUNCTION/TYPE/SCHEMA/... breaks clients that still use it."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.DropdbStmt):
            ctx.report("ban-drop-database", stmt, None, "a migration must not drop a database")
        elif isinstance(node, ast.DropStmt) and node.removeType in _DROPS:
            rule, what = _DROPS[node.removeType]
            ctx.report(rule, stmt, None, f"dropping {what} breaks clients that still use it")


_TABLE_ACTIONS = {
    AT.AT_DropColumn: ("ban-drop-column", "dropping a column breaks clients that read or write it"),
    AT.AT_DropNotNull: ("ban-drop-not-null",
                        "dropping NOT NULL lets NULLs reach clients that never expect them"),
    AT.AT_DropConstraint: ("ban-drop-constraint",
                           "dropping a constraint removes a guarantee clients rely on"),
    AT.AT_DropExpression: ("ban-drop-generated-expression",
                           "the column stops being computed: writers must now set it"),
    AT.AT_AddIdentity: ("ban-alter-identity", "changing identity breaks inserts of running code"),
    AT.AT_DropIdentity: ("ban-alter-identity", "changing identity breaks inserts of running code"),
    AT.AT_SetExpression: ("ban-alter-generated-expression",
                          "changing a generated expression changes values clients read"),
    AT.AT_ReplicaIdentity: ("ban-replica-identity", "replication of the table changes silently"),
}
_TRIGGERS = {AT.AT_EnableTrig, AT.AT_EnableAlwaysTrig, AT.AT_EnableReplicaTrig, AT.AT_DisableTrig,
             AT.AT_EnableTrigAll, AT.AT_DisableTrigAll, AT.AT_EnableTrigUser,
             AT.AT_DisableTrigUser, AT.AT_EnableRule, AT.AT_EnableAlwaysRule,
             AT.AT_EnableReplicaRule, AT.AT_DisableRule}
_RLS = {AT.AT_EnableRowSecurity, AT.AT_DisableRowSecurity, AT.AT_ForceRowSecurity,
        AT.AT_NoForceRowSecurity}


def ban_table_changes(ctx: FileContext) -> None:
    """ALTER TABLE actions that break or silently change behaviour for running clients."""
    for stmt, cmd, offset in ctx.alter_table_cmds(OBJ.OBJECT_TABLE, OBJ.OBJECT_TYPE):
        if cmd.subtype in _TABLE_ACTIONS and (stmt.node.objtype == OBJ.OBJECT_TABLE
                                              or cmd.subtype == AT.AT_DropColumn):
            rule, message = _TABLE_ACTIONS[cmd.subtype]
            ctx.report(rule, stmt, offset, message)
        elif cmd.subtype == AT.AT_ColumnDefault:
            if cmd.def_ is None:
                ctx.report("ban-drop-default", stmt, offset,
                           f"dropping the default of {cmd.name} makes inserts that omit it NULL")
            else:
                ctx.report("ban-set-default", stmt, offset,
                           f"a new default for {cmd.name} changes what omitted values become")
        elif cmd.subtype == AT.AT_AddColumn:
            for item in constraints_of(cmd):
                if item.contype in (CON.CONSTR_GENERATED, CON.CONSTR_IDENTITY):
                    ctx.report("ban-alter-generated-expression", stmt, item.location or offset,
                               "a generated column refuses the values running code inserts")
        elif cmd.subtype == AT.AT_AlterConstraint and cmd.def_.alterEnforceability \
                and not cmd.def_.is_enforced:
            ctx.report("ban-drop-constraint", stmt, offset,
                       "NOT ENFORCED removes the guarantee the constraint gave clients")
        elif cmd.subtype == AT.AT_ChangeOwner:
            ctx.report("ban-revoke", stmt, offset,
                       "a new owner takes the old owner's privileges away")
        elif cmd.subtype in _TRIGGERS:
            ctx.report("ban-disable-trigger", stmt, offset,
                       "changing which triggers or rules fire changes side effects of writes")
        elif cmd.subtype in _RLS:
            ctx.report("ban-alter-row-level-security", stmt, offset,
                       "row level security changes what clients can see and write")


def renaming(ctx: FileContext) -> None:
    """Renames break every client that uses the old name."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.RenameStmt):
            kind = node.renameType
            if kind in (OBJ.OBJECT_COLUMN, OBJ.OBJECT_ATTRIBUTE):
                rule = "renaming-column"
            elif kind == OBJ.OBJECT_TABLE:
                rule = "renaming-table"
            else:
                rule = "renaming-object"
            ctx.report(rule, stmt, None, f"renaming to {node.newname} breaks clients that use "
                       "the old name")
        elif isinstance(node, ast.AlterEnumStmt) and node.oldVal is not None:
            ctx.report("renaming-object", stmt, None,
                       f"renaming enum value {node.oldVal} breaks clients that send it")


def ban_set_schema(ctx: FileContext) -> None:
    """SET SCHEMA moves an object away from the name clients use."""
    for stmt in ctx.statements:
        if isinstance(stmt.node, ast.AlterObjectSchemaStmt):
            ctx.report("ban-set-schema", stmt, None,
                       f"moving it to schema {stmt.node.newschema} breaks clients that use its "
                       "qualified name")


def ban_truncate_cascade(ctx: FileContext) -> None:
    """TRUNCATE ... CASCADE also empties every table with a foreign key to it."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.TruncateStmt) and node.behavior.name == "DROP_CASCADE":
            ctx.report("ban-truncate-cascade", stmt, None,
                       "CASCADE truncates every table that references these, transitively")


def domains(ctx: FileContext) -> None:
    """Domain constraints cannot be added NOT VALID-then-validated safely online."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.CreateDomainStmt) and any(
                c.contype != CON.CONSTR_DEFAULT for c in node.constraints or ()):
            ctx.report("ban-create-domain-with-constraint", stmt, node.constraints[0],
                       "a domain constraint is checked by every table using the domain and "
                       "cannot be changed online")
        if isinstance(node, ast.AlterDomainStmt):
            if node.subtype == "C":
                ctx.report("ban-alter-domain-with-add-constraint", stmt, None,
                           "adding a domain constraint scans every column of the domain")
                ctx.report("ban-new-write-restriction", stmt, None,
                           "a domain constraint can reject writes of running code")
            elif node.subtype == "O":
                ctx.report("ban-new-write-restriction", stmt, None,
                           "a domain NOT NULL can reject writes of running code")
            elif node.subtype == "T":
                rule = "ban-set-default" if node.def_ is not None else "ban-drop-default"
                ctx.report(rule, stmt, None,
                           "changing a domain's default changes what omitted values become")
            elif node.subtype == "X":
                ctx.report("ban-drop-constraint", stmt, None,
                           "dropping a domain constraint removes a guarantee clients rely on")


def require_enum_value_ordering(ctx: FileContext) -> None:
    """ADD VALUE without BEFORE/AFTER appends: the enum's sort order may surprise."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.AlterEnumStmt) and node.oldVal is None \
                and node.newValNeighbor is None:
            ctx.report("require-enum-value-ordering", stmt, None,
                       f"{node.newVal} goes to the end of the enum: say BEFORE or AFTER")


def _created_names(ctx: FileContext) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {"table": set(), "type": set(), "sequence": set()}
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.CreateStmt) and not node.if_not_exists:
            names["table"].add(node.relation.relname)
        elif isinstance(node, ast.CompositeTypeStmt):
            names["type"].add(node.typevar.relname)
        elif isinstance(node, ast.CreateEnumStmt):
            names["type"].add(node.typeName[-1].sval)
        elif isinstance(node, ast.CreateSeqStmt) and not node.if_not_exists:
            names["sequence"].add(node.sequence.relname)
    return names


def existing_object_additions(ctx: FileContext) -> None:
    """Opt-in (squawk 2.67+): additions that change what clients of an existing object see or
    may write (new columns, write restrictions, sequence values, inheritance)."""
    created = _created_names(ctx)
    for stmt, cmd, offset in ctx.alter_table_cmds(OBJ.OBJECT_TABLE, OBJ.OBJECT_TYPE):
        node = stmt.node
        if node.objtype == OBJ.OBJECT_TYPE:
            if cmd.subtype == AT.AT_AddColumn and relname(node) not in created["type"]:
                ctx.report("ban-add-composite-attribute", stmt, offset,
                           "a new attribute changes the shape of values clients receive")
            continue
        if relname(node) in created["table"]:
            continue
        _write_restriction(ctx, stmt, cmd, offset)
        if cmd.subtype == AT.AT_AddColumn:
            ctx.report("ban-add-column", stmt, offset,
                       "a new column changes the rows clients receive (SELECT *, positional "
                       "INSERT)")
        elif cmd.subtype == AT.AT_SetIdentity and any(
                d.defname != "generated" for d in cmd.def_ or ()):
            ctx.report("ban-alter-sequence-values", stmt, offset,
                       "changing the identity sequence changes values generated for clients")
        elif cmd.subtype in (AT.AT_DetachPartition, AT.AT_DetachPartitionFinalize,
                             AT.AT_DropInherit):
            ctx.report("ban-detach-inheritance", stmt, offset,
                       "rows clients read and write through the parent table change")
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.AlterEnumStmt) and node.oldVal is None \
                and node.typeName[-1].sval not in created["type"]:
            ctx.report("ban-add-enum-value", stmt, None,
                       "a new enum value can reach clients that do not know it")
        elif isinstance(node, ast.IndexStmt) and node.unique \
                and relname(node) not in created["table"]:
            ctx.report("ban-new-write-restriction", stmt, None,
                       "a unique index can reject writes of running code")
        elif isinstance(node, ast.AlterSeqStmt) and node.sequence.relname not in created[
                "sequence"] and any(o.defname != "owned_by" for o in node.options or ()):
            ctx.report("ban-alter-sequence-values", stmt, None,
                       "changing a sequence changes values generated for clients")
    for stmt, cmd, offset in ctx.alter_table_cmds(OBJ.OBJECT_FOREIGN_TABLE):
        if cmd.subtype == AT.AT_AddColumn:
            ctx.report("ban-add-column", stmt, offset,
                       "a new column changes the rows clients receive")
        elif cmd.subtype in (AT.AT_AddConstraint, AT.AT_SetNotNull):
            ctx.report("ban-new-write-restriction", stmt, offset,
                       "a foreign table constraint can reject writes of running code")


def _write_restriction(ctx: FileContext, stmt: Any, cmd: Any, offset: int) -> None:
    restricting = {CON.CONSTR_CHECK, CON.CONSTR_FOREIGN, CON.CONSTR_UNIQUE, CON.CONSTR_PRIMARY,
                   CON.CONSTR_EXCLUSION, CON.CONSTR_NOTNULL}
    if cmd.subtype == AT.AT_AddConstraint and cmd.def_.contype in restricting:
        ctx.report("ban-new-write-restriction", stmt, offset,
                   "a new constraint can reject writes of running code, even NOT VALID")
    elif cmd.subtype == AT.AT_SetNotNull:
        ctx.report("ban-new-write-restriction", stmt, offset,
                   "SET NOT NULL can reject writes of running code")
    elif cmd.subtype == AT.AT_AddColumn:
        column_rules = {CON.CONSTR_NOTNULL, CON.CONSTR_FOREIGN, CON.CONSTR_CHECK, CON.CONSTR_UNIQUE,
                        CON.CONSTR_PRIMARY}
        for item in constraints_of(cmd):
            if item.contype in column_rules:
                ctx.report("ban-new-write-restriction", stmt, item.location or offset,
                           "a new column constraint can reject writes of running code")
    elif cmd.subtype == AT.AT_AlterConstraint and (cmd.def_.alterDeferrability
                                                   or cmd.def_.alterEnforceability
                                                   and cmd.def_.is_enforced):
        ctx.report("ban-new-write-restriction", stmt, offset,
                   "changing when a constraint is enforced can reject writes of running code")


def security_changes(ctx: FileContext) -> None:
    """Opt-in (squawk 2.67+): access and behaviour changes (policies, grants, options)."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.CreatePolicyStmt):
            ctx.report("ban-create-policy", stmt, None, "a new policy changes access of clients")
        elif isinstance(node, ast.AlterPolicyStmt):
            if node.roles:
                ctx.report("ban-alter-policy-roles", stmt, node.roles[0],
                           "changing policy roles changes access of clients")
            for expr in (node.qual, node.with_check):
                if expr is not None:
                    ctx.report("ban-alter-policy-condition", stmt, expr,
                               "changing a policy condition changes access of clients")
        elif isinstance(node, ast.GrantStmt | ast.GrantRoleStmt) and not node.is_grant \
                or isinstance(node, ast.AlterDefaultPrivilegesStmt) and not node.action.is_grant \
                or isinstance(node, ast.AlterOwnerStmt | ast.ReassignOwnedStmt | ast.DropOwnedStmt):
            ctx.report("ban-revoke", stmt, None, "revoking privileges (or handing ownership "
                       "over) breaks clients that use them")
        elif isinstance(node, ast.ViewStmt | ast.CreateFunctionStmt | ast.RuleStmt
                        | ast.CreateTrigStmt) and node.replace:
            ctx.report("ban-replace-view-function", stmt, None,
                       "replacing a view or function changes behaviour under running code")
        elif isinstance(node, ast.AlterFunctionStmt):
            ctx.report("ban-alter-function-options", stmt, node.actions[0],
                       "changing function options changes behaviour for clients")
        elif isinstance(node, ast.AlterRoleStmt | ast.AlterRoleSetStmt):
            ctx.report("ban-alter-role-options", stmt, None,
                       "changing a role changes access or behaviour for clients")
        elif isinstance(node, ast.AlterDatabaseStmt | ast.AlterDatabaseSetStmt):
            ctx.report("ban-alter-database-options", stmt, None,
                       "changing database settings changes behaviour for clients")
        elif isinstance(node, ast.AlterSystemStmt):
            ctx.report("ban-alter-system-options", stmt, None,
                       "changing server settings changes behaviour for clients")
        elif isinstance(node, ast.AlterExtensionStmt) or isinstance(
                node, ast.AlterExtensionContentsStmt) and node.action == -1:
            ctx.report("ban-alter-extension", stmt, None,
                       "updating an extension can change or remove objects clients use")
    for stmt, cmd, offset in ctx.alter_table_cmds(OBJ.OBJECT_VIEW, OBJ.OBJECT_MATVIEW,
                                                  OBJ.OBJECT_SEQUENCE):
        if cmd.subtype == AT.AT_ChangeOwner:
            ctx.report("ban-revoke", stmt, offset,
                       "a new owner takes the old owner's privileges away")
        elif cmd.subtype in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions) \
                and stmt.node.objtype == OBJ.OBJECT_VIEW:
            ctx.report("ban-alter-view-options", stmt, offset,
                       "changing view options changes behaviour for clients")


def require_table_schema(ctx: FileContext) -> None:
    """Opt-in: CREATE/ALTER/DROP TABLE naming a table without its schema depends on
    search_path."""
    for stmt in ctx.statements:
        node = stmt.node
        relations = []
        if isinstance(node, ast.CreateStmt) or isinstance(node, ast.AlterTableStmt) \
                and node.objtype == OBJ.OBJECT_TABLE or isinstance(
                    node, ast.RenameStmt | ast.AlterObjectSchemaStmt) and re.match(
                    r"(?i)ALTER\s+TABLE\b", stmt.sql):
            relations = [node.relation]
        elif isinstance(node, ast.CreateTableAsStmt) and node.objtype == OBJ.OBJECT_TABLE:
            relations = [node.into.rel]
        elif isinstance(node, ast.DropStmt) and node.removeType == OBJ.OBJECT_TABLE:
            relations = [names for names in node.objects if len(names) == 1]
        for relation in relations:
            if isinstance(relation, ast.RangeVar) and relation.schemaname is not None \
                    or relation is None or getattr(relation, "relpersistence", "p") == "t":
                continue
            ctx.report("require-table-schema", stmt, getattr(relation, "location", None),
                       "the table is not schema-qualified: it depends on search_path")
