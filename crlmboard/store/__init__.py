"""Everything SQL: engine and pragmas, tables, repositories, migrations."""
