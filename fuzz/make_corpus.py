#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/corpus/) and dictionary (fuzz/billing.dict).

    python3 fuzz/make_corpus.py        # rewrites corpus/json, corpus/open and billing.dict

corpus/json/NN-function-tag: byte 0 is the index of the function in fuzz_json.c's table
(read from that file, so the two cannot disagree), the rest is the request. corpus/json/seq-*:
several calls in one input, separated by NUL bytes, using the harness's $ORDER/$RESOURCE/...
markers. Ids are those of the harness fixture (see seed_fixture in fuzz_json.c), which every
input of `make regress` in regressions/ starts from. corpus/open/tag: an options_json
for billing_engine_open. Files the fuzzer found and `make merge` added are named by their
SHA-1 and are left alone; only the files this script names are rewritten.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "..", "include", "billing.h")


def table():
    """The harness's table: name -> index, from the `J(name), /* n */` lines."""
    text = open(os.path.join(HERE, "fuzz_json.c")).read()
    entries = re.findall(r'(?:J\((billing_\w+)\)|\{"(billing_\w+)",\s*\w+,\s*NULL\}),\s*/\*\s*(\d+)\s*\*/', text)
    result = {}
    for jname, xname, index in entries:
        result[jname or xname] = int(index)
    if sorted(result.values()) != list(range(len(result))):
        sys.exit("make_corpus.py: the table indices in fuzz_json.c are not 0..n-1")
    return result


TABLE = table()
ACTOR = '"actor": "fuzz"'
NOW = 1704079800  # the fixture's clock after its usage record

