/*
 * idgw_conf.h - the one configuration style of the idgw modules (after
 * mod_auth_openidc's cfg/):
 *   create  every number is IDGW_UNSET, every pointer NULL;
 *   merge   "set wins": idgw_merge_*(base, add) gives add unless it is unset;
 *   getters apply the defaults (idgw_default_*), or one finish step does
 *           where a lower layer wants the values filled in;
 * and the directive handlers parse with idgw_conf_parse.h.
 */
#ifndef IDGW_CONF_H
#define IDGW_CONF_H

#include <apr.h>
#include <apr_time.h>

/* The value of a number no directive has set. */
#define IDGW_UNSET (-1)

static inline int idgw_merge_int(int base, int add)
{
    return add != IDGW_UNSET ? add : base;
}

static inline long idgw_merge_long(long base, long add)
{
    return add != IDGW_UNSET ? add : base;
}

/* apr_interval_time_t and apr_int64_t sizes alike. */
static inline apr_int64_t idgw_merge_int64(apr_int64_t base, apr_int64_t add)
{
    return add != IDGW_UNSET ? add : base;
}
#define idgw_merge_time idgw_merge_int64

static inline const void *idgw_merge_ptr(const void *base, const void *add)
{
    return add ? add : base;
}

static inline int idgw_default_int(int v, int dflt)
{
    return v != IDGW_UNSET ? v : dflt;
}

static inline long idgw_default_long(long v, long dflt)
{
    return v != IDGW_UNSET ? v : dflt;
}

static inline apr_int64_t idgw_default_int64(apr_int64_t v, apr_int64_t dflt)
{
    return v != IDGW_UNSET ? v : dflt;
}
#define idgw_default_time idgw_default_int64

#endif
