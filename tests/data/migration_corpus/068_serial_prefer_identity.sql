-- corpus: serial columns: prefer identity
CREATE TABLE IF NOT EXISTS support.agents (
    id bigserial PRIMARY KEY,
    legacy_id serial,
    name text NOT NULL
);
