/* fuzz_sp_request.c: libFuzzer harness for the smartphone app's XML: the
 * hardened parser (idgw_sp_xml.c: size, encoding, DOCTYPE, depth and element
 * limits) and the request decoder on top of it (idgw_sp_request.c).
 * Built and run by scripts/idgw-fuzz; seeds in t/fuzz/corpus/sp_request/.
 * The first input byte picks the operation and step the body is decoded for,
 * the rest is the body.  Invariants: whatever the body, the decoder returns
 * a verdict and frees everything; what it accepts satisfies the field rules
 * of docs/smartphone-api.md (checked here with the exported validators).
 */
// fuzz-sources: modules/convert/idgw_sp_xml.c modules/convert/idgw_sp_request.c modules/common/idgw_transitions.c
// fuzz-pkgs: libxml-2.0 apr-1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <libxml/parser.h>

#include "idgw_sp_request.h"

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root, NULL);
    xmlInitParser();
    return 0;
}

static void check_accepted(const idgw_sp_request *rq)
{
    if (rq->packet_len > IDGW_SP_PACKET_MAX)
        abort();
    if (rq->terminal && !idgw_sp_terminal_valid(rq->terminal))
        abort();
    if (rq->app_version && !idgw_sp_app_version_valid(rq->app_version))
        abort();
    if (rq->member && !idgw_sp_member_valid(rq->member))
        abort();
    if (rq->password && !idgw_sp_password_valid(rq->password))
        abort();
    if (rq->card_id && !idgw_sp_card_id_valid(rq->card_id))
        abort();
    if (rq->issuer[0] && !idgw_sp_issuer_valid(rq->issuer))
        abort();
    if (rq->idm[0] && strlen(rq->idm) != 16)
        abort();
    if (rq->slot != -1 && rq->slot != 0 && rq->slot != 1 && rq->slot != 2
        && rq->slot != IDGW_SP_SLOT_ANY)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    idgw_sp_xml_limits lim;
    idgw_sp_request rq;
    idgw_sp_result res;
    idgw_op op;
    idgw_step step;

    if (size < 1)
        return 0;
    op = (idgw_op)(data[0] % IDGW_OP_COUNT);
    step = (idgw_step)((data[0] / IDGW_OP_COUNT) % IDGW_STEP_COUNT);
    apr_pool_create(&p, root);
    idgw_sp_xml_default_limits(&lim);
    idgw_sp_request_decode(p, op, step, (const char *)data + 1, size - 1, &lim, &rq, &res);
    if (res.status == IDGW_SP_OK)
        check_accepted(&rq);
    else if (res.status == IDGW_SP_BAD_XML && res.xml_status == IDGW_SP_XML_OK)
        abort();
    else if (res.status == IDGW_SP_BAD_FIELD && !res.field)
        abort();
    apr_pool_destroy(p);
    return 0;
}
