-- What the operator events (contract v4) remember, shared by every replica so each is emitted once.

-- A connection for which connection.failing was emitted and connection.recovered not yet.
CREATE TABLE "connection_health" (
    "connection_id" TEXT NOT NULL,
    "failing" BOOLEAN NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "connection_health_pkey" PRIMARY KEY ("connection_id")
);

-- The credential.expiring warnings given: one row per credential, expiry and threshold (30, 7, 1 days).
CREATE TABLE "credential_warnings" (
    "key" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "credential_warnings_pkey" PRIMARY KEY ("key")
);

-- A connection's latest attempts, to tell a run of failures at its IdP (connection-health.ts).
CREATE INDEX "login_attempts_connection_id_at_idx" ON "login_attempts" ("connection_id", "at" DESC);
