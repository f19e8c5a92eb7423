"""Every table that holds a person's data is in their download, or listed with a reason.

The tables come from Piccolo's registry (`APP_REGISTRY`), so a table added by any slice is
checked the day it is registered: one with a foreign key to a person or a membership, or a
column named for one (`mentor_id`, `reviewed_by`, `recipient`), fails here until
`privacy.services.EXPORTED` says where its rows land or `NOT_EXPORTED` says why they do not.
"""

from __future__ import annotations

from piccolo.columns import ForeignKey
from piccolo.table import Table

from tandem.accounts.tables import Membership, Person
from tandem.core.audit import names_a_person
from tandem.piccolo_conf import APP_REGISTRY
from tandem.privacy.services import EXPORTED, NOT_EXPORTED


def registered_tables() -> list[type[Table]]:
    return [table for app in APP_REGISTRY.app_configs.values() for table in app.table_classes]


def person_columns(table: type[Table]) -> list[str]:
    """The columns of `table` that name a person or a membership."""
    named = []
    for column in table._meta.columns:
        name = column._meta.name
        if isinstance(column, ForeignKey):
            if column._foreign_key_meta.resolved_references in (Person, Membership):
                named.append(name)
        elif names_a_person(name):
            named.append(name)
    if table in (Person, Membership):
        named.append("id")
    return named


def test_the_column_rule_recognises_people_and_nothing_else() -> None:
    for name in ("mentor", "mentor_id", "reviewed_by", "recipients", "actor_id", "newcomer"):
        assert names_a_person(name), name
    for name in ("program", "program_id", "entity_id", "subject_id", "ended_by_role", "status"):
        assert not names_a_person(name), name


def test_every_table_naming_a_person_is_exported_or_explained() -> None:
    tables = registered_tables()
    assert len(tables) >= 15, "the registry scan found too little"
    missing = {
        table._meta.tablename: person_columns(table)
        for table in tables
        if person_columns(table)
        and table._meta.tablename not in EXPORTED
        and table._meta.tablename not in NOT_EXPORTED
    }
    assert missing == {}, (
        "these tables hold a person's data: add them to the export (privacy.services.EXPORTED) "
        "or say why not (NOT_EXPORTED)"
    )


def test_the_inventory_names_only_real_tables_that_name_people() -> None:
    personal = {table._meta.tablename for table in registered_tables() if person_columns(table)}
    assert set(EXPORTED) - personal == set(), "no such table, or it names no one"
    assert set(NOT_EXPORTED) - personal == set(), "no such table, or it names no one"
    assert all(len(reason) > 20 for reason in NOT_EXPORTED.values()), "give a real reason"