# ---- One or more valid requests per function (shapes from include/billing.h) -------------
VALID = {
    "billing_config_update": [
        ('hour', '{"actor": "ops", "idempotency_key": "cfg-1", "changes": {"auto_renew_hour": 2}}'),
        ('many', '{"actor": "ops", "changes": {"business_utc_offset": "-03:30", "currency": "USD", "five_day_refund_hours": 0,'
                 ' "max_coupons_per_payment": 0, "large_refund_threshold_fen": 1, "refund_duration_granularity": "DAY",'
                 ' "password_min_length": 6, "password_min_classes": 1, "login_throttle_after_failures": 1, "login_throttle_base_seconds": 1, "token_ttl_seconds": 60}}'),
        ('tables', '{"actor": "ops", "changes": {"pay_deadline_seconds": {"default": 60, "hardware": 3600},'
                   ' "handling_fee_rates_bp": {"MONTHLY": [0], "YEAR_1": [10000, 0], "YEAR_100": [5]},'
                   ' "expiry_reminder_days": {"MANUAL": [0, 365, 365], "AUTO_RENEW": []},'
                   ' "grace_and_retention": {"V0": {"prepaid_grace_days": 0, "prepaid_retention_days": 0,'
                   ' "on_demand_grace_days": 365, "on_demand_retention_days": 365}}}}'),
        ('export-rows', '{"actor": "ops", "changes": {"export_rows_per_step": 10, "max_renewal_price_export_rows": 1,'
                        ' "export_retention_hours": 1, "default_unified_expiry_day": -1, "default_deduction_days": 2}}'),
        ('hash-cost', '{"actor": "ops", "changes": {"password_hash_ops_limit": 20, "password_hash_memory_bytes": 1073741824}}'),
        ('offset-edge', '{"actor": "ops", "changes": {"business_utc_offset": "+14:00"}}'),
    ],
    "billing_events_list": [('empty', '{}'), ('page', '{"limit": 1, "account_id": "acme"}'),
                            ('after', '{"after": "3", "limit": 1000}')],
    "billing_audit_list": [('empty', '{}'), ('page', '{"limit": 2, "after": "1", "account_id": "acme"}')],
    "billing_audit_head": [('empty', '{}')],
    "billing_account_put": [
        ('new', '{"actor": "kyc", "account_id": "beta", "type": "PERSONAL"}'),
        ('update', '{"actor": "kyc", "account_id": "acme", "freeze": "ARREARS", "level": "V5", "restricted": true, "credit_limit_fen": 0}'),
        ('police', '{"actor": "kyc", "idempotency_key": "k", "account_id": "acme", "freeze": "POLICE"}'),
        ('unfreeze', '{"actor": "kyc", "account_id": "acme", "freeze": "NONE", "restricted": false, "realname_verified": true}'),
        ('nulls', '{"actor": "kyc", "account_id": "solo", "type": null, "level": null, "freeze": null}'),
        ('credit-max', '{"actor": "kyc", "account_id": "acme", "credit_limit_fen": 9223372036854775807}'),
    ],
    "billing_account_get": [('acme', '{"account_id": "acme"}'), ('missing', '{"account_id": "nobody"}')],
    "billing_account_settings_update": [
        ('both', '{"actor": "portal", "account_id": "acme", "deduction_days": 2, "unified_expiry_day": -1}'),
        ('day', '{"actor": "portal", "account_id": "solo", "unified_expiry_day": 28}'),
    ],
    "billing_account_topup": [
        ('small', '{"actor": "payments", "account_id": "acme", "amount_fen": 1, "external_reference": "t-1"}'),
        ('replay', '{"actor": "payments", "account_id": "acme", "amount_fen": 10000000, "external_reference": "seed-acme"}'),
        ('reused', '{"actor": "payments", "account_id": "acme", "amount_fen": 2, "external_reference": "seed-acme"}'),
        ('max', '{"actor": "payments", "account_id": "acme", "amount_fen": 9223372036854775807, "external_reference": "t-max"}'),
        ('max-solo', '{"actor": "payments", "account_id": "solo", "amount_fen": 9223372036854775000, "external_reference": "t-max2"}'),
    ],
    "billing_ledger_list": [('all', '{"account_id": "acme"}'), ('page', '{"account_id": "acme", "after": "1", "limit": 1}')],
    "billing_coupon_issue": [
        ('voucher', '{"actor": "mkt", "account_id": "acme", "kind": "VOUCHER", "face_value_fen": 100, "valid_from": 1704000000, "valid_to": 1804000000}'),
        ('discount', '{"actor": "mkt", "account_id": "acme", "kind": "DISCOUNT_COUPON", "discount_bp": 9999, "max_discount_fen": 9223372036854775807,'
                     ' "valid_from": 0, "valid_to": 253402300799, "min_spend_fen": 0}'),
        ('scoped', '{"actor": "mkt", "account_id": "acme", "kind": "STORED_VALUE_CARD", "face_value_fen": 5000, "valid_from": 1704000000,'
                   ' "valid_to": 1804000000, "scope": {"products": ["ecs.c1"], "excluded_products": ["evs.ssd"], "order_types": ["NEW", "RENEW"],'
                   ' "billing_modes": ["PREPAID_MONTHLY", "ON_DEMAND"], "regions": ["cn-north-1"]}, "exclusive_with_discounts": true,'
                   ' "external_reference": "svc-1"}'),
        ('cash-max', '{"actor": "mkt", "account_id": "acme", "kind": "CASH_COUPON", "face_value_fen": 9223372036854775807, "valid_from": 1, "valid_to": 2000000000}'),
    ],
    "billing_coupons_list": [('usable', '{"account_id": "acme"}'),
                             ('all', '{"account_id": "acme", "status": "ALL", "kind": "VOUCHER", "after": "CPN000000000001", "limit": 1}')],
    "billing_platform_eligibility": [('acme', '{"account_id": "acme"}'), ('solo', '{"account_id": "solo"}')],
    "billing_platform_apply": [
        ('solo', '{"actor": "portal", "account_id": "solo", "user_name": "solo_user", "email": "Solo@Example.COM", "phone": "+447700900123"}'),
        ('acme', '{"actor": "portal", "account_id": "acme", "user_name": "acme.two", "email": "two@acme.example", "phone": "13900139000", "contact_name": "B"}'),
    ],
    "billing_platform_approve": [('pa1', '{"actor": "reviewer", "platform_account_id": "PA000000000001"}'),
                                 ('pa2', '{"actor": "reviewer", "platform_account_id": "PA000000000002"}')],
    "billing_platform_reject": [('pa1', '{"actor": "reviewer", "platform_account_id": "PA000000000001", "reason": "no"}')],
    "billing_platform_resend_link": [('pa1', '{"actor": "portal", "platform_account_id": "PA000000000001"}')],
    "billing_platform_activate": [
        ('token', '{"actor": "portal", "token": "$TOKEN", "password": "Correct-Horse-9"}'),
        ('simple', '{"actor": "portal", "token": "$TOKEN", "password": "aaaaaaaaaaaa"}'),
        ('identifier', '{"actor": "portal", "token": "$TOKEN", "password": "acmeadmin"}'),
        ('bad-token', '{"actor": "portal", "token": "00", "password": "Correct-Horse-9"}'),
    ],
    "billing_platform_get": [('pa1', '{"platform_account_id": "PA000000000001"}')],
    "billing_platform_accounts_list": [
        ('empty', '{}'), ('submitted', '{"status": "SUBMITTED", "limit": 1}'),
        ('several', '{"status": ["ACTIVE", "REJECTED"], "account_id": "acme", "after": "1", "limit": 100}'),
        ('bad-cursor', '{"after": "x"}'), ('empty-list', '{"status": []}')],
    # A stand-in for another branch's function at index 58 (replaced at merge).
    "billing_platform_login": [
        ('user', '{"identifier": "acmeadmin", "password": "Correct-Horse-9"}'),
        ('email', '{"identifier": "ADMIN@acme.example", "password": "wrong"}'),
        ('phone', '{"identifier": "+8613800138000", "password": "Correct-Horse-9"}'),
    ],
    "billing_platform_reset_request": [('user', '{"actor": "portal", "identifier": "acmeadmin"}'),
                                       ('phone', '{"actor": "portal", "identifier": "13800138000"}')],
    "billing_platform_reset_complete": [('token', '{"actor": "portal", "token": "$TOKEN", "password": "New-Password-77"}')],
    "billing_product_put": [
        ('prepaid', '{"actor": "catalog", "product": {"product_id": "p.new", "product_type": "ECS", "billing_mode": "PREPAID",'
                    ' "allowed_periods": [{"unit": "MONTH", "count": 1}, {"unit": "YEAR", "count": 5}], "monthly_price_fen": 1, "yearly_price_fen": 2,'
                    ' "promotion_discount_bp": 9999, "promotion_forbids_refund": true, "refundable": false, "per_resource_refund": false,'
                    ' "five_day_eligible": false, "auto_renew_supported": false, "to_on_demand_supported": false, "on_sale": false, "trial": true}}'),
        ('package', '{"actor": "catalog", "product": {"product_id": "p.cap", "product_type": "EIP", "billing_mode": "PACKAGE", "yearly_price_fen": 100,'
                    ' "allowed_periods": [{"unit": "YEAR", "count": 1}], "package": {"kind": "CAPACITY", "quota": 9223372036854775807,'
                    ' "applies_to": ["EIP", "bw.ondemand"], "resettable": true, "reset_anchor": "PURCHASE_DAY"}}}'),
        ('ondemand-unit', '{"actor": "catalog", "product": {"product_id": "p.units", "product_type": "OBS", "billing_mode": "ON_DEMAND", "unit_price_microfen": 9223372036854775807}}'),
        ('huge-price', '{"actor": "catalog", "product": {"product_id": "ecs.c1", "product_type": "ECS", "billing_mode": "PREPAID",'
                       ' "monthly_price_fen": 9223372036854775807, "yearly_price_fen": 9223372036854775807}}'),
        ('bound-self', '{"actor": "catalog", "product": {"product_id": "loop", "product_type": "ECS", "billing_mode": "PREPAID", "monthly_price_fen": 5, "bound_products": ["loop", "evs.ssd"]}}'),
        ('specs-deep', '{"actor": "catalog", "product": {"product_id": "deep", "product_type": "X", "billing_mode": "ONE_OFF", "one_off_price_fen": 1,'
                       ' "specs": ' + '{"a": ' * 60 + '1' + '}' * 60 + '}}'),
    ],
    "billing_product_get": [('ecs', '{"product_id": "ecs.c1"}'), ('none', '{"product_id": "nothing"}')],
    "billing_products_list": [('all', '{}'), ('type', '{"product_type": "EIP", "after": "bw.ondemand", "limit": 1}')],
    "billing_discount_set": [('star', '{"actor": "sales", "account_id": "acme", "product_type": "*", "rate_bp": 9999}'),
                             ('remove', '{"actor": "sales", "account_id": "acme", "product_type": "EVS", "rate_bp": 0}')],
    "billing_order_quote": [
        ('month', '{"account_id": "acme", "items": [{"product_id": "ecs.c1", "period": {"unit": "MONTH", "count": 1}}]}'),
        ('many', '{"account_id": "acme", "items": [{"product_id": "ecs.bundle", "period": {"unit": "YEAR", "count": 3}, "quantity": 100},'
                 ' {"product_id": "bw.pack", "period": {"unit": "MONTH", "count": 9}, "effective_at": 1900000000}, {"product_id": "one.off"}, {"product_id": "bw.ondemand"}]}'),
    ],
    "billing_order_create": [
        ('plain', '{"actor": "portal", "account_id": "acme", "items": [{"product_id": "evs.ssd", "period": {"unit": "MONTH", "count": 2}}]}'),
        ('autopay', '{"actor": "portal", "account_id": "acme", "auto_pay": true, "coupon_ids": ["CPN000000000001", "CPN000000000002", "CPN000000000003"],'
                    ' "expected_amount_due_fen": 5000, "items": [{"product_id": "ecs.c1", "period": {"unit": "MONTH", "count": 1}, "quantity": 2}]}'),
        ('combined', '{"actor": "portal", "account_id": "acme", "idempotency_key": "combo", "items": [{"product_id": "ecs.c1", "period": {"unit": "YEAR", "count": 1}},'
                     ' {"product_id": "evs.ssd", "period": {"unit": "MONTH", "count": 1}}, {"product_id": "one.off"}]}'),
        ('manager', '{"actor": "manager", "account_id": "solo", "placed_by_manager": true, "contract": "K", "items": [{"product_id": "review.box", "period": {"unit": "MONTH", "count": 1}}]}'),
        ('big', '{"actor": "portal", "account_id": "acme", "auto_pay": true, "items": [{"product_id": "ecs.c1", "period": {"unit": "YEAR", "count": 3}, "quantity": 100}]}'),
    ],
    "billing_order_pay": [
        ('pending', '{"actor": "portal", "account_id": "acme", "order_id": "CS000000000002"}'),
        ('coupons', '{"actor": "portal", "account_id": "acme", "order_id": "CS000000000002", "coupon_ids": ["CPN000000000003", "CPN000000000001"]}'),
        ('paid', '{"actor": "portal", "account_id": "acme", "order_id": "CS000000000001"}'),
    ],
    "billing_order_pay_quote": [
        ('plain', '{"account_id": "acme", "order_id": "CS000000000002"}'),
        ('coupons', '{"account_id": "acme", "order_id": "CS000000000002", "coupon_ids": ["CPN000000000003", "CPN000000000001"]}'),
        ('paid', '{"account_id": "acme", "order_id": "CS000000000001"}'),
        ('other-account', '{"account_id": "solo", "order_id": "CS000000000002"}'),
    ],
    "billing_orders_cancel": [('two', '{"actor": "portal", "account_id": "acme", "order_ids": ["CS000000000002", "CS000000000001", "CS999"], "reason": "r"}')],
    "billing_order_review": [('approve', '{"actor": "reviewer", "account_id": "acme", "order_id": "CS000000000004", "decision": "APPROVE", "comment": "ok"}'),
                             ('reject', '{"actor": "reviewer", "account_id": "acme", "order_id": "CS000000000004", "decision": "REJECT"}')],
    "billing_order_confirm": [('confirm', '{"actor": "customer", "account_id": "acme", "order_id": "CS000000000005", "decision": "CONFIRM"}'),
                              ('decline', '{"actor": "customer", "account_id": "acme", "order_id": "CS000000000005", "decision": "DECLINE"}')],
    "billing_order_get": [('paid', '{"account_id": "acme", "order_id": "CS000000000001"}'),
                          ('other', '{"account_id": "solo", "order_id": "CS000000000001"}')],
    "billing_orders_list": [
        ('all', '{"account_id": "acme"}'),
        ('filters', '{"account_id": "acme", "created_from": 1704000000, "created_to": 1735000000, "product_type": "ECS", "order_type": "NEW",'
                    ' "status": "COMPLETED", "billing_mode": "PREPAID", "limit": 100, "after": "CS000000000009"}'),
        ('range', '{"account_id": "acme", "created_from": 0, "created_to": 253402300799}'),
        ('grouped', '{"account_id": "acme", "group_combined": true, "with_counts": true, "limit": 1, "status": ["PENDING_PAYMENT", "COMPLETED"]}'),
    ],
    "billing_resource_report": [
        ('bundle', '{"actor": "provisioner", "account_id": "acme", "results": [{"resource_id": "RS000000000003", "outcome": "SUCCEEDED"}]}'),
        ('failed', '{"actor": "provisioner", "account_id": "acme", "results": [{"resource_id": "RS000000000003", "outcome": "FAILED"},'
                   ' {"resource_id": "RS000000000004", "outcome": "SUCCEEDED"}]}'),
    ],
    "billing_resource_get": [('rs1', '{"account_id": "acme", "resource_id": "RS000000000001"}'),
                             ('rs4', '{"account_id": "acme", "resource_id": "RS000000000004"}')],
    "billing_scheduler_run": [('default', '{"actor": "cron"}'), ('limit', '{"actor": "cron", "limit": 1}')],
    "billing_resources_renew": [
        ('one', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"]}'),
        ('unified', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "period": {"unit": "MONTH", "count": 9},'
                    ' "unified_expiry": true, "auto_pay": true, "coupon_ids": ["CPN000000000001"]}'),
        ('bound', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000004", "RS000000000002", "RS000000000005"]}'),
    ],
    "billing_resources_policy_set": [
        ('auto', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "policy": "AUTO_RENEW",'
                 ' "auto_renew_period": {"unit": "YEAR", "count": 1}, "auto_renew_times": 99}'),
        ('ondemand', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001", "RS000000000003"], "policy": "TO_ON_DEMAND"}'),
        ('norenew', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "policy": "NO_RENEW"}'),
    ],
    "billing_resources_release": [('rs1', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"]}')],
    "billing_renewal_quote": [
        ('rs1', '{"account_id": "acme", "resource_ids": ["RS000000000001"]}'),
        ('full', '{"account_id": "acme", "resource_ids": ["RS000000000001", "RS000000000003"], "period": {"unit": "MONTH", "count": 2},'
                 ' "unified_expiry": true, "coupon_ids": ["CP000000000001"]}'),
    ],
    "billing_resources_delete": [('rs2', '{"actor": "host", "account_id": "acme", "resource_ids": ["RS000000000002"]}')],
    "billing_renewals_list": [
        ('manual', '{"account_id": "acme", "tab": "MANUAL"}'),
        ('filters', '{"account_id": "acme", "tab": "AUTO_RENEW", "expire_from": 0, "expire_to": 253402300799, "resource_id": "RS000000000001",'
                    ' "order_id": "CS000000000001", "status": "IN_USE", "hide_pending_orders": true, "after": "RS000000000000", "limit": 100}'),
    ],
    "billing_refund_quote": [
        ('rs1', '{"account_id": "acme", "resource_ids": ["RS000000000001"]}'),
        ('renewal', '{"account_id": "acme", "resource_ids": ["RS000000000001", "RS000000000005"], "type": "RENEWAL_ONLY", "fallback_expiry": 1706803199}'),
    ],
    "billing_resources_unsubscribe": [
        ('rs1', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "reason_type": 1, "reason": "x"}'),
        ('stale', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "quote_id": "Q", "reason_type": 5}'),
        ('package', '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000005"]}'),
    ],
    "billing_resource_refund_blocks_set": [
        ('all', '{"actor": "host", "account_id": "acme", "resource_id": "RS000000000001", "blocks": ["INVOICED_MARKETPLACE", "ARCHIVED", "SUPPORT_BENEFIT_USED"]}'),
        ('none', '{"actor": "host", "account_id": "acme", "resource_id": "RS000000000001", "blocks": []}'),
    ],
    "billing_usage_report": [
        ('hour', '{"actor": "meter", "account_id": "acme", "records": [{"usage_id": "u2", "resource_id": "RS000000000002", "quantity": 1, "start": 1704079800, "end": 1704083400}]}'),
        ('dup', '{"actor": "meter", "account_id": "acme", "records": [{"usage_id": "u1", "resource_id": "RS000000000002", "quantity": 1, "start": 1704076200, "end": 1704079800}]}'),
        ('big', '{"actor": "meter", "account_id": "acme", "records": [{"usage_id": "u3", "resource_id": "RS000000000002", "quantity": 100000, "start": 0, "end": 253402300799}]}'),
        ('reversed', '{"actor": "meter", "account_id": "acme", "records": [{"usage_id": "u4", "resource_id": "RS000000000002", "quantity": 0, "start": 1704083400, "end": 1704079800}]}'),
    ],
    "billing_usage_list": [('all', '{"account_id": "acme"}'),
                           ('filters', '{"account_id": "acme", "resource_id": "RS000000000002", "from": 0, "to": 1804079800, "after": "1", "limit": 1}')],
    "billing_packages_list": [('acme', '{"account_id": "acme"}'),
                              ('page', '{"account_id": "acme", "after": "1", "limit": 1}')],
    "billing_unsubscriptions_list": [
        ('all', '{"account_id": "acme", "with_counts": true}'),
        ('refundable', '{"account_id": "acme", "class": "REFUNDABLE", "limit": 1}'),
        ('classes', '{"account_id": "acme", "type": "RENEWAL_ONLY", "class": ["RENEWAL_ONLY", "NOT_ALLOWED"], "resource_ids": ["RS000000000001"], "product_type": ["EVS", "ECS"], "after": "9", "limit": 100}'),
    ],
    "billing_resources_list": [
        ('all', '{"account_id": "acme", "with_counts": true}'),
        ('released', '{"account_id": "acme", "status": "RELEASED", "limit": 1}'),
        ('filters', '{"account_id": "acme", "status": ["IN_USE", "UNSUBSCRIBED", "DELETED"], "billing_mode": ["PREPAID", "ON_DEMAND"], "product_type": ["EVS", "ECS"], "after": "2", "limit": 100}'),
    ],
    "billing_export_request": [
        ('orders', '{"actor": "portal", "account_id": "acme", "kind": "ORDERS", "filter": {"status": "COMPLETED"}}'),
        ('pending', '{"actor": "portal", "account_id": "acme", "kind": "PENDING_ORDERS", "order_ids": ["CS000000000002"], "language": "zh"}'),
        ('renewals', '{"actor": "portal", "account_id": "acme", "kind": "RENEWALS", "filter": {"tab": "MANUAL"}, "language": "en"}'),
        ('prices', '{"actor": "portal", "account_id": "acme", "kind": "RENEWAL_PRICES", "filter": {"tab": "MANUAL", "status": "IN_USE"}}'),
    ],
    "billing_export_step": [('ex1', '{"actor": "portal", "account_id": "acme", "export_id": "EX000000000001"}'),
                            ('ex1-rows', '{"actor": "portal", "account_id": "acme", "export_id": "EX000000000001", "max_rows": 1}')],
    "billing_export_download": [('path', '{"account_id": "acme", "export_id": "EX000000000001"}'),
                                ('bytes', '{"account_id": "acme", "export_id": "EX000000000001", "mode": "BYTES"}')],
    "billing_exports_list": [('acme', '{"account_id": "acme"}'), ('page', '{"account_id": "acme", "after": "EX000000000002", "limit": 1}')],
    "billing_verify": [('empty', '{}'), ('head', '{"audit_head": {"position": 1, "digest": "00"}}')],
    "billing_config_get": [('any', '')],
    "billing_clock_advance": [('day', '86400'), ('year', '31536000'), ('max', '9223372036854775807'), ('negative', '-1')],
    "billing_clock_set": [('2030', '1893456000'), ('9999', '253402300799'), ('10000', '253402300800'), ('past', '0')],
    # "$SCRATCH" is the harness's scratch directory; it removes each copy after a success.
    "billing_engine_backup": [('scratch', '{"destination": "$SCRATCH/backup.sqlite"}'),
                              ('relative', '{"destination": "backup.sqlite"}'),
                              ('exists', '{"destination": "$SCRATCH/.."}'),
                              ('missing-dir', '{"destination": "$SCRATCH/none/backup.sqlite"}')],
    "billing_engine_copy": [('scratch', '{"destination": "$SCRATCH/copy.sqlite"}'),
                            ('relative', '{"destination": "copy.sqlite"}'),
                            ('directory', '{"destination": "$SCRATCH/"}'),
                            ('missing-dir', '{"destination": "$SCRATCH/none/copy.sqlite"}')],
    # billing_call: "FUNCTION REQUEST".
    "billing_call": [('account-get', 'billing_account_get {"account_id": "acme"}'),
                     ('not-found', 'billing_account_get {"account_id": "nobody"}'),
                     ('topup', 'billing_account_topup {"actor": "payments", "account_id": "acme", "amount_fen": 5, "external_reference": "call-1"}'),
                     ('config-get', 'billing_config_get'), ('config-get-obj', 'billing_config_get {}'),
                     ('config-update', 'billing_config_update {"actor": "ops", "changes": {"auto_renew_hour": 4}}'),
                     ('clock-now', 'billing_clock_now'), ('clock-advance', 'billing_clock_advance {"seconds": 3600}'),
                     ('clock-set', 'billing_clock_set {"now": 1704200000}'), ('clock-bad', 'billing_clock_advance {"seconds": -1}'),
                     ('backup', 'billing_engine_backup {"destination": "$SCRATCH/call-backup.sqlite"}'),
                     ('verify', 'billing_verify'), ('scheduler', 'billing_scheduler_run {"actor": "cron"}'),
                     ('unknown', 'billing_nope {}'), ('open', 'billing_engine_open {}'), ('empty-name', ' {}'),
                     ('bad-request', 'billing_orders_list {')],
}

# ---- Sequences: calls separated by NUL bytes, run in one input (markers: see fuzz_json.c) ---
DAY = 86400
BUY = '{"actor": "portal", "account_id": "acme", "auto_pay": true, "items": [{"product_id": "%s", "period": {"unit": "%s", "count": %d}}]}'
PROVISION = '{"actor": "provisioner", "account_id": "acme", "results": [{"resource_id": "$RESOURCE", "outcome": "SUCCEEDED"}]}'
CRON = '{"actor": "cron", "limit": 10000}'
SEQUENCES = [
    ('expire-freeze-release', [
        ("billing_order_create", BUY % ("ecs.c1", "MONTH", 1)), ("billing_resource_report", PROVISION),
        ("billing_clock_advance", str(40 * DAY)), ("billing_scheduler_run", CRON),
        ("billing_clock_advance", str(30 * DAY)), ("billing_scheduler_run", CRON), ("billing_scheduler_run", CRON),
        ("billing_resource_get", '{"account_id": "acme", "resource_id": "$RESOURCE"}'),
        ("billing_resources_release", '{"actor": "portal", "account_id": "acme", "resource_ids": ["$RESOURCE"]}'),
        ("billing_clock_advance", str(400 * DAY)), ("billing_scheduler_run", CRON),
        ("billing_renewals_list", '{"account_id": "acme", "tab": "MANUAL", "status": "FROZEN"}')]),
    ('year-9999', [
        ("billing_clock_set", "253300000000"), ("billing_order_create", BUY % ("ecs.c1", "YEAR", 3)), ("billing_resource_report", PROVISION),
        ("billing_resources_renew", '{"actor": "portal", "account_id": "acme", "resource_ids": ["$RESOURCE"], "period": {"unit": "YEAR", "count": 3}, "auto_pay": true}'),
        ("billing_resources_policy_set", '{"actor": "portal", "account_id": "acme", "resource_ids": ["$RESOURCE"], "policy": "AUTO_RENEW"}'),
        ("billing_clock_set", "253402300000"), ("billing_scheduler_run", CRON),
        ("billing_refund_quote", '{"account_id": "acme", "resource_ids": ["$RESOURCE"]}'),
        ("billing_renewals_list", '{"account_id": "acme", "tab": "AUTO_RENEW"}')]),
    ('quote-unsubscribe', [
        ("billing_refund_quote", '{"account_id": "acme", "resource_ids": ["RS000000000001"]}'),
        ("billing_resources_unsubscribe", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "quote_id": "$QUOTE", "reason_type": 2}'),
        ("billing_order_get", '{"account_id": "acme", "order_id": "$ORDER"}'),
        ("billing_verify", '{}')]),
    ('platform', [
        ("billing_platform_activate", '{"actor": "portal", "token": "$TOKEN", "password": "Correct-Horse-9"}'),
        ("billing_platform_login", '{"identifier": "acmeadmin", "password": "Correct-Horse-9"}'),
    ] + [("billing_platform_login", '{"identifier": "admin@acme.example", "password": "bad"}')] * 6 + [
        ("billing_platform_reset_request", '{"actor": "portal", "identifier": "admin@acme.example"}'),
        ("billing_platform_reset_complete", '{"actor": "portal", "token": "$TOKEN", "password": "Another-Pass-42"}'),
        ("billing_platform_login", '{"identifier": "+8613800138000", "password": "Another-Pass-42"}'),
        ("billing_platform_get", '{"platform_account_id": "$PA"}')]),
    ('platform-reject-reapply', [
        ("billing_account_put", '{"actor": "kyc", "account_id": "gamma", "type": "ENTERPRISE", "realname_verified": true}'),
        ("billing_platform_eligibility", '{"account_id": "gamma"}'),
        ("billing_platform_apply", '{"actor": "portal", "account_id": "gamma", "user_name": "gamma", "email": "g@gamma.example", "phone": "13700137000"}'),
        ("billing_platform_reject", '{"actor": "reviewer", "platform_account_id": "$PA", "reason": "duplicate"}'),
        ("billing_platform_apply", '{"actor": "portal", "account_id": "gamma", "user_name": "gamma", "email": "G@gamma.example", "phone": "+8613700137000"}'),
        ("billing_platform_approve", '{"actor": "reviewer", "platform_account_id": "$PA"}'),
        ("billing_platform_resend_link", '{"actor": "portal", "platform_account_id": "$PA"}'),
        ("billing_platform_activate", '{"actor": "portal", "token": "$TOKEN", "password": "gamma"}'),
        ("billing_platform_activate", '{"actor": "portal", "token": "$TOKEN", "password": "Gamma-Pass-1234"}'),
        ("billing_platform_login", '{"identifier": "gamma", "password": "Gamma-Pass-1234"}')]),
    ('scheduler-at-end-of-time', [
        ("billing_clock_set", "253300000000"), ("billing_order_create", BUY % ("ecs.c1", "YEAR", 3)), ("billing_resource_report", PROVISION),
        ("billing_resources_policy_set", '{"actor": "portal", "account_id": "acme", "resource_ids": ["$RESOURCE"], "policy": "AUTO_RENEW"}'),
        ("billing_clock_set", "253402300000"), ("billing_scheduler_run", '{"actor": "cron"}'),
        ("billing_resource_get", '{"account_id": "acme", "resource_id": "$RESOURCE"}')]),
    ('export', [
        ("billing_export_request", '{"actor": "portal", "account_id": "acme", "kind": "RENEWAL_PRICES", "filter": {"tab": "MANUAL"}}'),
        ("billing_export_step", '{"actor": "portal", "account_id": "acme", "export_id": "$EXPORT", "max_rows": 1}'),
        ("billing_export_step", '{"actor": "portal", "account_id": "acme", "export_id": "$EXPORT"}'),
        ("billing_export_download", '{"account_id": "acme", "export_id": "$EXPORT", "mode": "BYTES"}'),
        ("billing_scheduler_run", CRON),
        ("billing_export_download", '{"account_id": "acme", "export_id": "EX000000000001", "mode": "PATH"}'),
        ("billing_clock_advance", str(73 * 3600)), ("billing_scheduler_run", CRON),
        ("billing_exports_list", '{"account_id": "acme"}')]),
    ('auto-renew', [
        ("billing_resources_policy_set", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "policy": "AUTO_RENEW", "auto_renew_times": 2}'),
        ("billing_clock_advance", str(25 * DAY)), ("billing_scheduler_run", CRON),
        ("billing_clock_advance", str(DAY)), ("billing_scheduler_run", CRON),
        ("billing_clock_advance", str(40 * DAY)), ("billing_scheduler_run", CRON),
        ("billing_resource_get", '{"account_id": "acme", "resource_id": "RS000000000001"}'),
        ("billing_events_list", '{"account_id": "acme", "limit": 1000}')]),
    ('to-on-demand', [
        ("billing_resources_policy_set", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "policy": "TO_ON_DEMAND"}'),
        ("billing_clock_advance", str(32 * DAY)), ("billing_scheduler_run", CRON),
        ("billing_usage_report", '{"actor": "meter", "account_id": "acme", "records": [{"usage_id": "od1", "resource_id": "RS000000000001", "quantity": 3, "start": 1706803200, "end": 1706889600}]}'),
        ("billing_usage_list", '{"account_id": "acme", "resource_id": "RS000000000001"}')]),
    ('arrears', [
        ("billing_account_put", '{"actor": "kyc", "account_id": "acme", "credit_limit_fen": 0}'),
        ("billing_usage_report", '{"actor": "meter", "account_id": "acme", "records": [{"usage_id": "big", "resource_id": "RS000000000002", "quantity": 100000, "start": 1704079800, "end": 1704116000}]}'),
        ("billing_account_get", '{"account_id": "acme"}'), ("billing_clock_advance", str(20 * DAY)), ("billing_scheduler_run", CRON),
        ("billing_account_topup", '{"actor": "payments", "account_id": "acme", "amount_fen": 900000000, "external_reference": "settle"}'),
        ("billing_ledger_list", '{"account_id": "acme", "limit": 1000}')]),
    ('combined-cancel', [
        ("billing_order_create", '{"actor": "portal", "account_id": "acme", "items": [{"product_id": "ecs.c1", "period": {"unit": "MONTH", "count": 1}}, {"product_id": "evs.ssd", "period": {"unit": "YEAR", "count": 1}}]}'),
        ("billing_order_pay", '{"actor": "portal", "account_id": "acme", "order_id": "CS000000000009"}'),
        ("billing_orders_cancel", '{"actor": "portal", "account_id": "acme", "order_ids": ["$ORDER", "CS000000000002"]}'),
        ("billing_orders_list", '{"account_id": "acme", "order_id": "CS000000000008"}')]),
    ('review-confirm-pay', [
        ("billing_order_review", '{"actor": "reviewer", "account_id": "acme", "order_id": "CS000000000004", "decision": "APPROVE"}'),
        ("billing_order_pay", '{"actor": "portal", "account_id": "acme", "order_id": "CS000000000004", "coupon_ids": ["CPN000000000001"]}'),
        ("billing_order_confirm", '{"actor": "customer", "account_id": "acme", "order_id": "CS000000000005", "decision": "CONFIRM"}'),
        ("billing_order_pay", '{"actor": "portal", "account_id": "acme", "order_id": "CS000000000005", "coupon_ids": ["CPN000000000002", "CPN000000000003"]}'),
        ("billing_resource_report", PROVISION)]),
    ('renewal-only', [
        ("billing_resources_renew", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "period": {"unit": "MONTH", "count": 2}, "auto_pay": true}'),
        ("billing_refund_quote", '{"account_id": "acme", "resource_ids": ["RS000000000001"], "type": "RENEWAL_ONLY", "fallback_expiry": 1706803199}'),
        ("billing_resources_unsubscribe", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"], "type": "RENEWAL_ONLY", "fallback_expiry": 1706803199}'),
        ("billing_resource_get", '{"account_id": "acme", "resource_id": "RS000000000001"}')]),
    ('five-day', [
        ("billing_order_create", BUY % ("ecs.c1", "YEAR", 1)), ("billing_resource_report", PROVISION),
        ("billing_clock_advance", "7201"),
        ("billing_refund_quote", '{"account_id": "acme", "resource_ids": ["$RESOURCE"]}'),
        ("billing_resources_unsubscribe", '{"actor": "portal", "account_id": "acme", "resource_ids": ["$RESOURCE"]}'),
        ("billing_clock_advance", str(200 * DAY)),
        ("billing_refund_quote", '{"account_id": "acme", "resource_ids": ["RS000000000001"]}')]),
    ('bundle', [
        ("billing_resource_report", '{"actor": "provisioner", "account_id": "acme", "results": [{"resource_id": "RS000000000003", "outcome": "SUCCEEDED"}, {"resource_id": "RS000000000004", "outcome": "SUCCEEDED"}]}'),
        ("billing_resources_renew", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000003"], "unified_expiry": true}'),
        ("billing_order_pay", '{"actor": "portal", "account_id": "acme", "order_id": "$ORDER"}'),
        ("billing_clock_advance", str(3 * DAY)),
        ("billing_resources_unsubscribe", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000003"]}')]),
    ('failed-provision', [
        ("billing_resource_report", '{"actor": "provisioner", "account_id": "acme", "results": [{"resource_id": "RS000000000003", "outcome": "FAILED"}]}'),
        ("billing_order_get", '{"account_id": "acme", "order_id": "CS000000000006"}'),
        ("billing_refund_quote", '{"account_id": "acme", "resource_ids": ["RS000000000003"]}')]),
    ('idempotency', [
        ("billing_account_put", '{"actor": "kyc", "idempotency_key": "same", "account_id": "acme", "level": "V1"}'),
        ("billing_account_put", '{"actor": "kyc", "idempotency_key": "same", "account_id": "acme", "level": "V1"}'),
        ("billing_account_put", '{"actor": "kyc", "idempotency_key": "same", "account_id": "acme", "level": "V2"}'),
        ("billing_platform_resend_link", '{"actor": "portal", "idempotency_key": "link", "platform_account_id": "PA000000000001"}'),
        ("billing_platform_resend_link", '{"actor": "portal", "idempotency_key": "link", "platform_account_id": "PA000000000001"}')]),
    ('large-refund-review', [
        ("billing_config_update", '{"actor": "ops", "changes": {"large_refund_threshold_fen": 1}}'),
        ("billing_resources_unsubscribe", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"]}'),
        ("billing_order_review", '{"actor": "reviewer", "account_id": "acme", "order_id": "$ORDER", "decision": "APPROVE"}')]),
    ('police', [
        ("billing_clock_advance", str(35 * DAY)), ("billing_scheduler_run", CRON),
        ("billing_account_put", '{"actor": "kyc", "account_id": "acme", "freeze": "POLICE"}'),
        ("billing_resources_release", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"]}'),
        ("billing_refund_quote", '{"account_id": "acme", "resource_ids": ["RS000000000001", "RS000000000002"]}'),
        ("billing_account_put", '{"actor": "kyc", "account_id": "acme", "freeze": "NONE"}'),
        ("billing_resources_renew", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000001"]}')]),
    ('package-cover', [
        ("billing_usage_report", '{"actor": "meter", "account_id": "acme", "records": [{"usage_id": "p1", "resource_id": "RS000000000002", "quantity": 2, "start": 1704079800, "end": 1704090000}]}'),
        ("billing_packages_list", '{"account_id": "acme"}'),
        ("billing_resources_unsubscribe", '{"actor": "portal", "account_id": "acme", "resource_ids": ["RS000000000005"]}')]),
]

# ---- Hostile JSON, sent to a few functions (the parser is shared) ---------------------------
def nested(depth, open_, close, inner='1'):
    return open_ * depth + inner + close * depth

NASTY = [
    ('empty', b''),
    ('ws', b' \t\r\n '),
    ('null', b'null'), ('true', b'true'), ('zero', b'0'), ('string', b'"acme"'), ('array', b'[]'), ('obj', b'{}'),
    ('open', b'{'), ('close', b'}'), ('colon', b'{"account_id":}'), ('comma', b'{,}'),
    ('trailing-comma', b'{"account_id": "acme",}'), ('trailing-comma-array', b'{"account_id": ["acme",]}'),
    ('trailing-garbage', b'{"account_id": "acme"} x'), ('two-values', b'{"account_id": "acme"}{}'),
    ('single-quotes', b"{'account_id': 'acme'}"), ('comment', b'{"account_id": "acme" /* c */}'),
    ('depth-64', nested(63, '{"a": ', '}').encode()),
    ('depth-65', nested(65, '[', ']').encode()),
    ('depth-deep', ('[' * 20000).encode()),
    ('depth-unbalanced', (']' * 100 + '[' * 200 + '1' + ']' * 100).encode()),
    ('depth-in-string', ('{"account_id": "' + '[' * 500 + '"}').encode()),
    ('big-int', b'{"account_id": "acme", "limit": 99999999999999999999999999}'),
    ('int-max', b'{"account_id": "acme", "limit": 9223372036854775807}'),
    ('int-min', b'{"account_id": "acme", "limit": -9223372036854775808}'),
    ('int-over', b'{"account_id": "acme", "limit": 9223372036854775808}'),
    ('int-under', b'{"account_id": "acme", "limit": -9223372036854775809}'),
    ('digits-400', ('{"account_id": "acme", "limit": 1' + '0' * 400 + '}').encode()),
    ('minus-zero', b'{"account_id": "acme", "limit": -0}'),
    ('fraction', b'{"account_id": "acme", "limit": 1.0}'),
    ('exponent', b'{"account_id": "acme", "limit": 1e3}'),
    ('exponent-huge', b'{"account_id": "acme", "limit": 1E400}'),
    ('leading-zero', b'{"account_id": "acme", "limit": 01}'),
    ('plus', b'{"account_id": "acme", "limit": +1}'),
    ('minus-alone', b'{"account_id": "acme", "limit": -}'),
    ('nan', b'{"account_id": "acme", "limit": NaN}'),
    ('infinity', b'{"account_id": "acme", "limit": -Infinity}'),
    ('dup-keys', b'{"account_id": "acme", "account_id": "solo", "account_id": 1}'),
    ('dup-keys-nested', b'{"account_id": "acme", "items": [{"product_id": "ecs.c1", "product_id": "x"}], "items": 1}'),
    ('unknown-field', b'{"account_id": "acme", "surprise": true}'),
    ('null-field', b'{"account_id": null}'),
    ('wrong-type', b'{"account_id": ["acme"]}'),
    ('wrong-type-obj', b'{"account_id": {"id": "acme"}}'),
    ('empty-id', b'{"account_id": ""}'),
    ('long-id', ('{"account_id": "' + 'a' * 5000 + '"}').encode()),
    ('unicode', '{"account_id": "açmé-账户-😀"}'.encode()),
    ('unicode-escape', b'{"account_id": "\\u0061\\u0063\\u006d\\u0065"}'),
    ('nul-escape', b'{"account_id": "ac\\u0000me"}'),
    ('lone-high-surrogate', b'{"account_id": "\\ud800"}'),
    ('lone-low-surrogate', b'{"account_id": "\\udc00x"}'),
    ('surrogate-pair', b'{"account_id": "\\ud83d\\ude00"}'),
    ('reversed-pair', b'{"account_id": "\\ude00\\ud83d"}'),
    ('bad-escape', b'{"account_id": "\\x41"}'),
    ('short-u-escape', b'{"account_id": "\\u12"}'),
    ('raw-control', b'{"account_id": "a\x01\x1fb"}'),
    ('raw-newline', b'{"account_id": "a\nb"}'),
    ('invalid-utf8', b'{"account_id": "\xff\xfe"}'),
    ('overlong-utf8', b'{"account_id": "\xc0\x80"}'),
    ('cesu-surrogate', b'{"account_id": "\xed\xa0\x80"}'),
    ('truncated-utf8', b'{"account_id": "\xe6\x88"}'),
    ('bom', b'\xef\xbb\xbf{"account_id": "acme"}'),
    ('escaped-key', b'{"account\\u005fid": "acme"}'),
    ('unterminated-string', b'{"account_id": "acme'),
    ('backslash-end', b'{"account_id": "acme\\'),
    ('embedded-nul', b'{"account_id": "acme"}\x00{"junk'),
    ('many-keys', ('{' + ', '.join('"k%d": %d' % (i, i) for i in range(600)) + '}').encode()),
    ('long-array', ('{"account_id": "acme", "resource_ids": [' + ', '.join('"RS%012d"' % i for i in range(1, 400)) + ']}').encode()),
    ('idem-long', ('{"actor": "a", "idempotency_key": "' + 'k' * 129 + '", "account_id": "acme"}').encode()),
    ('idem-empty', b'{"actor": "a", "idempotency_key": "", "account_id": "acme"}'),
    ('actor-empty', b'{"actor": "", "account_id": "acme"}'),
    ('actor-number', b'{"actor": 7, "account_id": "acme"}'),
]
# Payloads over 1 kB go to the first of these only, to keep the corpus small.
NASTY_TARGETS = ["billing_account_get", "billing_config_update", "billing_order_create", "billing_usage_report"]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def short(name):
    return name[len("billing_"):]


def main():
    json_dir = os.path.join(HERE, "corpus", "json")
    count = 0
    missing = [name for name in TABLE if name not in VALID]
    if missing:
        sys.exit("make_corpus.py: no valid seed for " + ", ".join(missing))
    for name, seeds in VALID.items():
        index = TABLE[name]
        for tag, request in seeds:
            if request.startswith('{') and '$TOKEN' not in request:
                json.loads(request)  # the valid seeds must be JSON
            if name == "billing_call" and ' ' in request and request.split(' ', 1)[1].startswith('{') \
                    and not request.endswith('{'):
                json.loads(request.split(' ', 1)[1])
            write(os.path.join(json_dir, "%02d-%s-%s" % (index, short(name), tag)), bytes([index]) + request.encode())
            count += 1
        # Every function also sees NULL (a one-byte input) and the empty request.
        write(os.path.join(json_dir, "%02d-%s-null" % (index, short(name))), bytes([index]))
        write(os.path.join(json_dir, "%02d-%s-emptystring" % (index, short(name))), bytes([index, 0]))
        count += 2
    for name in NASTY_TARGETS:
        index = TABLE[name]
        for tag, payload in NASTY:
            if len(payload) > 1024 and name != NASTY_TARGETS[0]:
                continue
            write(os.path.join(json_dir, "%02d-%s-nasty-%s" % (index, short(name), tag)), bytes([index]) + payload)
            count += 1
    for tag, calls in SEQUENCES:
        data = b"\0".join(bytes([TABLE[name]]) + request.encode() for name, request in calls)
        write(os.path.join(json_dir, "seq-" + tag), data)
        count += 1
    # The same shapes for every selector byte past the table (they wrap around modulo its length).
    write(os.path.join(json_dir, "ff-wraparound"), bytes([255]) + b'{"account_id": "acme"}')
    count += 1

    open_dir = os.path.join(HERE, "corpus", "open")
    options = [
        ('null-like', b''), ('empty-object', b'{}'), ('manual', b'{"clock": "manual", "now": 1704076200}'),
        ('all', b'{"create": true, "synchronous": "NORMAL", "busy_timeout_ms": 600000, "clock": "manual", "now": 0}'),
        ('system', b'{"clock": "system", "synchronous": "FULL", "busy_timeout_ms": 0}'),
        ('now-without-manual', b'{"now": 5}'), ('manual-without-now', b'{"clock": "manual"}'),
        ('now-max', b'{"clock": "manual", "now": 253402300799}'), ('now-past-max', b'{"clock": "manual", "now": 253402300800}'),
        ('now-negative', b'{"clock": "manual", "now": -1}'), ('now-int-max', b'{"clock": "manual", "now": 9223372036854775807}'),
        ('timeout-over', b'{"busy_timeout_ms": 600001}'), ('timeout-negative', b'{"busy_timeout_ms": -1}'),
        ('create-false', b'{"create": false}'), ('create-string', b'{"create": "yes"}'),
        ('sync-lower', b'{"synchronous": "normal"}'), ('sync-off', b'{"synchronous": "OFF"}'),
        ('clock-bad', b'{"clock": "sundial"}'), ('unknown', b'{"journal": "WAL"}'), ('array', b'[]'), ('null', b'null'),
        ('dup', b'{"clock": "manual", "clock": "system", "now": 1}'), ('trailing-comma', b'{"create": true,}'),
        ('fraction', b'{"busy_timeout_ms": 1.5}'), ('deep', nested(70, '{"a": ', '}').encode()),
        ('invalid-utf8', b'{"clock": "\xff"}'), ('surrogate', b'{"clock": "\\ud800"}'), ('ws', b'  \n '),
    ]
    for tag, data in options:
        write(os.path.join(open_dir, tag), data)
        count += 1

    # The dictionary: every quoted word of the header, plus JSON punctuation.
    words = set(re.findall(r'"([A-Za-z0-9_*.+:-]{1,40})"', open(HEADER).read()))
    words |= {"$TOKEN", "acme", "solo", "ecs.c1", "evs.ssd", "bw.ondemand", "bw.pack", "ecs.bundle", "review.box", "one.off",
              "CS000000000001", "RS000000000001", "PA000000000001", "CPN000000000001", "EX000000000001",
              "9223372036854775807", "-9223372036854775808", "253402300799", "\\ud800", "\\u0000"}
    with open(os.path.join(HERE, "billing.dict"), "w") as f:
        f.write("# libFuzzer dictionary for libbilling requests; written by make_corpus.py from include/billing.h.\n")
        for word in sorted(words):
            escaped = word.replace("\\", "\\\\").replace('"', '\\"')
            f.write('"%s"\n' % escaped)
        for token in ['{', '}', '[', ']', ':', ',', '""', 'null', 'true', 'false', '{"', '": ', '", "']:
            f.write('"%s"\n' % token.replace('"', '\\"'))
    print("make_corpus.py: %d seed files, dictionary of %d words" % (count, len(words)))


main()
