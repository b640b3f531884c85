-- What a setup link's holder chose in step 1 (the IdP product, the client authentication), kept
-- on the link so its page finds its place again on a reload, on another day, or after
-- activation. Our own vocabulary (idp-products.ts keys, the two methods), never a secret.
ALTER TABLE "setup_links" ADD COLUMN "idp_product" TEXT, ADD COLUMN "auth_method" TEXT;
