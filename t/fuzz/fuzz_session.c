/* fuzz_session.c: libFuzzer harness for the issuance session's serialised form.
 *
 * Input byte 0 picks the door:
 *   even: the rest is a sealed blob, loaded with felica_issuance_load under
 *         FUZZ_SEAL_KEY (what a server does with what it kept between requests);
 *   odd:  the rest starts with a plaintext body (ISS_BODY_LEN bytes) parsed by
 *         iss_body_decode, i.e. what the seal protects: this reaches the body
 *         checks and the state machine with arbitrary states, which a forged
 *         blob cannot.
 * A session that loads is driven with a few garbage chip responses (framed as
 * answers to its packet, and raw), its results are asked for, and it must
 * save and load again whatever happened (else the harness traps).
 *
 * Build and run (scripts/idgw-fuzz does the same for every harness):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I libfelica \
 *       t/fuzz/fuzz_session.c $(ls libfelica/felica_[a-z]*.c) -lcrypto -o fuzz_session
 *   ./fuzz_session -max_total_time=60 t/fuzz/corpus/session
 * Seeds (t/fuzz/corpus/session/): sealed sessions at every step of several
 * operations, and their plaintext bodies, made by t/fuzz/gen_session_seeds.c
 * under FUZZ_SEAL_KEY (build line in that file). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "felica_issuance_int.h"

/* The harness's own sealing key: 32 bytes of 'F' (also in gen_session_seeds.c). */
static const uint8_t FUZZ_SEAL_KEY[FELICA_ISS_SEAL_KEY_LEN] = {
    'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F',
    'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F'
};

/* A response to pkt: framed as its answer (round 0, 1) or raw garbage (2). */
static size_t garbage_response(const uint8_t *pkt, size_t pkt_len, unsigned round,
                               const uint8_t *g, size_t glen, uint8_t res[FELICA_MAX_FRAME])
{
    size_t n = glen == 0 ? 12 : 12 + g[round % glen] % (FELICA_MAX_FRAME - 12);
    for (size_t i = 0; i < n; i++)
        res[i] = glen == 0 ? (uint8_t)i : g[(i * 7 + round) % glen];
    if (round < 2 && pkt_len >= 10) {
        res[0] = (uint8_t)n;
        res[1] = (uint8_t)(pkt[1] + 1);
        memcpy(res + 2, pkt + 2, FELICA_IDM_LEN);
        if (round == 0 && n >= 12)
            res[10] = res[11] = 0;          /* "success" status flags */
    }
    return n;
}

static void drive(felica_issuance_t *s, const uint8_t *g, size_t glen)
{
    uint8_t pkt[FELICA_MAX_FRAME], again[FELICA_MAX_FRAME], res[FELICA_MAX_FRAME];
    size_t len = 0, len2 = 0;
    for (unsigned round = 0; round < 3; round++) {
        if (felica_issuance_next(s, pkt, sizeof pkt, &len) != FELICA_OK)
            break;
        /* a retry hands out the same packet */
        if (felica_issuance_next(s, again, sizeof again, &len2) != FELICA_OK || len2 != len
            || memcmp(pkt, again, len) != 0)
            __builtin_trap();
        size_t n = garbage_response(pkt, len, round, g, glen, res);
        if (felica_issuance_consume(s, res, n) != FELICA_OK
            && felica_issuance_state(s) != FELICA_ISS_FAILED)
            __builtin_trap();
    }
    /* a failed session never builds another command */
    if (felica_issuance_state(s) == FELICA_ISS_FAILED
        && felica_issuance_next(s, pkt, sizeof pkt, &len) != FELICA_ERR_STATE)
        __builtin_trap();
    uint8_t slot;
    felica_card_masked_t m[FELICA_CARD_SLOTS];
    felica_card_t full[FELICA_CARD_SLOTS];
    felica_issuance_result_slot(s, &slot);
    felica_issuance_result_masked(s, m);
    if (felica_issuance_result_full(s, full) == FELICA_OK)
        felica_card_wipe(full), felica_card_wipe(full + 1);
}

/* Whatever state it reached, the session saves and loads back. */
static void save_load(const felica_issuance_t *s)
{
    uint8_t blob[FELICA_ISS_SAVED_MAX];
    size_t len = 0;
    felica_issuance_t *t = NULL;
    if (felica_issuance_save(s, FUZZ_SEAL_KEY, blob, sizeof blob, &len) != FELICA_OK
        || felica_issuance_load(&t, FUZZ_SEAL_KEY, blob, len) != FELICA_OK
        || felica_issuance_state(t) != felica_issuance_state(s))
        __builtin_trap();
    felica_issuance_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    felica_issuance_t *s = NULL;
    const uint8_t *rest = data + 1, *g;
    size_t rest_len = size - 1, glen;
    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0) {
        if (felica_issuance_load(&s, FUZZ_SEAL_KEY, rest, rest_len) != FELICA_OK)
            return 0;
        g = rest;
        glen = rest_len;
    } else {
        if (rest_len < ISS_BODY_LEN)
            return 0;
        s = calloc(1, sizeof *s);
        if (s == NULL)
            return 0;
        if (iss_body_decode(rest, s) != FELICA_OK) {
            felica_issuance_free(s);
            return 0;
        }
        g = rest + ISS_BODY_LEN;
        glen = rest_len - ISS_BODY_LEN;
    }
    save_load(s);
    drive(s, g, glen);
    save_load(s);
    felica_issuance_free(s);
    return 0;
}
