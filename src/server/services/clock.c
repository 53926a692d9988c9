/* The Clock service: the test clock (ospayd --test-clock), read and moved. */
#include <inttypes.h>

#include "common/log.h"
#include "common/util.h"
#include "ospay/v1/clock.pb-c.h"
#include "server/jobs/job.h"
#include "server/services/services.h"

int h_clock_now(srv_req_t *r, store_txn_t *txn)
{
	(void)txn;
	if (!r->srv->opts.test_clock)
		return srv_fail(r, ST_UNIMPLEMENTED, "the server runs without --test-clock");
	char now[40];
	util_rfc3339(r->now_ms, now, sizeof(now));
	Ospay__V1__NowResponse resp = OSPAY__V1__NOW_RESPONSE__INIT;
	resp.now_ms = r->now_ms;
	resp.now = now;
	return srv_reply_msg(r, &resp.base);
}

#define CLOCK_MAX_ADVANCE_MS (INT64_C(3650) * 86400 * 1000)

int h_clock_advance(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__AdvanceRequest *in = (const Ospay__V1__AdvanceRequest *)r->in;
	(void)txn;
	if (!r->srv->opts.test_clock)
		return srv_fail(r, ST_UNIMPLEMENTED, "the server runs without --test-clock");
	/* The clock is the whole organization's (every unit's billing): a unit's admin
	 * may not move it for the others. */
	if (r->sess->p.role != PERM_ROLE_ADMIN || !r->sess->p.org_wide)
		return srv_fail(r, ST_PERMISSION_DENIED,
				"only organization-wide ADMIN tokens move the clock");
	if (in->by_ms <= 0 || in->by_ms > CLOCK_MAX_ADVANCE_MS) {
		status_violation(&r->st, "by_ms", "must be > 0 and at most 10 years");
		return 0;
	}
	r->srv->clock_ms += in->by_ms;
	/* Timers fire as if the time had passed: the hourly billing run does. */
	srv_jobs_kick(r->srv); /* the run, retries, status queries, reconciliation now due */
	log_info("test clock advanced", "by_ms=%lld now_ms=%lld", (long long)in->by_ms,
		 (long long)r->srv->clock_ms);
	char now[40];
	util_rfc3339(r->srv->clock_ms, now, sizeof(now));
	Ospay__V1__AdvanceResponse resp = OSPAY__V1__ADVANCE_RESPONSE__INIT;
	resp.now_ms = r->srv->clock_ms;
	resp.now = now;
	return srv_reply_msg(r, &resp.base);
}
