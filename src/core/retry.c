#include "core/retry.h"

#include <stdio.h>
#include <string.h>

#include "core/declines.h"

/*
 * Visa's decline categories (Visa's reattempt rules, as Brazilian acquirers
 * summarize them; shared reference 1.10 "Brand programs"). Category 1 codes
 * never approve; 3 are data problems; 2 "not now"; anything else is 4.
 */
static const char *const visa_cat1[] = {"4",  "7",  "12", "14", "15", "41",
					"43", "46", "57", "R0", "R1", "R3"};
static const char *const visa_cat2[] = {"3",  "19", "39", "51", "52", "53", "59", "61", "62",
					"65", "75", "78", "86", "91", "93", "96", "N3", "N4"};
static const char *const visa_cat3[] = {"54", "55", "82", "N7"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Trimmed, upper case, no leading zeros of a number: "05" is "5". */
static void canon(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	if (in == NULL)
		return;
	while (*in == ' ')
		in++;
	while (*in == '0' && in[1] >= '0' && in[1] <= '9')
		in++;
	for (; *in != '\0' && *in != ' ' && n + 1 < cap; in++)
		out[n++] = *in >= 'a' && *in <= 'z' ? (char)(*in - 'a' + 'A') : *in;
	out[n] = '\0';
}

static bool in_list(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

static void verdict(retry_verdict_t *out, enum retry_class cls, const char *advice, bool never,
		    int64_t at_ms, int64_t wait_ms)
{
	out->cls = cls;
	out->advice = advice;
	out->never = never;
	out->next_ms = never ? INT64_MAX : at_ms + wait_ms;
}

/* Mastercard's advice codes; false when mac is none the rules know. */
static bool judge_mac(const char *mac, int64_t at_ms, retry_verdict_t *out)
{
	/* MAC 24-30 (with response 51): the issuer's own wait before a retry. */
	static const struct {
		const char *mac;
		int64_t wait_ms;
		const char *advice;
	} waits[] = {
		{"24", 3600 * 1000LL, "MAC 24: retry after 1 hour"},
		{"25", RETRY_DAY_MS, "MAC 25: retry after 24 hours"},
		{"26", 2 * RETRY_DAY_MS, "MAC 26: retry after 2 days"},
		{"27", 4 * RETRY_DAY_MS, "MAC 27: retry after 4 days"},
		{"28", 6 * RETRY_DAY_MS, "MAC 28: retry after 6 days"},
		{"29", 8 * RETRY_DAY_MS, "MAC 29: retry after 8 days"},
		{"30", 10 * RETRY_DAY_MS, "MAC 30: retry after 10 days"},
	};
	char m[8];
	canon(mac, m, sizeof(m));
	if (strcmp(m, "1") == 0) {
		verdict(out, RETRY_CLASS_MC_UPDATE,
			"MAC 01: new account information; update the card", true, at_ms, 0);
		return true;
	}
	if (strcmp(m, "2") == 0) {
		verdict(out, RETRY_CLASS_MC_LATER, "MAC 02: retry after 72 hours", false, at_ms,
			3 * RETRY_DAY_MS);
		return true;
	}
	if (strcmp(m, "3") == 0 || strcmp(m, "21") == 0) {
		verdict(out, RETRY_CLASS_MC_NEVER,
			strcmp(m, "3") == 0 ? "MAC 03: do not try again"
					    : "MAC 21: payment cancelled; do not try again",
			true, at_ms, 0);
		return true;
	}
	for (size_t i = 0; i < N_OF(waits); i++) {
		if (strcmp(m, waits[i].mac) == 0) {
			verdict(out, RETRY_CLASS_MC_LATER, waits[i].advice, false, at_ms,
				waits[i].wait_ms);
			return true;
		}
	}
	return false;
}

void retry_judge(enum card_brand brand, const char *code, const char *mac, int64_t at_ms,
		 retry_verdict_t *out)
{
	char c[DECLINE_CODE_MAX + 1];
	decline_info_t info;
	canon(code, c, sizeof(c));
	decline_classify(code, brand, &info);
	bool irreversible = info.kind == DECLINE_IRREVERSIBLE;
	if (brand == CARD_BRAND_MASTERCARD && judge_mac(mac, at_ms, out))
		return;
	if (brand == CARD_BRAND_VISA) {
		if (in_list(c, visa_cat1, N_OF(visa_cat1)))
			verdict(out, RETRY_CLASS_VISA_1,
				"Visa category 1: the issuer will never approve", true, at_ms, 0);
		else if (in_list(c, visa_cat2, N_OF(visa_cat2)))
			verdict(out, RETRY_CLASS_VISA_2, "Visa category 2: cannot approve now",
				irreversible, at_ms, 0);
		else if (in_list(c, visa_cat3, N_OF(visa_cat3)))
			verdict(out, RETRY_CLASS_VISA_3, "Visa category 3: data quality",
				irreversible, at_ms, 0);
		else
			verdict(out, RETRY_CLASS_VISA_4, "Visa category 4: generic decline",
				irreversible, at_ms, 0);
		return;
	}
	if (irreversible)
		verdict(out, RETRY_CLASS_IRREVERSIBLE, "irreversible decline", true, at_ms, 0);
	else
		verdict(out, RETRY_CLASS_REVERSIBLE, "reversible decline", false, at_ms, 0);
}

size_t retry_in_window(const int64_t *times, size_t n, int64_t now_ms)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (times[i] > now_ms - RETRY_WINDOW_MS && times[i] <= now_ms)
			k++;
	return k;
}

bool retry_window_allows(enum card_brand brand, size_t reattempts)
{
	return brand != CARD_BRAND_VISA || reattempts < RETRY_VISA_MAX;
}

bool retry_fee(enum card_brand brand, size_t reattempts)
{
	return brand == CARD_BRAND_MASTERCARD && reattempts + 1 >= RETRY_MC_FEE_FROM;
}

static bool in_window(int64_t t, int64_t now_ms)
{
	return t > now_ms - RETRY_WINDOW_MS && t <= now_ms;
}

size_t retry_log_reattempts(const retry_attempt_t *log, size_t n, int64_t now_ms)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (log[i].reattempt && in_window(log[i].at_ms, now_ms))
			k++;
	return k;
}

