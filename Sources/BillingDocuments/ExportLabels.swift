import BillingDomain

/// How an export writes the engine's codes in cells: as they are in English, and in Chinese as
/// the labels the platform guide and domain-rules use (§0 glossary, §3.1 order types, §3.2
/// order statuses, §4.1 resource statuses, §4.6 the renewal tabs). A code without a label is
/// written as it is, so a new code never makes a cell empty.
package struct ExportLabels {
    package let chinese: Bool

    package init(language: String) { chinese = language == "zh" }

    package func orderType(_ code: String) -> String { label(code, Self.orderTypes) }
    package func orderStatus(_ code: String) -> String { label(code, Self.orderStatuses) }
    package func billingMode(_ code: String) -> String { label(code, Self.billingModes) }
    package func resourceStatus(_ code: String) -> String { label(code, Self.resourceStatuses) }
    package func expiryPolicy(_ code: String) -> String { label(code, Self.expiryPolicies) }
    /// Product types are the host's identifiers; the usual cloud services get their Chinese
    /// service names, any other type is written as the host named it.
    package func productType(_ code: String) -> String { label(code, Self.productTypes) }

    /// A period: "1 YEAR" in English, "1年" / "3个月" in Chinese.
    package func period(_ period: Period) -> String {
        guard chinese else { return period.description }
        return "\(period.count)" + (period.unit == .year ? "年" : "个月")
    }

    /// Several values in one cell (a combined order's product types), each once, in order.
    package func list(_ values: [String]) -> String {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }.joined(separator: chinese ? "、" : ", ")
    }

    private func label(_ code: String, _ table: [String: String]) -> String {
        chinese ? (table[code] ?? code) : code
    }

    package static let orderTypes = [
        "NEW": "新购", "RENEW": "续费", "CHANGE": "变更", "UNSUBSCRIBE": "退订", "PREPAID_TO_ONDEMAND": "包年/包月转按需",
        "ONDEMAND_TO_PREPAID": "按需转包年/包月", "TRIAL": "试用", "TRIAL_TO_COMMERCIAL": "转商用", "ADJUSTMENT": "费用调整",
    ]
    package static let orderStatuses = [
        "PENDING_PAYMENT": "待支付", "PENDING_REVIEW": "待审核", "PROCESSING": "处理中", "COMPLETED": "已完成",
        "CANCELLED": "已取消", "PENDING_CONFIRMATION": "待确认", "REFUNDING": "退款中",
    ]
    package static let billingModes = ["PREPAID": "包年/包月", "ON_DEMAND": "按需", "PACKAGE": "套餐包", "ONE_OFF": "一次性"]
    package static let resourceStatuses = [
        "IN_USE": "使用中", "EXPIRED": "已过期", "FROZEN": "已冻结", "RELEASED": "已释放", "UNSUBSCRIBED": "已退订", "DELETED": "已删除",
        "PENDING_PROVISION": "待开通", "PROVISION_FAILED": "开通失败", "PENDING_EFFECTIVE": "未生效",
    ]
    package static let expiryPolicies = ["MANUAL": "手动续费", "AUTO_RENEW": "自动续费", "TO_ON_DEMAND": "到期转按需", "NO_RENEW": "到期不续费"]
    package static let productTypes = [
        "ECS": "弹性云服务器", "EVS": "云硬盘", "VPC": "虚拟私有云", "EIP": "弹性公网IP", "OBS": "对象存储服务",
        "RDS": "云数据库RDS", "CCE": "云容器引擎", "SFS": "弹性文件服务",
    ]
}
