-- A placement counts the volume's claims on the chosen pool, and releasing a volume's claims
-- finds them by volume: without this index both scanned every claim of the pool.
CREATE INDEX capacity_claims_volume ON capacity_claims (volume_id, backend, pool);
