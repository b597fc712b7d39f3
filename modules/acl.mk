# mod_idgw_acl and its helpers (access control)
