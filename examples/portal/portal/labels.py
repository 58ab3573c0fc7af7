"""The portal's words in Chinese (the default) and English: one small dictionary, no
translation framework. Codes from the library (statuses, types, policies, reasons) are shown
with the platform guide's labels where there is one, else as the code itself."""

from __future__ import annotations

LANGUAGES = ("zh", "en")

TEXT = {
    "app_title": ("费用中心", "Billing Center"),
    "pending_orders": ("待支付订单", "Pending orders"),
    "my_orders": ("我的订单", "My orders"),
    "renewals": ("续费管理", "Renewals"),
    "unsubscribe": ("退订管理", "Unsubscription"),
    "exports": ("导出记录", "Export records"),
    "account": ("账户总览", "Account"),
    "buy": ("选购云服务", "Buy cloud services"),
    "operator": ("运营管理", "Operator"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "register": ("注册", "Register"),
    "identifier": ("手机号 / 邮箱 / 用户名", "Phone / e-mail / user name"),
    "password": ("密码", "Password"),
    "forgot_password": ("忘记密码", "Forgot password"),
    "submit": ("提交", "Submit"),
    "search": ("查询", "Search"),
    "reset_filters": ("重置", "Reset"),
    "details": ("详情", "Details"),
    "pay": ("支付", "Pay"),
    "confirm_pay": ("确认支付", "Confirm payment"),
    "cancel_order": ("取消订单", "Cancel order"),
    "cancel_selected": ("批量取消", "Cancel selected"),
    "export_selected": ("批量导出", "Export selected"),
    "export_all": ("导出全部", "Export all"),
    "order_id": ("订单号", "Order ID"),
    "order_type": ("订单类型", "Order type"),
    "status": ("状态", "Status"),
    "product_type": ("产品类型", "Product type"),
    "billing_mode": ("计费模式", "Billing mode"),
    "created_at": ("创建时间", "Created"),
    "pay_deadline": ("支付截止时间", "Pay by"),
    "amount_due": ("应付金额", "Amount due"),
    "paid_amount": ("实付金额", "Amount paid"),
    "list_price": ("原价", "List price"),
    "discount": ("优惠", "Discounts"),
    "voucher": ("代金券抵扣", "Vouchers"),
    "cash_coupon": ("现金券", "Cash coupons"),
    "stored_value_card": ("储值卡", "Stored-value cards"),
    "cash": ("现金余额", "Cash balance"),
    "credit": ("信用额度", "Credit"),
    "from": ("从", "From"),
    "to": ("至", "To"),
    "all": ("全部", "All"),
    "next_page": ("下一页", "Next page"),
    "first_page": ("首页", "First page"),
    "no_rows": ("暂无数据", "Nothing here"),
    "combined_order": ("组合交易订单", "Combined order"),
    "sub_orders": ("子订单", "Sub-orders"),
    "coupons": ("优惠券", "Coupons"),
    "choose_coupons": ("选择优惠券", "Choose coupons"),
    "preview": ("计算应付金额", "Show amount due"),
    "to_pay_now": ("本次支付", "To pay now"),
    "resource_id": ("实例ID", "Instance ID"),
    "product": ("产品", "Product"),
    "expire_at": ("到期时间", "Expires"),
    "ended_at": ("结束时间", "Ended"),
    "policy": ("续费方式", "Renewal policy"),
    "renew": ("续费", "Renew"),
    "renew_selected": ("批量续费", "Renew selected"),
    "renewal_price": ("续费价格", "Renewal price"),
    "new_expire_at": ("续费后到期时间", "New expiry"),
    "period": ("续费时长", "Period"),
    "unified_expiry": ("统一到期日", "Unified expiry day"),
    "use_unified_expiry": ("续费到统一到期日", "Renew to the unified expiry day"),
    "set_policy": ("设置续费方式", "Set policy"),
    "release": ("释放资源", "Release"),
    "export_list": ("导出续费清单", "Export list"),
    "refundable": ("可退订", "Refundable"),
    "not_refundable": ("不可退订", "Not refundable"),
    "renewal_periods": ("退订续费周期", "Renewal periods"),
    "reason": ("原因", "Reason"),
    "refund": ("退款金额", "Refund"),
    "consumed": ("已消费", "Consumed"),
    "fee": ("手续费", "Handling fee"),
    "quote": ("退订详情", "Refund quote"),
    "confirm_unsubscribe": ("确认退订", "Confirm unsubscription"),
    "unsubscribe_selected": ("退订", "Unsubscribe"),
    "export_id": ("导出ID", "Export ID"),
    "kind": ("类型", "Kind"),
    "purge_at": ("删除时间", "Purged at"),
    "download": ("下载", "Download"),
    "balance": ("现金余额", "Cash balance"),
    "arrears": ("欠费", "Arrears"),
    "credit_limit": ("信用额度", "Credit limit"),
    "credit_used": ("已用信用", "Credit used"),
    "ledger": ("收支明细", "Ledger"),
    "resources": ("我的资源", "Resources"),
    "amount": ("金额", "Amount"),
    "time": ("时间", "Time"),
    "face_value": ("面额 / 余额", "Value / left"),
    "valid_to": ("有效期至", "Valid until"),
    "eligibility": ("开通条件检查", "Eligibility check"),
    "account_id": ("华为云账号ID", "Account ID"),
    "check": ("检查", "Check"),
    "apply": ("申请开通", "Apply"),
    "user_name": ("用户名", "User name"),
    "email": ("邮箱", "E-mail"),
    "phone": ("手机号", "Phone"),
    "contact_name": ("联系人", "Contact name"),
    "activate": ("设置密码并激活", "Set password and activate"),
    "new_password": ("新密码", "New password"),
    "reset_password": ("重置密码", "Reset password"),
    "now": ("当前时间", "Now"),
    "quantity": ("数量", "Quantity"),
    "create_order": ("提交订单", "Place order"),
    "quote_price": ("查看价格", "Show price"),
    "language": ("English", "中文"),
    "back": ("返回", "Back"),
    "total": ("合计", "Total"),
    "lines": ("订单明细", "Lines"),
    "payments": ("支付明细", "Payments"),
    "refunds": ("退款明细", "Refunds"),
    "renew_from_to": ("续费周期", "Renewal period"),
    "counts_note": ("各页签数量来自同一次查询", "Tab counts come from the same call"),
    "operator_login": ("运营人员登录", "Operator login"),
    "demo_clock": ("演示时钟", "Demo clock"),
    "advance": ("前进", "Advance"),
    "days": ("天", "days"),
    "hours": ("小时", "hours"),
    "run_scheduler": ("立即运行调度", "Run the scheduler now"),
    "applications": ("开通申请", "Applications"),
    "approve": ("通过", "Approve"),
    "reject": ("驳回", "Reject"),
    "mailbox": ("待发送的邮件（演示）", "Mail to send (demo)"),
    "create_customer": ("创建客户账号（KYC）", "Create customer account (KYC)"),
    "topup": ("充值", "Top up"),
    "issue_coupon": ("发放优惠券", "Issue coupon"),
    "publish_product": ("发布产品", "Publish product"),
    "done": ("操作成功", "Done"),
    "form_expired": ("表单已失效或已提交过，请重新打开页面后再试。", "This form has expired or was already submitted; reopen the page and try again."),
    "bad_amount": ("金额必须是大于0的数字，最多两位小数。", "The amount must be a number above 0 with at most two decimals."),
    "bad_input": ("输入有误：", "Invalid input: "),
    "select_something": ("请至少选择一项。", "Select at least one row."),
    "too_many": ("一次最多选择 {n} 项。", "Select at most {n} rows at once."),
    "not_found": ("页面不存在或无权访问。", "The page does not exist or is not yours."),
    "login_failed": ("账号或密码错误。", "The identifier or the password is wrong."),
    "login_throttled": ("登录失败次数过多，请在 {at} 之后再试。", "Too many failed logins; try again after {at}."),
    "reset_sent": ("如果该账号存在，重置链接已通过对应渠道发送。", "If the account exists, a reset link was sent through its channel."),
    "application_sent": ("申请已提交，请等待审核。审核通过后您将收到设置密码的邮件。", "Application submitted; you will receive a mail to set your password once approved."),
    "activated": ("账号已激活，请登录。", "Your account is active; please log in."),
    "price_changed": ("价格已变化，请确认新的价格后再支付。", "The price changed; check the new price before paying."),
    "pay_done": ("支付成功。", "Payment succeeded."),
    "cancelled": ("已取消。", "Cancelled."),
    "export_requested": ("导出请求已提交，请在导出记录中下载。", "Export requested; download it from Export records."),
    "operator_bad_login": ("运营账号或密码错误。", "Wrong operator name or password."),
}

CODES = {
    # order statuses
    "PENDING_PAYMENT": ("待支付", "Pending payment"), "PENDING_REVIEW": ("待审核", "Pending review"),
    "PROCESSING": ("处理中", "Processing"), "COMPLETED": ("已完成", "Completed"), "CANCELLED": ("已取消", "Cancelled"),
    "PENDING_CONFIRMATION": ("待确认", "Pending confirmation"), "REFUNDING": ("退款中", "Refunding"), "ALL": ("全部", "All"),
    # order types
    "NEW": ("新购", "New"), "RENEW": ("续费", "Renewal"), "CHANGE": ("变更", "Change"), "UNSUBSCRIBE": ("退订", "Unsubscription"),
    "PREPAID_TO_ONDEMAND": ("包年/包月转按需", "Prepaid to pay-per-use"),
    # billing modes
    "PREPAID": ("包年/包月", "Yearly/monthly"), "ON_DEMAND": ("按需", "Pay-per-use"), "PACKAGE": ("套餐包", "Package"),
    "ONE_TIME": ("一次性", "One-time"),
    # resource statuses
    "PENDING_PROVISION": ("开通中", "Provisioning"), "PENDING_EFFECTIVE": ("未生效", "Not yet effective"),
    "IN_USE": ("使用中", "In use"), "EXPIRED": ("已过期", "Expired"), "FROZEN": ("已冻结", "Frozen"),
    "RELEASED": ("已释放", "Released"), "UNSUBSCRIBED": ("已退订", "Unsubscribed"), "DELETED": ("已删除", "Deleted"),
    "FAILED": ("开通失败", "Failed"), "PROVISION_FAILED": ("开通失败", "Provisioning failed"),
    # expiry policies (renewal tabs)
    "MANUAL": ("手动续费项", "Manual renewal"), "AUTO_RENEW": ("自动续费项", "Auto-renewal"),
    "TO_ON_DEMAND": ("到期转按需", "Convert at expiry"), "NO_RENEW": ("到期不续费项", "No renewal at expiry"),
    # unsubscription classes
    "REFUNDABLE": ("可退订", "Refundable"), "NOT_ALLOWED": ("不可退订", "Not refundable"),
    "FIVE_DAY": ("五天无理由退订", "Five-day refund"), "NON_FIVE_DAY": ("非五天无理由退订", "Pro-rata refund"),
    "RENEWAL_ONLY": ("续费周期退订", "Renewal periods"), "INACTIVE": ("未生效资源", "Not yet effective"),
    # platform accounts
    "SUBMITTED": ("待审核", "Submitted"), "APPROVED_PENDING_PASSWORD": ("待设置密码", "Approved, password not set"),
    "ACTIVE": ("已激活", "Active"), "REJECTED": ("已驳回", "Rejected"),
    # exports
    "GENERATING": ("生成中", "Generating"), "READY": ("可下载", "Ready"), "ORDERS": ("订单", "Orders"),
    "PENDING_ORDERS": ("待支付订单", "Pending orders"), "RENEWALS": ("续费清单", "Renewal list"),
    "RENEWAL_PRICES": ("续费价格", "Renewal prices"),
    # product types
    "ECS": ("弹性云服务器", "ECS"), "EVS": ("云硬盘", "EVS"), "EIP": ("弹性公网IP", "EIP"), "OBS": ("对象存储服务", "OBS"),
    "SSL": ("SSL证书", "SSL"),
    # coupon kinds
    "VOUCHER": ("代金券", "Voucher"), "CASH_COUPON": ("现金券", "Cash coupon"), "DISCOUNT": ("折扣券", "Discount coupon"),
    "STORED_VALUE_CARD": ("储值卡", "Stored-value card"),
    # eligibility
    "E1": ("企业客户", "Enterprise customer"), "E2": ("已实名认证", "Real-name verified"),
    "E3": ("未受限、未冻结", "Not restricted or frozen"), "E4": ("首次开通", "First activation"),
    "CASH": ("现金", "Cash"), "CREDIT": ("信用额度", "Credit"), "TOPUP": ("充值", "Top-up"),
    "PAYMENT": ("支付", "Payment"), "REFUND": ("退款", "Refund"),
    "MONTH": ("个月", " month(s)"), "YEAR": ("年", " year(s)"),
}


def text(key: str, language: str, **values) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    value = pair[1 if language == "en" else 0]
    return value.format(**values) if values else value


def code(value, language: str) -> str:
    if value is None:
        return "—"
    pair = CODES.get(str(value))
    return pair[1 if language == "en" else 0] if pair else str(value)


def period(value, language: str) -> str:
    if not value:
        return "—"
    return f"{value['count']}{code(value['unit'], language)}"
