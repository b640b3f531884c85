-- Sessions the IdP ends (contract v4; OpenID Connect Back-Channel Logout 1.0). A session (a
-- redeemed ticket's row) keeps what a logout token names it by: the ID token's `sub` and `sid`,
-- and the app's subject for the session.ended event. `ended_reason` says who ended it.
ALTER TABLE "tickets" ADD COLUMN "idp_sub" TEXT;
ALTER TABLE "tickets" ADD COLUMN "sid" TEXT;
ALTER TABLE "tickets" ADD COLUMN "subject" TEXT;
ALTER TABLE "tickets" ADD COLUMN "ended_reason" TEXT;
-- Only live sessions are looked up by a logout token; ending one takes it out of the index.
CREATE INDEX "tickets_live_sid_idx" ON "tickets" ("connection_id", "sid")
  WHERE "sid" IS NOT NULL AND "id_token_enc" IS NOT NULL;
CREATE INDEX "tickets_live_sub_idx" ON "tickets" ("connection_id", "idp_sub")
  WHERE "id_token_enc" IS NOT NULL;

-- Logout tokens' `jti`s, per connection, kept while the token could still be accepted: a
-- replayed token is refused on every replica and after a restart.
CREATE TABLE "logout_token_jtis" (
    "connection_id" TEXT NOT NULL,
    "jti_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "logout_token_jtis_pkey" PRIMARY KEY ("connection_id", "jti_hash")
);
CREATE INDEX "logout_token_jtis_expires_at_idx" ON "logout_token_jtis" ("expires_at");
