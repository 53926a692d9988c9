/* Pix Automático rules; see pix.h and docs/pix-automatico.md for the decisions. */
#include "core/pix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/crypto.h"
#include "common/util.h"
#include "core/date.h"

static bool pix_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool pix_alnum_run(const char *s, size_t min, size_t max)
{
	size_t n = 0;
	if (!s)
		return false;
	for (; s[n]; n++)
		if (n >= max || !pix_alnum(s[n]))
			return false;
	return n >= min;
}

bool pix_txid_valid(const char *s)
{
	return pix_alnum_run(s, PIX_TXID_MIN, PIX_TXID_MAX);
}

bool pix_idrec_valid(const char *s)
{
	return pix_alnum_run(s, PIX_IDREC_LEN, PIX_IDREC_LEN) && s[0] == 'R';
}

int pix_txid(const char *org_id, const char *invoice_id, int64_t due_day, char out[PIX_TXID_SIZE])
{
	int rc = 0;
	char day[72];
	uint8_t h1[32], h2[32];
	char hex[65];

	if (!org_id || !invoice_id || !org_id[0] || !invoice_id[0]) {
		rc = -EINVAL;
		goto out;
	}
	/* Length-prefixed parts so ("ab","c") and ("a","bc") never collide. */
	snprintf(day, sizeof(day), "%zu:%zu:%lld", strlen(org_id), strlen(invoice_id),
		 (long long)due_day);
	crypto_sha256(org_id, strlen(org_id), invoice_id, strlen(invoice_id), h1);
	crypto_sha256(h1, sizeof(h1), day, strlen(day), h2);
	crypto_hex(h2, 16, hex);
	snprintf(out, PIX_TXID_SIZE, "osp%.32s", hex);
out:
	return rc;
}

int pix_money_format(int64_t centavos, char out[PIX_MONEY_SIZE])
{
	if (centavos <= 0 || centavos > PIX_MONEY_MAX_CENTAVOS)
		return -EINVAL;
	snprintf(out, PIX_MONEY_SIZE, "%lld.%02lld", (long long)(centavos / 100),
		 (long long)(centavos % 100));
	return 0;
}

