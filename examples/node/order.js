// A customer, a service order booked on an agenda, finalized with 3 installments by a
// PagoLivre payment link, the link paid at the sandbox, and the order followed until it
// is CLOSED and PAID, all over Connect with JSON. Against `make run` (see README.md).
"use strict";
const { connect, fromEnv } = require("./ospay.js");

const day = 86400000n;
const utc3 = 3n * 3600000n; // UTC-03:00, São Paulo

function cpf(seed) {
	// A valid CPF from 9 digits: two check digits, mod 11.
	const d = String(100000000 + (seed % 800000000)).slice(0, 9).split("").map(Number);
	for (const len of [9, 10]) {
		let s = 0;
		for (let i = 0; i < len; i++) s += d[i] * (len + 1 - i);
		d.push(((s * 10) % 11) % 10);
	}
	return d.join("");
}

async function main() {
	const env = fromEnv();
	const ospay = connect(env);
	const tag = Date.now();

	// The server's clock (make run serves on the test clock), tomorrow at 09:00 local.
	const now = (await ospay.Clock.now({}).catch(() => ({ nowMs: BigInt(Date.now()) }))).nowMs;
	const tomorrow9 = ((now - utc3) / day + 1n) * day + 9n * 3600000n + utc3;

	const unit = (await ospay.Admin.listUnits({})).units[0];
	const everyDay = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, startMinute: 480, endMinute: 720, capacity: 2 }));
	const agenda = (await ospay.Agendas.create({
		unitId: unit.id, name: `Instalações ${tag}`, cities: ["São Paulo"], windows: everyDay,
		dailyMax: 10, slotMinutes: 60,
	})).agenda;
	console.log(`agenda ${agenda.id}: ${agenda.name}`);

	const customer = (await ospay.Customers.create({
		unitId: unit.id, name: "Ana Lima", document: cpf(tag % 1000000007), phone: "+5511987654321",
		email: "ana@example.com",
		address: { street: "Rua Augusta", number: "100", city: "São Paulo", state: "SP", cep: "01305-000" },
	})).customer;
	console.log(`customer ${customer.id}: ${customer.name}`);

	// Booked: the key makes a retry of this call harmless.
	const order = (await ospay.Orders.create({
		customerId: customer.id, kind: "Instalação fibra", agendaId: agenda.id,
		scheduledStartMs: tomorrow9, durationMinutes: 60, amount: 120000n,
	}, { headers: { "Idempotency-Key": `example-order-${tag}` } })).order;
	console.log(`order ${order.id} booked for ${new Date(Number(order.scheduledStartMs)).toISOString()}`);

	const { PaymentMethodType } = ospay.load("common");
	const { OperationMode } = ospay.load("admin");
	const { OrderStatus, OrderPaymentStatus } = ospay.load("orders");
	const recurring = { type: PaymentMethodType.RECURRING_CREDIT, operationMode: OperationMode.INTEGRATED };
	const methods = (await ospay.Admin.listPaymentMethods({})).paymentMethods;
	let pm = methods.find((m) => m.type === recurring.type && m.operationMode === recurring.operationMode);
	if (pm === undefined)
		pm = (await ospay.Admin.createPaymentMethod({ name: "Crédito recorrente", ...recurring })).paymentMethod;
	const finalized = (await ospay.Orders.finalize({ id: order.id, paymentMethodId: pm.id, installments: 3 },
		{ headers: { "Idempotency-Key": `example-finalize-${tag}` } })).order;
	console.log(`payment link: ${finalized.payment.linkUrl}`);

	// The customer pays the link (here: the sandbox's control API does it for them).
	const paid = await fetch(`${env.sandbox}/control/pagolivre/orders/${finalized.payment.orderKey}/pay`, {
		method: "POST", headers: { "Content-Type": "application/json" }, body: '{"outcome":"paid"}',
	});
	if (!paid.ok) throw new Error(`sandbox pay: HTTP ${paid.status}`);

	// PagoLivre's webhook closes the order: follow it.
	for (let i = 0; i < 300; i++) {
		const o = (await ospay.Orders.get({ id: order.id })).order;
		if (o.status === OrderStatus.CLOSED && o.paymentStatus === OrderPaymentStatus.PAID) {
			console.log(`order ${o.id}: CLOSED and PAID, installment 1 of ${o.payment.installments} confirmed`);
			return;
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`order ${order.id} was not paid in 30 s`);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
