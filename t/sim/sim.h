/* sim.h: the backend simulators' shared structures (mod_idgw_sim).  One httpd
 * module serves CREMO, the card information download center, the brand
 * download center and the FeliCa server; a <Location>'s IdgwSimService says
 * which.  Data comes from IdgwSimDataDir (loaded once in post_config, before
 * fork); state that must survive between requests and across child processes
 * (deposited cards, FeliCa operations, fault switches) lives in files under
 * IdgwSimRunDir. */
#ifndef IDGW_SIM_H
#define IDGW_SIM_H

#include <httpd.h>
#include <http_config.h>
#include <apr_tables.h>
#include "idgw_telegram.h"
#include "felica_issuance.h"

typedef enum sim_service {
    SIM_NONE = 0,
    SIM_CREMO,
    SIM_CARDINFO,
    SIM_BRAND,
    SIM_FELICA,
    SIM_CONTROL          /* fault switches, for tests */
} sim_service_t;

typedef struct sim_card {
    sim_service_t source;        /* SIM_CREMO or SIM_CARDINFO */
    const char *member_id;
    const char *password;
    int suspended;
    const char *member_name;     /* UTF-8 (Japanese) */
    const char *card_id;
    const char *issuer_code;
    const char *pan;
    const char *expiry;          /* YYMM */
    const char *renewed_expiry;  /* what CARD_UPDATE answers; NULL: unchanged */
    const char *holder_name;     /* embossed name, ASCII upper case */
} sim_card_t;

typedef struct sim_issuer {
    const char *code;
    unsigned id;                 /* issuer_id on the chip */
    const char *name;            /* UTF-8 */
    const char *version;         /* display data version */
    apr_array_header_t *messages;   /* of const char * (UTF-8) */
    const char *logo_b64;
    const char *logo_type;
} sim_issuer_t;

typedef struct sim_data {
    apr_array_header_t *cards;      /* of sim_card_t */
    apr_array_header_t *issuers;    /* of sim_issuer_t */
    felica_iss_keys_t felica_keys;
    unsigned char seal_key[FELICA_ISS_SEAL_KEY_LEN];
    unsigned char ticket_key[32];   /* random per server start: HMAC of tickets */
} sim_data_t;

typedef struct sim_server_conf {
    const char *data_dir;
    const char *run_dir;
    sim_data_t *data;
} sim_server_conf_t;

typedef struct sim_dir_conf {
    sim_service_t service;
} sim_dir_conf_t;

/* What a service handler gets and gives. */
typedef struct sim_call {
    request_rec *r;
    const sim_server_conf_t *sc;
    sim_service_t service;
    const idgw_telegram_t *req;
    const struct sim_fault *fault;   /* this request's, or NULL */
} sim_call_t;

/* sim_service.c: "cremo", "cardinfo", ...; "none" for anything else. */
const char *sim_service_name(sim_service_t s);

/* sim_data.c */
const char *sim_data_load(apr_pool_t *p, const char *dir, sim_data_t **out);
const sim_issuer_t *sim_issuer_by_code(const sim_data_t *d, const char *code);
const sim_issuer_t *sim_issuer_by_id(const sim_data_t *d, unsigned id);

/* sim_ledger.c: a line appended to IdgwSimRunDir/FILE; an event in ledger.log
 * (ids only); the PAN of a derived member's card (base PAN, 1..6 digit
 * suffix) into out (strlen(base) + 1 bytes), 0 when it has no room. */
void sim_append_line(sim_call_t *call, const char *file, const char *line);
void sim_ledger(sim_call_t *call, const char *event, const char *member, const char *card,
                const char *idm);
int sim_derived_pan(const char *base, const char *sfx, char *out);

/* Service handlers: return the response telegram (never NULL). */
idgw_telegram_t *sim_cards_handle(sim_call_t *call);      /* sim_cards.c: CREMO + card info */
idgw_telegram_t *sim_brand_handle(sim_call_t *call);      /* sim_brand.c */
idgw_telegram_t *sim_felica_handle(sim_call_t *call);     /* sim_felica.c */

/* Faults (sim_fault.c). */
typedef struct sim_fault {
    int delay_ms;        /* before answering */
    int refuse;          /* reset the connection without answering */
    int reset_mid;       /* send part of the response, then reset */
    int status;          /* answer this HTTP status with an ERROR_RES telegram */
    int malformed;       /* 200 with a body that is not a telegram */
    int truncated;       /* full Content-Length, half the body, then close */
    int unframed;        /* no Content-Length, not chunked: delimited by the close */
    int slow_ms;         /* pause between 64-byte pieces of the body */
    int logo_bytes;      /* brand: a logo of that many bytes (sim_brand_logo) */
    char only[32];       /* only=TYPE: a switch for telegrams of TYPE only (others
                          * pass it by, its count untouched); "" any */
} sim_fault_t;

/* The largest logo the brand schema allows: 98304 base64 characters. */
#define SIM_LOGO_MAX_BYTES (98304 / 4 * 3)

/* The fault for this request: the X-Idgw-Sim-Fault request header, else the
 * per-run switch file of the service.  Returns 0 if none.  type NULL: before
 * the telegram is read (a switch with only= is left for the second call);
 * type the telegram's type name: only a switch with only=type. */
int sim_fault_for_request(request_rec *r, const sim_server_conf_t *sc, sim_service_t svc,
                          const char *type, sim_fault_t *out);
const char *sim_fault_parse(const char *spec, sim_fault_t *out);
/* Control endpoint: set or clear a per-run fault. */
int sim_fault_control(request_rec *r, const sim_server_conf_t *sc);
/* Send body as the fault says (or normally when f is NULL). */
int sim_fault_send(request_rec *r, const sim_fault_t *f, const char *content_type,
                   const char *body, apr_size_t len);
void sim_abort_connection(request_rec *r);

#endif
