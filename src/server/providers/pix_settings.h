/*
 * A Pix Automático PSP's settings (PixSettings, stored in the gateway record):
 * their checks and the core/pix.h rules they configure, defaults applied.
 * Shared by Admin/SetGateway, the authorizations and the billing run.
 */
#ifndef OSPAY_SERVER_PROVIDERS_PIX_SETTINGS_H
#define OSPAY_SERVER_PROVIDERS_PIX_SETTINGS_H

#include "common/status.h"
#include "core/pix.h"
#include "ospay/v1/gateway.pb-c.h"

/* Adds a violation to st (fields under "pix.") for each unusable setting. */
void prov_pix_check(const Ospay__V1__PixSettings *p, status_t *st);

/* The send window, retry days and cancel cutoff p sets (NULL: the defaults). */
pix_window_t prov_pix_window(const Ospay__V1__PixSettings *p);
pix_retry_cfg_t prov_pix_retry(const Ospay__V1__PixSettings *p);
int prov_pix_cutoff_min(const Ospay__V1__PixSettings *p);
/* The policy new authorizations ask for. */
enum pix_retry_policy prov_pix_policy(const Ospay__V1__PixSettings *p);

/* The callback URL registered with the PSP: callback_base_url (no trailing
 * '/') + "/webhooks/pix/<org>". 0, or -ENAMETOOLONG. */
int prov_pix_callback_url(const Ospay__V1__PixSettings *p, uint64_t org, char *out, size_t cap);

#endif
