/*
 * One interface in front of the external services ospay talks to: PagoLivre
 * (payment links), Cielo API 3.0 and GetNet (card-on-file charges) and ZapMe
 * (WhatsApp messages). docs/gateways.md lists every call and what each service
 * documents publicly.
 *
 * Every call that reaches a service is asynchronous: it goes through the
 * curl-multi client on the loop (net/http_client.h), never blocks, has the
 * gateway's per-call timeout, and reports through a completion callback that
 * runs exactly once, never from inside the call that started it. A call that
 * fails at once returns a negative errno and never runs its callback.
 *
 * Results are plain C structs (no JSON escapes this layer) with a normalized
 * outcome, the service's own code and message, and the ids ospay keeps. A
 * result is borrowed: it is valid only while the callback runs.
 *
 * Secrets (credentials, card numbers, security codes, tokens) never appear in
 * a result's message: service messages are copied with any configured secret
 * and any run of 13 or more digits replaced by "[redacted]". Nothing here
 * logs.
 *
 * The gateways layer knows nothing about the store: persisting what a result
 * says is the caller's job. Single-threaded: call everything on the loop's
 * thread.
 */
#ifndef OSPAY_GATEWAYS_GATEWAY_H
#define OSPAY_GATEWAYS_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/status.h"
#include "net/http_client.h"

/* ------------------------------------------------------------------ limits */

/* Buffer sizes (NUL included) of the fixed-size strings in results. */
#define GW_ID_MAX 129          /* payment ids, link ids, order keys, message ids */
#define GW_TOKEN_MAX 257       /* card tokens (GetNet number tokens are 128 hex digits) */
#define GW_CODE_MAX 33         /* a service's return or error code */
#define GW_MSG_MAX 256         /* a service's message, truncated */
#define GW_URL_MAX 2049        /* payment link URLs */
#define GW_STATUS_MAX 33       /* a service's status word ("APPROVED", "paid") */
#define GW_EVENT_ID_MAX 129    /* webhook event ids */
#define GW_ORDER_ID_MAX 51     /* merchant order ids: Cielo accepts at most 50 characters */
#define GW_MAX_INSTALLMENTS 48 /* installments of one payment link */
/* Cielo lets up to three static header pairs be registered for its notifications. */
#define GW_MAX_WEBHOOK_HEADERS 3
/* Largest amount any call accepts: R$ 1 billion. */
#define GW_MAX_AMOUNT_CENTS INT64_C(100000000000)

/* ------------------------------------------------------------------ enums */

typedef enum gw_kind {
	GW_KIND_PAGOLIVRE = 1,
	GW_KIND_CIELO = 2,
	GW_KIND_GETNET = 3,
	GW_KIND_ZAPME = 4,
	/* A PSP speaking the Central Bank's API Pix (Pix Automático); see gw_pix_* below. */
	GW_KIND_PIX = 5,
} gw_kind_t;

/*
 * The normalized state of what a call acted on, after the call. Each call's
 * comment says which values it produces; every call may produce the last five.
 */
typedef enum gw_outcome {
	/* Charge authorized or captured; link paid; card tokenized; message sent. */
	GW_OUTCOME_APPROVED = 0,
	/* The service refused: issuer decline, tokenization refused, message refused. */
	GW_OUTCOME_DECLINED,
	/* Accepted, final state later: link created and unpaid, charge still processing. */
	GW_OUTCOME_PENDING,
	/* Voided, refunded or canceled (charges and links). */
	GW_OUTCOME_CANCELED,
	/* A payment link that expired unpaid. */
	GW_OUTCOME_EXPIRED,
	/* The service does not know the payment, link, card or message asked about. */
	GW_OUTCOME_NOT_FOUND,
	/* The request was refused before any processing (validation error, bad
	 * field): retrying the same request will fail the same way. */
	GW_OUTCOME_REJECTED,
	/* The service refused our credentials (HTTP 401/403); nothing was done. */
	GW_OUTCOME_AUTH_FAILED,
	/* Nothing happened at the service (never sent, connection refused, a read
	 * that failed, HTTP 429): safe to try again later. */
	GW_OUTCOME_ERROR_RETRYABLE,
	/* A request that changes something may or may not have been processed
	 * (timeout or reset after sending, HTTP 5xx, unreadable success): resolve it
	 * by querying before doing anything else with it. Never a decline. */
	GW_OUTCOME_UNKNOWN,
} gw_outcome_t;

typedef enum gw_brand {
	GW_BRAND_UNKNOWN = 0,
	GW_BRAND_VISA,
	GW_BRAND_MASTERCARD,
	GW_BRAND_AMEX,
	GW_BRAND_ELO,
	GW_BRAND_HIPERCARD,
	GW_BRAND_DINERS,
	GW_BRAND_DISCOVER,
	GW_BRAND_JCB,
	GW_BRAND_AURA,
} gw_brand_t;

