"""Move a seeded database's moment to the same place in the hour, for snapshots of sparklines.

The seed writes health points every 5 minutes back from its ``now()``; the Health pane slots
them on whole 12-minute cells of an epoch grid (``health_series.sparkline_window``). Which
points share a slot therefore depends on the seed's minute within the hour (5 and 12 repeat
every 60 minutes), so a snapshot taken at another time of day draws other bars. Shifting every
timestamp of the seed by the same amount keeps every "N min ago" (the clock is frozen relative
to the seed) and puts the seed's minute at ``PLACE`` past the hour, so the bars never move.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

#: Where the seed's whole minute lands in its hour: 30 s off the minute, so no point falls on
#: a cell boundary, and far enough from the hour that the frozen clock (the seed + up to a few
#: minutes) stays in the same cell.
PLACE = "48 minutes 30 seconds"

#: Derived from health_checks by its triggers (recounted as the points move); its cells stay
#: on the grid.
DERIVED = frozenset({"health_rollup"})

_DELTA = """
select date_trunc('hour', s) + %s::interval - date_trunc('minute', s)
from (select joined_at + interval '30 days' as s from public.team_members
      where user_id = '00000000-0000-4000-a000-000000000001'
        and team_id = '00000000-0000-4000-b000-000000000001') seed
"""

_COLUMNS = """
select c.table_name, c.column_name
from information_schema.columns c
join information_schema.tables t using (table_schema, table_name)
where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
  and c.data_type = 'timestamp with time zone'
order by 1, 2
"""


def align_seed(url: str) -> None:
    """Shift every timestamp of the seeded database at ``url`` (a superuser URL of a database
    no other test shares) so the seed's minute sits at ``PLACE`` past its hour."""
    with psycopg.connect(url) as conn:
        row = conn.execute(_DELTA, (PLACE,)).fetchone()
        assert row is not None
        assert row[0] is not None
        delta = row[0]
        # Ordinary triggers (versions, audit, updated_at) stay quiet: the data only moves. The
        # roll-up's triggers are ENABLE ALWAYS and recount the cells the points move between.
        conn.execute("set local session_replication_role = replica")
        by_table: dict[str, list[str]] = {}
        for table, column in conn.execute(_COLUMNS).fetchall():
            if table not in DERIVED:
                by_table.setdefault(table, []).append(column)
        for table, columns in by_table.items():
            sets = sql.SQL(", ").join(
                sql.SQL("{0} = {0} + %(d)s").format(sql.Identifier(c)) for c in columns
            )
            conn.execute(
                sql.SQL("update public.{} set {}").format(sql.Identifier(table), sets), {"d": delta}
            )
