-- Retries (contract v3): the SHA-256 of the Idempotency-Key a redemption was first made with,
-- so that the same app's retry with the same key, within 60 s, gets the same answer again.
ALTER TABLE "tickets" ADD COLUMN "idempotency_key" TEXT;