typedef enum gw_channel {
	GW_CHANNEL_WHATSAPP = 0,
	GW_CHANNEL_SMS,
	GW_N_CHANNELS,
} gw_channel_t;

/* What a webhook says happened (a hint: re-query before changing any state). */
typedef enum gw_event_kind {
	GW_EVENT_OTHER = 0,
	/* A charge's status changed: Cielo ChangeType 1, every GetNet notification. */
	GW_EVENT_PAYMENT_STATUS,
	/* Cielo ChangeType 2 (recurrence created) and 4 (recurrent payment status). */
	GW_EVENT_RECURRENCE,
	GW_EVENT_ANTIFRAUD,     /* Cielo ChangeType 3 */
	GW_EVENT_CANCEL_DENIED, /* Cielo ChangeType 5 */
	GW_EVENT_CHARGEBACK,    /* Cielo ChangeType 7 */
	GW_EVENT_FRAUD_ALERT,   /* Cielo ChangeType 8 */
	GW_EVENT_LINK_PAID,
	GW_EVENT_LINK_DECLINED,
	GW_EVENT_LINK_CANCELED,
	GW_EVENT_LINK_EXPIRED,
	GW_EVENT_INSTALLMENT_CONFIRMED,
	GW_EVENT_INSTALLMENT_DENIED,
	GW_EVENT_MESSAGE_STATUS,
} gw_event_kind_t;

/* ------------------------------------------------------------------ configuration */

/* A header pair a notification must carry is an HTTP header's name and value. */
typedef http_header_t gw_header_pair_t;

/*
 * A gateway's configuration. gw_open copies every string; unused fields stay
 * NULL. Credentials are secrets: they are wiped when the gateway is freed and
 * never copied into a result.
 */
typedef struct gw_config {
	gw_kind_t kind;
	/* http:// or https:// prefix of every path; a trailing '/' is ignored. For the
	 * local emulator: "http://127.0.0.1:PORT/cielo" and so on. */
	const char *base_url;
	/* Cielo only: the query host for GETs ("apiquery..."); NULL = base_url. */
	const char *query_base_url;

	/* Cielo: the MerchantId and MerchantKey headers. */
	const char *merchant_id;
	const char *merchant_key;
	/* GetNet: OAuth2 client credentials and the seller id (also what its
	 * notifications are authenticated by). */
	const char *client_id;
	const char *client_secret;
	const char *seller_id;
	/* PagoLivre: the API token, already base64 as PagoLivre delivers it; also
	 * what its webhook's accessToken query parameter must equal. */
	const char *api_token;
	/* PagoLivre: default callbackUrl sent with each order (may be NULL). */
	const char *callback_url;
	/* ZapMe: the "api" and "secret" form fields. */
	const char *api_key;
	const char *api_secret;

	/* Cielo: the static header pairs registered with Cielo for its notifications;
	 * ZapMe: the configured secret header. Every pair must be present and equal. */
	gw_header_pair_t webhook_headers[GW_MAX_WEBHOOK_HEADERS];
	size_t n_webhook_headers;

	/* Cielo and GetNet: the statement name (Cielo: at most 13 letters, digits or
	 * spaces). NULL: none sent. */
	const char *soft_descriptor;

	/* Pix: the PSP's profile ("bcb", "efi", "inter", "cielo"; NULL = "bcb"): paths,
	 * token request and webhook registration differences (docs/pix-automatico.md). */
	const char *pix_profile;
	/* Pix: the receiver's account at the PSP for cobr.recebedor (agencia optional;
	 * account type CORRENTE, POUPANCA or PAGAMENTO, NULL = CORRENTE). */
	const char *pix_branch;
	const char *pix_account;
	const char *pix_account_type;
	/* Mutual TLS client certificate and key, PEM in memory (Pix: every call, the
	 * token's included). The key is a secret: wiped at free, never on disk. */
	const char *client_cert_pem;
	const char *client_key_pem;
	/* Pix: the secret ospay puts in the webhook URL it registers (?hmac=...), what
	 * an inbound callback must carry. */
	const char *webhook_secret;
	/* Pix: the receiver's Pix key (chave: CPF, CNPJ, e-mail, +55 phone or EVP, at
	 * most 77 bytes), named by cob and cobv bodies and by PUT /webhook/{chave}.
	 * Optional here; those calls fail -EINVAL without it. */
	const char *pix_key;

	/* Per call, queueing included; 0 = the HTTP client's default. */
	uint32_t timeout_ms;
	/* The HTTP client pool (concurrency cap); NULL = "cielo", "getnet"... */
	const char *pool;
	/* PEM bundle replacing the system CAs (NULL = system); insecure: tests only. */
	const char *ca_file;
	bool insecure;
} gw_config_t;

