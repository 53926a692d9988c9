<?php
// A customer, a service order booked on an agenda, finalized with 3 installments by a
// PagoLivre payment link, the link paid at the sandbox, and the order followed until it
// is CLOSED and PAID: ospay's Connect surface with nothing but curl_* and JSON.
// Against `make run` (see README.md):  php examples/php/order.php
declare(strict_types=1);

$url = getenv('OSPAY_URL') ?: 'https://127.0.0.1:7443';
$token = getenv('OSPAY_TOKEN') ?: exit("set OSPAY_TOKEN (the admin token make run printed)\n");
$cacert = getenv('OSPAY_CACERT') ?: 'var/data/tls.crt';
$sandbox = getenv('OSPAY_SANDBOX') ?: 'http://127.0.0.1:7480';

final class OspayError extends RuntimeException
{
    public function __construct(public readonly string $codeName, string $message, public readonly array $violations)
    {
        parent::__construct("$codeName: $message");
    }
}

// One Connect unary call: POST /ospay.v1.<Service>/<Method> with a JSON body. Every
// 64-bit integer (ids, amounts, times) travels as a string, as proto3's JSON has it.
function ospay(string $method, array $request, ?string $idempotencyKey = null): array
{
    global $url, $token, $cacert;
    $headers = [
        'Content-Type: application/json',
        'Connect-Protocol-Version: 1',
        "Authorization: Bearer $token",
    ];
    if ($idempotencyKey !== null) {
        $headers[] = "Idempotency-Key: $idempotencyKey";   // a retry is then harmless
    }
    $ch = curl_init("$url/ospay.v1.$method");
    curl_setopt_array($ch, [
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => json_encode((object)$request, JSON_THROW_ON_ERROR),
        CURLOPT_HTTPHEADER => $headers,
        CURLOPT_CAINFO => $cacert,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_TIMEOUT => 30,
    ]);
    $body = curl_exec($ch);
    if ($body === false) {
        throw new RuntimeException("$method: " . curl_error($ch));
    }
    $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    curl_close($ch);
    $json = json_decode($body, true, 512, JSON_THROW_ON_ERROR);
    if ($status !== 200) {
        // Connect's error: code, message, and the field violations in details[].debug.
        $violations = $json['details'][0]['debug']['violations'] ?? [];
        throw new OspayError($json['code'] ?? "http $status", $json['message'] ?? '', $violations);
    }
    return $json;
}

function cpf(int $seed): string
{
    $d = array_map('intval', str_split(substr((string)(100000000 + $seed % 800000000), 0, 9)));
    foreach ([9, 10] as $len) {
        $s = 0;
        for ($i = 0; $i < $len; $i++) {
            $s += $d[$i] * ($len + 1 - $i);
        }
        $d[] = $s * 10 % 11 % 10;
    }
    return implode('', $d);
}

$tag = (string)hrtime(true);

// The server's clock (make run serves on the test clock), tomorrow at 09:00 in UTC-03:00.
try {
    $now = intdiv((int)ospay('Clock/Now', [])['nowMs'], 1000);
} catch (OspayError $e) {
    $now = time();
}
$local = new DateTimeZone('-03:00');
$tomorrow9 = (new DateTimeImmutable("@$now"))->setTimezone($local)->modify('+1 day')->setTime(9, 0);

$unit = ospay('Admin/ListUnits', [])['units'][0];
$everyDay = array_map(fn ($wd) => ['weekday' => $wd, 'startMinute' => 480, 'endMinute' => 720, 'capacity' => 2], range(1, 7));
$agenda = ospay('Agendas/Create', [
    'unitId' => $unit['id'], 'name' => "Instalações $tag", 'cities' => ['São Paulo'],
    'windows' => $everyDay, 'dailyMax' => 10, 'slotMinutes' => 60,
])['agenda'];
echo "agenda {$agenda['id']}: {$agenda['name']}\n";

$customer = ospay('Customers/Create', [
    'unitId' => $unit['id'], 'name' => 'Bruno Reis', 'document' => cpf((int)substr($tag, -9)),
    'phone' => '+5511912345678', 'email' => 'bruno@example.com',
    'address' => ['street' => 'Rua Augusta', 'number' => '200', 'city' => 'São Paulo', 'state' => 'SP', 'cep' => '01305-000'],
])['customer'];
echo "customer {$customer['id']}: {$customer['name']}\n";

$order = ospay('Orders/Create', [
    'customerId' => $customer['id'], 'kind' => 'Instalação fibra', 'agendaId' => $agenda['id'],
    'scheduledStartMs' => (string)($tomorrow9->getTimestamp() * 1000), 'durationMinutes' => 60,
    'amount' => '120000',
], "php-order-$tag")['order'];
echo "order {$order['id']} booked for {$tomorrow9->format(DATE_ATOM)}\n";

$pm = null;
foreach (ospay('Admin/ListPaymentMethods', [])['paymentMethods'] ?? [] as $m) {
    if ($m['type'] === 'PAYMENT_METHOD_TYPE_RECURRING_CREDIT' && ($m['operationMode'] ?? '') === 'OPERATION_MODE_INTEGRATED') {
        $pm = $m;
        break;
    }
}
$pm ??= ospay('Admin/CreatePaymentMethod', [
    'name' => 'Crédito recorrente', 'type' => 'PAYMENT_METHOD_TYPE_RECURRING_CREDIT',
    'operationMode' => 'OPERATION_MODE_INTEGRATED',
])['paymentMethod'];
$finalized = ospay('Orders/Finalize', ['id' => $order['id'], 'paymentMethodId' => $pm['id'], 'installments' => 3], "php-finalize-$tag")['order'];
echo "payment link: {$finalized['payment']['linkUrl']}\n";

// The customer pays the link (here: the sandbox's control API does it for them).
$ch = curl_init("$sandbox/control/pagolivre/orders/{$finalized['payment']['orderKey']}/pay");
curl_setopt_array($ch, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => '{"outcome":"paid"}',
    CURLOPT_HTTPHEADER => ['Content-Type: application/json'], CURLOPT_RETURNTRANSFER => true]);
curl_exec($ch);
if (curl_getinfo($ch, CURLINFO_RESPONSE_CODE) !== 200) {
    exit("sandbox pay failed\n");
}
curl_close($ch);

// PagoLivre's webhook closes the order: follow it.
for ($i = 0; $i < 300; $i++) {
    $o = ospay('Orders/Get', ['id' => $order['id']])['order'];
    if ($o['status'] === 'ORDER_STATUS_CLOSED' && $o['paymentStatus'] === 'ORDER_PAYMENT_STATUS_PAID') {
        echo "order {$o['id']}: CLOSED and PAID, installment 1 of {$o['payment']['installments']} confirmed\n";
        exit(0);
    }
    usleep(100000);
}
fwrite(STDERR, "order {$order['id']} was not paid in 30 s\n");
exit(1);
