"""`make bench`: posting (and, later, entry-screen) benchmarks on fresh SQLite and PostgreSQL."""
