#include "core/declines.h"

#include <errno.h>
#include <string.h>

/*
 * Decline codes, per brand column. Source: the ABECS return-code table as
 * Cielo publishes it (docs/gateways.md), its "Códigos de retorno ABECS" page
 * (DeveloperCielo/developercielo.github.io,
 * _i18n/pt/_posts/documentos-adicionais/2023-04-05-abecs-e-outros-codigos.md,
 * versions 147a4a12 and 2d318663): the ABECS table (one code per brand
 * column: ELO, VISA, MASTERCARD/HIPER, AMEX via Cielo's two-character
 * "De/Para") and Cielo's "Outros códigos de retorno" with its "Permite
 * Retentativa" column, which hold for every brand.
 *
 * R = REVERSÍVEL (retry allowed), I = IRREVERSÍVEL, 0 = the brand has no such
 * code. A brand without the code (and Diners, Discover, JCB, which have no
 * column) follows the other columns: IRREVERSIBLE only when every column that
 * has the code says so, so a code never becomes final by guesswork.
 *
 * docs/spec.md 4.7 names reference table 1.10 as the contract, so where Cielo's page
 * and that table differ, the table wins:
 * - 57: irreversible for Elo and Visa, reversible for Mastercard/Hiper (1.10);
 *   Cielo's page also lists Visa 57 as reversible.
 * - 78: reversible for every brand (1.10: "card not unlocked"); the page's
 *   2022 row makes Visa 78 irreversible. Revisit if the contract changes.
 * Where the two versions of the page differ, the summary decides: AB, AC, 39,
 * 52, 53 ("função incorreta") reversible; 63 VISA irreversible.
 * Codes two rows of one column disagree on: ELO 62 reversible (temporary
 * block; the irreversible row is "domestic card in an international sale",
 * which a Brazilian merchant's charge never is); AMEX A5 reversible
 * (insufficient funds; the other row is a terminal capability, not an
 * e-commerce case); AMEX FD irreversible (lost, stolen, confirmed fraud).
 * Cielo codes whose retry must wait longer than the schedule's next day
 * (NR: 30 days, RP: 72 hours) are IRREVERSIBLE here: the second attempt
 * would break the rule, and there is no later one.
 */
typedef struct decline_row {
	const char *code;
	char elo, visa, mc, amex;
	const char *meaning;
} decline_row_t;