typedef struct gw gw_t;

/* ------------------------------------------------------------------ results */

/* What every result starts with. */
typedef struct gw_reply {
	gw_outcome_t outcome;
	/* 0 when the service answered something ospay understood; else a negative
	 * errno: the transport's (-ETIMEDOUT, -ECONNRESET, ...), -EBADMSG for an
	 * answer that could not be parsed, -EPROTO for an unexpected HTTP status. */
	int error;
	long http_status; /* 0 when no HTTP answer arrived */
	/* The service's own return or error code ("78", "126", "PAYMENTS-011"); "" when none. */
	char code[GW_CODE_MAX];
	/* The service's message, or ospay's description of what went wrong. */
	char message[GW_MSG_MAX];
} gw_reply_t;

typedef struct gw_charge_result {
	gw_reply_t r;
	char payment_id[GW_ID_MAX];
	/* As the caller gave it; for a query by payment id, as the service answered
	 * (empty when it named none). */
	char merchant_order_id[GW_ORDER_ID_MAX];
	/* Cielo's Payment.Status (0..20), -1 when the answer carried none. */
	int provider_status;
	/* GetNet's status word ("APPROVED", "DENIED", ...); Cielo's status name. */
	char status_text[GW_STATUS_MAX];
	/* The issuer's (ABECS) response code when known: Cielo's ReturnCode, the
	 * "[ECOM - nn]" code of a GetNet decline. */
	char abecs_code[GW_CODE_MAX];
	/* A decline whose code must never be retried with the same card
	 * (reference/gateways.md table 1.10: lost, stolen, invalid number,
	 * recurring payment suspended...). Only meaningful with DECLINED. */
	bool irreversible;
	char authorization_code[GW_CODE_MAX];
	char proof_of_sale[GW_CODE_MAX]; /* Cielo ProofOfSale (NSU), GetNet terminal_nsu */
	char tid[GW_ID_MAX];             /* Cielo Tid, GetNet acquirer_transaction_id */
	/* GetNet credit.transaction_id: pass it back as network_txn_id on the
	 * later charges of a recurring series. */
	char network_txn_id[GW_ID_MAX];
	/* Mastercard's Merchant Advice Code on a decline (Cielo
	 * Payment.MerchantAdviceCode); "" when none. */
	char advice_code[GW_CODE_MAX];
	/*
	 * Cielo Renova Fácil: the issuer's replacement for the card charged
	 * (Payment.NewCard), 12-19 digits, "" when none. A secret: copy it for
	 * the one call that tokenizes it (the result is wiped after the callback).
	 */
	char new_card_number[20];
	unsigned new_card_exp_month, new_card_exp_year;
	gw_brand_t new_card_brand;
	char card_token[GW_TOKEN_MAX];
	gw_brand_t brand;
	int64_t amount_cents; /* -1 when the answer carried none */
	/* Query by merchant order id: how many payments the service holds for it
	 * (more than one means a duplicate charge that needs attention). */
	uint32_t n_found;
} gw_charge_result_t;

typedef struct gw_token_result {
	gw_reply_t r;
	/* Cielo CardToken; GetNet vault card_id. What gw_charge_req_t.card_token wants. */
	char card_token[GW_TOKEN_MAX];
	gw_brand_t brand;
} gw_token_result_t;

/* One monthly installment of a payment link, as the service reports it. */
typedef struct gw_installment {
	uint32_t number; /* 1-based */
	/* APPROVED (confirmed), DECLINED (denied), PENDING (waiting), CANCELED. */
	gw_outcome_t outcome;
	char status[GW_STATUS_MAX];
	int64_t amount_cents; /* -1 when absent */
	char reason[GW_MSG_MAX];
} gw_installment_t;

typedef struct gw_link_result {
	gw_reply_t r;
	char link_id[GW_ID_MAX];   /* the service's id of the order */
	char order_key[GW_ID_MAX]; /* ours */
	char payment_url[GW_URL_MAX];
	char status[GW_STATUS_MAX]; /* the service's status word */
	char expires_at[40];        /* as the service wrote it; "" when absent */
	/* decliningReason or cancelingReason. */
	char reason[GW_MSG_MAX];
	uint32_t installments; /* 0 when absent */
	size_t n_charges;
	gw_installment_t charges[GW_MAX_INSTALLMENTS];
} gw_link_result_t;

typedef struct gw_message_result {
	gw_reply_t r;
	char message_id[GW_ID_MAX]; /* "" when the service gave none */
	char status[GW_STATUS_MAX]; /* the service's word ("message_sent", "missing_number") */
} gw_message_result_t;

