#include <criterion/criterion.h>
#include <string.h>

#include "core/addr.h"
#include "core/contact.h"

Test(phone, e164_is_normalized)
{
	char p[CONTACT_PHONE_MAX + 1];
	cr_assert_null(contact_phone_parse("+55 (11) 98765-4321", p));
	cr_assert_str_eq(p, "+5511987654321");
	cr_assert_null(contact_phone_parse("+551133334444", p));
	cr_assert_str_eq(p, "+551133334444");
	cr_assert_null(contact_phone_parse("+1 415 555 2671", p));
	cr_assert_str_eq(p, "+14155552671");
	cr_assert_null(contact_phone_parse("+351.912.345.678", p));
}

Test(phone, bad_numbers)
{
	char p[CONTACT_PHONE_MAX + 1];
	cr_assert_str_eq(contact_phone_parse("", p), "required");
	cr_assert_not_null(contact_phone_parse("11987654321", p), "no country code");
	cr_assert_str_empty(p);
	static const char *const bad[] = {
		"+0 11 987654321",
		"+1234567",          /* too short */
		"+1234567890123456", /* 16 digits */
		"+55 11 9876 5432a",
		"+55+11987654321",
		/* Brazil: area code without zeros, 9-digit mobiles start with 9, 8-digit
		 * landlines 2..5. */
		"+5501987654321",
		"+5511887654321",
		"+551193334444",
		"+55119876543",
		"+55119876543210",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not_null(contact_phone_parse(bad[i], p), "%s", bad[i]);
}

Test(email, plausible_addresses)
{
	cr_assert_null(contact_email_check("maria@example.com.br"));
	cr_assert_null(contact_email_check("joao.silva+os@provedor-net.com"));
	cr_assert_null(contact_email_check("A@B.CO"));
}

Test(email, implausible_addresses)
{
	const char *bad[] = {"",
			     "maria",
			     "maria@",
			     "@example.com",
			     "a@b@c.com",
			     "maria@example",
			     "maria@.com",
			     "maria@example.",
			     "ma ria@x.com",
			     "maria@exa_mple.com",
			     "maria@-x.com",
			     "maria@x.c",
			     "maria@x.c0m",
			     ".maria@x.com",
			     "ma..ria@x.com",
			     "maria.@x.com",
			     "mar\xc3\xad"
			     "a@x.com"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not_null(contact_email_check(bad[i]), "accepted \"%s\"", bad[i]);
	char long_local[80];
	memset(long_local, 'a', 65);
	strcpy(long_local + 65, "@x.com");
	cr_assert_not_null(contact_email_check(long_local));
	char huge[300];
	memset(huge, 'a', 250);
	strcpy(huge + 10, "@");
	memset(huge + 11, 'b', 250);
	strcpy(huge + 261, ".com");
	cr_assert_not_null(contact_email_check(huge));
}

Test(addr, uf)
{
	char uf[3];
	cr_assert_null(addr_uf_parse("sp", uf));
	cr_assert_str_eq(uf, "SP");
	cr_assert_null(addr_uf_parse("DF", uf));
	cr_assert_null(addr_uf_parse("To", uf));
	cr_assert_str_eq(addr_uf_parse("", uf), "required");
	cr_assert_not_null(addr_uf_parse("XX", uf));
	cr_assert_not_null(addr_uf_parse("SAO", uf));
	cr_assert_not_null(addr_uf_parse("S", uf));
	cr_assert_str_empty(uf);
}

Test(addr, cep)
{
	char cep[9];
	cr_assert_null(addr_cep_parse("01310-100", cep));
	cr_assert_str_eq(cep, "01310100");
	cr_assert_null(addr_cep_parse("01310100", cep));
	cr_assert_str_eq(addr_cep_parse("", cep), "required");
	cr_assert_not_null(addr_cep_parse("0131-100", cep));
	cr_assert_not_null(addr_cep_parse("01310-1000", cep));
	cr_assert_str_empty(cep);
	cr_assert_not_null(addr_cep_parse("01310/100", cep));
	cr_assert_not_null(addr_cep_parse("00000-000", cep));
}
