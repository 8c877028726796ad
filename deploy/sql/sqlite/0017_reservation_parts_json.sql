-- PostgreSQL only (reservation parts as json instead of jsonb); SQLite stores them as text already. Kept so both providers share versions.
SELECT 1;