/* A webhook's content after gw_parse_webhook. */
typedef struct gw_event {
	gw_event_kind_t kind;
	/* The service's event id or, when it sends none, one derived from the content
	 * (derived_id): identical notifications then get identical ids. */
	char event_id[GW_EVENT_ID_MAX];
	bool derived_id;
	char payment_id[GW_ID_MAX];    /* Cielo PaymentId, GetNet payment_id */
	char order_ref[GW_ID_MAX];     /* PagoLivre orderKey, GetNet order_id */
	char recurrence_id[GW_ID_MAX]; /* Cielo RecurrentPaymentId */
	char message_id[GW_ID_MAX];    /* ZapMe */
	uint32_t installment;          /* PagoLivre installment number; 0 when none */
	/* What the body claims (GetNet status, PagoLivre eventName, ZapMe status):
	 * a hint for logs, never the truth. */
	char hint[GW_STATUS_MAX];
	int change_type; /* Cielo ChangeType; 0 otherwise */
	/* Why gw_parse_webhook failed. */
	char error[GW_MSG_MAX];
} gw_event_t;

/* Pix Automático (GW_KIND_PIX): one result for every call, filled as far as the
 * answer goes. Words are the PSP's (BCB API 2.9.0): read them with core/pix.h. */
#define GW_PIX_MAX_ATTEMPTS 8
#define GW_PIX_LOCATION_MAX 257
#define GW_PIX_COPIA_E_COLA_MAX 513
#define GW_PIX_DATE_MAX 11 /* "YYYY-MM-DD" */

typedef struct gw_pix_attempt {
	char date[GW_PIX_DATE_MAX];    /* dataLiquidacao */
	char kind[GW_STATUS_MAX];      /* tipo: AGND, NTAG, RIFL */
	char status[GW_STATUS_MAX];    /* SOLICITADA ... EXPIRADA */
	char end_to_end_id[GW_ID_MAX]; /* endToEndId */
	char reason[GW_CODE_MAX];      /* rejeicao.codigo, "" when none */
} gw_pix_attempt_t;

typedef struct gw_pix_result {
	/* rec: APROVADA APPROVED, CRIADA PENDING, REJEITADA DECLINED, EXPIRADA EXPIRED,
	 * CANCELADA CANCELED. cobr: CONCLUIDA APPROVED, CRIADA/ATIVA PENDING (see
	 * outcome_detail), REJEITADA/EXPIRADA DECLINED, CANCELADA CANCELED. solicrec:
	 * ACEITA APPROVED, REJEITADA DECLINED, EXPIRADA EXPIRED, CANCELADA CANCELED,
	 * else PENDING. Location and webhook registration: APPROVED. Plus the last five. */
	gw_reply_t r;
	/* cobr only: enum pix_outcome of core/pix.h (-1 when not a cobr). */
	int outcome_detail;
	char id_rec[GW_ID_MAX];
	char txid[GW_ID_MAX];
	char id_solicrec[GW_ID_MAX];
	char status[GW_STATUS_MAX];   /* the rec's, cobr's or solicrec's status word */
	char policy[GW_STATUS_MAX];   /* politicaRetentativa */
	char journey[GW_STATUS_MAX];  /* ativacao.tipoJornada or dadosQR.jornada */
	char ended_by[GW_STATUS_MAX]; /* encerramento.cancelamento.solicitante */
	char end_code[GW_CODE_MAX];   /* encerramento's cancelamento or rejeicao codigo */
	int64_t loc_id;               /* -1 when none */
	char location[GW_PIX_LOCATION_MAX];
	char copia_e_cola[GW_PIX_COPIA_E_COLA_MAX];
	int64_t amount_cents; /* valorRec or valor.original; -1 when none */
	char due_date[GW_PIX_DATE_MAX];
	size_t n_attempts;
	gw_pix_attempt_t attempts[GW_PIX_MAX_ATTEMPTS];
	char end_to_end_id[GW_ID_MAX]; /* pix[0].endToEndId once paid */
} gw_pix_result_t;

/* ------------------------------------------------------------------ requests */

/* A card to tokenize. Every pointer is borrowed for the duration of the call. */
typedef struct gw_card {
	const char *number; /* 12-19 digits */
	const char *holder;
	unsigned exp_month; /* 1..12 */
	unsigned exp_year;  /* four digits */
	/* Optional: GetNet's vault checks it; used for that one call and never kept. */
	const char *security_code;
	gw_brand_t brand;
	const char *customer_id;   /* GetNet customer_id (required there) */
	const char *customer_name; /* Cielo CustomerName (required there) */
	const char *document; /* optional CPF/CNPJ, digits (GetNet cardholder_identification) */
} gw_card_t;

/*
 * A charge of a stored card. recurring + !first_use is the normal monthly
 * merchant-initiated charge ("Recorrência Própria"); first_use marks the first
 * use of the stored credential, made with the cardholder present.
 */
