import BillingDomain

extension ExportKind {
    /// Column headers in English and Chinese.
    package func headers(_ language: String) -> [String] {
        let zh = language == "zh"
        switch self {
        case .orders, .pendingOrders:
            var names = zh
                ? ["订单号", "组合交易订单号", "订单类型", "订单状态", "产品类型", "计费模式", "创建时间", "支付时间", "官网价", "优惠金额", "应付金额", "代金券", "实付金额", "现金", "信用额度"]
                : ["Order ID", "Combined order ID", "Order type", "Status", "Product type", "Billing mode", "Created", "Paid", "List price",
                   "Discount", "Amount due", "Voucher", "Paid amount", "Cash", "Credit"]
            if self == .pendingOrders { names.append(zh ? "支付截止时间" : "Payment deadline") }
            return names
        case .renewals:
            return zh ? ["资源ID", "产品", "产品类型", "区域", "状态", "到期策略", "到期时间", "自动续费周期", "剩余自动续费次数"]
                : ["Resource ID", "Product", "Product type", "Region", "Status", "Expiry policy", "Expires", "Auto-renew period", "Auto-renewals left"]
        case .renewalPrices:
            return zh ? ["资源ID", "产品", "到期时间", "续费时长", "官网价", "优惠金额", "应付金额"]
                : ["Resource ID", "Product", "Expires", "Renewal period", "List price", "Discount", "Amount due"]
        }
    }
}

extension ExportRecord {
    package var json: JSONValue {
        ["export_id": .string(id), "account_id": .string(account), "kind": .string(kind.rawValue), "status": .string(status),
         "language": .string(language), "file_name": .string(fileName), "rows_expected": .integer(rowsExpected),
         "rows_written": .integer(rowsWritten), "bytes": .integer(bytes), "created_at": .integer(createdAt),
         "purge_at": .integer(purgeAt), "completed_at": JSONValue(completedAt), "failure_reason": JSONValue(failureReason)]
    }
}