static const decline_row_t decline_rows[] = {
	/* ABECS, by brand column. */
	{"5", 'R', 'R', 'R', 0, "generic decline"},
	{"51", 'R', 'R', 'R', 0, "insufficient funds or limit"},
	{"55", 'R', 'R', 'R', 0, "invalid PIN"},
	{"86", 0, 'R', 0, 0, "invalid PIN"},
	{"57", 'I', 'I', 'R', 0, "transaction not permitted for the card"},
	{"14", 'I', 'I', 'I', 0, "invalid card number"},
	{"56", 'I', 0, 0, 0, "invalid card number"},
	{"1", 0, 0, 'I', 0, "invalid card number"},
	{"63", 'I', 'I', 'R', 0, "security violation"},
	{"N7", 0, 'I', 0, 0, "security violation"},
	{"59", 'R', 'R', 0, 0, "suspected fraud"},
	{"58", 'I', 'I', 'I', 0, "invalid merchant or terminal"},
	{"3", 0, 'I', 'I', 0, "invalid merchant"},
	{"4", 'R', 'I', 'I', 0, "retry requested (Elo) or pick up card"},
	{"6", 'R', 'I', 0, 0, "consult acquirer (Elo) or card error"},
	{"19", 'I', 'I', 0, 0, "acquirer problem"},
	{"30", 'I', 0, 'I', 0, "format error or acquirer problem"},
	{"12", 'I', 'I', 'I', 0, "card error or invalid transaction"},
	{"13", 'I', 'I', 'I', 0, "invalid amount"},
	{"23", 'I', 0, 0, 0, "invalid installment"},
	{"38", 'R', 0, 0, 0, "PIN tries exceeded"},
	{"75", 0, 'R', 'R', 0, "PIN tries exceeded"},
	{"41", 'I', 'I', 'I', 0, "lost card"},
	{"43", 'I', 'I', 'I', 0, "stolen card"},
	{"54", 'I', 'I', 'I', 0, "expired card"},
	{"61", 'R', 'R', 'R', 0, "amount limit exceeded"},
	{"N4", 0, 'R', 0, 0, "amount limit exceeded"},
	{"62", 'R', 'R', 'I', 0, "temporary block or restricted card"},
	{"64", 'I', 'I', 0, 0, "minimum amount or compliance"},
	{"65", 'R', 'R', 'R', 0, "withdrawal count exceeded"},
	{"74", 0, 'I', 0, 0, "PIN cryptography error"},
	{"81", 0, 'I', 0, 0, "PIN cryptography error"},
	{"88", 0, 0, 'I', 0, "PIN or cryptogram error"},
	{"76", 'I', 'I', 0, 0, "invalid account or reversal"},
	{"77", 'I', 0, 0, 0, "invalid source account"},
	{"78", 'R', 'R', 'R', 0, "new card not unlocked"},
	{"91", 'R', 'R', 'R', 0, "issuer unavailable"},
	{"96", 'R', 'R', 'R', 0, "system failure"},
	{"N8", 0, 'I', 0, 0, "differs from pre-authorization"},
	{"AB", 'R', 0, 0, 0, "wrong function (use credit)"},
	{"52", 0, 'R', 0, 0, "wrong function (use credit)"},
	{"53", 0, 'R', 0, 0, "wrong function (use credit)"},
	{"AC", 'R', 0, 0, 0, "wrong function (use debit)"},
	{"39", 0, 'R', 0, 0, "wrong function (use debit)"},
	{"P5", 'I', 0, 0, 0, "PIN change or unlock required"},
	{"P6", 'R', 0, 0, 0, "new PIN not accepted"},
	{"7", 0, 'I', 0, 0, "confirmed fraud"},
	{"15", 0, 'I', 'I', 0, "issuer not found"},
	{"92", 0, 'I', 'I', 0, "not found by router"},
	{"93", 0, 'I', 0, 0, "denied by law"},
	{"94", 0, 'I', 'I', 0, "duplicate tracing data"},
	{"B1", 0, 'R', 0, 0, "surcharge not supported"},
	{"B2", 0, 'R', 0, 0, "surcharge not supported"},
	{"N0", 0, 'R', 0, 0, "force STIP"},
	{"N3", 0, 'I', 0, 0, "withdrawal not available"},
	{"R0", 0, 'I', 0, 0, "recurring payment suspended for this service"},
	{"R1", 0, 'I', 0, 0, "recurring payments suspended for all services"},
	{"R2", 0, 'I', 0, 0, "not qualified for Visa PIN"},
	{"R3", 0, 'I', 0, 0, "all authorization orders suspended"},
	{"46", 'I', 'I', 0, 0, "account closed"},
	{"FM", 'I', 0, 0, 0, "use the chip"},
	/* AMEX through Cielo's two-character De/Para. */
	{"FA", 0, 0, 0, 'R', "generic decline or suspected fraud"},
	{"A5", 0, 0, 0, 'R', "insufficient funds or limit"},
	{"A6", 0, 0, 0, 'R', "invalid PIN"},
	{"FD", 0, 0, 0, 'I', "not permitted, lost, stolen or fraud"},
	{"8", 0, 0, 0, 'I', "invalid card number"},
	{"DA", 0, 0, 0, 'I', "invalid merchant"},
	{"A2", 0, 0, 0, 'I', "card error or invalid installment"},
	{"A3", 0, 0, 0, 'I', "format error"},
	{"JB", 0, 0, 0, 'I', "invalid amount"},
	{"A4", 0, 0, 0, 'R', "PIN tries exceeded"},
	{"BV", 0, 0, 0, 'I', "expired card"},
	{"A7", 0, 0, 0, 'I', "PIN or cryptogram error"},
	{"A1", 0, 0, 0, 'R', "issuer unavailable"},
	{"AE", 0, 0, 0, 'R', "system failure"},
	/* Cielo "Outros códigos de retorno": every brand. */
	{"2", 'I', 'I', 'I', 'I', "referred by the issuer"},
	{"21", 'I', 'I', 'I', 'I', "cancellation: transaction not found"},
	{"22", 'I', 'I', 'I', 'I', "invalid installments"},
	{"24", 'I', 'I', 'I', 'I', "invalid number of installments"},
	{"60", 'R', 'R', 'R', 'R', "not authorized (4 retries in 16 days)"},
	{"67", 'R', 'R', 'R', 'R', "card blocked for purchases today"},
	{"70", 'R', 'R', 'R', 'R', "limit exceeded or no balance"},
	{"72", 'I', 'I', 'I', 'I', "cancellation: insufficient balance"},
	{"79", 'I', 'I', 'I', 'I', "Mastercard: not permitted for the card"},
	{"80", 'I', 'I', 'I', 'I', "transaction or payment date mismatch"},
	{"82", 'I', 'I', 'I', 'I', "invalid card (cryptogram) or issuer rules"},
	{"83", 'I', 'I', 'I', 'I', "PIN error or suspected fraud"},
	{"85", 'I', 'I', 'I', 'I', "operation failed"},
	{"89", 'R', 'R', 'R', 'R', "transaction error"},
	{"90", 'I', 'I', 'I', 'I', "operation failed"},
	{"97", 'I', 'I', 'I', 'I', "amount not permitted"},
	{"98", 'R', 'R', 'R', 'R', "issuer system unavailable"},
	{"999", 'R', 'R', 'R', 'R', "issuer system unavailable"},
	{"AA", 'R', 'R', 'R', 'R', "issuer timeout"},
	{"AF", 'I', 'I', 'I', 'I', "operation failed"},
	{"AG", 'I', 'I', 'I', 'I', "operation failed"},
	{"AH", 'I', 'I', 'I', 'I', "credit card used as debit"},
	{"AI", 'I', 'I', 'I', 'I', "authentication not done"},
	{"AJ", 'I', 'I', 'I', 'I', "private label only"},
	{"AV", 'R', 'R', 'R', 'R', "invalid data"},
	{"BD", 'I', 'I', 'I', 'I', "operation failed"},
	{"BL", 'R', 'R', 'R', 'R', "daily limit exceeded"},
	{"BM", 'I', 'I', 'I', 'I', "invalid card"},
	{"BN", 'I', 'I', 'I', 'I', "card or account blocked"},
	{"BO", 'R', 'R', 'R', 'R', "operation failed"},
	{"BP", 'I', 'I', 'I', 'I', "account does not exist"},
	{"BP171", 'R', 'R', 'R', 'R', "retry after 1 hour"},
	{"BP900", 'R', 'R', 'R', 'R', "retry after 30 minutes, query first"},
	{"BP901", 'R', 'R', 'R', 'R', "retry after 30 minutes, query first"},
	{"BP902", 'R', 'R', 'R', 'R', "retry allowed"},
	{"BP903", 'R', 'R', 'R', 'R', "retry allowed"},
	{"BP904", 'R', 'R', 'R', 'R', "retry allowed"},
	{"BR", 'I', 'I', 'I', 'I', "account closed"},
	{"C1", 'I', 'I', 'I', 'I', "card cannot do debit"},
	{"C2", 'I', 'I', 'I', 'I', "incorrect data"},
	{"C3", 'I', 'I', 'I', 'I', "invalid period for this transaction"},
	{"CF", 'I', 'I', 'I', 'I', "data validation failed"},
	{"CG", 'I', 'I', 'I', 'I', "data validation failed"},
	{"DF", 'R', 'R', 'R', 'R', "card failure or invalid card"},
	{"DM", 'R', 'R', 'R', 'R', "limit exceeded or no balance"},
	{"DQ", 'I', 'I', 'I', 'I', "data validation failed"},
	{"DS", 'R', 'R', 'R', 'R', "not permitted for the card"},
	{"EB", 'R', 'R', 'R', 'R', "more installments than permitted"},
	{"EE", 'I', 'I', 'I', 'I', "installment below minimum"},
	{"EK", 'R', 'R', 'R', 'R', "not permitted for the card"},
	{"FC", 'I', 'I', 'I', 'I', "call the issuer"},
	{"FE", 'I', 'I', 'I', 'I', "transaction or payment date mismatch"},
	{"FG", 'I', 'I', 'I', 'I', "call American Express"},
	{"GA", 'I', 'I', 'I', 'I', "referred by Cielo, wait for contact"},
	{"GF", 'I', 'I', 'I', 'I', "IP not allowed"},
	{"GK", 'I', 'I', 'I', 'I', "temporary block (brute force)"},
	{"GT", 'I', 'I', 'I', 'I', "brute force attack"},
	{"HJ", 'I', 'I', 'I', 'I', "invalid operation code"},
	{"IA", 'I', 'I', 'I', 'I', "invalid operation indicator"},
	{"KA", 'I', 'I', 'I', 'I', "data validation failed"},
	{"KB", 'I', 'I', 'I', 'I', "wrong option selected"},
	{"KE", 'I', 'I', 'I', 'I', "option not enabled"},
	{"NR", 'I', 'I', 'I', 'I', "retry only after 30 days"},
	{"RP", 'I', 'I', 'I', 'I', "retry only after 72 hours"},
	{"SC", 'I', 'I', 'I', 'I', "recurring payment, service canceled"},
	{"U3", 'I', 'I', 'I', 'I', "data validation failed"},
	{"6P", 'R', 'I', 'R', 'R', "ID verification failed"},
};