typedef struct gw_charge_req {
	/* Letters, digits and '-', 1..50; deterministic per attempt so an unknown
	 * outcome can be resolved by gw_query_charge_by_order. */
	const char *merchant_order_id;
	int64_t amount_cents;  /* 1..GW_MAX_AMOUNT_CENTS */
	uint32_t installments; /* 0 or 1: one payment; recurring charges must use 1 */
	bool recurring;
	bool first_use;
	const char *card_token;    /* from gw_tokenize_card */
	gw_brand_t brand;          /* required */
	const char *security_code; /* optional; never kept */
	/* GetNet: the card's holder and expiry (taken from the vault when absent). */
	const char *holder;
	unsigned exp_month;
	unsigned exp_year;
	const char *customer_id; /* GetNet (required there) */
	const char *customer_name;
	const char *customer_email;
	const char *customer_document; /* digits */
	const char *customer_phone;    /* digits */
	/* GetNet: network_txn_id of the first approved charge of a recurring series. */
	const char *network_txn_id;
} gw_charge_req_t;

/* A stored card to validate without charging it (Zero Auth). */
typedef struct gw_zero_auth_req {
	const char *card_token; /* from gw_tokenize_card */
	gw_brand_t brand;       /* required */
} gw_zero_auth_req_t;

typedef struct gw_link_req {
	const char *order_key; /* ours: letters, digits, '-', '_', '.', 1..50 */
	int64_t amount_cents;
	uint32_t installments; /* 1..GW_MAX_INSTALLMENTS */
	const char *customer_name;
	const char *customer_document; /* CPF, digits */
	const char *customer_phone;    /* digits or E.164 */
	const char *customer_email;
	const char *message;      /* optional text shown to the customer */
	const char *callback_url; /* optional; the config's when NULL */
	const char *return_url;   /* optional */
} gw_link_req_t;

typedef struct gw_cancel_link_req {
	const char *link_id;  /* gw_link_result_t.link_id */
	const char *reason;   /* optional */
	int64_t amount_cents; /* 0 = everything */
} gw_cancel_link_req_t;

typedef struct gw_message_req {
	const char *phone; /* E.164 ("+5511985850505") or digits */
	const char *text;
	gw_channel_t channel;
} gw_message_req_t;

/* POST /rec. Strings borrowed for the call; optional ones may be NULL. */
typedef struct gw_pix_rec_req {
	const char *contract;     /* vinculo.contrato, 1..35 */
	const char *object;       /* vinculo.objeto, optional, <= 35 */
	const char *debtor_doc;   /* CPF (11 digits) or CNPJ (14 of [0-9A-Z]) */
	const char *debtor_name;  /* 1..140 */
	const char *first_date;   /* calendario.dataInicial, YYYY-MM-DD */
	const char *last_date;    /* calendario.dataFinal, optional */
	const char *periodicity;  /* SEMANAL, MENSAL (NULL), TRIMESTRAL, SEMESTRAL, ANUAL */
	int64_t fixed_cents;      /* valorRec; 0 = a variable amount */
	int64_t floor_cents;      /* valorMinimoRecebedor; 0 = none; never with fixed */
	bool retries;             /* PERMITE_3R_7D, else NAO_PERMITE */
	int64_t loc_id;           /* from gw_pix_create_location; 0 = none (journey 1) */
	const char *journey_txid; /* journey 3: the immediate cob's txid; optional */
} gw_pix_rec_req_t;

/* POST /solicrec (journey 1). */
typedef struct gw_pix_solicrec_req {
	const char *id_rec;
	const char *expires_at; /* RFC 3339 */
	const char *ispb;       /* the payer's PSP, 8 of [0-9A-Z] */
	const char *branch;     /* optional, <= 4 */
	const char *account;    /* 1..20 */
	const char *doc;        /* CPF or CNPJ */
} gw_pix_solicrec_req_t;

/* PUT /cobr/{txid}: one cycle's charge instruction. */
typedef struct gw_pix_cobr_req {
	const char *txid; /* pix_txid() of the invoice's cycle */
	const char *id_rec;
	const char *due_date; /* YYYY-MM-DD */
	int64_t amount_cents;
	const char *info; /* infoAdicional, optional, <= 140 */
} gw_pix_cobr_req_t;

typedef enum gw_pix_hook {
	GW_PIX_HOOK_REC = 0, /* PUT /webhookrec: the PSP posts to URL + "/rec" */
	GW_PIX_HOOK_COBR,    /* PUT /webhookcobr: URL + "/cobr" */
	/* PUT /webhook/{chave} (cfg.pix_key): the PSP posts Pix received (journey 3's and
	 * 4's first payments, on the cob and cobv) to URL + "/pix". */
	GW_PIX_HOOK_PIX,
} gw_pix_hook_t;

