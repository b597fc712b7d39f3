/* sim_service.c: the simulated services' names (IdgwSimService, log lines,
 * the fault switch files, the cards' tickets and deposit files).  Below the
 * module (mod_idgw_sim.c), the service handlers and the faults, which all
 * use them; calls none of them. */
#include "sim.h"

static const char *const service_names[] = {
    [SIM_NONE] = "none", [SIM_CREMO] = "cremo", [SIM_CARDINFO] = "cardinfo",
    [SIM_BRAND] = "brand", [SIM_FELICA] = "felica", [SIM_CONTROL] = "control"};

const char *sim_service_name(sim_service_t s)
{
    return (unsigned)s <= SIM_CONTROL ? service_names[s] : "none";
}
