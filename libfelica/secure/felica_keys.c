/* felica_keys.c: per-chip static keys diversified from the issuer's master keys.
 *
 * K-x(chip) = SCP03-KDF(master K-x, constant, IDm(8) || KVN(1), 128 bits) with
 * idgw's constants 0x70/0x71/0x72 from SCP03's reserved range, so a chip's keys
 * never equal a session-key or cryptogram derivation of the same master key,
 * and one chip's extracted keys say nothing about another chip's. */
#include <string.h>

#include "felica_crypto.h"
#include "felica_sc.h"

static int diversify_one(const uint8_t master[16], uint8_t constant,
                         const uint8_t context[9], uint8_t out[16])
{
    return felica_scp03_kdf(master, constant, context, 9, 128, out);
}

int felica_keys_diversify(const felica_keyset_t *master, const uint8_t idm[8],
                          felica_keyset_t *out)
{
    felica_keyset_t tmp;
    uint8_t context[9];
    int rc;

    if (master == NULL || idm == NULL || out == NULL)
        return FELICA_ERR_BAD_PARAM;
    memcpy(context, idm, 8);
    context[8] = master->kvn;
    tmp.kvn = master->kvn;
    rc = diversify_one(master->enc, FELICA_KDF_DIV_ENC, context, tmp.enc);
    if (rc == FELICA_OK)
        rc = diversify_one(master->mac, FELICA_KDF_DIV_MAC, context, tmp.mac);
    if (rc == FELICA_OK)
        rc = diversify_one(master->dek, FELICA_KDF_DIV_DEK, context, tmp.dek);
    if (rc == FELICA_OK)
        *out = tmp;           /* out may alias master: write only when complete */
    felica_wipe(&tmp, sizeof tmp);
    return rc;
}
