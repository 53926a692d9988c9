/* The bench histogram (hist.h). */
#include "hist.h"

#include <stdio.h>

static size_t hist_index(uint64_t v)
{
	if (v < 2 * HIST_SUB)
		return (size_t)v;
	int msb = 63 - __builtin_clzll(v);
	int shift = msb - HIST_SUB_BITS;
	if (shift > HIST_MAX_SHIFT)
		return HIST_BUCKETS - 1;
	/* v >> shift is in [HIST_SUB, 2 * HIST_SUB): the linear part within the power of two. */
	return 2 * HIST_SUB + (size_t)(shift - 1) * HIST_SUB + (size_t)((v >> shift) - HIST_SUB);
}

/* The highest value a bucket holds: percentiles err on the high side, like HdrHistogram. */
static uint64_t hist_value(size_t i)
{
	if (i < 2 * HIST_SUB)
		return i;
	size_t shift = (i - 2 * HIST_SUB) / HIST_SUB + 1;
	uint64_t sub = (i - 2 * HIST_SUB) % HIST_SUB + HIST_SUB;
	return ((sub + 1) << shift) - 1;
}

void hist_record(hist_t *h, uint64_t v)
{
	h->count[hist_index(v)]++;
	h->total++;
	if (v > h->max)
		h->max = v;
}

uint64_t hist_percentile(const hist_t *h, double p)
{
	if (h->total == 0)
		return 0;
	uint64_t want = (uint64_t)((double)h->total * p / 100.0 + 0.999999);
	if (want == 0)
		want = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want)
			return hist_value(i) < h->max ? hist_value(i) : h->max;
	}
	return h->max;
}

void hist_print_json(const hist_t *h)
{
	printf(",\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f",
	       (double)hist_percentile(h, 50) / 1e3, (double)hist_percentile(h, 99) / 1e3,
	       (double)hist_percentile(h, 99.9) / 1e3, (double)h->max / 1e3);
}
