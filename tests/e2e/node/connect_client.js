// A few methods of each service through @connectrpc/connect-node, in JSON and in binary,
// against the ospayd of tests/e2e/connect_node_test.c (settings in the environment, as
// examples/node/ospay.js reads them). Prints "ok N calls" or fails with the reason.
"use strict";
const assert = require("node:assert/strict");
const path = require("node:path");
const { connect, fromEnv, ConnectError, Code } = require(
	path.join(process.env.OSPAY_SOURCE_DIR, "examples", "node", "ospay.js"),
);

async function story(c, tag) {
	let calls = 0;
	const call = async (p) => {
		calls++;
		return p;
	};
	const hello = await call(c.Session.hello({ token: fromEnv().token }));
	assert.equal(hello.principal.token.role, c.load("common").Role.ADMIN);
	const now = (await call(c.Clock.now({}))).nowMs;
	assert.equal(typeof now, "bigint");

	const unit = (await call(c.Admin.createUnit({ name: `Zona ${tag}` }))).unit;
	assert.equal(typeof unit.id, "bigint");
	const units = (await call(c.Admin.listUnits({}))).units;
	assert.ok(units.some((u) => u.id === unit.id));
	const tech = (await call(c.Admin.createTechnician({ unitId: unit.id, name: "João" }))).technician;
	assert.ok((await call(c.Admin.listTechnicians({ unitId: unit.id }))).technicians.length >= 1);

	const days = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startMinute: 480, endMinute: 720, capacity: 2 }));
	const agenda = (await call(c.Agendas.create({
		unitId: unit.id, name: `Instalações ${tag}`, cities: ["São Paulo"], windows: days,
		dailyMax: 10, slotMinutes: 60,
	}))).agenda;
	assert.equal((await call(c.Agendas.get({ id: agenda.id }))).agenda.name, `Instalações ${tag}`);

	const doc = tag === "json" ? "52998224725" : "11144477735";
	const customer = (await call(c.Customers.create({
		unitId: unit.id, name: "Ana Lima", document: doc, phone: "+5511987654321",
		address: { street: "Rua Augusta", number: "100", city: "São Paulo", state: "SP", cep: "01305-000" },
	}))).customer;
	assert.equal((await call(c.Customers.get({ id: customer.id }))).customer.name, "Ana Lima");
	assert.ok((await call(c.Customers.list({ unitId: unit.id }))).customers.length === 1);

	// Tomorrow 09:00 in UTC-03:00, on the agenda.
	const day = 86400000n, three = 3n * 3600000n;
	const start = ((now - three) / day + 1n) * day + 9n * 3600000n + three;
	const order = (await call(c.Orders.create({
		customerId: customer.id, kind: "Instalação fibra", agendaId: agenda.id,
		technicianId: tech.id, scheduledStartMs: start, durationMinutes: 60, amount: 120000n,
	}, { headers: { "Idempotency-Key": `order-${tag}` } }))).order;
	const again = (await call(c.Orders.create({
		customerId: customer.id, kind: "Instalação fibra", agendaId: agenda.id,
		technicianId: tech.id, scheduledStartMs: start, durationMinutes: 60, amount: 120000n,
	}, { headers: { "Idempotency-Key": `order-${tag}` } }))).order;
	assert.equal(again.id, order.id, "the idempotency key made one order");
	const got = (await call(c.Orders.get({ id: order.id }))).order;
	assert.equal(got.scheduledStartMs, start);
	assert.equal(got.amount, 120000n);
	assert.ok((await call(c.Orders.list({ agendaId: agenda.id }))).orders.length === 1);

	assert.equal((await call(c.Cards.list({ customerId: customer.id }))).cards.length, 0);
	const inv = await call(c.Billing.listInvoices({ customerId: customer.id }));
	assert.equal(inv.invoices.length, 0);

	// Errors arrive as ConnectError with the code and the field violations.
	await assert.rejects(c.Orders.get({ id: 999999n }), (e) => e instanceof ConnectError && e.code === Code.NotFound);
	calls++;
	const { StatusSchema } = c.load("rpc");
	await assert.rejects(c.Admin.createUnit({ name: "" }), (e) => {
		assert.equal(e.code, Code.InvalidArgument);
		const [st] = e.findDetails(StatusSchema);
		assert.equal(st.violations[0].field, "name");
		return true;
	});
	calls++;
	return calls;
}

async function main() {
	const env = fromEnv();
	const json = await story(connect(env), "json");
	const binary = await story(connect({ ...env, binary: true }), "binary");
	// A wrong token: unauthenticated.
	await assert.rejects(connect({ ...env, token: "ospt_wrong" }).Admin.listUnits({}),
		(e) => e instanceof ConnectError && e.code === Code.Unauthenticated);
	console.log(`ok ${json + binary + 1} calls`);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
