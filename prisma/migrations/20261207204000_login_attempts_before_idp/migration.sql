-- A login that failed before its IdP was involved (no such app, organisation or return URL, an
-- app not allowed, no connection, no transaction at the callback): anyone can make one with a
-- link, so it says nothing of a connection's health and is left out of it.
ALTER TABLE "login_attempts" ADD COLUMN "before_idp" BOOLEAN NOT NULL DEFAULT false;
