#include "core/contact.h"

#include <stdbool.h>
#include <string.h>

const char *contact_phone_parse(const char *in, char out[CONTACT_PHONE_MAX + 1])
{
	const char *why = NULL;
	size_t n = 0;
	const char *p = in;
	out[0] = '\0';
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		why = "required";
		goto out;
	}
	if (*p != '+') {
		why = "must be in international form, starting with + and the country code "
		      "(+55 for Brazil)";
		goto out;
	}
	out[n++] = '+';
	for (p++; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n == CONTACT_PHONE_MAX) {
				why = "at most 15 digits (E.164)";
				goto out;
			}
			out[n++] = *p;
		} else if (strchr(" .-()", *p) == NULL) {
			why = "only digits, spaces and . - ( ) are allowed after the +";
			goto out;
		}
	}
	out[n] = '\0';
	if (n < 9 || out[1] == '0') {
		why = "not a phone number: a country code and at least 8 digits";
		goto out;
	}
	/* Brazil: 55, area code (DDD, 11..99 without zeros), then the number. */
	if (out[1] == '5' && out[2] == '5') {
		const char *ddd = out + 3;
		size_t rest = n - 5;
		if (n < 5 || ddd[0] == '0' || ddd[1] == '0') {
			why = "Brazilian numbers need a two-digit area code (DDD) after +55";
		} else if (rest == 9 && ddd[2] != '9') {
			why = "Brazilian mobile numbers have 9 digits starting with 9";
		} else if (rest == 8 && (ddd[2] < '2' || ddd[2] > '5')) {
			why = "Brazilian landline numbers have 8 digits starting with 2 to 5";
		} else if (rest != 8 && rest != 9) {
			why = "Brazilian numbers have a two-digit area code and 8 or 9 digits";
		}
	}
out:
	if (why != NULL)
		out[0] = '\0';
	return why;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Letters, digits and hyphens, not at either end, 1..63 bytes. */
static bool domain_label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

const char *contact_email_check(const char *in)
{
	size_t n = strlen(in);
	if (n == 0)
		return "required";
	if (n > CONTACT_EMAIL_MAX)
		return "at most 254 characters";
	const char *at = strchr(in, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return "must have exactly one @";
	size_t local = (size_t)(at - in);
	if (local == 0 || local > 64)
		return "the part before @ must have 1 to 64 characters";
	for (size_t i = 0; i < local; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= 0x20 || c >= 0x7F || strchr("\"(),:;<>[\\]", c) != NULL)
			return "the part before @ has a character that is not allowed";
	}
	if (in[0] == '.' || in[local - 1] == '.' || strstr(in, "..") != NULL)
		return "dots must separate words";
	const char *d = at + 1;
	size_t labels = 0;
	const char *last = d;
	for (;;) {
		const char *dot = strchr(d, '.');
		size_t len = dot != NULL ? (size_t)(dot - d) : strlen(d);
		if (!domain_label_ok(d, len))
			return "the domain after @ is not valid";
		labels++;
		last = d;
		if (dot == NULL)
			break;
		d = dot + 1;
	}
	if (labels < 2)
		return "the domain needs a dot (example.com.br)";
	size_t tld = strlen(last);
	for (size_t i = 0; i < tld; i++)
		if (!is_alpha(last[i]))
			return "the domain's last part must be letters";
	if (tld < 2)
		return "the domain's last part must have at least 2 letters";
	return NULL;
}
