-- The last validation report of a version (what a setup page shows after a save, and after a
-- reload of it): the checks only, never a secret.
ALTER TABLE "connection_versions" ADD COLUMN "last_validation" JSONB;
