# httpd modules: mod_idgw_session, the common convenience library (Redis, vault)
