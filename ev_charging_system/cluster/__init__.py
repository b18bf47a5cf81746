"""Scale-out adapter: several nodes on one PostgreSQL database and one NATS server.

Wired only by bootstrap, and only when CLUSTER_NATS_URL is set: a single process builds
none of it and needs neither NATS nor PostgreSQL. See docs/scaling.md.
"""
