/* idgw_acl_natpool: IdgwAclNatPool (see idgw_acl_natpool.h). */
#include "idgw_acl_natpool.h"

#include <errno.h>
#include <stdlib.h>

#include <apr_strings.h>

const char *idgw_acl_natpool_add(cmd_parms *cmd, apr_array_header_t **pools, int argc,
                                 char *const argv[])
{
    idgw_acl_natpool *pool;
    char *end;
    long n;

    if (argc < 2) {
        return "IdgwAclNatPool: usage: IdgwAclNatPool SUBSCRIBERS CIDR...";
    }
    errno = 0;
    n = strtol(argv[0], &end, 10);
    if (errno || *end || end == argv[0] || n < 1 || n > (long)IDGW_ACL_NATPOOL_SUBSCRIBERS_MAX) {
        return apr_psprintf(cmd->pool, "IdgwAclNatPool: '%s' is not a number of subscribers "
                            "per address from 1 to %u", argv[0],
                            IDGW_ACL_NATPOOL_SUBSCRIBERS_MAX);
    }
    if (*pools == NULL) {
        *pools = apr_array_make(cmd->pool, 2, sizeof(idgw_acl_natpool));
    }
    pool = apr_array_push(*pools);
    pool->subscribers = (uint32_t)n;
    pool->nets = idgw_cidr_set_make(cmd->pool);
    for (int i = 1; i < argc; i++) {
        const char *err = idgw_cidr_set_add(pool->nets, argv[i]);

        if (err != NULL) {
            return apr_pstrcat(cmd->pool, "IdgwAclNatPool: ", err, NULL);
        }
    }
    return NULL;
}

uint32_t idgw_acl_natpool_subscribers(const apr_array_header_t *pools, const idgw_ip *ip)
{
    for (int i = 0; pools && i < pools->nelts; i++) {
        const idgw_acl_natpool *pool = &APR_ARRAY_IDX(pools, i, idgw_acl_natpool);

        if (idgw_cidr_set_find(pool->nets, ip) >= 0) {
            return pool->subscribers;
        }
    }
    return 0;
}
