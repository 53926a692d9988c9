/*
 * The ospay command line for customers, technicians, agendas, orders and the
 * calendar, run as a process against a real ospayd: what people read, what
 * scripts parse (--json) and the exit codes.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "support/domain.h"
#include "support/proc.h"

static tsp_server_t srv;
static char out[65536];

static void setup(void)
{
	const char *args[] = {"--test-clock", "2026-12-01T12:00:00Z", NULL};
	tsp_server_up(&srv, args);
}

static void teardown(void)
{
	tsp_server_down(&srv);
}

TestSuite(cli_orders, .init = setup, .fini = teardown, .timeout = 60);

/* Runs ospay with the arguments (NULL-terminated), stderr folded into out. */
#define ospay(...) tso_cli(&srv, NULL, out, sizeof(out), __VA_ARGS__)
#define HAS(s) cr_assert(strstr(out, (s)) != NULL, "missing \"%s\" in:\n%s", (s), out)

static void world(void)
{
	cr_assert_eq(ospay("technicians", "create", "--unit", "1", "--name", "João", NULL), 0, "%s",
		     out);
	cr_assert_eq(ospay("customers", "create", "--unit", "1", "--name", "Maria Souza",
			   "--document", "529.982.247-25", "--street", "Rua Augusta", "--number",
			   "100", "--city", "SAO PAULO", "--state", "sp", "--cep", "01305-000",
			   "--phone", "+55 11 98765-4321", NULL),
		     0, "%s", out);
	HAS("529.982.247-25");
	HAS("+5511987654321");
	cr_assert_eq(ospay("agendas", "create", "--unit", "1", "--name", "Instalações", "--slot",
			   "60", "--window", "mon,08:00-12:00,2", "--window", "seg,13:00-18:00,1",
			   "--city", "São Paulo", "--daily-max", "3", NULL),
		     0, "%s", out);
	HAS("Monday 08:00-12:00, 2 per day");
	HAS("Monday 13:00-18:00, 1 per day");
}

Test(cli_orders, book_list_and_calendar)
{
	world();
	/* Local time in, local time out; the city rule ignores accents. */
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "INSTALAÇÃO FIBRA",
			   "--agenda", "1", "--technician", "1", "--start", "2026-12-07 08:00",
			   "--amount", "150,00", NULL),
		     0, "%s", out);
	HAS("2026-12-07 08:00");
	HAS("R$ 150,00");
	HAS("60 min");
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "REPARO", "--agenda",
			   "1", "--technician", "1", "--start", "2026-12-07 08:00", NULL),
		     1);
	HAS("FAILED_PRECONDITION");
	HAS("already booked on order 1 ");
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "REPARO", "--agenda",
			   "1", "--start", "2026-12-07 13:00", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "REPARO", "--agenda",
			   "1", "--start", "2026-12-07 14:00", NULL),
		     1);
	HAS("full");
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "VISITA", NULL), 0);

	cr_assert_eq(ospay("orders", "list", "--status", "open", "--agenda", "1", "--from",
			   "2026-12-01", "--to", "2026-12-07", NULL),
		     0, "%s", out);
	HAS("2026-12-07 08:00");
	HAS("2026-12-07 13:00");
	cr_assert(strstr(out, "VISITA") == NULL, "unscheduled, no agenda: %s", out);
	cr_assert_eq(ospay("--json", "orders", "list", NULL), 0, "%s", out);
	json_error_t err;
	json_t *j = json_loads(out, 0, &err);
	cr_assert_not_null(j, "not JSON: %s", out);
	cr_assert_eq(json_array_size(json_object_get(j, "orders")), 3);
	json_decref(j);

	cr_assert_eq(ospay("calendar", "--by", "technician", "--from", "2026-12-07", "--to",
			   "2026-12-08", NULL),
		     0, "%s", out);
	HAS("2026-12-07 Monday");
	HAS("08:00-09:00");
	HAS("João (1)");
	HAS("Maria Souza (1)");
	HAS("2026-12-08 Tuesday\n  no orders");
	cr_assert_eq(ospay("calendar", "--by", "agenda", "--from", "2026-12-07", "--to",
			   "2026-12-07", NULL),
		     0, "%s", out);
	HAS("13:00-14:00");
	HAS("Instalações (1)");
}

