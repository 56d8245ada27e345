-- Temporal keeps its own databases and role beside jitaccess's, on the same server.
CREATE ROLE temporal LOGIN PASSWORD 'temporal' CREATEDB;
