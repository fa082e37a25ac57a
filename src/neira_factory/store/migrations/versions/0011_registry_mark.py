"""The registry's mark and its counts, kept by triggers on `nodes` (so no writer can forget them): in the
transaction of every insert, update or delete of a node, `registry_mark.version` goes up and `node_counts`
(nodes by introspection's group and state) follows. A replica's selector index reads the one row of the mark
before a decision to learn whether any node moved, on any replica, and introspection reads the counts,
instead of aggregating every node.

PostgreSQL: the trigger is a deferred constraint trigger, so its rows are locked at commit, after every node
row the transaction locks, and the mark first: two writers never wait on each other in a cycle through them.
The mark is read in commit order (a row update is seen when its transaction commits, unlike a sequence).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BUMP = "UPDATE registry_mark SET version = version + 1 WHERE id = 1"
# introspection's groups (store/status.py); 'factory.' is FACTORY_NODE_PREFIX, as of this revision
GROUP = "CASE WHEN {row}.kind = 'organ' THEN 'organ' WHEN {row}.id LIKE 'factory.%' THEN 'module' ELSE 'node' END"
COUNT_IN = ("INSERT INTO node_counts (grp, state, n) VALUES ({group}, NEW.state, 1) "
            "ON CONFLICT (grp, state) DO UPDATE SET n = node_counts.n + 1").format(group=GROUP.format(row="NEW"))
COUNT_OUT = "UPDATE node_counts SET n = n - 1 WHERE grp = {group} AND state = OLD.state".format(
    group=GROUP.format(row="OLD"))
SQLITE = {"insert": (BUMP, COUNT_IN), "update": (BUMP, COUNT_OUT, COUNT_IN), "delete": (BUMP, COUNT_OUT)}
POSTGRES = (f"CREATE FUNCTION neira_registry_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {BUMP}; "
            f"IF TG_OP <> 'INSERT' THEN {COUNT_OUT}; END IF; IF TG_OP <> 'DELETE' THEN {COUNT_IN}; END IF; "
            "RETURN NULL; END $$")


def upgrade() -> None:
    op.create_table("registry_mark", sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("version", sa.BigInteger, nullable=False))
    op.execute("INSERT INTO registry_mark (id, version) VALUES (1, 0)")
    op.create_table("node_counts", sa.Column("grp", sa.String(16), primary_key=True),
                    sa.Column("state", sa.String(20), primary_key=True), sa.Column("n", sa.BigInteger, nullable=False))
    op.execute(f"INSERT INTO node_counts (grp, state, n) SELECT grp, state, count(*) FROM "
               f"(SELECT {GROUP.format(row='nodes')} AS grp, state FROM nodes) AS grouped GROUP BY grp, state")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES)
        op.execute("CREATE CONSTRAINT TRIGGER nodes_registry_mark AFTER INSERT OR UPDATE OR DELETE ON nodes "
                   "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION neira_registry_mark()")
        return
    for event, statements in SQLITE.items():
        op.execute(f"CREATE TRIGGER nodes_registry_mark_{event} AFTER {event.upper()} ON nodes BEGIN "
                   f"{'; '.join(statements)}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER nodes_registry_mark ON nodes")
        op.execute("DROP FUNCTION neira_registry_mark()")
    else:
        for event in SQLITE:
            op.execute(f"DROP TRIGGER nodes_registry_mark_{event}")
    op.drop_table("node_counts")
    op.drop_table("registry_mark")
