#!/usr/bin/env bash
# `make demo`: the story of docs/spec.md 4 against a running `make run` (which serves on
# the test clock), every step printed with the command that does it:
#   1. an agenda, a technician, a customer; national holidays and a team's day off closed;
#      the agenda's free places; a service order booked on the first free day; a repair
#      opened without a date (awaiting scheduling), scheduled later, and closed properly
#      (outcome, executed times, a note);
#   2. the order finalized with integrated recurring credit: a PagoLivre payment
#      link, sent by SMS (the sandbox records it) and by WhatsApp (the outbox);
#   3. the customer pays the link: the webhook closes the order, PAID;
#   4. eleven monthly installments charged by PagoLivre, one denied;
#   5. the recurring-credit report for the period, as a table and as CSV;
#   6. the card flow of docs/spec.md 4.7: cards on file, invoices, the billing run, a
#      decline retried the next day, the service blocked, then paid and unblocked;
#   7. Pix Automático (docs/pix-automatico.md): a QR authorization accepted, a month
#      charged, a month failed then retried and paid, then the customer cancels the
#      authorization in their bank's app and the service falls back to a card.
# Each run makes new records (new customers, a new agenda), so it can be run again.
#
#   OSPAY_ADDR (127.0.0.1:7411), OSPAY_VAR (var), OSPAY_SANDBOX (http://127.0.0.1:7480)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${OSPAY_BUILD_DIR:-build}
var=${OSPAY_VAR:-var}
sb=${OSPAY_SANDBOX:-http://127.0.0.1:7480}
export OSPAY_ADDR=${OSPAY_ADDR:-127.0.0.1:7411}
if [[ -z ${OSPAY_TOKEN:-} ]]; then
	if [[ ! -f $var/init.json ]]; then
		echo "demo: no $var/init.json: start \`make run\` first (in another terminal)" >&2
		exit 1
	fi
	OSPAY_TOKEN=$(sed -n 's/.*"token": "\(ospt_[^"]*\)".*/\1/p' "$var/init.json")
	export OSPAY_TOKEN
fi
ospay_bin=$(realpath "$build/ospay")

bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
[[ -t 1 ]] || bold='' dim='' off=''
step_no=0
step() {
	step_no=$((step_no + 1))
	printf '\n%s== %d. %s%s\n' "$bold" "$step_no" "$*" "$off"
}
say() { printf '%s# %s%s\n' "$dim" "$*" "$off"; }
# Prints the command, then runs it.
ospay() {
	printf '%s$ ospay %s%s\n' "$dim" "$*" "$off"
	"$ospay_bin" "$@"
}
# Runs quietly and prints one value of the JSON answer (jq filter first).
q() {
	local filter=$1
	shift
	"$ospay_bin" --json "$@" | jq -er "$filter"
}
# The sandbox's control API: prints the call and the part of the answer that matters (jq filter first).
sandbox() {
	local filter=$1
	shift
	printf '%s$ curl %s%s\n' "$dim" "$*" "$off"
	curl -fsS "$@" | jq -c "$filter"
}
# Polls the order until the jq condition holds (the webhook arrives on its own time).
wait_order() {
	local id=$1 cond=$2
	for _ in $(seq 100); do
		if "$ospay_bin" --json orders get "$id" | jq -e ".order | $cond" >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "demo: order $id never reached: $cond" >&2
	"$ospay_bin" orders get "$id" >&2
	return 1
}
# Waits (5 s at most: the outbox sends on its own timer) until the sandbox's ZapMe recorded at
# least $2 messages to phone $1, then shows them through the jq filter $3.
zapme_messages() {
	local url="$sb/control/messages?service=zapme&phone=${1#+}" n
	for _ in $(seq 50); do
		n=$(curl -fsS "$url" | jq '.messages | length')
		[[ $n -ge $2 ]] && break
		sleep 0.1
	done
	sandbox "$3" "$url"
}
die() {
	echo "demo: $*" >&2
	exit 1
}

# A random CPF with valid check digits, so every run makes new customers.
cpf() {
	local d=() s i r
	for i in $(seq 9); do d+=($((RANDOM % 10))); done
	for r in 10 11; do
		s=0
		for i in $(seq 0 $((r - 2))); do s=$((s + d[i] * (r - i))); done
		s=$((s * 10 % 11 % 10))
		d+=("$s")
	done
	printf '%d%d%d.%d%d%d.%d%d%d-%d%d' "${d[@]}"
}
# Mobile phones ending in 1, on purpose: the sandbox's ZapMe delivers those (a phone ending
# in 9 fails as missing_number and one ending in 8 never hears back: docs/sandbox.md), so
# every message the demo shows was delivered unless it says otherwise.
phone() { printf '+55119%07d1' $(((RANDOM * 32768 + RANDOM) % 10000000)); }
# A new customer of the unit, with a fresh CPF, at an address in São Paulo: name, street,
# number, CEP and phone; prints its id.
sp_customer() {
	q .customer.id customers create --unit "$unit" --name "$1" --document "$(cpf)" \
		--street "$2" --number "$3" --city "São Paulo" --state SP --cep "$4" --phone "$5"
}

"$ospay_bin" ping >/dev/null 2>&1 || die "ospayd does not answer at $OSPAY_ADDR: start \`make run\` first"
curl -fsS "$sb/control/health" >/dev/null || die "the sandbox does not answer at $sb (make run starts it)"
"$ospay_bin" clock now >/dev/null 2>&1 ||
	die "the server is not on the test clock: start it with \`make run\` (not OSPAY_TEST_CLOCK=off)"
# Local dates in the organization's zone (UTC-3, as `make run` creates it).
local_date() { TZ='<-03>+3' date -d "@$(($(q .now_ms clock now) / 1000 + ${1:-0} * 86400))" +%F; }
keep_clock() { q .now clock now >"$var/test-clock" 2>/dev/null || true; }
trap keep_clock EXIT
unit=$(q '.units[0].id' units list)

step "Who am I, and what time is it on the server"
ospay whoami
ospay clock now
today=$(local_date 0)
tomorrow=$(local_date 1)

step "An agenda for installations, a technician, a customer with an internet service"
agenda=$(q .agenda.id agendas create --unit "$unit" --name "Instalações $RANDOM" --slot 60 \
	--window mon,08:00-12:00,2 --window tue,08:00-12:00,2 --window wed,08:00-12:00,2 \
	--window thu,08:00-12:00,2 --window fri,08:00-12:00,2 --window sat,08:00-12:00,2 \
	--window sun,08:00-12:00,2 --daily-max 10 --city "São Paulo")
ospay agendas get "$agenda"
tech=$(q .technician.id technicians create --unit "$unit" --name "João Técnico" --phone "$(phone)")
say "technician $tech"
cust_phone=$(phone)
cust=$(q .customer.id customers create --unit "$unit" --name "Ana Lima" --document "$(cpf)" \
	--street "Rua Augusta" --number 100 --city "SAO PAULO" --state SP --cep 01305-000 \
	--phone "$cust_phone" --email ana@example.com)
ospay customers get "$cust"

step "Closed days: Brazil's national holidays, and the team's training day"
ospay closures national-holidays closed
# The first day from tomorrow with a free place, as Availability counts it (the same
# numbers Orders/Create enforces), and the day after it for the team's training.
avail_day() { "$ospay_bin" --json agendas availability "$agenda" --from "$1" --days 14 |
	jq -er '[.days[] | select((.closed // false) | not) | select(any(.windows[]?; (.free // 0) > 0))][0].date'; }
book_day=$(avail_day "$tomorrow")
training=$(TZ=UTC date -d "$book_day + 1 day" +%F)
ospay closures add --agenda "$agenda" --date "$training" --reason "Treinamento da equipe"
ospay closures list --agenda "$agenda" --from "$today" --to "$(local_date 60)"
ospay agendas availability "$agenda" --from "$book_day" --days 3
say "booking on the training day is refused with the reason (on purpose):"
ospay orders create --customer "$cust" --kind "Instalação fibra" --agenda "$agenda" \
	--start "$training 09:00" || true

step "A service order booked on the first free day at 09:00, on the customer's contract"
cust_svc=$(q .service.id customers add-service "$cust" --plan "Fibra 500" --amount 99,90)
order=$(q .order.id orders create --customer "$cust" --kind "Instalação fibra" --agenda "$agenda" \
	--technician "$tech" --start "$book_day 09:00" --amount 1200.00 --service "$cust_svc")
ospay orders get "$order"
ospay agendas availability "$agenda" --from "$book_day" --days 1

step "A repair opened without a date (awaiting scheduling), scheduled later"
repair=$(q .order.id orders create --customer "$cust" --kind "Reparo" --agenda "$agenda" \
	--service "$cust_svc")
ospay orders list --status awaiting-scheduling --customer "$cust"
ospay orders reschedule "$repair" --start "$book_day 10:00" --minutes 60 --technician "$tech"
ospay calendar --by technician --from "$book_day" --to "$book_day" --id "$tech"

step "The repair is done: closed properly (outcome, executed times, a note)"
say "two days pass, so that the work is in the past"
ospay clock advance 2d
ospay orders note "$repair" --text "Cliente pediu para ligar antes; portão azul"
ospay closing-reasons create --name "Sinal restabelecido $RANDOM" --outcome concluded >/dev/null
reason=$("$ospay_bin" --json closing-reasons list | jq -r '[.reasons[] | select(.outcome == "CLOSING_OUTCOME_CONCLUDED")][-1].id')
ospay orders finalize "$repair" --method pix --closing-reason "$reason" \
	--executed-from "$book_day 10:05" --executed-to "$book_day 11:10" --note "troca do conector"
today=$(local_date 0)

step "Finalize with integrated recurring credit: 12 installments by a PagoLivre payment link"
pm=$("$ospay_bin" --json payment-methods list |
	jq -r '[.payment_methods[] | select(.type == "PAYMENT_METHOD_TYPE_RECURRING_CREDIT" and .operation_mode == "OPERATION_MODE_INTEGRATED")][0].id // empty')
if [[ -z $pm ]]; then
	pm=$(q .payment_method.id payment-methods create --name "Crédito recorrente" \
		--type recurring-credit --mode integrated)
fi
ospay orders finalize "$order" --payment-method "$pm" --installments 12
say "the order stays OPEN with its payment PENDING until the customer pays the link"
link_key=$(q .order.payment.order_key orders get "$order")
say "the SMS PagoLivre sent with the link (recorded by the sandbox):"
sandbox '.messages[] | {service, channel, text}' "$sb/control/messages?service=pagolivre&phone=${cust_phone#+}"
say "and the WhatsApp message from ospay's outbox through ZapMe:"
zapme_messages "$cust_phone" 1 '.messages[] | {service, channel, text}'

step "The customer pays the link; PagoLivre's webhook closes the order"
sandbox '{orderKey, status, paidAt}' -XPOST "$sb/control/pagolivre/orders/$link_key/pay" -d '{"outcome":"paid"}'
wait_order "$order" '.status == "ORDER_STATUS_CLOSED" and .payment_status == "ORDER_PAYMENT_STATUS_PAID"'
ospay orders get "$order"

step "Eleven monthly charges by PagoLivre, a month apart; the 5th is denied"
for i in $(seq 2 12); do
	ospay clock advance 31d >/dev/null
	if [[ $i == 5 ]]; then
		outcome='{"outcome":"declined","reason":"Saldo insuficiente"}'
		want=INSTALLMENT_STATUS_DENIED
	else
		outcome='{"outcome":"paid"}'
		want=INSTALLMENT_STATUS_CONFIRMED
	fi
	sandbox . -XPOST "$sb/control/pagolivre/orders/$link_key/charge" -d "$outcome" >/dev/null
	wait_order "$order" ".payment.schedule[$((i - 1))].status == \"$want\""
	word=${want#INSTALLMENT_STATUS_}
	say "installment $i: ${word,,}"
done
ospay orders get "$order"

step "The recurring-credit report for the period (table, then CSV)"
to=$(local_date 0)
ospay report recurring-credit --from "$today" --to "$to" --customer "$cust"
ospay report recurring-credit --from "$today" --to "$to" --customer "$cust" --csv
ospay installments list --customer "$cust" --status denied

step "Cards on file: the automatic monthly card billing (Cielo, Recorrência Própria)"
ospay gateways set cielo --base-url "$sb/cielo" --allow-automatic-recurrence >/dev/null
ospay suspension-profile set --days 5
today=$(local_date 0)
expiry=12/$((${today%%-*} + 4)) # cards must not be expired on the (test) clock
good=$(sp_customer "Bruno Reis" "Av. Paulista" 1000 01310-100 "$(phone)")
good_svc=$(q .service.id customers add-service "$good" --plan "Fibra 500" --amount 99.90 --recurring on)
say "the card number and security code go on standard input, never on the command line"
printf '4111111111111111\n123\n' | ospay cards add --customer "$good" --holder "BRUNO REIS" --expiry "$expiry"
ospay invoices create --customer "$good" --service "$good_svc" --amount 99,90 --due "$today" >/dev/null
bad_phone=$(phone)
bad=$(sp_customer "Carla Dias" "Rua da Consolação" 50 01302-000 "$bad_phone")
bad_svc=$(q .service.id customers add-service "$bad" --plan "Fibra 300" --amount 79.90 --recurring on)
say "a card ending in 2: the sandbox declines it (05, Not Authorized: a reversible decline)"
printf '4111111111111152\n123\n' | ospay cards add --customer "$bad" --holder "CARLA DIAS" --expiry "$expiry"
inv=$(q .invoice.id invoices create --customer "$bad" --service "$bad_svc" --amount 79,90 --due "$today")
ospay billing run
ospay charges list --recurring --customer "$good"
ospay charges list --recurring --customer "$bad"

step "The next day: the declined invoice gets its second and last attempt"
say "moving the clock fires the hourly billing run as if the time had passed;"
say "\`ospay billing run\` waits for a run that starts after it"
ospay clock advance 1d
ospay billing run >/dev/null
ospay charges list --customer "$bad"
say "a third day: no third attempt"
ospay clock advance 1d
ospay billing run >/dev/null
ospay charges list --customer "$bad"

step "Five days after the due date the service is blocked (the suspension profile)"
ospay clock advance 4d
ospay billing run >/dev/null
ospay customers services "$bad"
say "what the customer was told on WhatsApp (the outbox, through ZapMe):"
# The outbox sends on its own timer, just after the write that queued the message: two failed
# charges and the block are three messages.
zapme_messages "$bad_phone" 3 '.messages[] | {channel, text}'

step "The customer brings a new card; the operator charges the invoice; the service is unblocked"
printf '5555666677778884\n321\n' | ospay cards add --customer "$bad" --holder "CARLA DIAS" --expiry "$expiry"
card=$(q '[.cards[] | select(.last4 == "8884")][0].id' cards list --customer "$bad")
ospay cards set-default "$card"
ospay invoices charge "$inv" --card "$card"
ospay invoices get "$inv"
ospay customers services "$bad"
ospay charges list --non-recurring --customer "$bad"

step "Pix Automático: the customer authorizes once, by a QR code sent on WhatsApp"
ospay gateways get pix
pix_phone=$(phone)
pixc=$(sp_customer "Diego Souza" "Rua Vergueiro" 2000 04101-000 "$pix_phone")
pix_svc=$(q .service.id customers add-service "$pixc" --plan "Fibra 700" --amount 119.90 --recurring on)
today=$(local_date 0)
# The sandbox's payer's bank settles what is due up to a day we name: ospayd's (test) today.
settle() { sandbox '{settled}' -XPOST "$sb/control/pix/settle" -d "{\"date\":\"$1\"}"; }
settle "$today"
say "--switch: once the customer accepts, the service is charged by Pix instead of the card"
ospay services pix-authorize "$pix_svc" --switch
id_rec=$(q ".services[] | select(.id == \"$pix_svc\" or .id == $pix_svc) | .pix.id_rec" services list --customer "$pixc")
say "the customer scans the QR code and approves it in their bank's app (the sandbox's payer side):"
sandbox '{idRec, status}' -XPOST "$sb/control/pix/recs/$id_rec/approve"
# The PSP's callback makes ospayd ask; pix-refresh asks now.
ospay services pix-refresh "$pix_svc"
ospay services list --customer "$pixc"

# Polls the customer's Pix charges until the jq condition holds on the list.
wait_charges() {
	for _ in $(seq 100); do
		if "$ospay_bin" --json charges list --rail pix-automatico --customer "$pixc" |
			jq -e ".charges // [] | $1" >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "demo: the Pix charges never reached: $1" >&2
	"$ospay_bin" charges list --rail pix-automatico --customer "$pixc" >&2
	return 1
}

step "A month charged by Pix: the instruction goes to the PSP days before the due date"
due=$(local_date 5)
pinv=$(q .invoice.id invoices create --customer "$pixc" --service "$pix_svc" --amount 119,90 --due "$due")
ospay billing run
ospay charges list --rail pix-automatico --customer "$pixc"
say "on the due date the payer's bank settles it; the PSP's callback (or the run's own query)"
say "marks the invoice paid"
ospay clock advance 5d >/dev/null
settle "$due"
ospay billing run >/dev/null
wait_charges 'any(.status == "CHARGE_STATUS_APPROVED")'
ospay invoices get "$pinv"

step "A month that fails, is retried the next business day, and is paid"
ospay clock advance 20d >/dev/null
due=$(local_date 5)
pinv=$(q .invoice.id invoices create --customer "$pixc" --service "$pix_svc" --amount 119,90 --due "$due")
ospay billing run >/dev/null
txid=$("$ospay_bin" --json charges list --rail pix-automatico --customer "$pixc" |
	jq -er '[.charges[] | select(.status == "CHARGE_STATUS_PENDING")][0].pix_txid')
say "the payer's bank will refuse the first attempt (AC06) and pay the next:"
sandbox . -XPOST "$sb/control/pix/cobrs/$txid/outcomes" -d '{"outcomes":["AC06","paid"]}'
ospay clock advance 5d >/dev/null
settle "$due"
ospay billing run >/dev/null
wait_charges '[.[] | select(.pix_txid == "'"$txid"'")] | length == 2'
ospay charges list --rail pix-automatico --customer "$pixc"
retry=$("$ospay_bin" --json charges list --rail pix-automatico --customer "$pixc" |
	jq -er '[.charges[] | select(.pix_txid == "'"$txid"'" and .status == "CHARGE_STATUS_PENDING")][0].pix_settlement_date')
say "the retry is asked for the day before it at the latest, and settles on $retry"
ospay clock advance 1d >/dev/null
settle "$retry"
ospay billing run >/dev/null
wait_charges '[.[] | select(.pix_txid == "'"$txid"'" and .status == "CHARGE_STATUS_APPROVED")] | length == 1'
ospay invoices get "$pinv"
ospay report recurring-credit --from "$(local_date -40)" --to "$(local_date 0)" --customer "$pixc" --mode automatic-pix

step "The customer cancels the authorization in their bank's app: back to the card"
sandbox '{idRec, status}' -XPOST "$sb/control/pix/recs/$id_rec/cancel"
for _ in $(seq 100); do
	rail=$(q ".services[0].recurring_payment.rail // \"PAYMENT_RAIL_CARD\"" services list --customer "$pixc")
	[[ $rail != PAYMENT_RAIL_PIX_AUTOMATICO ]] && break
	sleep 0.1
done
ospay services list --customer "$pixc"
say "the customer adds a card; the next invoice is charged on it on its due date"
printf '4111111111111111\n123\n' | ospay cards add --customer "$pixc" --holder "DIEGO SOUZA" --expiry "$expiry"
ospay clock advance 20d >/dev/null
today=$(local_date 0)
cinv=$(q .invoice.id invoices create --customer "$pixc" --service "$pix_svc" --amount 119,90 --due "$today")
ospay billing run >/dev/null
ospay charges list --customer "$pixc"
ospay invoices get "$cinv"
say "what the customer was told on WhatsApp:"
sandbox '.messages[] | {channel, text}' "$sb/control/messages?service=zapme&phone=${pix_phone#+}"

printf '\n%sDemo complete.%s The server stays up: explore with ospay (ospay help).\n' "$bold" "$off"
