/*
 * Pix Automático rules (docs/pix-automatico.md): the txid of a cycle's charge
 * instruction (cobr), the days on which it may be sent, the receiver's retry
 * days, business-day arithmetic, the authorization state machine, the amount
 * checks and what a PSP's cobr status and reason codes mean for ospay. Pure,
 * no I/O: holidays come from the caller through pix_closed_fn (the national
 * calendar lives elsewhere), dates are day numbers (core/date.h).
 */
#ifndef OSPAY_CORE_PIX_H
#define OSPAY_CORE_PIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* txid: [a-zA-Z0-9]{26,35} (BCB TxId); ours are always 35 bytes + NUL. */
#define PIX_TXID_MIN 26
#define PIX_TXID_MAX 35
#define PIX_TXID_SIZE (PIX_TXID_MAX + 1)
/* idRec: [a-zA-Z0-9]{29}. */
#define PIX_IDREC_LEN 29
/* Money strings are \d{1,10}\.\d{2}: at most 13 bytes + NUL. */
#define PIX_MONEY_SIZE 14
#define PIX_MONEY_MAX_CENTAVOS INT64_C(999999999999)
/* Receiver-requested retries under PERMITE_3R_7D. */
#define PIX_RETRY_MAX 3
#define PIX_RETRY_HORIZON_DAYS 7

/* true when the day (core/date.h day number) is a holiday; arg is the caller's. */
typedef bool (*pix_closed_fn)(int64_t day, void *arg);

/* ---------------------------------------------------------------- txid */

/*
 * The txid of the charge instruction of one invoice's cycle: "osp" + 32 hex
 * digits of SHA-256(org, invoice, due day). Same inputs, same txid, so a PUT
 * /cobr/{txid} resent after a timeout names the same charge. org_id and
 * invoice_id must be non-empty; out has PIX_TXID_SIZE bytes. 0 or -EINVAL.
 */
int pix_txid(const char *org_id, const char *invoice_id, int64_t due_day, char out[PIX_TXID_SIZE]);
/* 1 when s is a valid BCB txid ([a-zA-Z0-9]{26,35}). */
bool pix_txid_valid(const char *s);
/* 1 when s is a valid idRec ([a-zA-Z0-9]{29} starting with R). */
bool pix_idrec_valid(const char *s);

/* ---------------------------------------------------------------- money */

/* "106.07" from 10607 centavos (1..PIX_MONEY_MAX_CENTAVOS); 0 or -EINVAL. */
int pix_money_format(int64_t centavos, char out[PIX_MONEY_SIZE]);
/* Strict \d{1,10}\.\d{2}; 0 or -EINVAL. */
int pix_money_parse(const char *s, int64_t *centavos);

/* ---------------------------------------------------------------- business days */

/* Monday..Friday and not closed (closed may be NULL: weekends only). */
bool pix_business_day(int64_t day, pix_closed_fn closed, void *arg);
/* n business days after (n > 0) or before (n < 0) day; n == 0 gives day itself. */
int64_t pix_business_add(int64_t day, int n, pix_closed_fn closed, void *arg);
/* day itself when a business day, else the next one. */
int64_t pix_business_next(int64_t day, pix_closed_fn closed, void *arg);

/* ---------------------------------------------------------------- send window */

/*
 * When a cobr may be sent: no earlier than `earliest` days before the due
 * date and no later than `latest` days before it, each bound counted in
 * calendar or business days. The rule says "10 to 2 days" without the unit;
 * the safe reading (PIX_WINDOW_DEFAULT) takes the narrower bound of each side:
 * 10 calendar days at the far end, 2 business days at the near end.
 */
typedef struct pix_window {
	int earliest; /* days before the due date, >= latest */
	bool earliest_business;
	int latest; /* days before the due date, >= 1 */
	bool latest_business;
} pix_window_t;

#define PIX_WINDOW_DEFAULT ((pix_window_t){10, false, 2, true})
#define PIX_WINDOW_DAYS_MAX 60

/* NULL when the setting is usable, else why not (static). */
const char *pix_window_check(const pix_window_t *w);
/* First and last day (inclusive) on which the cobr of due_day may be sent. */
void pix_window_days(const pix_window_t *w, int64_t due_day, pix_closed_fn closed, void *arg,
		     int64_t *first, int64_t *last);

