/*
 * Closing an order properly (HubSoft's fechar): Finalize's outcome, closing
 * reason and executed times (orders_closing_build), the organization's list of
 * closing reasons, and the order's timeline of notes (Orders/AddNote).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ospay/v1/common.pb-c.h"
#include "server/services/orders_internal.h"

#define REASONS_MAX 200
#define NOTES_MAX 500
/* A job's executed span: a day at most, and not after now (a field app's clock may run a
 * few minutes ahead). */
#define EXECUTED_MAX_MS (INT64_C(24) * 3600000)
#define EXECUTED_SKEW_MS (INT64_C(10) * 60000)

int orders_closing_build(srv_req_t *r, store_txn_t *txn, const Ospay__V1__OrdersFinalizeRequest *in,
			 Ospay__V1__OrderClosing *c, char *name, size_t cap)
{
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	int outcome = in->outcome == OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_UNSPECIFIED
			      ? OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_CONCLUDED
			      : (int)in->outcome;
	int rc = 0;
	ospay__v1__order_closing__init(c);
	name[0] = '\0';
	if (outcome != OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_CONCLUDED &&
	    outcome != OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_NOT_CONCLUDED)
		status_violation(&r->st, "outcome", "CLOSING_OUTCOME_CONCLUDED or _NOT_CONCLUDED");
	if (outcome == OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_NOT_CONCLUDED &&
	    in->closing_reason_id == 0)
		status_violation(&r->st, "closing_reason_id",
				 "required when the work was not concluded");
	if ((in->executed_start_ms == 0) != (in->executed_end_ms == 0))
		status_violation(&r->st, "executed_end_ms", "give both executed times or neither");
	else if (in->executed_start_ms != 0 &&
		 (in->executed_start_ms < START_MIN_MS || in->executed_start_ms >= START_MAX_MS))
		status_violation(&r->st, "executed_start_ms", "UTC ms between 2000 and 2200");
	else if (in->executed_start_ms != 0 && in->executed_end_ms <= in->executed_start_ms)
		status_violation(&r->st, "executed_end_ms", "must be after executed_start_ms");
	else if (in->executed_start_ms != 0 &&
		 in->executed_end_ms - in->executed_start_ms > EXECUTED_MAX_MS)
		status_violation(&r->st, "executed_end_ms", "at most 24 hours after the start");
	else if (in->executed_end_ms > r->now_ms + EXECUTED_SKEW_MS)
		status_violation(&r->st, "executed_end_ms", "must not be in the future");
	if (!srv_ok(r) || in->closing_reason_id == 0)
		goto fill;
	rc = booking_settings_get(r, txn, &fs);
	if (rc != 0)
		return rc;
	const Ospay__V1__ClosingReason *reason = NULL;
	for (size_t i = 0; i < fs->n_closing_reasons && reason == NULL; i++)
		if (fs->closing_reasons[i]->id == in->closing_reason_id)
			reason = fs->closing_reasons[i];
	if (reason == NULL)
		return srv_fail(r, ST_NOT_FOUND, "no closing reason %llu",
				(unsigned long long)in->closing_reason_id);
	if (reason->outcome != 0 && (int)reason->outcome != outcome) {
		status_violation(&r->st, "closing_reason_id", "\"%s\" explains the other outcome",
				 reason->name);
		return rc;
	}
	snprintf(name, cap, "%s", reason->name);
fill:
	c->outcome = outcome;
	c->reason_id = in->closing_reason_id;
	c->reason = name;
	c->executed_start_ms = in->executed_start_ms;
	c->executed_end_ms = in->executed_end_ms;
	c->recorded_ms = r->now_ms;
	c->by_token_id = r->sess->p.token_id;
	return rc;
}

int h_orders_create_closing_reason(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersCreateClosingReasonRequest *in = (const void *)r->in;
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	Ospay__V1__ClosingReason c = OSPAY__V1__CLOSING_REASON__INIT;
	int rc = 0;
	if (!srv_check(r, PERM_CONFIGURE, 0))
		return rc;
	kit_check_name(r, "name", in->name, KIT_NAME_MAX);
	if ((int)in->outcome < 0 ||
	    in->outcome > OSPAY__V1__CLOSING_OUTCOME__CLOSING_OUTCOME_NOT_CONCLUDED)
		status_violation(&r->st, "outcome", "a ClosingOutcome");
	if (!srv_ok(r))
		return rc;
	rc = booking_settings_get(r, txn, &fs);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < fs->n_closing_reasons; i++) {
		if (text_cmp_folded(fs->closing_reasons[i]->name, in->name) == 0)
			return srv_fail(r, ST_ALREADY_EXISTS, "closing reason %llu is \"%s\"",
					(unsigned long long)fs->closing_reasons[i]->id,
					fs->closing_reasons[i]->name);
	}
	if (fs->n_closing_reasons >= REASONS_MAX)
		return srv_fail(r, ST_RESOURCE_EXHAUSTED, "at most %d closing reasons",
				REASONS_MAX);
	rc = kit_new_id(r, txn, "closing_reason", &c.id);
	if (rc != 0 || !srv_ok(r))
		return rc;
	c.name = in->name;
	c.outcome = in->outcome;
	c.created_ms = r->now_ms;
	rc = booking_settings_put(r, txn, fs, "closing_reasons", &c.base);
	if (rc != 0 || !srv_ok(r))
		return rc;
	return kit_reply_one(r, &ospay__v1__orders_create_closing_reason_response__descriptor,
			     &c.base);
}