/* PUT /cob/{txid}: an immediate charge (journey 3's first payment). The PSP gives
 * it a location of its own (BCB: a cob without "loc" gets one); the journey-3 QR
 * is then GET /rec/{idRec}?txid= of this txid. Strings borrowed for the call. */
typedef struct gw_pix_cob_req {
	const char *txid;        /* ours, 26..35 of [a-zA-Z0-9] */
	int64_t amount_cents;    /* valor.original */
	uint32_t expires_s;      /* calendario.expiracao; 0 = 86400 */
	const char *debtor_doc;  /* CPF or CNPJ, optional */
	const char *debtor_name; /* required with debtor_doc, not without */
	const char *info;        /* solicitacaoPagador, optional, <= 140 */
} gw_pix_cob_req_t;

/* PUT /cobv/{txid}: a charge with a due date (journey 4: the invoice's own Pix,
 * after which the payer's app offers to enroll). */
typedef struct gw_pix_cobv_req {
	const char *txid;
	const char *due_date;    /* calendario.dataDeVencimento, YYYY-MM-DD */
	uint32_t validity_days;  /* calendario.validadeAposVencimento; 0 = 30 */
	int64_t amount_cents;    /* valor.original */
	const char *debtor_doc;  /* required by cobv */
	const char *debtor_name; /* required by cobv */
	const char *info;        /* solicitacaoPagador, optional, <= 140 */
} gw_pix_cobv_req_t;

/* An inbound webhook request as the HTTPS listener received it (all borrowed). */
typedef struct gw_webhook_req {
	const char *method; /* "GET" or "POST" */
	const char *query;  /* raw query string after '?', NULL when none */
	const http_header_t *headers;
	size_t n_headers;
	const uint8_t *body;
	size_t body_len;
} gw_webhook_req_t;

/* ------------------------------------------------------------------ callbacks */

/* Each runs exactly once per accepted call; res is borrowed until it returns. */
typedef void (*gw_charge_cb)(const gw_charge_result_t *res, void *arg);
typedef void (*gw_token_cb)(const gw_token_result_t *res, void *arg);
typedef void (*gw_link_cb)(const gw_link_result_t *res, void *arg);
typedef void (*gw_message_cb)(const gw_message_result_t *res, void *arg);
typedef void (*gw_pix_cb)(const gw_pix_result_t *res, void *arg);

/* ------------------------------------------------------------------ lifetime */

/*
 * Creates a gateway of cfg->kind that sends through http (which must outlive
 * it) on loop. cfg is copied. On success *out is the caller's until
 * gw_close. Returns 0, -ENOMEM, or -EINVAL with the offending fields in st
 * (may be NULL) as violations ("merchant_key: required").
 */
int gw_open(gw_t **out, http_client_t *http, uv_loop_t *loop, const gw_config_t *cfg, status_t *st);
/*
 * Makes every JSON value the adapters free (card numbers, security codes,
 * credentials, tokens in parsed answers) wiped first: jansson's allocator for
 * the whole process. Call once before any JSON is built (ospayd serve does).
 */
void gw_json_secure_init(void);

/*
 * Releases the gateway. Calls already started still complete and run their
 * callbacks; the memory goes when the last one has. New calls fail with
 * -ESHUTDOWN. NULL is ignored.
 */
void gw_close(gw_t *gw);

gw_kind_t gw_kind(const gw_t *gw);

/* ------------------------------------------------------------------ calls */

/*
 * PagoLivre: creates an order that the customer pays through a link (the service
 * sends the link by SMS). Outcomes: PENDING with link_id and payment_url.
 * Immediate failures: -EINVAL (bad field), -ENOTSUP (not a link gateway),
 * -ESHUTDOWN, -ENOMEM, or the HTTP client's refusal (-EAGAIN).
 */
int gw_create_link(gw_t *gw, const gw_link_req_t *req, gw_link_cb cb, void *arg);

/* PagoLivre: the order of our order_key. Outcomes: PENDING (created), APPROVED (paid),
 * DECLINED, CANCELED, EXPIRED, NOT_FOUND; charges[] lists monthly installments. */
int gw_query_link(gw_t *gw, const char *order_key, gw_link_cb cb, void *arg);

/* PagoLivre: cancels the order (all of it, or amount_cents of it). Outcome CANCELED. */
int gw_cancel_link(gw_t *gw, const gw_cancel_link_req_t *req, gw_link_cb cb, void *arg);

/*
 * Cielo, GetNet: stores the card at the service and answers its reusable token.
 * Outcomes: APPROVED with card_token, DECLINED, REJECTED. The card data is used
 * for this one call; ospay's own copies are wiped when it completes.
 */
int gw_tokenize_card(gw_t *gw, const gw_card_t *card, gw_token_cb cb, void *arg);

