/* Test support: polling for an observable event under a hang guard (wait.h). */
#include "support/wait.h"

#include <time.h>
#include <unistd.h>

uint64_t tsp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

tsp_poll_t tsp_poll_start(int budget_ms)
{
	tsp_poll_t p = {.deadline_ms = tsp_now_ms() + (uint64_t)(budget_ms > 0 ? budget_ms : 0),
			.pause_us = 1000};
	return p;
}

bool tsp_poll_next(tsp_poll_t *p)
{
	if (tsp_now_ms() >= p->deadline_ms)
		return false;
	usleep(p->pause_us);
	/* Quick answers are seen at once; slow ones are not looked at in a busy loop. */
	if (p->pause_us < 50000)
		p->pause_us = p->pause_us * 2 < 50000 ? p->pause_us * 2 : 50000;
	return true;
}