#define N_ROWS (sizeof(decline_rows) / sizeof(decline_rows[0]))

/*
 * The code as the table spells it: trimmed, upper case, numeric codes without
 * leading zeros. False when it is empty or longer than DECLINE_CODE_MAX.
 */
static bool canonical_code(const char *code, char out[DECLINE_CODE_MAX + 1])
{
	bool ok = false;
	bool numeric = true;
	size_t start = 0, end, n;
	if (code == NULL)
		goto out;
	end = strnlen(code, DECLINE_CODE_MAX + 3);
	while (start < end && code[start] == ' ')
		start++;
	while (end > start && code[end - 1] == ' ')
		end--;
	n = end - start;
	if (n == 0 || n > DECLINE_CODE_MAX)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char c = code[start + i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < '0' || c > '9')
			numeric = false;
		out[i] = c;
	}
	out[n] = '\0';
	if (numeric) {
		size_t z = 0;
		while (z + 1 < n && out[z] == '0')
			z++;
		memmove(out, out + z, n - z + 1);
	}
	ok = true;
out:
	return ok;
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The row's column for brand; 0 for a brand the table has no column for. */
static char column(const decline_row_t *r, enum card_brand brand)
{
	switch (brand) {
	case CARD_BRAND_ELO:
		return r->elo;
	case CARD_BRAND_VISA:
		return r->visa;
	/* The ABECS column is "MASTERCARD/HIPER". */
	case CARD_BRAND_MASTERCARD:
	case CARD_BRAND_HIPERCARD:
		return r->mc;
	case CARD_BRAND_AMEX:
		return r->amex;
	default:
		return 0;
	}
}