enum pix_window_verdict {
	PIX_WINDOW_EARLY = -1, /* not yet: wait for the first day */
	PIX_WINDOW_OPEN = 0,   /* send today */
	PIX_WINDOW_LATE = 1,   /* too late for this rail in this cycle */
};
/* Where today stands against due_day's window. */
enum pix_window_verdict pix_window_at(const pix_window_t *w, int64_t due_day, int64_t today,
				      pix_closed_fn closed, void *arg);

/*
 * Last moment (UTC ms) to cancel a cobr: local cutoff_min minutes after
 * midnight of the day before due_day. PSPs say "before 22:00 of D-1"; the
 * default setting (PIX_CANCEL_CUTOFF_DEFAULT) keeps an hour's margin.
 */
#define PIX_CANCEL_CUTOFF_DEFAULT (21 * 60)
int64_t pix_cancel_deadline_ms(int64_t due_day, int cutoff_min, int utc_offset_min);

/* ---------------------------------------------------------------- retries */

enum pix_retry_policy {
	PIX_RETRY_NONE = 0,  /* NAO_PERMITE */
	PIX_RETRY_3R_7D = 1, /* PERMITE_3R_7D */
};
/* "NAO_PERMITE" / "PERMITE_3R_7D"; 0 or -EINVAL. */
int pix_retry_policy_parse(const char *s, enum pix_retry_policy *out);
const char *pix_retry_policy_name(enum pix_retry_policy p);

/*
 * Which days the receiver asks for retries on: offsets (days after the due
 * date, strictly increasing, 1..horizon) of up to PIX_RETRY_MAX attempts.
 * A day that is not a business day moves to the next business day (the PSP
 * would move it anyway with ajusteDiaUtil and could then pass the horizon);
 * a day that ends up past due + horizon, on or after the next cycle's start,
 * or not after the previous retry day is dropped.
 */
typedef struct pix_retry_cfg {
	int offsets[PIX_RETRY_MAX];
	int n_offsets;
	int horizon; /* calendar days after the due date; the rule's 7 */
} pix_retry_cfg_t;

/* D+1, D+3, D+5: inside 7 days under either reading of "counted from". */
#define PIX_RETRY_DEFAULT ((pix_retry_cfg_t){{1, 3, 5}, 3, PIX_RETRY_HORIZON_DAYS})

const char *pix_retry_check(const pix_retry_cfg_t *c);
/*
 * The retry days of a cobr due on due_day (next_cycle: first day of the next
 * cycle, 0 when unknown). Fills days[PIX_RETRY_MAX]; returns how many (0
 * under PIX_RETRY_NONE).
 */
int pix_retry_plan(const pix_retry_cfg_t *c, enum pix_retry_policy p, int64_t due_day,
		   int64_t next_cycle, pix_closed_fn closed, void *arg,
		   int64_t days[PIX_RETRY_MAX]);
/*
 * The next retry to ask for today, after `used` retries already asked for:
 * the first planned day after today (the API wants a future date) that is
 * past every retry used. 0 with *day set, or -ENOENT when no retry is left.
 */
int pix_retry_next(const pix_retry_cfg_t *c, enum pix_retry_policy p, int64_t due_day,
		   int64_t next_cycle, int64_t today, int used, int64_t last_used_day,
		   pix_closed_fn closed, void *arg, int64_t *day);

/* ---------------------------------------------------------------- authorization */

enum pix_auth_state {
	PIX_AUTH_CREATED = 1,           /* rec created at the PSP, nothing sent yet */
	PIX_AUTH_SENT = 2,              /* QR / copia-e-cola or solicrec on its way */
	PIX_AUTH_ACCEPTED = 3,          /* APROVADA: charges may be sent */
	PIX_AUTH_REJECTED = 4,          /* final */
	PIX_AUTH_EXPIRED = 5,           /* final */
	PIX_AUTH_CANCELED_PAYER = 6,    /* final */
	PIX_AUTH_CANCELED_RECEIVER = 7, /* final */
};

