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

/* For each type T of a setting, two helpers:
 *   T idgw_merge_T(T base, T add)    add unless it is IDGW_UNSET ("set wins")
 *   T idgw_default_T(T v, T dflt)    v unless it is IDGW_UNSET (for getters)
 * T is int, or int64 for apr_int64_t, apr_interval_time_t (the same type,
 * also named idgw_merge_time/idgw_default_time) and long. */
#define IDGW_CONF_HELPERS(T, type)                                            \
    static inline type idgw_merge_##T(type base, type add)                   \
    {                                                                         \
        return add != IDGW_UNSET ? add : base;                                \
    }                                                                         \
    static inline type idgw_default_##T(type v, type dflt)                   \
    {                                                                         \
        return v != IDGW_UNSET ? v : dflt;                                    \
    }

IDGW_CONF_HELPERS(int, int)
IDGW_CONF_HELPERS(int64, apr_int64_t)
#define idgw_merge_time idgw_merge_int64
#define idgw_default_time idgw_default_int64

/* Pointers: NULL is unset. */
static inline const void *idgw_merge_ptr(const void *base, const void *add)
{
    return add ? add : base;
}

#endif
