/*
 * idgw_convert_cfg.h - mod_idgw_convert's directives and per-server state.
 *
 *   IdgwConvertMap FILE
 *       the telegram mapping (conf.d/idgw-map.conf), compiled at start-up
 *   IdgwConvertBackend cremo|dlc|brand|felica URL [option=value ...]
 *       options: the backend client's keys (docs/directives.md (the backend client)):
 *       ca cert key tls-name connect-timeout io-timeout total-timeout
 *       idle-timeout pool-wait max-response pool-max pool-keep retries
 *   IdgwConvertXmlLimits BYTES DEPTH ELEMENTS
 *       limits of an app request body (default 16384 8 64)
 *   IdgwConvertMaxPacket BYTES
 *       largest chip packet relayed, 2..255 (default 255)
 * All server scope; a virtual host inherits what it does not set.
 * The handler is enabled with "SetHandler idgw-convert" under <Location>.
 */
#ifndef IDGW_CONVERT_CFG_H
#define IDGW_CONVERT_CFG_H

#include "idgw_httpd.h"
#include <http_config.h>

#include "idgw_backend.h"
#include "idgw_convert_map.h"
#include "idgw_sp_xml.h"

#define IDGW_CONVERT_HANDLER "idgw-convert"

extern module AP_MODULE_DECLARE_DATA idgw_convert_module;

typedef struct idgw_convert_srv {
    const char *map_path;                         /* NULL: unset */
    idgw_map *map;                                /* compiled in check_config */
    idgw_backend_conf_t be_conf[IDGW_MAP_BE_COUNT];   /* [IDGW_MAP_BE_CARD] unused */
    idgw_backend_t *be[IDGW_MAP_BE_COUNT];
    apr_int64_t xml_bytes;                        /* numbers IDGW_UNSET until set */
    int xml_depth;
    int xml_elements;
    int max_packet;
} idgw_convert_srv;

extern const command_rec idgw_convert_cmds[];

void *idgw_convert_create_srv(apr_pool_t *p, server_rec *s);
void *idgw_convert_merge_srv(apr_pool_t *p, void *base, void *add);

/* Getters with defaults. */
void idgw_convert_xml_limits(const idgw_convert_srv *c, idgw_sp_xml_limits *lim);
size_t idgw_convert_max_packet(const idgw_convert_srv *c);

/* check_config (runs in httpd -t too): compile the map and create the backend clients of every
 * server that uses the module.  NULL on success, else the message that
 * stops the start. */
const char *idgw_convert_setup(apr_pool_t *pconf, server_rec *s, module *m);
/* The longest one step of the app may take in the handler, over every
 * server that uses the module: each backend call a step can make bounded by
 * its total timeout (retries included) plus one wait for a pooled
 * connection, a for= call counted IDGW_CONV_LIST_MAX times, and a failing
 * step's abort calls added (close runs an open operation's abort calls).
 * Valid after idgw_convert_setup; 0 without a map. */
apr_interval_time_t idgw_convert_step_worst(server_rec *s, module *m);
/* child_init: the backends' connection pools. */
void idgw_convert_child_setup(apr_pool_t *pchild, server_rec *s, module *m);

#endif