enum pix_step {
	PIX_STEP_OK = 0,       /* a legal change */
	PIX_STEP_SAME = 1,     /* already there: nothing to do (duplicate hint) */
	PIX_STEP_ILLEGAL = -1, /* refuse; keep the state */
};

const char *pix_auth_name(enum pix_auth_state s);
bool pix_auth_final(enum pix_auth_state s);
enum pix_step pix_auth_step(enum pix_auth_state from, enum pix_auth_state to);
/*
 * A PSP's rec status (CRIADA, APROVADA, REJEITADA, EXPIRADA, CANCELADA) and,
 * for CANCELADA, encerramento.cancelamento.solicitante, as an ospay state.
 * A cancelation whose requester is missing or unknown counts as the payer's:
 * ospay records its own cancelations before asking. 0 or -EINVAL.
 */
int pix_auth_from_rec(const char *status, const char *solicitante, enum pix_auth_state *out);

/* ---------------------------------------------------------------- amounts */

enum pix_amount_verdict {
	PIX_AMOUNT_OK = 0,
	PIX_AMOUNT_INVALID = 1,   /* <= 0 or over the money format's bound */
	PIX_AMOUNT_NOT_FIXED = 2, /* the rec has a fixed valorRec and this differs */
	PIX_AMOUNT_ABOVE_MAX = 3, /* above the payer's maximum as far as ospay knows */
};
/*
 * Can a cobr of amount be sent under a rec with fixed amount `fixed` (0: a
 * variable amount) and the payer's maximum as ospay knows it (`payer_max`, 0:
 * unknown; the PSP does not show it, see docs/pix-automatico.md)?
 */
enum pix_amount_verdict pix_amount_check(int64_t amount, int64_t fixed, int64_t payer_max);

/* ---------------------------------------------------------------- outcomes */

enum pix_outcome {
	PIX_OUT_PENDING = 0,        /* created / scheduled: wait */
	PIX_OUT_PAID = 1,           /* CONCLUIDA */
	PIX_OUT_ATTEMPT_FAILED = 2, /* the last attempt failed; the cobr still lives */
	PIX_OUT_FAILED = 3,         /* the cobr itself ended unpaid (final) */
	PIX_OUT_CANCELED = 4,       /* the cobr was canceled (final) */
};

enum pix_reason_kind {
	PIX_REASON_NONE = 0,
	PIX_REASON_ATTEMPT = 1,   /* rejects this attempt only: a retry may help */
	PIX_REASON_COBR = 2,      /* rejects the whole cobr: no retry */
	PIX_REASON_ABOVE_MAX = 3, /* amount over the payer's maximum: no retry, tell the operator */
};

typedef struct pix_reason_info {
	enum pix_reason_kind kind;
	bool known;
	const char *meaning; /* short English, static; never "insufficient funds" */
} pix_reason_info_t;

/* Classifies a reject code (tentativa or cobr rejeicao.codigo). Unknown: ATTEMPT. */
void pix_reason_classify(const char *code, pix_reason_info_t *out);

/* The latest attempt of a cobr as the PSP reports it. */
typedef struct pix_attempt_view {
	const char *status; /* SOLICITADA, AGENDADA, PAGA, CANCELADA, REJEITADA, EXPIRADA */
	const char *reason; /* rejeicao.codigo or NULL */
} pix_attempt_view_t;

/*
 * The outcome of a cobr from its status (CRIADA, ATIVA, CONCLUIDA, EXPIRADA,
 * REJEITADA, CANCELADA), its last attempt (may be NULL) and its own reject
 * code (may be NULL). -EINVAL for an unknown status (treat as a lie: re-query).
 */
int pix_cobr_outcome(const char *status, const pix_attempt_view_t *last, const char *reason,
		     enum pix_outcome *out);

/*
 * What a CANCELADA cobr means by who canceled it (encerramento.cancelamento.
 * solicitante): the payer or the payer's PSP refused this cycle's payment, which
 * for the invoice is a failed charge (PIX_OUT_FAILED); ospay's own cancel (or an
 * unknown requester: ospay records its cancels before asking) is PIX_OUT_CANCELED.
 */
enum pix_outcome pix_cobr_canceled_by(const char *solicitante);

#endif
