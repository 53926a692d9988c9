/*
 * PixSettings: checks and defaults (docs/pix-automatico.md, "Rules and
 * settings"). Zero values are the defaults, so a record written by an older
 * ospay, or a request that names only the account, gets the safe readings.
 */
#include "server/providers/pix_settings.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PIX_URL_MAX 200
#define PIX_KEY_MAX 77

static bool one_of(const char *v, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return true;
	return false;
}

/* Letters and digits only, 1..max (an account, a branch). */
static bool alnum(const char *v, size_t max)
{
	size_t n = strlen(v);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= 'a' && v[i] <= 'z') || v[i] == '-'))
			return false;
	return true;
}

/* ospay's own public address: https, a host, no query or fragment. */
static const char *callback_check(const char *u)
{
	size_t n = strlen(u);
	if (n == 0)
		return "required: ospay's public HTTPS address, as the PSP reaches it";
	if (n > PIX_URL_MAX)
		return "at most 200 characters";
	if (strncmp(u, "https://", 8) != 0 || n == 8 || u[8] == '/')
		return "an https:// address with a host (the PSP calls back only over TLS)";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f || u[i] == '?' || u[i] == '#')
			return "no spaces, query or fragment";
	return NULL;
}

void prov_pix_check(const Ospay__V1__PixSettings *p, status_t *st)
{
	static const char *const profiles[] = {"", "bcb", "efi", "inter", "cielo"};
	static const char *const types[] = {"", "CORRENTE", "POUPANCA", "PAGAMENTO"};
	const char *why;
	if (p == NULL) {
		status_violation(st, "pix",
				 "required: the receiver's account and ospay's "
				 "public address");
		return;
	}
	if (!one_of(p->profile, profiles, sizeof(profiles) / sizeof(profiles[0])))
		status_violation(st, "pix.profile", "bcb, efi, inter or cielo");
	if (!alnum(p->account, 20))
		status_violation(st, "pix.account",
				 "the receiver's account: 1-20 letters or digits");
	if (p->branch[0] != '\0' && !alnum(p->branch, 4))
		status_violation(st, "pix.branch", "at most 4 letters or digits");
	if (!one_of(p->account_type, types, sizeof(types) / sizeof(types[0])))
		status_violation(st, "pix.account_type", "CORRENTE, POUPANCA or PAGAMENTO");
	if (strlen(p->pix_key) > PIX_KEY_MAX)
		status_violation(st, "pix.pix_key", "at most %d characters", PIX_KEY_MAX);
	for (const char *c = p->pix_key; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			status_violation(st, "pix.pix_key", "no spaces or control characters");
			break;
		}
	if (p->window_open_unit > OSPAY__V1__PIX_DAY_UNIT__PIX_DAY_UNIT_BUSINESS ||
	    p->window_close_unit > OSPAY__V1__PIX_DAY_UNIT__PIX_DAY_UNIT_BUSINESS)
		status_violation(st, "pix.window", "units are CALENDAR or BUSINESS");
	pix_window_t w = prov_pix_window(p);
	if ((why = pix_window_check(&w)) != NULL)
		status_violation(st, "pix.window", "%s", why);
	if (p->n_retry_days > PIX_RETRY_MAX) {
		status_violation(st, "pix.retry_days", "at most %d days", PIX_RETRY_MAX);
	} else {
		pix_retry_cfg_t rc = prov_pix_retry(p);
		if ((why = pix_retry_check(&rc)) != NULL)
			status_violation(st, "pix.retry_days", "%s", why);
	}
	if (p->cancel_cutoff_minutes >= 24 * 60)
		status_violation(st, "pix.cancel_cutoff_minutes", "minutes after midnight, < 1440");
	if ((why = callback_check(p->callback_base_url)) != NULL)
		status_violation(st, "pix.callback_base_url", "%s", why);
}

/* One end of the send window: days and unit as set (0 and UNSPECIFIED keep the
 * default; days past the maximum become one past it, which the check refuses). */
static void window_end(uint32_t days, Ospay__V1__PixDayUnit unit, int *at, bool *business)
{
	if (days != 0)
		*at = days > PIX_WINDOW_DAYS_MAX ? PIX_WINDOW_DAYS_MAX + 1 : (int)days;
	if (unit != OSPAY__V1__PIX_DAY_UNIT__PIX_DAY_UNIT_UNSPECIFIED)
		*business = unit == OSPAY__V1__PIX_DAY_UNIT__PIX_DAY_UNIT_BUSINESS;
}

pix_window_t prov_pix_window(const Ospay__V1__PixSettings *p)
{
	pix_window_t w = PIX_WINDOW_DEFAULT;
	if (p == NULL)
		return w;
	window_end(p->window_open_days, p->window_open_unit, &w.earliest, &w.earliest_business);
	window_end(p->window_close_days, p->window_close_unit, &w.latest, &w.latest_business);
	return w;
}

pix_retry_cfg_t prov_pix_retry(const Ospay__V1__PixSettings *p)
{
	pix_retry_cfg_t c = PIX_RETRY_DEFAULT;
	if (p == NULL || p->n_retry_days == 0)
		return c;
	c.n_offsets = p->n_retry_days > PIX_RETRY_MAX ? PIX_RETRY_MAX : (int)p->n_retry_days;
	for (int i = 0; i < c.n_offsets; i++)
		c.offsets[i] = p->retry_days[i] > 100 ? 100 : (int)p->retry_days[i];
	return c;
}

int prov_pix_cutoff_min(const Ospay__V1__PixSettings *p)
{
	return p != NULL && p->cancel_cutoff_minutes != 0 ? (int)p->cancel_cutoff_minutes
							  : PIX_CANCEL_CUTOFF_DEFAULT;
}

enum pix_retry_policy prov_pix_policy(const Ospay__V1__PixSettings *p)
{
	return p != NULL && p->no_retries ? PIX_RETRY_NONE : PIX_RETRY_3R_7D;
}

int prov_pix_callback_url(const Ospay__V1__PixSettings *p, uint64_t org, char *out, size_t cap)
{
	const char *b = p != NULL ? p->callback_base_url : "";
	size_t n = strlen(b);
	while (n > 0 && b[n - 1] == '/')
		n--;
	int w = snprintf(out, cap, "%.*s/webhooks/pix/%llu", (int)n, b, (unsigned long long)org);
	return w < 0 || (size_t)w >= cap ? -ENAMETOOLONG : 0;
}