int h_orders_remove_closing_reason(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersRemoveClosingReasonRequest *in = (const void *)r->in;
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	size_t i = 0;
	int rc = booking_settings_for(r, txn, PERM_CONFIGURE, 0, &fs);
	if (rc != 0 || !srv_ok(r))
		return rc;
	while (i < fs->n_closing_reasons && fs->closing_reasons[i]->id != in->id)
		i++;
	if (in->id == 0 || i == fs->n_closing_reasons)
		return srv_fail(r, ST_NOT_FOUND, "no closing reason %llu",
				(unsigned long long)in->id);
	/* Closed orders keep the reason's name (OrderClosing.reason), not a reference. */
	rc = booking_settings_drop(r, txn, fs, "closing_reasons", i);
	if (rc != 0 || !srv_ok(r))
		return rc;
	Ospay__V1__OrdersRemoveClosingReasonResponse resp =
		OSPAY__V1__ORDERS_REMOVE_CLOSING_REASON_RESPONSE__INIT;
	return srv_reply_msg(r, &resp.base);
}

int h_orders_list_closing_reasons(srv_req_t *r, store_txn_t *txn)
{
	Ospay__V1__FieldSettingsRecord *fs = NULL;
	int rc = booking_settings_for(r, txn, PERM_READ, 0, &fs);
	if (rc != 0 || !srv_ok(r))
		return rc;
	Ospay__V1__OrdersListClosingReasonsResponse resp =
		OSPAY__V1__ORDERS_LIST_CLOSING_REASONS_RESPONSE__INIT;
	resp.reasons = fs->closing_reasons;
	resp.n_reasons = fs->n_closing_reasons;
	return srv_reply_msg(r, &resp.base);
}

/* The calling token's name, into name (empty when it cannot be read). */
static void token_name(srv_req_t *r, store_txn_t *txn, char *name, size_t cap)
{
	Ospay__V1__TokenRecord *t = NULL;
	name[0] = '\0';
	if (kit_read(r, txn, DB_TOKENS, r->sess->p.token_id, &ospay__v1__token_record__descriptor,
		     &t) == 0 &&
	    t->token != NULL)
		snprintf(name, cap, "%s", t->token->name);
}

int h_orders_add_note(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__OrdersAddNoteRequest *in = (const void *)r->in;
	Ospay__V1__Order *old = NULL;
	Ospay__V1__OrderNote note = OSPAY__V1__ORDER_NOTE__INIT, **notes = NULL;
	char who[KIT_NAME_MAX + 1];
	int rc = kit_get(r, txn, &kit_orders, "id", in->id, PERM_OPERATE, &old);
	if (rc != 0 || !srv_ok(r))
		goto out;
	if (in->text[0] == '\0')
		status_violation(&r->st, "text", "required");
	else
		kit_check_text(r, "text", in->text, KIT_TEXT_MAX);
	if (!srv_ok(r))
		goto out;
	if (old->n_notes >= NOTES_MAX) {
		rc = srv_fail(r, ST_RESOURCE_EXHAUSTED,
			      "order %llu has %d notes, the most it keeps",
			      (unsigned long long)old->id, NOTES_MAX);
		goto out;
	}
	notes = malloc((old->n_notes + 1) * sizeof(*notes));
	if (notes == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (old->n_notes > 0)
		memcpy(notes, old->notes, old->n_notes * sizeof(*notes));
	token_name(r, txn, who, sizeof(who));
	note.at_ms = r->now_ms;
	note.by_token_id = r->sess->p.token_id;
	note.by_name = who;
	note.text = in->text;
	notes[old->n_notes] = &note;
	Ospay__V1__Order o = *old;
	o.notes = notes;
	o.n_notes = old->n_notes + 1;
	rc = orders_put_order(r, txn, old, &o);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rc = kit_reply_one(r, &ospay__v1__orders_add_note_response__descriptor, &o.base);
out:
	free(notes);
	return rc;
}
