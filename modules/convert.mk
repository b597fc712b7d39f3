# mod_idgw_convert and its helpers (smartphone API, conversion, relay)
