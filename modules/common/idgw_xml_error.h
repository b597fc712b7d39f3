/*
 * idgw_xml_error.h - XML error bodies with stable codes, shared by all idgw modules.
 *
 * Code scheme: IDGW-<AREA>-<NNN>, where AREA says which part of the gateway
 * refused the request and NNN never changes meaning once published:
 *   REQ  malformed request (headers, path, body size)       mod_idgw_session
 *   SES  session: unknown, closed, invalidated, expired, binding
 *   SEQ  sequence management: order, state, retransmission
 *   SRV  the gateway itself: Redis unavailable, internal error
 *   VLT  card data vault
 *   ACL  access control (mod_idgw_acl)
 *   CNV  request conversion / backends (mod_idgw_convert)
 * The body is always
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <error><code>IDGW-SEQ-001</code><message>...</message></error>
 * and the message is fixed text: it never carries request data.
 */
#ifndef IDGW_XML_ERROR_H
#define IDGW_XML_ERROR_H

#include <apr_pools.h>

typedef struct idgw_error_def {
    const char *code;      /* "IDGW-SEQ-001" */
    int http_status;       /* the status that fits */
    const char *message;   /* fixed English text, no request data */
} idgw_error_def;

/* The session module's codes (docs/directives.md lists them). */
extern const idgw_error_def IDGW_E_REQ_TOKEN;        /* 400 missing/malformed token header */
extern const idgw_error_def IDGW_E_REQ_SEQ;          /* 400 missing/malformed sequence number */
extern const idgw_error_def IDGW_E_REQ_PATH;         /* 404 unknown operation or step */
extern const idgw_error_def IDGW_E_REQ_BODY;         /* 413 body too large */
extern const idgw_error_def IDGW_E_REQ_BINDING;      /* 400 missing/malformed terminal id or IDm */
extern const idgw_error_def IDGW_E_REQ_METHOD;       /* 405 method not allowed */
extern const idgw_error_def IDGW_E_REQ_BODY_TIMEOUT; /* 408 body stopped coming */
extern const idgw_error_def IDGW_E_REQ_BODY_FRAMING; /* 400 bad Content-Length or chunks */
extern const idgw_error_def IDGW_E_REQ_TLS;          /* 403 plain HTTP (IdgwAllowPlainHttp Off) */
extern const idgw_error_def IDGW_E_SES_UNKNOWN;      /* 403 unknown or idle-expired session */
extern const idgw_error_def IDGW_E_SES_DEAD;         /* 403 session invalidated */
extern const idgw_error_def IDGW_E_SES_CLOSED;       /* 403 session closed */
extern const idgw_error_def IDGW_E_SES_EXPIRED;      /* 403 absolute lifetime reached */
extern const idgw_error_def IDGW_E_SES_BINDING;      /* 403 terminal id / IDm differ */
extern const idgw_error_def IDGW_E_SES_ADDRESS;      /* 403 client address differs (enforce) */
extern const idgw_error_def IDGW_E_SEQ_ORDER;        /* 409 sequence number out of order */
extern const idgw_error_def IDGW_E_SEQ_STATE;        /* 409 step not allowed in this state */
extern const idgw_error_def IDGW_E_SEQ_REPLAY;       /* 409 same sequence number, other body */
extern const idgw_error_def IDGW_E_SEQ_PENDING;      /* 503 first attempt still running */
extern const idgw_error_def IDGW_E_SEQ_RELAYS;       /* 409 too many relay round trips */
extern const idgw_error_def IDGW_E_SEQ_RESTART;      /* 409 step taken over after the lease */
extern const idgw_error_def IDGW_E_SEQ_ROLLBACK;     /* 409 session rolled back (failover): start over */
extern const idgw_error_def IDGW_E_SRV_REDIS;        /* 503 Redis unavailable */
extern const idgw_error_def IDGW_E_SRV_INTERNAL;     /* 500 internal error */
extern const idgw_error_def IDGW_E_SRV_STORE;        /* 503 step result not stored */
extern const idgw_error_def IDGW_E_SRV_LOCAL_LIMIT;  /* 429 local limit before Redis */
extern const idgw_error_def IDGW_E_SRV_SHED;         /* 503 status shed: Redis slow */
extern const idgw_error_def IDGW_E_SRV_UNCONFIRMED;  /* 503 write not acknowledged by the replicas */
extern const idgw_error_def IDGW_E_VLT_UNSEAL;       /* 500 vault data cannot be unsealed */

/* Every code above, for documentation tests; *count receives the number. */
const idgw_error_def *const *idgw_error_catalogue(int *count);

/* Find a catalogued code; NULL when unknown. */
const idgw_error_def *idgw_error_find(const char *code);

/* XML-escape text (&, <, >, ", ') into pool memory. */
const char *idgw_xml_escape(apr_pool_t *p, const char *text);

/* The error document for code/message (message NULL: none). */
const char *idgw_xml_error_body(apr_pool_t *p, const char *code, const char *message);

/*
 * r->notes key set by whoever read the request body to its end (the session
 * check): an error answered after that may keep the connection.
 */
#define IDGW_NOTE_BODY_READ "idgw-body-read"

/*
 * Send the error as the response (httpd side, idgw_xml_error_http.c):
 * disposes of the request body (a body nobody read closes the connection
 * instead of being read away: its size is the sender's to choose), sets the
 * status, Content-Type
 * application/xml and Cache-Control: no-store, writes the document.
 * Returns DONE: return it from any hook or handler to end the request.
 */
struct request_rec;
int idgw_xml_error_send(struct request_rec *r, const idgw_error_def *e);
int idgw_xml_error_send_code(struct request_rec *r, int http_status,
                             const char *code, const char *message);

/*
 * An error sent before the handler phase (translate_name, access, fixups)
 * gets the output filters httpd gives its own error answers
 * (insert_error_filter: mod_headers' "Header always set", e.g. HSTS and
 * nosniff).  To tell the phases apart, every module that sends XML errors
 * calls this from its register_hooks (an insert_filter hook marks the
 * handler phase; registering it twice does no harm).
 */
void idgw_xml_error_hooks(void);

#endif
