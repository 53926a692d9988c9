// Connect clients for every ospay service, over HTTPS with JSON (or binary protobuf).
// The stubs come from proto/ with @bufbuild/protoc-gen-es (`npx buf generate -o DIR`,
// see README.md); nothing here is specific to one method.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { createClient, ConnectError, Code } = require("@connectrpc/connect");
const { createConnectTransport } = require("@connectrpc/connect-node");

const SERVICES = ["Admin", "Agendas", "Billing", "Cards", "Clock", "Customers", "Orders", "Session"];

// opts: url ("https://127.0.0.1:7443"), token (ospt_...), cacert (PEM path: ospayd's
// self-signed certificate, var/data/tls.crt), gen (the generated stubs' directory),
// binary (true: application/proto instead of JSON).
function connect(opts) {
	const gen = opts.gen || path.join(__dirname, "gen");
	const transport = createConnectTransport({
		baseUrl: opts.url,
		httpVersion: "1.1",
		useBinaryFormat: Boolean(opts.binary),
		nodeOptions: opts.cacert ? { ca: fs.readFileSync(opts.cacert) } : {},
		interceptors: [
			(next) => async (req) => {
				req.header.set("Authorization", `Bearer ${opts.token}`);
				return next(req);
			},
		],
	});
	const clients = {};
	for (const name of SERVICES) {
		const file = path.join(gen, "ospay", "v1", `${name.toLowerCase()}_pb.js`);
		clients[name] = createClient(require(file)[name], transport);
	}
	// A generated module (enums, message schemas): load("orders").OrderStatus.CLOSED.
	clients.load = (file) => require(path.join(gen, "ospay", "v1", `${file}_pb.js`));
	return clients;
}

// The settings from the environment, as `make run` prints them.
function fromEnv() {
	return {
		url: process.env.OSPAY_URL || "https://127.0.0.1:7443",
		token: process.env.OSPAY_TOKEN,
		cacert: process.env.OSPAY_CACERT || "var/data/tls.crt",
		gen: process.env.OSPAY_GEN,
		sandbox: process.env.OSPAY_SANDBOX || "http://127.0.0.1:7480",
	};
}

module.exports = { connect, fromEnv, ConnectError, Code };
