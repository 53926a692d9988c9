/*
 * How to reach a person: phone numbers in E.164 and e-mail addresses. These
 * are sanity checks for data typed by operators (an address that passes may
 * still bounce), strict enough that a gateway or notifier will accept them.
 * Pure, no I/O.
 */
#ifndef OSPAY_CORE_CONTACT_H
#define OSPAY_CORE_CONTACT_H

/* "+" and at most 15 digits. */
#define CONTACT_PHONE_MAX 16
#define CONTACT_EMAIL_MAX 254

/*
 * Parses a phone number in international form: "+" then the country code and
 * number, spaces, dots, dashes and parentheses allowed ("+55 (11) 98765-4321").
 * Brazilian numbers (+55) must have a two-digit area code and 8 digits
 * (landline) or 9 digits starting with 9 (mobile). Writes "+5511987654321" to
 * out. Returns NULL, or why not (static).
 */
const char *contact_phone_parse(const char *in, char out[CONTACT_PHONE_MAX + 1]);

/* A plausible address: local@domain.tld in ASCII. Returns NULL, or why not (static). */
const char *contact_email_check(const char *in);

#endif
