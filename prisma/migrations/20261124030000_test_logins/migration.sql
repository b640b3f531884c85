-- CreateTable
CREATE TABLE "test_logins" (
    "hash" TEXT NOT NULL,
    "connection_id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "test_logins_pkey" PRIMARY KEY ("hash")
);