/* A later reason to refuse replaces an earlier one: from_ms is the latest. */
static void refuse(retry_gate_t *out, int64_t from_ms, const char *why)
{
	if (out->allowed || from_ms > out->from_ms) {
		out->allowed = false;
		out->from_ms = from_ms;
		snprintf(out->why, sizeof(out->why), "%s", why);
	}
}

void retry_gate(enum card_brand brand, const retry_attempt_t *log, size_t n, int64_t now_ms,
		retry_gate_t *out)
{
	const retry_attempt_t *latest = NULL;
	memset(out, 0, sizeof(*out));
	out->allowed = true;
	for (size_t i = 0; i < n; i++) {
		const retry_attempt_t *a = &log[i];
		if (!in_window(a->at_ms, now_ms))
			continue;
		if (latest == NULL || a->at_ms >= latest->at_ms)
			latest = a;
		if (a->reattempt)
			out->reattempts++;
		/* A "never" binds while the decline is in the window the network counts. */
		if (a->declined && a->never)
			refuse(out, a->at_ms + RETRY_WINDOW_MS, a->advice);
		else if (a->declined && a->next_ms > now_ms)
			refuse(out, a->next_ms, a->advice);
	}
	out->reattempt = latest != NULL && latest->declined;
	if (!out->reattempt || retry_window_allows(brand, out->reattempts))
		return;
	/* Allowed again once the oldest reattempts leave the window, leaving
	 * RETRY_VISA_MAX - 1: when the drop-th (in time order) does. */
	size_t drop = out->reattempts - (RETRY_VISA_MAX - 1), k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!log[i].reattempt || !in_window(log[i].at_ms, now_ms) || ++k != drop)
			continue;
		refuse(out, log[i].at_ms + RETRY_WINDOW_MS,
		       "Visa allows 20 reattempts of a card in 30 days");
		break;
	}
}

const char *retry_class_name(enum retry_class c)
{
	static const char *const names[] = {
		"",
		"reversible",
		"irreversible",
		"visa-category-1",
		"visa-category-2",
		"visa-category-3",
		"visa-category-4",
		"mastercard-update-card",
		"mastercard-retry-later",
		"mastercard-never",
	};
	return (size_t)c < N_OF(names) ? names[c] : "";
}
