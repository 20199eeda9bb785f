"""Reitti's shared runtime: what every service stands on.

Configuration, migrations, the Postgres event store with its outbox, the JetStream relay,
the exactly-once consumer base with its dead-letter stream, replay, the embedded servers
and the launcher behind the ``reitti`` command. Services import this; it imports no
service code.
"""
