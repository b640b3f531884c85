-- Live configuration: every change to what logins read (tenants and their domains,
-- connections, apps and their tenants) announces itself on the channel every broker process
-- LISTENs on, whoever makes it: the admin API, a script, or an operator's SQL. NOTIFY is
-- delivered at commit (and not at all on rollback); several in one transaction arrive as one.
CREATE FUNCTION "sso_config_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sso_config_changed', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "tenants_config_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "tenants"
    FOR EACH STATEMENT EXECUTE FUNCTION "sso_config_changed"();
CREATE TRIGGER "tenant_domains_config_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "tenant_domains"
    FOR EACH STATEMENT EXECUTE FUNCTION "sso_config_changed"();
CREATE TRIGGER "connections_config_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "connections"
    FOR EACH STATEMENT EXECUTE FUNCTION "sso_config_changed"();
CREATE TRIGGER "apps_config_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "apps"
    FOR EACH STATEMENT EXECUTE FUNCTION "sso_config_changed"();
CREATE TRIGGER "app_tenants_config_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "app_tenants"
    FOR EACH STATEMENT EXECUTE FUNCTION "sso_config_changed"();