/*
 * Cielo, GetNet: charges a stored card, with the recurrence, card-on-file and
 * initiator flags that recurring/first_use select (docs/gateways.md).
 * Outcomes: APPROVED, DECLINED (irreversible set from the code), PENDING,
 * UNKNOWN (query by merchant order id before anything else). GetNet: NOT_FOUND
 * when the vault no longer has the card.
 */
int gw_charge_card(gw_t *gw, const gw_charge_req_t *req, gw_charge_cb cb, void *arg);

/*
 * Cielo: Zero Auth (POST /1/zeroauth) of a stored card, sent as the stored
 * credential's first use. Outcomes: APPROVED (Valid; network_txn_id carries
 * the network's id when the answer has one), DECLINED (code and message the
 * issuer's), REJECTED. GetNet: -ENOTSUP.
 */
int gw_zero_auth(gw_t *gw, const gw_zero_auth_req_t *req, gw_charge_cb cb, void *arg);

/* Cielo (void), GetNet (cancel): cancels a charge; amount_cents 0 = all of it
 * (GetNet's v1 cancel takes no amount: anything but 0 is -EINVAL there).
 * Outcomes: CANCELED, REJECTED (not cancelable), NOT_FOUND. */
int gw_cancel_charge(gw_t *gw, const char *payment_id, int64_t amount_cents, gw_charge_cb cb,
		     void *arg);

/* Cielo, GetNet: the charge's current state by the service's payment id. GetNet
 * documents no such query; the path used is an assumption (docs/gateways.md). */
int gw_query_charge(gw_t *gw, const char *payment_id, gw_charge_cb cb, void *arg);

/*
 * Cielo: the charge made under merchant_order_id. NOT_FOUND when the service has
 * none (the attempt never reached it); with several, the approved one wins and
 * n_found says how many there are. GetNet documents no such query: -ENOTSUP.
 */
int gw_query_charge_by_order(gw_t *gw, const char *merchant_order_id, gw_charge_cb cb, void *arg);
/* Whether gw_query_charge_by_order can work here (Cielo yes, GetNet no): a
 * charge whose answer was lost can then be found without its payment id. */
bool gw_can_query_by_order(const gw_t *gw);

/* ZapMe: sends a WhatsApp message. Outcomes: APPROVED (accepted), REJECTED.
 * A channel the service cannot deliver (gw_check_channel): -ENOTSUP. */
int gw_send_message(gw_t *gw, const gw_message_req_t *req, gw_message_cb cb, void *arg);

/* ZapMe: a message's delivery status. Outcomes: APPROVED (sent), DECLINED
 * (undeliverable), PENDING, NOT_FOUND. */
int gw_message_status(gw_t *gw, const char *message_id, gw_message_cb cb, void *arg);

/*
 * Pix Automático (GW_KIND_PIX; other kinds: -ENOTSUP). Each call is one request
 * to the PSP, after an OAuth2 client-credentials token fetched over mutual TLS
 * and shared by concurrent calls (a 401 drops it and re-sends once). Writes
 * that lose their answer are UNKNOWN: resolve with the matching query first
 * (gw_pix_query_cobr for gw_pix_put_cobr: the txid is ours, so the query
 * finds it). Immediate failures as for the other calls, -EINVAL for a bad field.
 */
/* POST /locrec: a location for a QR journey. APPROVED with loc_id, location. */
int gw_pix_create_location(gw_t *gw, gw_pix_cb cb, void *arg);
/* POST /rec. PENDING (CRIADA) with id_rec. */
int gw_pix_create_rec(gw_t *gw, const gw_pix_rec_req_t *req, gw_pix_cb cb, void *arg);
/* GET /rec/{idRec}[?txid=]: the rec, its journey and QR (copia_e_cola) when set. */
int gw_pix_query_rec(gw_t *gw, const char *id_rec, const char *txid, gw_pix_cb cb, void *arg);
/* PATCH /rec/{idRec} {"status":"CANCELADA"}: the receiver cancels the mandate. */
int gw_pix_cancel_rec(gw_t *gw, const char *id_rec, gw_pix_cb cb, void *arg);
/* POST /solicrec: journey 1's request to the payer's app. */
int gw_pix_create_solicrec(gw_t *gw, const gw_pix_solicrec_req_t *req, gw_pix_cb cb, void *arg);
/* GET /solicrec/{id}; PATCH it {"status":"CANCELADA"} (while CRIADA, ENVIADA, RECEBIDA). */
int gw_pix_query_solicrec(gw_t *gw, const char *id_solicrec, gw_pix_cb cb, void *arg);
int gw_pix_cancel_solicrec(gw_t *gw, const char *id_solicrec, gw_pix_cb cb, void *arg);
/* PUT /cobr/{txid}: idempotent by txid. PENDING with the cobr, REJECTED, UNKNOWN. */
int gw_pix_put_cobr(gw_t *gw, const gw_pix_cobr_req_t *req, gw_pix_cb cb, void *arg);
/* GET /cobr/{txid}. NOT_FOUND when the PSP never got it. */
int gw_pix_query_cobr(gw_t *gw, const char *txid, gw_pix_cb cb, void *arg);
/* PATCH /cobr/{txid} {"status":"CANCELADA"}. CANCELED, REJECTED (too late). */
int gw_pix_cancel_cobr(gw_t *gw, const char *txid, gw_pix_cb cb, void *arg);
/* POST /cobr/{txid}/retentativa/{date}. PENDING with the attempts, REJECTED. */
int gw_pix_retry_cobr(gw_t *gw, const char *txid, const char *date, gw_pix_cb cb, void *arg);
/* PUT /webhookrec, /webhookcobr or /webhook/{chave} with url +
 * "?hmac=<webhook_secret>&ignorar=" (the PSP appends "/rec", "/cobr" or "/pix"
 * after "ignorar=", which keeps the path ours). */
