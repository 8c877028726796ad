-- Customer service closes a ticket by hand once it has acted (R-ORD-6): who, when and what was done stay on the ticket. A ticket
-- closed by its order's change (the late order shipped) has none of them.
ALTER TABLE service_tickets ADD COLUMN IF NOT EXISTS closed_by text;
ALTER TABLE service_tickets ADD COLUMN IF NOT EXISTS closed_at timestamptz;
ALTER TABLE service_tickets ADD COLUMN IF NOT EXISTS closed_note text;