Test(cli_orders, change_finalize_cancel)
{
	world();
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "REPARO", "--agenda",
			   "1", "--start", "2026-12-07 09:00", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("orders", "create", "--customer", "1", "--kind", "REPARO", NULL), 0);
	cr_assert_eq(ospay("orders", "reschedule", "1", "--start", "2026-12-07 10:00", "--minutes",
			   "120", NULL),
		     0, "%s", out);
	HAS("2026-12-07 10:00");
	HAS("120 min");
	cr_assert_eq(ospay("orders", "update", "1", "--agenda", "none", "--technician", "1",
			   "--description", "trocar ONU", NULL),
		     0, "%s", out);
	HAS("trocar ONU");
	cr_assert_eq(ospay("orders", "finalize", "1", "--method", "pix", "--note", "pago", NULL), 0,
		     "%s", out);
	HAS("closed");
	HAS("pix, 1 installment");
	HAS("pago");
	cr_assert_eq(ospay("orders", "finalize", "2", "--method", "recurring-credit",
			   "--installments", "3", NULL),
		     1);
	HAS("order 2 has no amount to charge");
	cr_assert_eq(ospay("orders", "cancel", "2", "--reason", "desistiu", NULL), 0, "%s", out);
	HAS("canceled");
	cr_assert_eq(ospay("orders", "get", "2", NULL), 0, "%s", out);
	HAS("desistiu");

	/* Customers: only the fields given change; the address keeps its other parts. */
	cr_assert_eq(ospay("customers", "update", "1", "--city", "Santos", "--email",
			   "maria@example.com", NULL),
		     0, "%s", out);
	HAS("address city");
	HAS("Santos");
	HAS("address street");
	HAS("Rua Augusta");
	HAS("maria@example.com");
	cr_assert_eq(ospay("customers", "add-service", "1", "--plan", "Fibra 500", "--amount",
			   "99,90", "--recurring", "on", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("customers", "update-service", "1", "--status", "blocked", NULL), 0,
		     "%s", out);
	cr_assert_eq(ospay("customers", "services", "1", NULL), 0, "%s", out);
	HAS("R$ 99,90");
	HAS("blocked");
	HAS("on (default card)");
	cr_assert_eq(ospay("customers", "list", "--document", "52998224725", NULL), 0, "%s", out);
	HAS("Maria Souza");
	cr_assert_eq(ospay("agendas", "update", "1", "--any-city", "--slot", "30", NULL), 0, "%s",
		     out);
	HAS("cities     any");
	cr_assert_eq(ospay("agendas", "delete", "1", NULL), 0, "%s", out);
	cr_assert_eq(ospay("agendas", "list", NULL), 0, "%s", out);
	cr_assert(strstr(out, "Instalações") == NULL, "%s", out);
}

Test(cli_orders, usage_and_server_errors)
{
	cr_assert_eq(ospay("orders", "list", "--status", "finished", NULL), 2);
	HAS("--status is open, closed, canceled or awaiting-scheduling");
	cr_assert_eq(ospay("orders", "list", "--from", "07/12/2026", NULL), 2);
	cr_assert_eq(ospay("calendar", "--from", "2026-12-01", "--to", "2026-12-02", NULL), 2);
	cr_assert_eq(ospay("agendas", "create", "--window", "mon,8-12,2", NULL), 2);
	cr_assert_eq(ospay("orders", "create", "--customer", "x", NULL), 2);
	cr_assert_eq(ospay("orders", "reschedule", "1", NULL), 2);
	cr_assert_eq(ospay("orders", "update", "1", NULL), 2);
	cr_assert_eq(ospay("customers", "create", "--name", "X", "--document", "123", NULL), 1);
	HAS("INVALID_ARGUMENT");
	HAS("document:");
	HAS("address.cep:");
	HAS("unit_id:");
	cr_assert_eq(ospay("orders", "get", "99", NULL), 1);
	HAS("NOT_FOUND");
	cr_assert_eq(ospay("help", "orders", "list", NULL), 0);
	HAS("--created-from");
}
