# mod_idgw_status and the shared counters (metrics)
