"""workbench: a PostgreSQL performance workbench."""
