-- The operators' console sessions, server-side: the sealed cookie names one of these rows, and
-- a session lasts only while its row is here, not revoked (sign-out, on every replica) and not
-- expired. Each row keeps what admitted it, checked again on every request: for the admin token,
-- an HMAC of the session id keyed with the token (so a rotated ADMIN_TOKEN ends it, and the row
-- does not hold the token); for SSO, the tenant, the verified email, the listed groups and the
-- issuers (so a changed CONSOLE_ADMINS, CONSOLE_TENANT or CONSOLE_ISSUER ends it). Purged once
-- expired (housekeeping).
CREATE TABLE "console_sessions" (
    "id" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "token_hmac" TEXT,
    "tenant" TEXT,
    "email" TEXT,
    "groups" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "issuers" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "console_sessions_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "console_sessions_expires_at_idx" ON "console_sessions"("expires_at");
