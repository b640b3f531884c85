-- Verified domains (contract v4): a tenant's domain routes learners (login_hint, discovery)
-- and counts for restrictToDomains only once verified by a DNS TXT record. Until one tenant
-- verifies it, several may hold a domain unverified; a verified domain is one tenant's alone.
ALTER TABLE "tenant_domains" DROP CONSTRAINT "tenant_domains_pkey";
ALTER TABLE "tenant_domains" ADD COLUMN "verified" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "tenant_domains" ADD COLUMN "verified_at" TIMESTAMPTZ(3);
-- How: dns (its TXT record), force (an admin) or migration (there before verification). Only
-- domains verified by DNS are re-checked daily: the others have no record to look for.
ALTER TABLE "tenant_domains" ADD COLUMN "verified_by" TEXT;
-- The value of the TXT record that proves the domain: sso-broker-domain-verification=<token>.
ALTER TABLE "tenant_domains" ADD COLUMN "token" TEXT;
-- Daily re-verification: when it last ran, and how many checks in a row failed.
ALTER TABLE "tenant_domains" ADD COLUMN "checked_at" TIMESTAMPTZ(3);
ALTER TABLE "tenant_domains" ADD COLUMN "failed_checks" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "tenant_domains" ADD COLUMN "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now();

-- The domains that exist when this is installed were entered by operators, one tenant each
-- (the old primary key): they are verified, as they routed until now. Each gets its own token,
-- so that the daily re-check can later ask for a TXT record.
UPDATE "tenant_domains"
   SET "verified" = true, "verified_at" = now(), "verified_by" = 'migration',
       "token" = replace(gen_random_uuid()::text, '-', '');
ALTER TABLE "tenant_domains" ALTER COLUMN "token" SET NOT NULL;

ALTER TABLE "tenant_domains" ADD CONSTRAINT "tenant_domains_pkey" PRIMARY KEY ("tenant_id", "domain");
CREATE UNIQUE INDEX "tenant_domains_verified_key" ON "tenant_domains" ("domain") WHERE "verified";
CREATE INDEX "tenant_domains_domain_idx" ON "tenant_domains" ("domain");