static char consensus(const decline_row_t *r)
{
	const char cols[] = {r->elo, r->visa, r->mc, r->amex};
	bool any = false, all_irreversible = true;
	for (size_t i = 0; i < sizeof(cols); i++) {
		if (cols[i] == 0)
			continue;
		any = true;
		if (cols[i] != 'I')
			all_irreversible = false;
	}
	return any && all_irreversible ? 'I' : 'R';
}

void decline_classify(const char *code, enum card_brand brand, decline_info_t *out)
{
	char key[DECLINE_CODE_MAX + 1];
	const decline_row_t *row = NULL;
	out->kind = DECLINE_REVERSIBLE;
	out->known = false;
	out->meaning = "";
	if (!canonical_code(code, key))
		goto out;
	for (size_t i = 0; i < N_ROWS && row == NULL; i++)
		if (strcmp(decline_rows[i].code, key) == 0)
			row = &decline_rows[i];
	if (row == NULL)
		goto out;
	char c = column(row, brand);
	if (c == 0)
		c = consensus(row);
	out->kind = c == 'I' ? DECLINE_IRREVERSIBLE : DECLINE_REVERSIBLE;
	out->known = true;
	out->meaning = row->meaning;
out:
	return;
}

bool decline_is_irreversible(const char *code, enum card_brand brand)
{
	decline_info_t info;
	decline_classify(code, brand, &info);
	return info.kind == DECLINE_IRREVERSIBLE;
}

int decline_getnet_code(const char *detail, char *out, size_t outlen)
{
	int rc = -EINVAL;
	const char *open, *close, *start;
	if (outlen > 0)
		out[0] = '\0';
	if (detail == NULL || outlen == 0)
		goto out;
	/* The code closes the last bracket pair: "TEXT [ECOM - 23]". */
	open = strrchr(detail, '[');
	close = open != NULL ? strchr(open, ']') : NULL;
	if (close == NULL)
		goto out;
	start = close;
	while (start > open + 1 && is_alnum(start[-1]))
		start--;
	size_t n = (size_t)(close - start);
	if (n == 0 || n >= outlen || n > DECLINE_GETNET_CODE_MAX)
		goto out;
	memcpy(out, start, n);
	out[n] = '\0';
	rc = 0;
out:
	return rc;
}