int pix_money_parse(const char *s, int64_t *centavos)
{
	int64_t v = 0;
	size_t i = 0, ints = 0;

	if (!s)
		return -EINVAL;
	for (; s[i] >= '0' && s[i] <= '9'; i++, ints++) {
		if (ints >= 10)
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (ints == 0 || s[i] != '.')
		return -EINVAL;
	for (int k = 1; k <= 2; k++) {
		if (s[i + k] < '0' || s[i + k] > '9')
			return -EINVAL;
		v = v * 10 + (s[i + k] - '0');
	}
	if (s[i + 3] != '\0')
		return -EINVAL;
	*centavos = v;
	return 0;
}

/* ---------------------------------------------------------------- business days */

bool pix_business_day(int64_t day, pix_closed_fn closed, void *arg)
{
	int wd = date_weekday(day);
	if (wd == 0 || wd == 6)
		return false;
	return !(closed && closed(day, arg));
}

int64_t pix_business_add(int64_t day, int n, pix_closed_fn closed, void *arg)
{
	int step = n < 0 ? -1 : 1;
	for (int left = n < 0 ? -n : n; left > 0;) {
		day += step;
		if (pix_business_day(day, closed, arg))
			left--;
	}
	return day;
}

int64_t pix_business_next(int64_t day, pix_closed_fn closed, void *arg)
{
	/* A year of closed days would be a broken calendar; stop there. */
	for (int i = 0; i < 366 && !pix_business_day(day, closed, arg); i++)
		day++;
	return day;
}

/* ---------------------------------------------------------------- window */

const char *pix_window_check(const pix_window_t *w)
{
	if (w->latest < 1)
		return "the last day to send must be at least 1 day before the due date";
	if (w->earliest > PIX_WINDOW_DAYS_MAX)
		return "the first day to send must be at most 60 days before the due date";
	if (w->earliest < w->latest)
		return "the first day to send must not come after the last";
	return NULL;
}

static int64_t pix_days_before(int64_t due_day, int n, bool business, pix_closed_fn closed,
			       void *arg)
{
	return business ? pix_business_add(due_day, -n, closed, arg) : due_day - n;
}

void pix_window_days(const pix_window_t *w, int64_t due_day, pix_closed_fn closed, void *arg,
		     int64_t *first, int64_t *last)
{
	*first = pix_days_before(due_day, w->earliest, w->earliest_business, closed, arg);
	*last = pix_days_before(due_day, w->latest, w->latest_business, closed, arg);
}

enum pix_window_verdict pix_window_at(const pix_window_t *w, int64_t due_day, int64_t today,
				      pix_closed_fn closed, void *arg)
{
	int64_t first, last;
	pix_window_days(w, due_day, closed, arg, &first, &last);
	/* A window emptied by holidays (first > last) is late, never open. */
	if (today > last || first > last)
		return PIX_WINDOW_LATE;
	return today < first ? PIX_WINDOW_EARLY : PIX_WINDOW_OPEN;
}

int64_t pix_cancel_deadline_ms(int64_t due_day, int cutoff_min, int utc_offset_min)
{
	return date_local_to_utc(due_day - 1, cutoff_min, utc_offset_min);
}

/* ---------------------------------------------------------------- retries */

int pix_retry_policy_parse(const char *s, enum pix_retry_policy *out)
{
	if (s && strcmp(s, "NAO_PERMITE") == 0)
		*out = PIX_RETRY_NONE;
	else if (s && strcmp(s, "PERMITE_3R_7D") == 0)
		*out = PIX_RETRY_3R_7D;
	else
		return -EINVAL;
	return 0;
}

const char *pix_retry_policy_name(enum pix_retry_policy p)
{
	return p == PIX_RETRY_3R_7D ? "PERMITE_3R_7D" : "NAO_PERMITE";
}

const char *pix_retry_check(const pix_retry_cfg_t *c)
{
	if (c->horizon < 1 || c->horizon > PIX_RETRY_HORIZON_DAYS)
		return "the retry horizon must be 1 to 7 days after the due date";
	if (c->n_offsets < 0 || c->n_offsets > PIX_RETRY_MAX)
		return "at most 3 retry days";
	for (int i = 0; i < c->n_offsets; i++) {
		if (c->offsets[i] < 1 || c->offsets[i] > c->horizon)
			return "each retry day must be 1 to horizon days after the due date";
		if (i > 0 && c->offsets[i] <= c->offsets[i - 1])
			return "retry days must be different and increasing";
	}
	return NULL;
}

int pix_retry_plan(const pix_retry_cfg_t *c, enum pix_retry_policy p, int64_t due_day,
		   int64_t next_cycle, pix_closed_fn closed, void *arg, int64_t days[PIX_RETRY_MAX])
{
	int n = 0;
	int64_t prev = due_day;

	if (p != PIX_RETRY_3R_7D || pix_retry_check(c))
		return 0;
	for (int i = 0; i < c->n_offsets; i++) {
		/* A day pushed onto the previous one by a weekend takes the next one free. */
		int64_t want = due_day + c->offsets[i];
		int64_t d = pix_business_next(want > prev ? want : prev + 1, closed, arg);
		if (d <= prev || d > due_day + c->horizon)
			continue;
		if (next_cycle && d >= next_cycle)
			continue;
		days[n++] = d;
		prev = d;
	}
	return n;
}

int pix_retry_next(const pix_retry_cfg_t *c, enum pix_retry_policy p, int64_t due_day,
		   int64_t next_cycle, int64_t today, int used, int64_t last_used_day,
		   pix_closed_fn closed, void *arg, int64_t *day)
{
	int64_t plan[PIX_RETRY_MAX];
	int n = pix_retry_plan(c, p, due_day, next_cycle, closed, arg, plan);

	if (used >= PIX_RETRY_MAX)
		return -ENOENT;
	for (int i = 0; i < n; i++) {
		if (plan[i] > today && plan[i] > last_used_day) {
			*day = plan[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* ---------------------------------------------------------------- authorization */

const char *pix_auth_name(enum pix_auth_state s)
{
	switch (s) {
	case PIX_AUTH_CREATED:
		return "CREATED";
	case PIX_AUTH_SENT:
		return "SENT";
	case PIX_AUTH_ACCEPTED:
		return "ACCEPTED";
	case PIX_AUTH_REJECTED:
		return "REJECTED";
	case PIX_AUTH_EXPIRED:
		return "EXPIRED";
	case PIX_AUTH_CANCELED_PAYER:
		return "CANCELED_BY_PAYER";
	case PIX_AUTH_CANCELED_RECEIVER:
		return "CANCELED_BY_RECEIVER";
	}
	return "UNKNOWN";
}

bool pix_auth_final(enum pix_auth_state s)
{
	return s == PIX_AUTH_REJECTED || s == PIX_AUTH_EXPIRED || s == PIX_AUTH_CANCELED_PAYER ||
	       s == PIX_AUTH_CANCELED_RECEIVER;
}

static bool pix_auth_known(enum pix_auth_state s)
{
	return s >= PIX_AUTH_CREATED && s <= PIX_AUTH_CANCELED_RECEIVER;
}

enum pix_step pix_auth_step(enum pix_auth_state from, enum pix_auth_state to)
{
	if (!pix_auth_known(from) || !pix_auth_known(to))
		return PIX_STEP_ILLEGAL;
	if (from == to)
		return PIX_STEP_SAME;
	if (pix_auth_final(from))
		return PIX_STEP_ILLEGAL;
	switch (from) {
	case PIX_AUTH_CREATED:
		/* The payer may act before ospay records that the QR went out. */
		return to == PIX_AUTH_CANCELED_PAYER ? PIX_STEP_ILLEGAL : PIX_STEP_OK;
	case PIX_AUTH_SENT:
		return to == PIX_AUTH_CREATED || to == PIX_AUTH_CANCELED_PAYER ? PIX_STEP_ILLEGAL
									       : PIX_STEP_OK;
	case PIX_AUTH_ACCEPTED:
		/* An approved rec only ends by a cancelation (BCB: EXPIRADA = never approved). */
		return to == PIX_AUTH_CANCELED_PAYER || to == PIX_AUTH_CANCELED_RECEIVER
			       ? PIX_STEP_OK
			       : PIX_STEP_ILLEGAL;
	default:
		return PIX_STEP_ILLEGAL;
	}
}

int pix_auth_from_rec(const char *status, const char *solicitante, enum pix_auth_state *out)
{
	if (!status)
		return -EINVAL;
	if (strcmp(status, "CRIADA") == 0)
		*out = PIX_AUTH_CREATED;
	else if (strcmp(status, "APROVADA") == 0)
		*out = PIX_AUTH_ACCEPTED;
	else if (strcmp(status, "REJEITADA") == 0)
		*out = PIX_AUTH_REJECTED;
	else if (strcmp(status, "EXPIRADA") == 0)
		*out = PIX_AUTH_EXPIRED;
	else if (strcmp(status, "CANCELADA") == 0)
		*out = solicitante && (strcmp(solicitante, "USUARIO_RECEBEDOR") == 0 ||
				       strcmp(solicitante, "PSP_RECEBEDOR") == 0)
			       ? PIX_AUTH_CANCELED_RECEIVER
			       : PIX_AUTH_CANCELED_PAYER;
	else
		return -EINVAL;
	return 0;
}

/* ---------------------------------------------------------------- amounts */

enum pix_amount_verdict pix_amount_check(int64_t amount, int64_t fixed, int64_t payer_max)
{
	if (amount <= 0 || amount > PIX_MONEY_MAX_CENTAVOS)
		return PIX_AMOUNT_INVALID;
	if (fixed > 0 && amount != fixed)
		return PIX_AMOUNT_NOT_FIXED;
	if (payer_max > 0 && amount > payer_max)
		return PIX_AMOUNT_ABOVE_MAX;
	return PIX_AMOUNT_OK;
}

/* ---------------------------------------------------------------- outcomes */

/*
 * BCB-API 2.9.0 CobRTentativas.rejeicao: the codes marked cobr also reject
 * the whole cobr. Meanings of ISO 20022 codes are the ISO external code
 * list's; the Pix-specific ones are not public (reference §12), so no text.
 * AM02 (amount over the allowed maximum) is our reading of the payer's cap.
 */
static const struct {
	const char *code;
	enum pix_reason_kind kind;
	const char *meaning;
} pix_reasons[] = {
	{"AB10", PIX_REASON_ATTEMPT, "error at the payer's institution"},
	{"AC05", PIX_REASON_COBR, "payer's account closed"},
	{"AC06", PIX_REASON_ATTEMPT, "payer's account blocked"},
	{"AM02", PIX_REASON_ABOVE_MAX, "amount above the payer's maximum"},
	{"AM09", PIX_REASON_COBR, "amount differs from the authorization"},
	{"DENC", PIX_REASON_COBR, ""},
	{"DS27", PIX_REASON_COBR, "authorization not active at the payer's institution"},
	{"DTED", PIX_REASON_COBR, ""},
	{"DTNT", PIX_REASON_ATTEMPT, ""},
	{"FBRD", PIX_REASON_ATTEMPT, ""},
	{"IRNT", PIX_REASON_ATTEMPT, ""},
	{"MIDI", PIX_REASON_COBR, ""},
	{"MSUC", PIX_REASON_COBR, ""},
	{"NIEC", PIX_REASON_ATTEMPT, ""},
	{"NIPA", PIX_REASON_ATTEMPT, ""},
	{"NITX", PIX_REASON_COBR, ""},
	{"QUNT", PIX_REASON_ATTEMPT, ""},
	{"RC09", PIX_REASON_COBR, "payer's institution identifier invalid"},
	{"UDEI", PIX_REASON_ATTEMPT, ""},
};

void pix_reason_classify(const char *code, pix_reason_info_t *out)
{
	out->kind = PIX_REASON_NONE;
	out->known = false;
	out->meaning = "";
	if (!code || !code[0])
		return;
	out->kind = PIX_REASON_ATTEMPT;
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(pix_reasons); i++) {
		if (strcmp(code, pix_reasons[i].code) == 0) {
			out->kind = pix_reasons[i].kind;
			out->known = true;
			out->meaning = pix_reasons[i].meaning;
			return;
		}
	}
}

enum pix_outcome pix_cobr_canceled_by(const char *solicitante)
{
	bool payer = solicitante && (strcmp(solicitante, "USUARIO_PAGADOR") == 0 ||
				     strcmp(solicitante, "PSP_PAGADOR") == 0);
	return payer ? PIX_OUT_FAILED : PIX_OUT_CANCELED;
}

static bool pix_attempt_failed(const char *status)
{
	return status && (strcmp(status, "REJEITADA") == 0 || strcmp(status, "EXPIRADA") == 0 ||
			  strcmp(status, "CANCELADA") == 0);
}

int pix_cobr_outcome(const char *status, const pix_attempt_view_t *last, const char *reason,
		     enum pix_outcome *out)
{
	pix_reason_info_t ri;

	if (!status)
		return -EINVAL;
	if (strcmp(status, "CONCLUIDA") == 0) {
		*out = PIX_OUT_PAID;
	} else if (strcmp(status, "CANCELADA") == 0) {
		*out = PIX_OUT_CANCELED;
	} else if (strcmp(status, "REJEITADA") == 0 || strcmp(status, "EXPIRADA") == 0) {
		*out = PIX_OUT_FAILED;
	} else if (strcmp(status, "CRIADA") == 0 || strcmp(status, "ATIVA") == 0) {
		*out = PIX_OUT_PENDING;
		if (last && pix_attempt_failed(last->status)) {
			/* A code that kills the cobr ends it even before the PSP says so. */
			pix_reason_classify(last->reason ? last->reason : reason, &ri);
			*out = ri.kind == PIX_REASON_COBR || ri.kind == PIX_REASON_ABOVE_MAX
				       ? PIX_OUT_FAILED
				       : PIX_OUT_ATTEMPT_FAILED;
		}
	} else {
		return -EINVAL;
	}
	return 0;
}
