"""The first window's SQL for SQLite, written by `python -m cs_tui.data.gen_tables`: do not edit.

`queries.first_look_statements` compiled for SQLite, so that `first_look.py` can read the
workstation's first window before SQLAlchemy is loaded. The parameters are named by what they
hold; a test fails while this file is out of date.
"""

SCHEMA_VERSION = 9
"""The schema these statements were compiled for: another is read the usual way."""

WINDOW_SQL = {
    "agent": "SELECT conversation.id \nFROM conversation \nWHERE conversation.active IS 1 AND (conversation.hidden_until IS NULL OR conversation.hidden_until <= ?) AND conversation.training IS 0 AND (conversation.assignee_id = ? OR conversation.assignee_id IS NULL) ORDER BY conversation.urgency_at, conversation.id\n LIMIT ? OFFSET ?",
    "supervisor": "SELECT conversation.id \nFROM conversation \nWHERE conversation.active IS 1 AND (conversation.hidden_until IS NULL OR conversation.hidden_until <= ?) AND conversation.training IS 0 ORDER BY conversation.urgency_at, conversation.id\n LIMIT ? OFFSET ?",
    "trainer": "SELECT conversation.id \nFROM conversation \nWHERE conversation.active IS 1 AND (conversation.hidden_until IS NULL OR conversation.hidden_until <= ?) AND conversation.training IS 0 ORDER BY conversation.urgency_at, conversation.id\n LIMIT ? OFFSET ?",
}
"""The window's ids, by the viewer's role (an agent sees their own work and the pool)."""

WINDOW_PARAMS = {
    "agent": ("now", "viewer", "limit", "offset"),
    "supervisor": ("now", "limit", "offset"),
    "trainer": ("now", "limit", "offset"),
}

ROWS_SQL = "SELECT conversation.id, conversation.external_id, conversation.channel, conversation.category, conversation.priority, conversation.status, conversation.customer_id, customer.name AS customer_name, customer.handle AS customer_handle, customer.tier AS customer_tier, conversation.preview, assignee.handle AS assignee, conversation.sla_clock, conversation.due_at, conversation.sla_target_s, conversation.updated_at, conversation.last_message_at, conversation.undelivered_at, (SELECT group_concat(conversation_tag.tag, '\x1f') AS aggregate_strings_1 \nFROM conversation_tag \nWHERE conversation_tag.conversation_id = conversation.id) AS anon_1 \nFROM conversation JOIN customer ON customer.id = conversation.customer_id LEFT OUTER JOIN agent AS assignee ON assignee.id = conversation.assignee_id \nWHERE conversation.id IN ({ids})"
"""The window's rows, in QueueRow's order, undelivered_at then the folded tags last."""

ROWS_TIMES = (13, 15, 16, 17)
"""The columns of ROWS_SQL that hold times (stored as UTC text)."""

LAST_EVENT_SQL = "SELECT coalesce(max(event.id), 0) AS coalesce_1 \nFROM event"
"""The newest event's id, read in the same snapshot as the window."""
