import BillingDomain
import BillingDocuments

/// Customer accounts and the money ledger. Every change of a balance goes through `post`,
/// which writes the ledger row in the same statement group, so the ledger always sums to
/// the balance.
package enum AccountStore {
    /// Built once: a constant text is found in the statement cache by its address.
    private static let loadSQL = "SELECT \(columns) FROM accounts WHERE id = ?"
    private static let columns = """
        id, type, realname_verified, restricted, "freeze", level, cash_balance, credit_limit, credit_used,
        deduction_days, unified_expiry_day, created_at, updated_at
        """

    package static func load(_ db: Connection, _ id: String) throws -> Account? {
        try db.first(loadSQL, id) { row in
            Account(id: row.text(0),
                    type: try StoredValue.choice(row.optionalText(1), "type of account \(row.text(0))"),
                    realnameVerified: row.bool(2), restricted: row.bool(3),
                    freeze: try StoredValue.choice(row.optionalText(4), "freeze of account \(row.text(0))"),
                    level: try StoredValue.choice(row.optionalText(5), "level of account \(row.text(0))"),
                    cashBalance: Money(fen: row.int(6)), creditLimit: Money(fen: row.int(7)),
                    creditUsed: Money(fen: row.int(8)),
                    deductionDays: row.optionalInt(9), unifiedExpiryDay: row.optionalInt(10),
                    createdAt: row.int(11), updatedAt: row.int(12))
        }
    }

    /// The account, or `not found`.
    package static func require(_ db: Connection, _ id: String) throws -> Account {
        guard let account = try load(db, id) else { throw BillingError.notFound(.accountNotFound, id) }
        return account
    }

    /// The account's customer level alone, or `not found`: what an expiry needs (its grace and
    /// retention days), read by `load`'s statement (one prepared statement for both) with only
    /// that column decoded; the whole account was built for every resource a pass expired.
    package static func level(_ db: Connection, _ id: String) throws -> CustomerLevel {
        var level: CustomerLevel?
        try db.query(loadSQL, texts: id) { row in
            level = try StoredValue.choice(row.optionalText(5), "level of account \(row.text(0))")
            return false
        }
        guard let level else { throw BillingError.notFound(.accountNotFound, id) }
        return level
    }

    package static func insert(_ db: Connection, _ account: Account) throws {
        try db.run("""
            INSERT INTO accounts (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, account.id, account.type.rawValue, account.realnameVerified, account.restricted,
                 account.freeze.rawValue, account.level.rawValue, account.cashBalance, account.creditLimit,
                 account.creditUsed, account.deductionDays, account.unifiedExpiryDay, account.createdAt, account.updatedAt)
    }

    /// Writes the attributes and settings; balances change only through `post`.
    package static func updateAttributes(_ db: Connection, _ account: Account) throws {
        try db.run("""
            UPDATE accounts SET type = ?, realname_verified = ?, restricted = ?, "freeze" = ?, level = ?, credit_limit = ?,
                deduction_days = ?, unified_expiry_day = ?, updated_at = ? WHERE id = ?
            """, account.type.rawValue, account.realnameVerified, account.restricted, account.freeze.rawValue,
                 account.level.rawValue, account.creditLimit, account.deductionDays, account.unifiedExpiryDay,
                 account.updatedAt, account.id)
    }

    /// The ledger funds: the cash position, and the credit drawn (as a negative position).
    package enum Fund: String { case cash = "CASH", credit = "CREDIT" }

    /// Moves money on an account and records it: `amount` is added to the cash balance, or
    /// for credit subtracted from the credit drawn (drawing credit is a negative amount).
    /// Returns the position after the move.
    @discardableResult
    package static func post(_ db: Connection, account: String, fund: Fund, kind: String, amount: Money,
                     reference: String? = nil, order: String? = nil, at: Int64) throws -> Money {
        let cash = fund == .cash
        let current = try db.first(cash ? readCash : readCredit, account) { $0.int(0) }
        guard let current else { throw BillingError.notFound(.accountNotFound, account) }
        let position = cash ? Money(fen: current) : Money(fen: -current)
        let after = try position.adding(amount)
        try db.run(cash ? writeCash : writeCredit, cash ? after.fen : -after.fen, at, account)
        try db.run("""
            INSERT INTO ledger (account_id, fund, kind, amount, balance_after, reference, order_id, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, account, fund.rawValue, kind, amount, after, reference, order, at)
        return after
    }

    // Constant texts: the connection finds their prepared statements by address (every
    // payment and usage record posts; an interpolated text was built and hashed each time).
    private static let readCash = "SELECT cash_balance FROM accounts WHERE id = ?"
    private static let readCredit = "SELECT credit_used FROM accounts WHERE id = ?"
    private static let writeCash = "UPDATE accounts SET cash_balance = ?, updated_at = ? WHERE id = ?"
    private static let writeCredit = "UPDATE accounts SET credit_used = ?, updated_at = ? WHERE id = ?"

    /// The ledger row of a top-up by its external reference.
    package static func topUp(_ db: Connection, account: String, reference: String) throws -> JSONValue? {
        try db.first("SELECT \(ledgerColumns) FROM ledger WHERE account_id = ? AND kind = 'TOPUP' AND reference = ?",
                     account, reference, map: ledgerEntry)
    }

    package static let ledgerColumns = "id, account_id, fund, kind, amount, balance_after, reference, order_id, recorded_at"

    package static func ledgerEntry(_ row: Row) -> JSONValue {
        [
            "id": .integer(row.int(0)),
            "account_id": .string(row.text(1)),
            "fund": .string(row.text(2)),
            "kind": .string(row.text(3)),
            "amount_fen": .integer(row.int(4)),
            "balance_after_fen": .integer(row.int(5)),
            "reference": JSONValue(row.optionalText(6)),
            "order_id": JSONValue(row.optionalText(7)),
            "recorded_at": .integer(row.int(8)),
        ]
    }

    /// Ledger rows of an account after an id, oldest first.
    package static func ledgerPage(_ db: Connection, account: String, after: Int64, limit: Int64) throws -> [JSONValue] {
        try db.all("SELECT \(ledgerColumns) FROM ledger WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?",
                   account, after, limit, map: ledgerEntry)
    }
}
