-- Who changed what (contract v3, operators): every successful admin write, and what a
-- setup-link holder saves or activates. Field names only, never values. Purged after
-- AUDIT_RETENTION_DAYS, as login attempts are.
CREATE TABLE "admin_changes" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "resource_id" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "fields" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "address" TEXT,

    CONSTRAINT "admin_changes_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "admin_changes_at_idx" ON "admin_changes"("at" DESC);
CREATE INDEX "admin_changes_resource_at_idx" ON "admin_changes"("resource", "at" DESC);