int gw_pix_register_webhook(gw_t *gw, gw_pix_hook_t hook, const char *url, gw_pix_cb cb, void *arg);
/*
 * cob and cobv (journeys 3 and 4). Results: status ATIVA PENDING, CONCLUIDA
 * APPROVED (end_to_end_id = pix[0].endToEndId), REMOVIDA_PELO_USUARIO_RECEBEDOR
 * and REMOVIDA_PELO_PSP CANCELED; txid, location, copia_e_cola (pixCopiaECola),
 * amount_cents, due_date (cobv), loc_id. outcome_detail stays -1 (not a cobr).
 * The PUTs are idempotent by txid: an UNKNOWN one is resolved by the query.
 * -EINVAL also when the gateway has no pix_key.
 */
/* GET /locrec/{id}: APPROVED with loc_id, location and, once a rec uses it, id_rec
 * (how an unknown answer to POST /rec is resolved before asking again). */
int gw_pix_query_location(gw_t *gw, int64_t loc_id, gw_pix_cb cb, void *arg);
int gw_pix_put_cob(gw_t *gw, const gw_pix_cob_req_t *req, gw_pix_cb cb, void *arg);
int gw_pix_query_cob(gw_t *gw, const char *txid, gw_pix_cb cb, void *arg);
int gw_pix_put_cobv(gw_t *gw, const gw_pix_cobv_req_t *req, gw_pix_cb cb, void *arg);
int gw_pix_query_cobv(gw_t *gw, const char *txid, gw_pix_cb cb, void *arg);

/*
 * Authenticates an inbound webhook the way the service can (constant-time
 * comparisons): Cielo's registered static headers, GetNet's seller_id
 * parameter, PagoLivre's accessToken query parameter, ZapMe's configured
 * secret header. Returns 0, or -EACCES (missing, wrong, or repeated credential,
 * or none configured). Never touches the body beyond what authentication needs.
 */
int gw_verify_webhook(const gw_t *gw, const gw_webhook_req_t *req);

/*
 * Extracts the event id, kind and references of an authenticated webhook into
 * *out. Returns 0, or -EBADMSG with out->error saying why (not JSON, wrong
 * types, no reference to re-query with).
 */
int gw_parse_webhook(const gw_t *gw, const gw_webhook_req_t *req, gw_event_t *out);

/* ------------------------------------------------------------------ capabilities */

/*
 * Can a service of kind deliver messages on channel? Settings are checked with
 * it before they are stored, so that a notifier never waits for messages it
 * can never send; gw_send_message applies the same rule. Returns 0 when it
 * can, -ENOTSUP when the service cannot (no messages at all, or not that
 * channel), -EINVAL for a kind or channel outside the enums. On failure, why
 * (cap bytes; may be NULL) gets a sentence for the person configuring it
 * ("ZapMe delivers WhatsApp messages only; SMS is not supported").
 */
int gw_check_channel(gw_kind_t kind, gw_channel_t channel, char *why, size_t cap);

/* ------------------------------------------------------------------ names */

/* "APPROVED", "DECLINED", ...; "?" for values outside the enum. */
const char *gw_outcome_name(gw_outcome_t o);
/* "pagolivre", "cielo", "getnet", "zapme"; "?" otherwise. */
const char *gw_kind_name(gw_kind_t k);
/* "WhatsApp", "SMS"; "?" otherwise. */
const char *gw_channel_name(gw_channel_t c);
/* "visa", "mastercard", ...; "unknown". */
const char *gw_brand_name(gw_brand_t b);
/* Case-insensitive; accepts the services' spellings ("Master", "MasterCard"). */
gw_brand_t gw_brand_parse(const char *s);
/* "payment_status", "link_paid", ... */
const char *gw_event_kind_name(gw_event_kind_t k);

#endif
