-- Who closed a ticket by hand, when and what was done (see the PostgreSQL migration of the same number).
ALTER TABLE service_tickets ADD COLUMN closed_by TEXT;
ALTER TABLE service_tickets ADD COLUMN closed_at INTEGER;
ALTER TABLE service_tickets ADD COLUMN closed_note TEXT;
