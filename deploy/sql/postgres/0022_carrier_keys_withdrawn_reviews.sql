-- A carrier's integration gets API keys of its own (role 'carrier': it records deliveries, R-LOG-5), and a risk review whose
-- order was cancelled before an analyst decided it is withdrawn (status 'Withdrawn': no decision, no label for the model).
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('admin', 'seller', 'buyer', 'analyst', 'erp', 'carrier'));
ALTER TABLE risk_reviews DROP CONSTRAINT IF EXISTS risk_reviews_status_check;
ALTER TABLE risk_reviews ADD CONSTRAINT risk_reviews_status_check CHECK (status IN ('Open', 'Claimed', 'Approved', 'Rejected', 'Withdrawn'));
