-- Stored tickets that expired unredeemed are purged every minute (ticket.repo.ts
-- purgeUnredeemed). This index holds only the unredeemed ones, so that query never walks the
-- redeemed tickets kept as sessions for AUDIT_RETENTION_DAYS. Prisma's schema cannot express a
-- partial index; schema.prisma names it in a comment.
CREATE INDEX "tickets_unredeemed_expires_at_idx" ON "tickets"("expires_at") WHERE "redeemed_at" IS NULL;
